package nat

import "vnic/stack/netfilter/conntrack"

// binding is what NAT keeps with a connection (struct nf_conn_nat and the
// connection's nat_bysource node): the device a MASQUERADE bound it to,
// and its place in the source map.
type binding struct {
	n  *Net
	ct *conntrack.Conn
	// masqIndex is the ifindex of the device a MASQUERADE took the
	// address of (0: not masqueraded).
	masqIndex int
	// bySrc: the source was mapped; the connection joins the source map
	// when it is confirmed.
	bySrc  bool
	linked bool
	next   *binding
}

var _ conntrack.Extension = (*binding)(nil)

// binding returns ct's binding, adding one while ct is unconfirmed.
func (n *Net) binding(ct *conntrack.Conn) *binding {
	if b, ok := ct.Extension().(*binding); ok {
		return b
	}
	b := &binding{n: n, ct: ct}
	if !ct.SetExtension(b) {
		return &binding{} // confirmed: nothing to keep (nf_ct_nat_ext_add gives NULL)
	}
	return b
}

// srcKey is what find_appropriate_src compares: the original source, the
// protocol and the zone's id in the original direction
// (nf_ct_zone_equal(ct, zone, IP_CT_DIR_ORIGINAL)).
type srcKey struct {
	addr  [4]byte
	port  uint16
	proto uint8
	zone  uint16
}

func keyOf(t conntrack.Tuple, zone conntrack.Zone) srcKey {
	return srcKey{addr: t.Src, port: t.SrcPort, proto: t.Proto, zone: zone.IDIn(conntrack.Original)}
}

// Confirmed links a source-mapped connection into the source map. Linux
// links it when it is bound; vnic waits for the table, so that an entry
// whose packet was dropped before confirmation (and that nobody frees) is
// never in the map.
func (b *binding) Confirmed(ct *conntrack.Conn) {
	if !b.bySrc {
		return
	}
	n := b.n
	k := keyOf(ct.Tuple(conntrack.Original), ct.Zone())
	n.srcMu.Lock()
	b.next = n.bySrc[k]
	n.bySrc[k] = b
	b.linked = true
	n.srcMu.Unlock()
}

// Destroyed is nf_nat_cleanup_conntrack: the connection leaves the source
// map.
func (b *binding) Destroyed(ct *conntrack.Conn) {
	n := b.n
	n.srcMu.Lock()
	defer n.srcMu.Unlock()
	if !b.linked {
		return
	}
	k := keyOf(ct.Tuple(conntrack.Original), ct.Zone())
	switch head := n.bySrc[k]; {
	case head == b && b.next == nil:
		delete(n.bySrc, k)
	case head == b:
		n.bySrc[k] = b.next
	default:
		for p := head; p != nil; p = p.next {
			if p.next == b {
				p.next = b.next
				break
			}
		}
	}
	b.linked, b.next = false, nil
}

// findAppropriateSrc is find_appropriate_src: a connection from the same
// source (address, port, protocol) already mapped gives its mapping, with
// orig's destination, when that is in r — so that one source keeps one
// mapped address and port across destinations.
func (n *Net) findAppropriateSrc(orig conntrack.Tuple, r *Range, zone conntrack.Zone) (conntrack.Tuple, bool) {
	n.srcMu.Lock()
	defer n.srcMu.Unlock()
	for b := n.bySrc[keyOf(orig, zone)]; b != nil; b = b.next {
		res, ok := b.ct.Tuple(conntrack.Reply).Invert()
		if !ok {
			continue
		}
		res.Dst, res.DstPort = orig.Dst, orig.DstPort
		if inRange(&res, r) {
			return res, true
		}
	}
	return conntrack.Tuple{}, false
}
