package conntrack

import (
	"sync"
	"sync/atomic"
	"time"

	"vnic/stack"
)

// hnode is one direction's place in a hash chain (struct
// nf_conntrack_tuple_hash): the next node, and the connection it belongs
// to. Readers walk the chains without a lock (as RCU readers do), so the
// links are atomic; writers hold the bucket's lock.
type hnode struct {
	next atomic.Pointer[hnode]
	ct   *Conn
}

// dir is NF_CT_DIRECTION: which of its connection's two nodes n is.
func (n *hnode) dir() Dir {
	if n == &n.ct.node[Reply] {
		return Reply
	}
	return Original
}

// htable is the hash table (net->ct.hash, nf_conntrack_htable_size
// buckets).
type htable struct{ b []atomic.Pointer[hnode] }

// conntrackLocks is CONNTRACK_LOCKS: the bucket locks, bucket i under lock
// i % conntrackLocks.
const conntrackLocks = 1024

// evictionRange is NF_CT_EVICTION_RANGE: how many hash values early_drop
// tries.
const evictionRange = 8

// Chain lengths past which an insertion fails (MIN_CHAINLEN, MAX_CHAINLEN:
// the limit is drawn in [50, 80) per confirmation, Linux 6.18's values;
// maxChainLen is the width of the range, as MAX_CHAINLEN is).
const (
	minChainLen = 50
	maxChainLen = 80 - minChainLen
)

// Net is a host's connection tracking (struct netns_ct with the hash
// table, the expectations and the event subscribers). Init makes it;
// the hooks that feed it are registered while something uses it (Get).
type Net struct {
	host  *stack.Host
	clock stack.Clock

	cfgMu sync.Mutex // sysctl writers
	cfg   atomic.Pointer[Config]

	k0, k1 uint64 // the hash key (nf_conntrack_hash_rnd), from the host's seed
	tab    atomic.Pointer[htable]
	// gen is nf_conntrack_generation: odd while the table is resized, so
	// that a lookup that overlapped a resize is done again.
	gen   atomic.Uint32
	locks [conntrackLocks]sync.Mutex
	count atomic.Int64 // entries in the table (nf_conntrack_count)
	ids   atomic.Uint32
	rndMu sync.Mutex
	rnd   uint64 // prandom for the chain limit

	stats stats
	gc    gcWork

	hookMu sync.Mutex
	users  int
	ops    []*stack.NFHookOps

	exp expectTable
	ev  ecache
}

// seqRead is read_seqcount_begin on the generation: it waits out a resize
// in progress.
func (n *Net) seqRead() uint32 {
	if g := n.gen.Load(); g&1 == 0 {
		return g
	}
	return n.seqWait()
}

// seqWait is seqRead's wait: for the resize's end under all the locks.
func (n *Net) seqWait() uint32 {
	for {
		n.lockAll()
		n.unlockAll()
		if g := n.gen.Load(); g&1 == 0 {
			return g
		}
	}
}

// hashRaw is hash_conntrack_raw: a keyed SipHash (hsiphash, SipHash-1-3)
// of the tuple's 13 bytes — the addresses, the ports in network order,
// the protocol — under the host's key, the zone's id (in the tuple's
// direction) folded into the key.
func (n *Net) hashRaw(t *Tuple, zone uint16) uint32 {
	return uint32(hsiphash(n.k0^uint64(zone), n.k1, t))
}

// scale is reciprocal_scale: a 32-bit hash onto [0, size).
func scale(h uint32, size int) int { return int(uint64(h) * uint64(size) >> 32) }

// find is ____nf_conntrack_find: the node whose tuple is t and whose
// connection's zone gives zone's id in the node's direction, or nil.
// Expired entries it meets are collected (nf_ct_gc_expired). A walk that
// overlapped a resize is repeated (search_restart). now is the host
// clock's time (a packet's, read once for it).
func (n *Net) find(t *Tuple, zone Zone, hash uint32, now time.Duration) *hnode {
	for {
		g := n.seqRead()
		tab := n.tab.Load()
		var found *hnode
		for h := tab.b[scale(hash, len(tab.b))].Load(); h != nil; h = h.next.Load() {
			ct := h.ct
			if d := h.dir(); ct.tuple[d] != *t || !ct.zoneEqual(zone, d) {
				continue
			}
			if ct.expired(now) {
				n.gcExpired(ct)
				continue
			}
			found = h
			break
		}
		if found != nil || n.gen.Load() == g {
			return found
		}
		n.stats.searchRestart.Add(1)
	}
}

// Lookup finds the connection with tuple t in zone: the connection and the
// direction t is, or nil (nf_conntrack_find_get).
func (n *Net) Lookup(t Tuple, zone Zone) (*Conn, Dir) {
	h := n.findZone(&t, zone, n.clock.Now())
	if h == nil {
		return nil, 0
	}
	return h.ct, h.dir()
}

// findZone is nf_conntrack_find_get's search: t hashed with the zone's
// id of the original direction, then, for a zone of one direction, with
// the reply direction's.
func (n *Net) findZone(t *Tuple, zone Zone, now time.Duration) *hnode {
	id := zone.IDIn(Original)
	if h := n.find(t, zone, n.hashRaw(t, id), now); h != nil {
		return h
	}
	if rid := zone.IDIn(Reply); rid != id {
		return n.find(t, zone, n.hashRaw(t, rid), now)
	}
	return nil
}

// expired is nf_ct_is_expired.
func (c *Conn) expired(now time.Duration) bool {
	return time.Duration(c.expires.Load()) <= now
}

// Timeout is the time left before the entry times out (nf_ct_expires):
// never negative.
func (c *Conn) Timeout() time.Duration {
	if c.Status()&StatusConfirmed == 0 {
		return max(time.Duration(c.expires.Load()), 0)
	}
	return max(time.Duration(c.expires.Load())-c.net.clock.Now(), 0)
}

// lockPair is nf_conntrack_double_lock: the locks of the buckets the two
// hashes fall in, the lower first, taken on the current table; it returns
// the table and the buckets.
func (n *Net) lockPair(h0, h1 uint32) (*htable, int, int) {
	for {
		g := n.seqRead()
		tab := n.tab.Load()
		b0, b1 := scale(h0, len(tab.b)), scale(h1, len(tab.b))
		l0, l1 := b0%conntrackLocks, b1%conntrackLocks
		if l0 > l1 {
			l0, l1 = l1, l0
		}
		n.locks[l0].Lock()
		if l1 != l0 {
			n.locks[l1].Lock()
		}
		if n.gen.Load() == g {
			return tab, b0, b1
		}
		n.unlockPair(b0, b1)
	}
}

func (n *Net) unlockPair(b0, b1 int) {
	l0, l1 := b0%conntrackLocks, b1%conntrackLocks
	n.locks[l0].Unlock()
	if l1 != l0 {
		n.locks[l1].Unlock()
	}
}

// lockAll is nf_conntrack_all_lock.
func (n *Net) lockAll() {
	for i := range n.locks {
		n.locks[i].Lock()
	}
}

func (n *Net) unlockAll() {
	for i := range n.locks {
		n.locks[i].Unlock()
	}
}

// unlink takes node out of bucket b's chain (hlist_nulls_del_rcu); the
// node keeps its next link, so a reader standing on it walks on.
func unlink(tab *htable, b int, node *hnode) {
	p := &tab.b[b]
	for h := p.Load(); h != nil; h = h.next.Load() {
		if h == node {
			p.Store(h.next.Load())
			return
		}
		p = &h.next
	}
}

// hashInsert is __nf_conntrack_hash_insert: both directions at the heads
// of their chains.
func hashInsert(tab *htable, ct *Conn, b0, b1 int) {
	ct.node[Original].next.Store(tab.b[b0].Load())
	tab.b[b0].Store(&ct.node[Original])
	ct.node[Reply].next.Store(tab.b[b1].Load())
	tab.b[b1].Store(&ct.node[Reply])
}

// Delete removes ct from the table (nf_ct_delete): it is marked dying,
// unhashed, its expectations go, its extension is told, and subscribers
// hear DESTROY. It reports whether this call removed it (false: it was
// already dying or never confirmed).
func (n *Net) Delete(ct *Conn) bool {
	if !ct.setStatusBit(StatusDying) {
		return false
	}
	if ct.Status()&StatusConfirmed == 0 {
		return false
	}
	h0, h1 := n.hashes(ct)
	tab, b0, b1 := n.lockPair(h0, h1)
	unlink(tab, b0, &ct.node[Original])
	unlink(tab, b1, &ct.node[Reply])
	n.unlockPair(b0, b1)
	n.count.Add(-1)
	n.exp.removeMaster(n, ct)
	if ct.ext != nil {
		ct.ext.Destroyed(ct)
	}
	n.ev.deliver(ct, 1<<EventDestroy)
	return true
}

// hashes are the hashes of ct's two tuples, each with its zone's id in
// that direction (hash_conntrack_raw as confirmation computes them).
func (n *Net) hashes(ct *Conn) (orig, reply uint32) {
	return n.hashRaw(&ct.tuple[Original], ct.zone.IDIn(Original)), n.hashRaw(&ct.tuple[Reply], ct.zone.IDIn(Reply))
}

// gcExpired is nf_ct_gc_expired: an expired entry found on the way goes.
func (n *Net) gcExpired(ct *Conn) { n.Delete(ct) }

// setStatusBit is test_and_set_bit on the status: it reports whether the
// bit was clear.
func (c *Conn) setStatusBit(b Status) bool {
	for {
		old := c.status.Load()
		if Status(old)&b != 0 {
			return false
		}
		if c.status.CompareAndSwap(old, old|uint32(b)) {
			return true
		}
	}
}

// chainLimit is the chain length past which a confirmation fails
// (MIN_CHAINLEN + prandom below MAX_CHAINLEN).
func (n *Net) chainLimit() int {
	n.rndMu.Lock()
	n.rnd = splitmix64(n.rnd)
	r := n.rnd
	n.rndMu.Unlock()
	return minChainLen + int(uint64(uint32(r))*maxChainLen>>32)
}

// alloc is __nf_conntrack_alloc: a connection of tuple t and its inverse
// r in zone; past nf_conntrack_max an unassured entry near the new one's
// hash is evicted (early_drop) or nothing is made (nil: the packet is
// dropped). Its event masks are init_conntrack's: the template's when it
// has them, else every event while nf_conntrack_events is on.
func (n *Net) alloc(t, r *Tuple, zone Zone, hash uint32, cfg *Config, tmpl *Conn) *Conn {
	if cfg.Max > 0 && n.count.Load() >= int64(cfg.Max) {
		if !n.earlyDrop(hash) {
			n.gc.earlyDrop.Store(true)
			return nil
		}
	}
	ct := &Conn{tuple: [2]Tuple{*t, *r}, zone: zone, net: n, id: n.ids.Add(1)}
	ct.node[Original].ct, ct.node[Reply].ct = ct, ct
	ct.ctmask, ct.expmask = ecacheMasks(tmpl, cfg)
	if cfg.Acct {
		ct.acct = new([2]counter)
	}
	return ct
}

// earlyDrop is early_drop: the bucket hash scales to and the
// evictionRange-1 buckets after it (wrapping) are searched for entries
// that are confirmed and not ASSURED; every one found in the first bucket
// that has any is deleted.
func (n *Net) earlyDrop(hash uint32) bool {
	b := 0
	for i := 0; i < evictionRange; i++ {
		tab := n.tab.Load()
		if i == 0 {
			b = scale(hash, len(tab.b))
		} else {
			b = (b + 1) % len(tab.b)
		}
		if drops := n.earlyDropList(tab, b); drops > 0 {
			n.stats.earlyDrop.Add(uint64(drops))
			return true
		}
	}
	return false
}

// earlyDropList is early_drop_list over one bucket.
func (n *Net) earlyDropList(tab *htable, b int) int {
	now := n.clock.Now()
	var victims [maxChainLen + minChainLen]*Conn
	k := 0
	for h := tab.b[b].Load(); h != nil && k < len(victims); h = h.next.Load() {
		ct := h.ct
		if ct.expired(now) {
			victims[k] = ct // collected below, as nf_ct_gc_expired
			k++
			continue
		}
		st := ct.Status()
		if st&(StatusAssured|StatusDying) != 0 || st&StatusConfirmed == 0 {
			continue
		}
		victims[k] = ct
		k++
	}
	drops := 0
	for _, ct := range victims[:k] {
		expired := ct.expired(now)
		if n.Delete(ct) && !expired {
			drops++
		}
	}
	return drops
}

// confirm is __nf_conntrack_confirm: the connection the packet made goes
// into the table under both tuples unless one is there already (a clash:
// resolved for the protocols that allow it by adopting the entry that won,
// else the packet is dropped) or a chain is too long. The timeout starts
// now. The NEW (or RELATED) event is cached for delivery with the packet's.
func (n *Net) confirm(skb *stack.SKB, ct *Conn, info Info) stack.Verdict {
	if info.Dir() != Original {
		// A reply packet of an unconfirmed connection cannot happen
		// (nothing else can have seen it).
		return stack.NFAccept
	}
	h0, h1 := n.hashes(ct)
	tab, b0, b1 := n.lockPair(h0, h1)
	if ct.Status()&StatusDying != 0 {
		n.unlockPair(b0, b1)
		n.stats.insertFailed.Add(1)
		n.stats.drop.Add(1)
		return stack.NFDrop
	}
	var clash *hnode
	limit := n.chainLimit()
	for d, b := range [2]int{b0, b1} {
		chain := 0
		for h := tab.b[b].Load(); h != nil; h = h.next.Load() {
			if hd := h.dir(); h.ct.tuple[hd] == ct.tuple[d] && h.ct.zoneEqual(ct.zone, hd) {
				clash = h
				break
			}
			if chain++; chain > limit {
				n.unlockPair(b0, b1)
				n.stats.chainTooLong.Add(1)
				n.stats.insertFailed.Add(1)
				n.stats.drop.Add(1)
				return stack.NFDrop
			}
		}
		if clash != nil {
			break
		}
	}
	if clash != nil {
		n.unlockPair(b0, b1)
		return n.resolveClash(skb, ct, clash, info)
	}
	ct.expires.Add(int64(n.clock.Now()))
	ct.status.Or(uint32(StatusConfirmed))
	hashInsert(tab, ct, b0, b1)
	n.unlockPair(b0, b1)
	if n.count.Add(1) == 1 {
		n.gc.kick(n)
	}
	if ct.ext != nil {
		ct.ext.Confirmed(ct)
	}
	if ct.master != nil {
		ct.cacheEvent(EventRelated)
	} else {
		ct.cacheEvent(EventNew)
	}
	return stack.NFAccept
}

// resolveClash is nf_ct_resolve_clash: for a protocol that allows it (UDP,
// ICMP: two packets of a new flow raced on two CPUs), the packet joins the
// entry that won and the loser's counters are merged into it; otherwise
// the packet is dropped (insert_failed).
func (n *Net) resolveClash(skb *stack.SKB, loser *Conn, h *hnode, info Info) stack.Verdict {
	winner := h.ct
	if !allowClash(loser.l4) || winner.Status()&StatusDying != 0 {
		n.stats.drop.Add(1)
		n.stats.insertFailed.Add(1)
		return stack.NFDrop
	}
	if loser.acct != nil && winner.acct != nil {
		for d := range loser.acct {
			winner.acct[d].packets.Add(loser.acct[d].packets.Load())
			winner.acct[d].bytes.Add(loser.acct[d].bytes.Load())
		}
	}
	if h.dir() == Reply {
		info += IsReply
	}
	skb.SetNFCT(winner, uint8(info))
	n.stats.clashResolve.Add(1)
	return stack.NFAccept
}

// splitmix64 is one step of SplitMix64 (the seeds and the chain limit).
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	z := x
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Count is nf_conntrack_count: the entries in the table.
func (n *Net) Count() int { return int(n.count.Load()) }

// Buckets is nf_conntrack_buckets.
func (n *Net) Buckets() int { return len(n.tab.Load().b) }

// Resize is nf_conntrack_hash_resize: the table gets size buckets and
// every entry is rehashed into it.
func (n *Net) Resize(size int) {
	if size < 1 {
		size = 1
	}
	n.lockAll()
	n.gen.Add(1)
	old := n.tab.Load()
	tab := &htable{b: make([]atomic.Pointer[hnode], size)}
	for i := range old.b {
		for h := old.b[i].Load(); h != nil; {
			next := h.next.Load()
			d := h.dir()
			b := scale(n.hashRaw(&h.ct.tuple[d], h.ct.zone.IDIn(d)), size)
			h.next.Store(tab.b[b].Load())
			tab.b[b].Store(h)
			h = next
		}
	}
	n.tab.Store(tab)
	n.gen.Add(1)
	n.unlockAll()
}

// Walk calls fn for each connection in the table, bucket by bucket (each
// once, under its original tuple's node), until fn returns false. fn
// may Delete the connection it is given. Expired entries are collected on
// the way, as ctnetlink's dump evicts them.
func (n *Net) Walk(fn func(*Conn) bool) {
	now := n.clock.Now()
	tab := n.tab.Load()
	var batch []*Conn
	for i := range tab.b {
		batch = batch[:0]
		l := i % conntrackLocks
		n.locks[l].Lock()
		for h := tab.b[i].Load(); h != nil; h = h.next.Load() {
			if h.dir() == Original {
				batch = append(batch, h.ct)
			}
		}
		n.locks[l].Unlock()
		for _, ct := range batch {
			if ct.expired(now) {
				n.gcExpired(ct)
				continue
			}
			if !fn(ct) {
				return
			}
		}
	}
}
