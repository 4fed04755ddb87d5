package fib

import (
	"math/bits"
	"slices"
)

// The table's prefixes live in an LC-trie shaped as Linux's fib_trie: a
// path- and level-compressed binary trie whose internal nodes (tnodes)
// index 2^bits children by the key bits [pos, pos+bits), and whose leaves
// hold every route of one key (the prefix with its host bits clear), the
// longest prefix first. Internal nodes double (inflate) while most of
// their children are in use and halve while most are empty, so the trie
// stays a few levels deep however many prefixes it holds. Each node keeps
// slen, the longest suffix (32 − prefix length) of a route below it: a
// lookup that falls off the key's path backtracks only into nodes that
// can hold a shorter prefix of it.
//
// The thresholds are Linux's: inflate when the used children (full child
// tnodes counted twice) reach all of them (60 % for the node under the
// root), halve when under 25 % of them are used (15 % at the root); at
// most ten resizes per node per change.
//
// Memory is laid out for the lookup rather than as one Go object per
// node. A tnode is a run of 32-bit words in an arena, its header (key;
// pos, bits and slen; parent; empty and full counts) followed by its
// children inline, as a kernel key_vector holds its tnode array: one
// cache line or two per level instead of a node and a separate child
// array. A child slot holds a reference: 0 for none, a leaf's index
// (odd) or a tnode's arena offset (even). Leaves are 24-byte records
// (the key, slen, and a copy of what a lookup reads of the first route)
// in chunks of their own; the rest of a key's routes, when it has more
// than one (7 % of the tier-1 table's keys), are in a map by key beside
// the trie. Leaves keep no parent: the few changes that need it find the
// leaf's slot from the root. The arena holds no pointers, so the garbage
// collector never scans it.

const (
	inflateThreshold     = 50
	inflateThresholdRoot = 30
	halveThreshold       = 25
	halveThresholdRoot   = 15
	maxResizeWork        = 10
)

// A tnode's words, from its offset.
const (
	hKey     = 0 // the key, the bits under pos+bits clear
	hMeta    = 1 // pos | bits<<8 | slen<<16
	hParent  = 2 // the parent's offset (noParent for the root)
	hEmpty   = 3 // nil slots
	hFull    = 4 // children that are full tnodes
	hdrWords = 5 // the children follow

	chunkShift = 16 // arena chunks of 64 Ki words; a bigger tnode spans several
	chunkWords = 1 << chunkShift
	leafShift  = 12 // leaf chunks of 4096 records
	leafChunk  = 1 << leafShift

	rootOff  = 0 // the sentinel above the top node (Linux's t->kv): pos 32, one slot
	noParent = ^uint32(0)
)

// ref is a child slot's contents.
type ref uint32

const nilRef ref = 0

func leafRef(id uint32) ref  { return ref(id<<1 | 1) }
func nodeRef(off uint32) ref { return ref(off << 1) } // the root, offset 0, is nobody's child
func (r ref) leaf() bool     { return r&1 != 0 }
func (r ref) id() uint32     { return uint32(r >> 1) }

// leaf is one key's routes, with a copy of what a lookup reads of the
// first so that a lookup ending there touches only the leaf and the
// (shared, so cached) info.
type leaf struct {
	first *Route   // longest prefix first (then as fib_alias sorts)
	aux   *leafAux // first's info; for a leaf of several routes, its own, with the rest
	key   uint32
	slen  uint8 // the longest suffix: 32 − the shortest prefix's length
	plen  uint8 // first's prefix length
	tos   uint8 // first's
	kind  uint8 // first's type, and leafSimple
}

// leafSimple marks a first route with a single nexthop of its own (no
// paths, no nexthop object): its info's key says all a lookup asks.
// leafAux is a leaf's first route's info and, for a key with several
// routes (7 % of the tier-1 table's), the routes after the first. A
// single route's leaf points at the aux inside its shared info, so it
// costs nothing of its own.
type leafAux struct {
	fi   *fibInfo
	rest []*Route
}

// leafMore marks a leaf with more routes than its first (in its aux).
const (
	leafSimple   = 0x80
	leafMore     = 0x40
	leafTypeMask = 0x0f
)

// syncLeaf copies the first route's fields into l, and its shortest
// prefix's suffix, after its list changed.
func (t *trie) syncLeaf(l *leaf) {
	r := l.first
	if r == nil {
		*l = leaf{key: l.key}
		return
	}
	l.plen, l.tos, l.kind = r.Len, r.TOS, uint8(r.Type)&leafTypeMask
	last := r
	switch {
	case l.aux != nil && len(l.aux.rest) > 0:
		l.kind |= leafMore
		l.aux.fi = r.fi
		last = l.aux.rest[len(l.aux.rest)-1]
	case r.fi != nil:
		l.aux = &r.fi.aux
	default:
		l.aux = nil
	}
	if len(r.paths) == 0 && r.NhID == 0 && !r.dead && r.fi != nil && r.fi.key.dev == r.Dev {
		l.kind |= leafSimple
	}
	l.slen = 32 - last.Len
}

// routesOf lists l's routes in their order into buf.
func (t *trie) routesOf(l *leaf, buf []*Route) []*Route {
	out := buf[:0]
	if l.first == nil {
		return out
	}
	out = append(out, l.first)
	if l.kind&leafMore != 0 {
		out = append(out, l.aux.rest...)
	}
	return out
}

// setRoutes makes rs (which it does not keep) l's routes.
func (t *trie) setRoutes(l *leaf, rs []*Route) {
	l.first = nil
	if len(rs) > 0 {
		l.first = rs[0]
	}
	if len(rs) > 1 {
		if l.kind&leafMore == 0 {
			l.aux = &leafAux{} // of its own
		}
		l.aux.rest = append(l.aux.rest[:0], rs[1:]...)
	} else if l.kind&leafMore != 0 {
		l.aux = nil // the private one goes; syncLeaf points at the info's
	}
	t.syncLeaf(l)
}

// drop takes r out of l's routes.
func (t *trie) drop(l *leaf, r *Route) {
	var buf [8]*Route
	rs := t.routesOf(l, buf[:])
	if i := slices.Index(rs, r); i >= 0 {
		t.setRoutes(l, slices.Delete(rs, i, i+1))
	}
}

// trie is one table's LC-trie.
type trie struct {
	chunks [][]uint32 // the arena: chunk c holds offsets [c<<chunkShift, (c+1)<<chunkShift)
	top    int        // words in use in the last chunk
	free   [33][]uint32
	// live and freed count the words of the tnodes in use and of those
	// on the free lists: when the freed ones grow to a quarter of the
	// live, the arena is compacted.
	live, freed int

	lchunks    [][]leaf
	nextLeaf   uint32
	freeLeaves []uint32

	leaves, tnodes int
}

func meta(pos, nbits, slen uint8) uint32 {
	return uint32(pos) | uint32(nbits)<<8 | uint32(slen)<<16
}

func newTrie() *trie {
	t := &trie{}
	off := t.alloc(hdrWords + 1)
	n := t.n(off)
	n[hMeta] = meta(32, 0, 32)
	n[hParent] = noParent
	n[hEmpty] = 1
	t.live = hdrWords + 1
	return t
}

// n returns the words of the tnode at off, from its header on. The slice
// is good until the next tnode is made: the arena's last chunk grows.
func (t *trie) n(off uint32) []uint32 { return t.chunks[off>>chunkShift][off&(chunkWords-1):] }

func (t *trie) pos(off uint32) uint8     { return uint8(t.n(off)[hMeta]) }
func (t *trie) nbits(off uint32) uint8   { return uint8(t.n(off)[hMeta] >> 8) }
func (t *trie) slen(off uint32) uint8    { return uint8(t.n(off)[hMeta] >> 16) }
func (t *trie) key(off uint32) uint32    { return t.n(off)[hKey] }
func (t *trie) parent(off uint32) uint32 { return t.n(off)[hParent] }
func (t *trie) slots(off uint32) uint32  { return 1 << t.nbits(off) }
func (t *trie) child(off, i uint32) ref  { return ref(t.n(off)[hdrWords+i]) }

func (t *trie) setSlen(off uint32, s uint8) {
	n := t.n(off)
	n[hMeta] = n[hMeta]&0xffff | uint32(s)<<16
}

func (t *trie) leafOf(id uint32) *leaf { return &t.lchunks[id>>leafShift][id&(leafChunk-1)] }

// refKey and refSlen read a child of either kind.
func (t *trie) refKey(r ref) uint32 {
	if r.leaf() {
		return t.leafOf(r.id()).key
	}
	return t.key(r.id())
}

func (t *trie) refSlen(r ref) uint8 {
	if r.leaf() {
		return t.leafOf(r.id()).slen
	}
	return t.slen(r.id())
}

// index is key's child slot in tnode off (get_cindex); a value of
// 1<<bits or more means key is not under it at all. For the root it is 0.
func (t *trie) index(off, key uint32) uint32 {
	n := t.n(off)
	pos := uint8(n[hMeta])
	if pos >= 32 {
		return 0
	}
	return (key ^ n[hKey]) >> pos
}

// alloc reserves words in the arena. The last chunk grows by doubling up
// to a whole chunk, so a small table takes little; a tnode bigger than a
// chunk gets chunks of its own, each a window onto one allocation.
func (t *trie) alloc(words int) uint32 {
	if words > chunkWords {
		buf := make([]uint32, words)
		first := len(t.chunks)
		for j := 0; j<<chunkShift < words; j++ {
			t.chunks = append(t.chunks, buf[j<<chunkShift:])
		}
		t.top = chunkWords // the next small tnode opens a new chunk
		return uint32(first) << chunkShift
	}
	if len(t.chunks) == 0 || t.top+words > chunkWords {
		t.chunks = append(t.chunks, make([]uint32, 0, max(64, words)))
		t.top = 0
	}
	c := len(t.chunks) - 1
	if need := t.top + words; need > cap(t.chunks[c]) {
		grown := make([]uint32, t.top, min(chunkWords, max(need, 2*cap(t.chunks[c]))))
		copy(grown, t.chunks[c])
		t.chunks[c] = grown
	}
	t.chunks[c] = t.chunks[c][:t.top+words]
	off := uint32(c)<<chunkShift | uint32(t.top)
	t.top += words
	return off
}

// newTnode makes an empty tnode of 1<<nbits slots for key's bits above
// pos+nbits.
func (t *trie) newTnode(key uint32, pos, nbits uint8) uint32 {
	if s := uint32(pos) + uint32(nbits); s < 32 {
		key = key >> s << s
	} else {
		key = 0
	}
	size := hdrWords + 1<<nbits
	var off uint32
	if fl := t.free[nbits]; len(fl) > 0 {
		off = fl[len(fl)-1]
		t.free[nbits] = fl[:len(fl)-1]
		clear(t.n(off)[:size])
		t.freed -= size
	} else {
		off = t.alloc(size)
	}
	t.live += size
	n := t.n(off)
	n[hKey] = key
	n[hMeta] = meta(pos, nbits, pos)
	n[hParent] = noParent
	n[hEmpty] = 1 << nbits
	return off
}

// freeTnode returns off's words for the next tnode of its size.
func (t *trie) freeTnode(off uint32) {
	nb := t.nbits(off)
	t.free[nb] = append(t.free[nb], off)
	size := hdrWords + 1<<nb
	t.live -= size
	t.freed += size
}

// compactMin is the fewest freed words worth a compaction.
const compactMin = 1 << 12

// maybeCompact compacts the trie once its freed tnodes' words reach a
// quarter of the live ones' (so at most a fifth of the arena is ever
// idle, and the copying costs a constant per word freed), or its freed
// leaf records a quarter of the leaves. The table calls it after each
// change, when no leaf id is held.
func (t *trie) maybeCompact() {
	if t.freed >= compactMin && 4*t.freed >= t.live || len(t.freeLeaves) >= compactMin && 4*len(t.freeLeaves) >= t.leaves {
		t.compact()
	}
}

// compact copies the live tnodes into a fresh arena and the leaves into
// fresh chunks, depth first from the root (each tnode before its
// subtrees, and a tnode's leaves next to one another, which puts what a
// lookup and its backtracking touch close together), and drops the free
// lists. Leaves get new ids: the trie's callers compact only between
// their changes (maybeCompact), never while they hold a leaf's id.
func (t *trie) compact() {
	old, oldLeaves := t.chunks, t.lchunks
	at := func(off uint32) []uint32 { return old[off>>chunkShift][off&(chunkWords-1):] }
	t.chunks, t.top, t.free, t.freed = nil, 0, [33][]uint32{}, 0
	t.lchunks, t.nextLeaf, t.freeLeaves = nil, 0, nil
	var move func(off, parent uint32) uint32
	move = func(off, parent uint32) uint32 {
		o := at(off)
		slots := 1 << uint8(o[hMeta]>>8)
		to := t.alloc(hdrWords + slots)
		copy(t.n(to)[:hdrWords+slots], o[:hdrWords+slots])
		t.n(to)[hParent] = parent
		for i := range slots {
			switch c := ref(o[hdrWords+i]); {
			case c == nilRef:
			case c.leaf():
				id := t.takeLeafID()
				*t.leafOf(id) = oldLeaves[c.id()>>leafShift][c.id()&(leafChunk-1)]
				t.n(to)[hdrWords+i] = uint32(leafRef(id))
			default:
				moved := move(c.id(), to)
				t.n(to)[hdrWords+i] = uint32(nodeRef(moved))
			}
		}
		return to
	}
	move(rootOff, noParent)
}

// takeLeafID gives a leaf record: a freed one, else the next.
func (t *trie) takeLeafID() uint32 {
	if n := len(t.freeLeaves); n > 0 {
		id := t.freeLeaves[n-1]
		t.freeLeaves = t.freeLeaves[:n-1]
		return id
	}
	id := t.nextLeaf
	t.nextLeaf++
	c := int(id >> leafShift)
	if c == len(t.lchunks) {
		t.lchunks = append(t.lchunks, make([]leaf, 0, 16))
	}
	if lc := t.lchunks[c]; len(lc) == cap(lc) { // doubling, to a whole chunk exactly
		grown := make([]leaf, len(lc), min(leafChunk, 2*cap(lc)))
		copy(grown, lc)
		t.lchunks[c] = grown
	}
	t.lchunks[c] = t.lchunks[c][:len(t.lchunks[c])+1]
	return id
}

// newLeaf makes a leaf for key holding routes rs (which it does not
// keep).
func (t *trie) newLeaf(key uint32, rs []*Route) uint32 {
	id := t.takeLeafID()
	l := t.leafOf(id)
	*l = leaf{key: key}
	t.setRoutes(l, rs)
	return id
}

func (t *trie) freeLeaf(id uint32) {
	*t.leafOf(id) = leaf{}
	t.freeLeaves = append(t.freeLeaves, id)
}

// fullChild reports whether child c of tn is a tnode that skips no bits
// below tn (tnode_full): inflating tn splits it rather than moving it.
func (t *trie) fullChild(tn uint32, c ref) bool {
	if c == nilRef || c.leaf() {
		return false
	}
	m := t.n(c.id())[hMeta]
	return uint8(m)+uint8(m>>8) == t.pos(tn)
}

func (t *trie) setParent(c ref, tn uint32) {
	if c != nilRef && !c.leaf() {
		t.n(c.id())[hParent] = tn
	}
}

// put sets tn's slot i to c, keeping the counts and slen (put_child).
func (t *trie) put(tn, i uint32, c ref) {
	old := t.child(tn, i)
	n := t.n(tn)
	switch {
	case c == nilRef && old != nilRef:
		n[hEmpty]++
	case c != nilRef && old == nilRef:
		n[hEmpty]--
	}
	was, is := t.fullChild(tn, old), t.fullChild(tn, c)
	switch {
	case was && !is:
		n[hFull]--
	case !was && is:
		n[hFull]++
	}
	if c != nilRef {
		if s := t.refSlen(c); t.slen(tn) < s {
			t.setSlen(tn, s)
		}
	}
	n[hdrWords+i] = uint32(c)
}

// find returns key's leaf (ok false when none) and the tnode whose slot
// the key falls in (fib_find_node).
func (t *trie) find(key uint32) (id, tp uint32, ok bool) {
	tp = rootOff
	c := t.child(tp, 0)
	for c != nilRef {
		if c.leaf() {
			return c.id(), tp, t.leafOf(c.id()).key == key
		}
		off := c.id()
		i := t.index(off, key)
		if i>>t.nbits(off) != 0 {
			return 0, tp, false
		}
		tp, c = off, t.child(off, i)
	}
	return 0, tp, false
}

// insert makes a leaf for key holding the list from first under tp, which
// find returned for key (fib_insert_node), and rebalances.
func (t *trie) insert(tp, key uint32, rs ...*Route) uint32 {
	id := t.newLeaf(key, rs)
	slen := t.leafOf(id).slen
	if c := t.child(tp, t.index(tp, key)); c != nilRef {
		// The slot holds a node of another key: a binary tnode at the
		// highest bit where the two keys differ holds both.
		tn := t.newTnode(key, uint8(bits.Len32(key^t.refKey(c))-1), 1)
		t.tnodes++
		t.n(tn)[hParent] = tp
		t.put(tn, t.index(tn, key)^1, c)
		t.put(tp, t.index(tp, key), nodeRef(tn))
		t.setParent(c, tn)
		tp = tn
	}
	t.pushSuffix(tp, slen)
	t.put(tp, t.index(tp, key), leafRef(id))
	t.leaves++
	t.rebalance(tp)
	return id
}

// remove takes leaf id out (its routes gone; slen was its suffix
// before) and rebalances.
func (t *trie) remove(id uint32, slen uint8) {
	l := t.leafOf(id)
	key := l.key
	_, tp, _ := t.find(key)
	t.put(tp, t.index(tp, key), nilRef)
	t.freeLeaf(id)
	t.leaves--
	t.pullSuffix(tp, slen)
	t.rebalance(tp)
}

// changed updates slen above leaf id after its routes changed (setRoutes
// gave the leaf its new slen; old is the one before): leaf_push_suffix /
// leaf_pull_suffix.
func (t *trie) changed(id uint32, old uint8) {
	l := t.leafOf(id)
	if l.slen == old {
		return
	}
	s := l.slen
	_, tp, _ := t.find(l.key)
	if s > old {
		t.pushSuffix(tp, s)
	} else {
		t.pullSuffix(tp, old)
	}
}

// pushSuffix raises slen from tn up while it is below s.
func (t *trie) pushSuffix(tn uint32, s uint8) {
	for tn != noParent && t.slen(tn) < s {
		t.setSlen(tn, s)
		tn = t.parent(tn)
	}
}

// pullSuffix recomputes slen from tn up after a suffix of length s went
// away below it, while that can lower it (node_pull_suffix): only a node
// whose slen was s can lose it (fib_remove_alias rescans a parent only
// when the leaf held its slen). A shorter suffix going leaves tn alone:
// rescanning there costs a node's whole child array, 2^18 slots under
// the tier-1 table's root, for every route a device takes down with it.
func (t *trie) pullSuffix(tn uint32, s uint8) {
	for tn != rootOff && t.slen(tn) > t.pos(tn) && t.slen(tn) == s {
		old := t.slen(tn)
		if t.updateSuffix(tn) == old {
			return
		}
		tn = t.parent(tn)
	}
}

// updateSuffix sets tn's slen from its children (update_suffix).
func (t *trie) updateSuffix(tn uint32) uint8 {
	s := t.pos(tn)
	for i, n := uint32(0), t.slots(tn); i < n; i++ {
		if c := t.child(tn, i); c != nilRef {
			s = max(s, t.refSlen(c))
		}
	}
	t.setSlen(tn, s)
	return s
}

// rebalance resizes every tnode from tn up to the root (trie_rebalance).
func (t *trie) rebalance(tn uint32) {
	for tn != noParent && tn != rootOff {
		tn = t.resize(tn)
	}
}

func (t *trie) used(tn uint32) uint64 {
	return uint64(t.slots(tn)) - uint64(t.n(tn)[hEmpty])
}

func (t *trie) shouldInflate(tp, tn uint32) bool {
	n := uint64(t.slots(tn))
	threshold := n * inflateThreshold
	if tp == rootOff {
		threshold = n * inflateThresholdRoot
	}
	used := t.used(tn) + uint64(t.n(tn)[hFull])
	return used > 1 && t.pos(tn) > 0 && 50*used >= threshold
}

func (t *trie) shouldHalve(tp, tn uint32) bool {
	n := uint64(t.slots(tn))
	threshold := n * halveThreshold
	if tp == rootOff {
		threshold = n * halveThresholdRoot
	}
	used := t.used(tn)
	return used > 1 && t.nbits(tn) > 1 && 100*used < threshold
}

func (t *trie) shouldCollapse(tn uint32) bool { return t.used(tn) < 2 }

// resize inflates, halves or collapses tn as its use asks and returns the
// tnode above it (resize).
func (t *trie) resize(tn uint32) uint32 {
	tp := t.parent(tn)
	ci := t.index(tp, t.key(tn))
	work := maxResizeWork
	for work > 0 && t.shouldInflate(tp, tn) {
		tp = t.inflate(tn)
		work--
		tn = t.child(tp, ci).id()
	}
	tp = t.parent(tn)
	if work != maxResizeWork {
		return tp
	}
	for work > 0 && t.shouldHalve(tp, tn) {
		tp = t.halve(tn)
		work--
		tn = t.child(tp, ci).id()
	}
	if t.shouldCollapse(tn) {
		return t.collapse(tn)
	}
	return t.parent(tn)
}

// inflate replaces old by a tnode of twice its children: one more index
// bit, taken from each full child, which splits in two (inflate).
func (t *trie) inflate(old uint32) uint32 {
	tn := t.newTnode(t.key(old), t.pos(old)-1, t.nbits(old)+1)
	t.tnodes++
	m := uint32(1) << t.pos(tn)
	for i := int(t.slots(old)) - 1; i >= 0; i-- {
		c := t.child(old, uint32(i))
		if c == nilRef {
			continue
		}
		if !t.fullChild(old, c) { // a leaf, or a tnode that skips bits
			t.put(tn, t.index(tn, t.refKey(c)), c)
			continue
		}
		in := c.id()
		ui := uint32(i)
		t.tnodes-- // in is replaced
		if t.nbits(in) == 1 {
			t.put(tn, 2*ui+1, t.child(in, 1))
			t.put(tn, 2*ui, t.child(in, 0))
			t.freeTnode(in)
			continue
		}
		n1 := t.newTnode(t.key(in)|m, t.pos(in), t.nbits(in)-1)
		n0 := t.newTnode(t.key(in), t.pos(in), t.nbits(in)-1)
		t.tnodes += 2
		half := t.slots(in) / 2
		for j := uint32(0); j < half; j++ {
			t.put(n0, j, t.child(in, j))
			t.put(n1, j, t.child(in, half+j))
		}
		t.freeTnode(in)
		t.n(n1)[hParent], t.n(n0)[hParent] = tn, tn
		t.put(tn, 2*ui+1, nodeRef(n1))
		t.put(tn, 2*ui, nodeRef(n0))
	}
	return t.replace(old, tn)
}

// halve replaces old by a tnode of half its children, pairs of children
// joined under binary tnodes (halve).
func (t *trie) halve(old uint32) uint32 {
	tn := t.newTnode(t.key(old), t.pos(old)+1, t.nbits(old)-1)
	t.tnodes++
	for i := int(t.slots(old)) - 1; i > 0; i -= 2 {
		n1, n0 := t.child(old, uint32(i)), t.child(old, uint32(i-1))
		if n1 == nilRef || n0 == nilRef {
			c := n1
			if c == nilRef {
				c = n0
			}
			t.put(tn, uint32(i/2), c)
			continue
		}
		in := t.newTnode(t.refKey(n0), t.pos(old), 1)
		t.tnodes++
		t.put(in, 1, n1)
		t.put(in, 0, n0)
		t.n(in)[hParent] = tn
		t.put(tn, uint32(i/2), nodeRef(in))
	}
	return t.replace(old, tn)
}

// replace puts tn in old's place, points every child at its new parent
// and resizes the full children (replace).
func (t *trie) replace(old, tn uint32) uint32 {
	tp := t.parent(old)
	t.n(tn)[hParent] = tp
	t.put(tp, t.index(tp, t.key(tn)), nodeRef(tn))
	t.adopt(tn)
	t.tnodes--
	t.freeTnode(old)
	for i := int(t.slots(tn)) - 1; i >= 0; i-- {
		if c := t.child(tn, uint32(i)); t.fullChild(tn, c) {
			t.resize(c.id())
		}
	}
	return tp
}

// adopt points tn's children at tn, and the children of children that
// already were tn's (the halves inflate made) at them (update_children).
func (t *trie) adopt(tn uint32) {
	for i, n := uint32(0), t.slots(tn); i < n; i++ {
		c := t.child(tn, i)
		if c == nilRef || c.leaf() {
			continue
		}
		if t.parent(c.id()) == tn {
			t.adopt(c.id())
		} else {
			t.n(c.id())[hParent] = tn
		}
	}
}

// collapse replaces tn, with one child or none, by that child.
func (t *trie) collapse(tn uint32) uint32 {
	c := nilRef
	for i := int(t.slots(tn)) - 1; i >= 0 && c == nilRef; i-- {
		c = t.child(tn, uint32(i))
	}
	tp := t.parent(tn)
	t.put(tp, t.index(tp, t.key(tn)), c)
	t.setParent(c, tp)
	t.freeTnode(tn)
	t.tnodes--
	return tp
}

// lookup finds the first route, longest prefix first, that covers key and
// that fl accepts (fib_table_lookup): down the key's path to its leaf,
// then back up, at each tnode trying the slots the key reaches with its
// lowest index bits cleared, where shorter prefixes of it live.
func (t *trie) lookup(key uint32, fl *FlowKey) (*Route, *leaf) {
	pn, ci := uint32(rootOff), uint32(0)
	c := ref(t.chunks[0][hdrWords])
	// Down the key's path while the nodes' prefixes match it.
	for c != nilRef {
		if c.leaf() {
			if l := t.leafOf(c.id()); l.key == key {
				if r, sl := t.leafMatch(l, key, fl); r != nil {
					return r, sl
				}
				c = nilRef
			}
			break
		}
		n := t.chunks[c>>(chunkShift+1)][c.id()&(chunkWords-1):]
		m := n[hMeta]
		pos := m & 0xff
		i := (key ^ n[hKey]) >> pos
		if i>>(m>>8&0xff) != 0 {
			break // the tnode's prefix differs from key: maybe a shorter one matches
		}
		if m>>16&0xff > pos { // something below is shorter than its index: a place to come back to
			pn, ci = c.id(), i
		}
		c = ref(n[hdrWords+i])
	}
	for {
		if c != nilRef {
			if c.leaf() {
				if l := t.leafOf(c.id()); !prefixMismatch(key, l.key) && l.slen != 0 {
					if r, sl := t.leafMatch(l, key, fl); r != nil {
						return r, sl
					}
				}
			} else {
				n := t.chunks[c>>(chunkShift+1)][c.id()&(chunkWords-1):]
				if m := n[hMeta]; !prefixMismatch(key, n[hKey]) && m>>16&0xff != m&0xff {
					c = ref(n[hdrWords]) // only slot 0 can hold a shorter prefix of key
					continue
				}
			}
		}
		// Backtrack: clear the lowest set bit of the slot, going up while
		// none is left.
		for ci == 0 {
			if pn == rootOff {
				return nil, nil
			}
			n := t.n(pn)
			k := n[hKey]
			pn = n[hParent]
			ci = t.index(pn, k)
		}
		ci &= ci - 1
		c = ref(t.n(pn)[hdrWords+ci])
	}
}

// prefixMismatch: key differs from a node's key k at or above k's lowest
// set bit, so no prefix under the node covers key.
func prefixMismatch(key, k uint32) bool {
	return (key^k)&(k|-k) != 0
}

// hit is what a lookup found: the route, its prefix length and type,
// and its scope.
type hit struct {
	r      *Route
	plen   uint8
	typ    RouteType
	scope  Scope
	simple bool // r is a leaf's simple first route: no paths, no nexthop object
}

// hitOf is the hit of a lookup's answer: r, read from leaf sl when r is
// its simple first route.
func hitOf(r *Route, sl *leaf) hit {
	switch {
	case sl != nil:
		return hit{r: r, plen: sl.plen, typ: RouteType(sl.kind & leafTypeMask), scope: sl.aux.fi.key.scope, simple: true}
	case r != nil:
		return hit{r: r, plen: r.Len, typ: r.Type, scope: r.Scope}
	}
	return hit{}
}

// leafMatch returns the first route of leaf l covering key that fl
// accepts, and l when that is its simple first route (judged from the
// leaf's copy); a key outside even the leaf's shortest prefix touches no
// route.
func (t *trie) leafMatch(l *leaf, key uint32, fl *FlowKey) (*Route, *leaf) {
	d := key ^ l.key
	if s := uint32(l.slen); s < 32 && d>>s != 0 {
		return nil, nil
	}
	r := l.first
	if s := 32 - uint32(l.plen); s >= 32 || d>>s == 0 {
		if l.kind&leafSimple != 0 {
			if fl.acceptsSimple(l) {
				return r, l
			}
		} else if fl.accepts(r) {
			return r, nil
		}
	}
	if l.kind&leafMore == 0 {
		return nil, nil
	}
	for _, r := range l.aux.rest {
		if s := 32 - uint32(r.Len); s < 32 && d>>s != 0 {
			continue
		}
		if fl.accepts(r) {
			return r, nil
		}
	}
	return nil, nil
}

// walk calls fn for every leaf in key order; fn may not change the trie.
func (t *trie) walk(fn func(l *leaf)) {
	t.walkFrom(0, func(l *leaf) bool {
		fn(l)
		return true
	})
}

// walkFrom calls fn for every leaf whose key is from or above, in key
// order, until fn returns false (then it reports false); fn may not
// change the trie.
func (t *trie) walkFrom(from uint32, fn func(l *leaf) bool) bool {
	var rec func(c ref) bool
	rec = func(c ref) bool {
		if c == nilRef {
			return true
		}
		if c.leaf() {
			l := t.leafOf(c.id())
			return l.key < from || fn(l)
		}
		off := c.id()
		// The tnode covers the keys that share its bits above pos+bits.
		if s := uint32(t.pos(off)) + uint32(t.nbits(off)); s < 32 && t.key(off)|(1<<s-1) < from {
			return true
		}
		for i, n := uint32(0), t.slots(off); i < n; i++ {
			if !rec(t.child(off, i)) {
				return false
			}
		}
		return true
	}
	return rec(t.child(rootOff, 0))
}

// rebuilt is a new trie holding the routes left in the leaves ids (every
// leaf of t, in key order), each leaf's list as it is.
func (t *trie) rebuilt(ids []uint32) *trie {
	nt := newTrie()
	var buf [8]*Route
	for _, id := range ids {
		l := t.leafOf(id)
		if l.first == nil {
			continue
		}
		_, tp, _ := nt.find(l.key)
		nt.insert(tp, l.key, t.routesOf(l, buf[:])...)
	}
	return nt
}

// leafIDs returns every leaf's id in key order.
func (t *trie) leafIDs() []uint32 {
	out := make([]uint32, 0, t.leaves)
	var rec func(c ref)
	rec = func(c ref) {
		switch {
		case c == nilRef:
		case c.leaf():
			out = append(out, c.id())
		default:
			for i, n := uint32(0), t.slots(c.id()); i < n; i++ {
				rec(t.child(c.id(), i))
			}
		}
	}
	rec(t.child(rootOff, 0))
	return out
}
