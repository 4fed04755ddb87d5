package fib

import "math/bits"

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

const (
	inflateThreshold     = 50
	inflateThresholdRoot = 30
	halveThreshold       = 25
	halveThresholdRoot   = 15
	maxResizeWork        = 10
)

// tnode is a key_vector: an internal node (child != nil) or a leaf.
type tnode struct {
	key    uint32 // a leaf's key; a tnode's key with the bits under pos+bits clear
	pos    uint8  // the child index's lowest bit (0 in a leaf)
	bits   uint8  // the child index's width (0 in a leaf)
	slen   uint8  // the longest suffix of a route at or below; at least pos
	parent *tnode

	child       []*tnode // internal nodes: 1<<bits slots
	empty, full uint32   // internal nodes: nil slots; children that are full tnodes

	routes []*Route // leaves: the key's routes, longest prefix first (then as fib_alias sorts)
}

func (n *tnode) isLeaf() bool { return n.child == nil }

// index is key's child slot in n (get_cindex); a value of 1<<n.bits or
// more means key is not under n at all. For the root, pos 32, it is 0.
func (n *tnode) index(key uint32) uint32 {
	if n.pos >= 32 {
		return 0
	}
	return (key ^ n.key) >> n.pos
}

// trie is one table's LC-trie; root is a sentinel above the top node
// (Linux's t->kv): pos 32, one slot.
type trie struct {
	root   tnode
	leaves int
	tnodes int
}

func newTrie() *trie {
	t := &trie{}
	t.root.pos, t.root.slen = 32, 32
	t.root.child = make([]*tnode, 1)
	t.root.empty = 1
	return t
}

func newTnode(key uint32, pos, nbits uint8) *tnode {
	if s := uint32(pos) + uint32(nbits); s < 32 {
		key = key >> s << s
	} else {
		key = 0
	}
	return &tnode{key: key, pos: pos, bits: nbits, slen: pos, child: make([]*tnode, 1<<nbits), empty: 1 << nbits}
}

// full reports whether child n of tn is a tnode that skips no bits below
// tn (tnode_full): inflating tn splits it rather than moving it.
func (tn *tnode) fullChild(n *tnode) bool {
	return n != nil && !n.isLeaf() && n.pos+n.bits == tn.pos
}

// put sets tn's slot i to n, keeping the counts and slen (put_child).
func (tn *tnode) put(i uint32, n *tnode) {
	old := tn.child[i]
	switch {
	case n == nil && old != nil:
		tn.empty++
	case n != nil && old == nil:
		tn.empty--
	}
	was, is := tn.fullChild(old), tn.fullChild(n)
	switch {
	case was && !is:
		tn.full--
	case !was && is:
		tn.full++
	}
	if n != nil && tn.slen < n.slen {
		tn.slen = n.slen
	}
	tn.child[i] = n
}

// find returns key's leaf (nil when none) and the node whose slot the key
// falls in (fib_find_node).
func (t *trie) find(key uint32) (leaf, tp *tnode) {
	tp = &t.root
	n := tp.child[0]
	for n != nil {
		i := n.index(key)
		if i>>n.bits != 0 {
			return nil, tp
		}
		if n.isLeaf() {
			return n, tp
		}
		tp, n = n, n.child[i]
	}
	return nil, tp
}

// insert makes a leaf for key holding routes under tp, which find
// returned for key (fib_insert_node), and rebalances.
func (t *trie) insert(tp *tnode, key uint32, routes []*Route) *tnode {
	l := &tnode{key: key, routes: routes}
	l.slen = leafSlen(l)
	if n := tp.child[tp.index(key)]; n != nil {
		// The slot holds a node of another key: a binary tnode at the
		// highest bit where the two keys differ holds both.
		tn := newTnode(key, uint8(bits.Len32(key^n.key)-1), 1)
		t.tnodes++
		tn.parent = tp
		tn.put(tn.index(key)^1, n)
		tp.put(tp.index(key), tn)
		n.parent = tn
		tp = tn
	}
	pushSuffix(tp, l.slen)
	l.parent = tp
	tp.put(tp.index(key), l)
	t.leaves++
	t.rebalance(tp)
	return l
}

// remove takes leaf l out (its routes gone) and rebalances.
func (t *trie) remove(l *tnode) {
	tp := l.parent
	tp.put(tp.index(l.key), nil)
	t.leaves--
	pullSuffix(tp, l.slen)
	t.rebalance(tp)
}

// changed updates slen above l after its routes changed (leaf_push_suffix
// / leaf_pull_suffix).
func (t *trie) changed(l *tnode) {
	old := l.slen
	l.slen = leafSlen(l)
	switch {
	case l.slen > old:
		pushSuffix(l.parent, l.slen)
	case l.slen < old:
		pullSuffix(l.parent, old)
	}
}

// leafSlen is the longest suffix of l's routes: its shortest prefix's.
func leafSlen(l *tnode) uint8 {
	if len(l.routes) == 0 {
		return 0
	}
	return 32 - l.routes[len(l.routes)-1].Len
}

// pushSuffix raises slen from tn up while it is below s.
func pushSuffix(tn *tnode, s uint8) {
	for tn != nil && tn.slen < s {
		tn.slen = s
		tn = tn.parent
	}
}

// pullSuffix recomputes slen from tn up after a suffix of length s went
// away below it, while that can lower it (node_pull_suffix): only a node
// whose slen was s can lose it (fib_remove_alias rescans a parent only
// when the leaf held its slen). A shorter suffix going leaves tn alone:
// rescanning there costs a node's whole child array, 2^18 slots under
// the tier-1 table's root, for every route a device takes down with it.
func pullSuffix(tn *tnode, s uint8) {
	for tn != nil && tn.parent != nil && tn.slen > tn.pos && tn.slen == s {
		old := tn.slen
		if updateSuffix(tn) == old {
			return
		}
		tn = tn.parent
	}
}

// updateSuffix sets tn's slen from its children (update_suffix).
func updateSuffix(tn *tnode) uint8 {
	s := tn.pos
	for _, n := range tn.child {
		if n != nil && n.slen > s {
			s = n.slen
		}
	}
	tn.slen = s
	return s
}

// rebalance resizes every node from tn up to the root (trie_rebalance).
func (t *trie) rebalance(tn *tnode) {
	for tn != nil && tn != &t.root {
		tn = t.resize(tn)
	}
}

func (t *trie) shouldInflate(tp, tn *tnode) bool {
	n := uint64(len(tn.child))
	threshold := n * inflateThreshold
	if tp == &t.root {
		threshold = n * inflateThresholdRoot
	}
	used := n - uint64(tn.empty) + uint64(tn.full)
	return used > 1 && tn.pos > 0 && 50*used >= threshold
}

func (t *trie) shouldHalve(tp, tn *tnode) bool {
	n := uint64(len(tn.child))
	threshold := n * halveThreshold
	if tp == &t.root {
		threshold = n * halveThresholdRoot
	}
	used := n - uint64(tn.empty)
	return used > 1 && tn.bits > 1 && 100*used < threshold
}

func shouldCollapse(tn *tnode) bool {
	return uint64(len(tn.child))-uint64(tn.empty) < 2
}

// resize inflates, halves or collapses tn as its use asks and returns the
// node above it (resize).
func (t *trie) resize(tn *tnode) *tnode {
	tp := tn.parent
	ci := tp.index(tn.key)
	work := maxResizeWork
	for work > 0 && t.shouldInflate(tp, tn) {
		tp = t.inflate(tn)
		work--
		tn = tp.child[ci]
	}
	tp = tn.parent
	if work != maxResizeWork {
		return tp
	}
	for work > 0 && t.shouldHalve(tp, tn) {
		tp = t.halve(tn)
		work--
		tn = tp.child[ci]
	}
	if shouldCollapse(tn) {
		return t.collapse(tn)
	}
	return tn.parent
}

// inflate replaces old by a node of twice its children: one more index
// bit, taken from each full child, which splits in two (inflate).
func (t *trie) inflate(old *tnode) *tnode {
	tn := newTnode(old.key, old.pos-1, old.bits+1)
	t.tnodes++
	m := uint32(1) << tn.pos
	for i := len(old.child) - 1; i >= 0; i-- {
		in := old.child[i]
		if in == nil {
			continue
		}
		if !old.fullChild(in) { // a leaf, or a tnode that skips bits
			tn.put(tn.index(in.key), in)
			continue
		}
		ui := uint32(i)
		t.tnodes-- // in is replaced
		if in.bits == 1 {
			tn.put(2*ui+1, in.child[1])
			tn.put(2*ui, in.child[0])
			continue
		}
		n1 := newTnode(in.key|m, in.pos, in.bits-1)
		n0 := newTnode(in.key, in.pos, in.bits-1)
		t.tnodes += 2
		half := len(in.child) / 2
		for j := 0; j < half; j++ {
			n0.put(uint32(j), in.child[j])
			n1.put(uint32(j), in.child[half+j])
		}
		n1.parent, n0.parent = tn, tn
		tn.put(2*ui+1, n1)
		tn.put(2*ui, n0)
	}
	return t.replace(old, tn)
}

// halve replaces old by a node of half its children, pairs of children
// joined under binary nodes (halve).
func (t *trie) halve(old *tnode) *tnode {
	tn := newTnode(old.key, old.pos+1, old.bits-1)
	t.tnodes++
	for i := len(old.child) - 1; i > 0; i -= 2 {
		n1, n0 := old.child[i], old.child[i-1]
		if n1 == nil || n0 == nil {
			n := n1
			if n == nil {
				n = n0
			}
			tn.put(uint32(i/2), n)
			continue
		}
		in := newTnode(n0.key, old.pos, 1)
		t.tnodes++
		in.put(1, n1)
		in.put(0, n0)
		in.parent = tn
		tn.put(uint32(i/2), in)
	}
	return t.replace(old, tn)
}

// replace puts tn in old's place, points every child at its new parent
// and resizes the full children (replace).
func (t *trie) replace(old, tn *tnode) *tnode {
	tp := old.parent
	tn.parent = tp
	tp.put(tp.index(tn.key), tn)
	adopt(tn)
	t.tnodes--
	for i := len(tn.child) - 1; i >= 0; i-- {
		if in := tn.child[i]; tn.fullChild(in) {
			t.resize(in)
		}
	}
	return tp
}

// adopt points tn's children at tn, and the children of children that
// already were tn's (the halves inflate made) at them (update_children).
func adopt(tn *tnode) {
	for _, n := range tn.child {
		if n == nil {
			continue
		}
		if n.parent == tn && !n.isLeaf() {
			adopt(n)
		} else {
			n.parent = tn
		}
	}
}

// collapse replaces tn, with one child or none, by that child.
func (t *trie) collapse(tn *tnode) *tnode {
	var n *tnode
	for i := len(tn.child) - 1; i >= 0 && n == nil; i-- {
		n = tn.child[i]
	}
	tp := tn.parent
	tp.put(tp.index(tn.key), n)
	if n != nil {
		n.parent = tp
	}
	t.tnodes--
	return tp
}

// lookup finds the first route, longest prefix first, that covers key and
// that fl accepts (fib_table_lookup): down the key's path to its leaf,
// then back up, at each node trying the slots the key reaches with its
// lowest index bits cleared, where shorter prefixes of it live.
func (t *trie) lookup(key uint32, fl *FlowKey) *Route {
	pn, ci := &t.root, uint32(0)
	n := t.root.child[0]
	// Down the key's path while the nodes' prefixes match it.
	for n != nil {
		i := n.index(key)
		if i>>n.bits != 0 {
			break // n's prefix differs from key: maybe a shorter one matches
		}
		if n.isLeaf() {
			if r := leafMatch(n, key, fl); r != nil {
				return r
			}
			n = nil
			break
		}
		if n.slen > n.pos { // something under n is shorter than its index: a place to come back to
			pn, ci = n, i
		}
		n = n.child[i]
	}
	for {
		if n != nil && !prefixMismatch(key, n) && n.slen != n.pos {
			if !n.isLeaf() {
				n = n.child[0] // only slot 0 can hold a shorter prefix of key
				continue
			}
			if r := leafMatch(n, key, fl); r != nil {
				return r
			}
		}
		// Backtrack: clear the lowest set bit of the slot, going up while
		// none is left.
		for ci == 0 {
			if pn == &t.root {
				return nil
			}
			k := pn.key
			pn = pn.parent
			ci = pn.index(k)
		}
		ci &= ci - 1
		n = pn.child[ci]
	}
}

// prefixMismatch: key differs from n's key at or above n's key's lowest
// set bit, so no prefix under n covers key.
func prefixMismatch(key uint32, n *tnode) bool {
	return (key^n.key)&(n.key|-n.key) != 0
}

// leafMatch returns the first route of leaf l covering key that fl accepts.
func leafMatch(l *tnode, key uint32, fl *FlowKey) *Route {
	d := key ^ l.key
	for _, r := range l.routes {
		if s := 32 - uint32(r.Len); s < 32 && d>>s != 0 {
			continue
		}
		if fl.accepts(r) {
			return r
		}
	}
	return nil
}

// walk calls fn for every leaf in key order; fn may not change the trie.
func (t *trie) walk(fn func(l *tnode)) {
	var rec func(n *tnode)
	rec = func(n *tnode) {
		if n == nil {
			return
		}
		if n.isLeaf() {
			fn(n)
			return
		}
		for _, c := range n.child {
			rec(c)
		}
	}
	rec(t.root.child[0])
}

// walkFrom calls fn for every leaf whose key is from or above, in key
// order, until fn returns false (then it reports false).
func (t *trie) walkFrom(from uint32, fn func(l *tnode) bool) bool {
	var rec func(n *tnode) bool
	rec = func(n *tnode) bool {
		if n == nil {
			return true
		}
		if n.isLeaf() {
			return n.key < from || fn(n)
		}
		// The node covers the keys that share its bits above pos+bits.
		if s := uint32(n.pos) + uint32(n.bits); s < 32 && n.key|(1<<s-1) < from {
			return true
		}
		for _, c := range n.child {
			if !rec(c) {
				return false
			}
		}
		return true
	}
	return rec(t.root.child[0])
}
