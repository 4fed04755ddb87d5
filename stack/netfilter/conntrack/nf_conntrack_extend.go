package conntrack

// What NAT needs of the tracker: the state it keeps per connection (the
// NAT extension of nf_conntrack_extend.c), the reply tuple its binding
// makes (nf_conntrack_alter_reply), the status bits it sets, and whether a
// tuple it would make is taken (nf_conntrack_tuple_taken).

// Extension is what another netfilter module keeps with a connection (a
// ct extension; there is one slot, NAT's binding's: a second module would
// share it through a type that holds both). The tracker tells it when the
// connection enters the table and when it leaves: Confirmed runs once the
// entry is in the table, Destroyed once it is out (deleted, expired,
// evicted), each in the context that did it, without the table's locks. A
// connection that never was confirmed (its packet dropped) is told
// nothing.
type Extension interface {
	Confirmed(c *Conn)
	Destroyed(c *Conn)
}

// Extension returns the extension set on c (nil: none).
func (c *Conn) Extension() Extension { return c.ext }

// SetExtension attaches e to c, which must not be confirmed yet (an
// extension is added while the first packet owns the connection, as
// nf_ct_ext_add refuses a confirmed one). It reports whether e was set.
func (c *Conn) SetExtension(e Extension) bool {
	if c.Status()&StatusConfirmed != 0 {
		return false
	}
	c.ext = e
	return true
}

// SetStatus sets bits in the connection's status (NAT's IPS_SRC_NAT,
// IPS_DST_NAT and their _DONE bits).
func (c *Conn) SetStatus(bits Status) { c.status.Or(uint32(bits)) }

// AlterReply is nf_conntrack_alter_reply: the reply tuple of a connection
// not yet confirmed becomes r (the inverse of the tuple NAT bound it to),
// so that replies find it. It reports false, changing nothing, for a
// confirmed connection (already hashed under its old reply tuple).
func (c *Conn) AlterReply(r Tuple) bool {
	if c.Status()&StatusConfirmed != 0 {
		return false
	}
	c.tuple[Reply] = r
	return true
}

// TCPEnd is the TCP tracker's td_end of direction d: the end of the
// highest segment seen that way (0 for another protocol).
func (c *Conn) TCPEnd(d Dir) uint32 {
	if c.l4 != protoTCP {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.proto.tcp.seen[d].end
}

// TupleTaken is nf_conntrack_tuple_taken: whether a connection in the
// table other than ignored has t, a reply tuple, as either of its tuples
// in ignored's zone (t hashed with the zone's reply-direction id). One
// whose original tuple is ignored's in the same zone is the same flow (a
// race of two first packets) and is left to clash resolution at
// confirmation. Expired entries met on the way are collected.
func (n *Net) TupleTaken(t Tuple, ignored *Conn) bool {
	zone := ignored.zone
	hash := n.hashRaw(&t, zone.IDIn(Reply))
	now := n.clock.Now()
	for {
		g := n.seqRead()
		tab := n.tab.Load()
		for h := tab.b[scale(hash, len(tab.b))].Load(); h != nil; h = h.next.Load() {
			ct := h.ct
			if ct == ignored {
				continue
			}
			if ct.expired(now) {
				n.gcExpired(ct)
				continue
			}
			if d := h.dir(); ct.tuple[d] != t || !ct.zoneEqual(zone, d) {
				continue
			}
			if ct.tuple[Original] == ignored.tuple[Original] && ct.zoneEqual(zone, Original) {
				continue
			}
			n.stats.found.Add(1)
			return true
		}
		if n.gen.Load() == g {
			return false
		}
		n.stats.searchRestart.Add(1)
	}
}
