package fib

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"vnic/header"
)

// checkTrie verifies the LC-trie's invariants: parent pointers, empty and
// full counts, keys masked and under their parent's slot, slen the longest
// suffix below (and at least pos), no empty internal node, leaves sorted
// longest prefix first, and the leaf/tnode counts. (An internal node may
// be left with one child, as in fib_trie: inflating a node whose one child
// is a full tnode can leave all of its children in one half, and resize
// does not collapse a node it has just inflated.)
func checkTrie(t *testing.T, tr *trie) {
	t.Helper()
	leaves, tnodes, words := 0, 0, 0
	seen := map[uint32]bool{}
	var rec func(c ref, parent uint32) uint8
	rec = func(c ref, parent uint32) uint8 {
		if parent != rootOff {
			key := tr.refKey(c)
			if i := tr.index(parent, key); i>>tr.nbits(parent) != 0 || tr.child(parent, i) != c {
				t.Fatalf("node %08x not in its parent %08x pos %d bits %d slot", key, tr.key(parent), tr.pos(parent), tr.nbits(parent))
			}
		}
		if c.leaf() {
			leaves++
			if seen[c.id()] {
				t.Fatalf("leaf %d in two slots", c.id())
			}
			seen[c.id()] = true
			l := tr.leafOf(c.id())
			if l.first == nil {
				t.Fatalf("leaf %08x without routes", l.key)
			}
			var prev *Route
			rs := tr.routesOf(l, nil)
			for _, r := range rs {
				if header.IPv4Uint32(r.Dst) != l.key {
					t.Fatalf("leaf %08x holds %v", l.key, r.Prefix())
				}
				if prev != nil && prev.Len < r.Len {
					t.Fatalf("leaf %08x: /%d before /%d", l.key, prev.Len, r.Len)
				}
				prev = r
			}
			if want := 32 - rs[len(rs)-1].Len; l.slen != want {
				t.Fatalf("leaf %08x slen %d, want %d", l.key, l.slen, want)
			}
			if more := l.kind&leafMore != 0; more != (len(rs) > 1) {
				t.Fatalf("leaf %08x: %d routes, flag more %v", l.key, len(rs), more)
			}
			if l.first.fi != nil && (l.aux == nil || l.aux.fi != l.first.fi) {
				t.Fatalf("leaf %08x: aux %p does not name its first route's info", l.key, l.aux)
			}
			return l.slen
		}
		n := c.id()
		tnodes++
		words += hdrWords + int(tr.slots(n))
		if tr.parent(n) != parent {
			t.Fatalf("tnode %08x/%d: parent %d, want %d", tr.key(n), tr.pos(n), tr.parent(n), parent)
		}
		if s := uint32(tr.pos(n)) + uint32(tr.nbits(n)); s < 32 && tr.key(n)<<(32-s) != 0 {
			t.Fatalf("tnode %08x pos %d bits %d: key not masked", tr.key(n), tr.pos(n), tr.nbits(n))
		}
		var empty, full uint32
		slen := tr.pos(n)
		for i := range tr.slots(n) {
			cc := tr.child(n, i)
			if cc == nilRef {
				empty++
				continue
			}
			if tr.fullChild(n, cc) {
				full++
			}
			slen = max(slen, rec(cc, n))
		}
		if empty != tr.n(n)[hEmpty] || full != tr.n(n)[hFull] {
			t.Fatalf("tnode %08x: empty %d full %d, counted %d %d", tr.key(n), tr.n(n)[hEmpty], tr.n(n)[hFull], empty, full)
		}
		if tr.slots(n)-empty < 1 {
			t.Fatalf("tnode %08x pos %d bits %d has %d children", tr.key(n), tr.pos(n), tr.nbits(n), tr.slots(n)-empty)
		}
		if tr.slen(n) != slen {
			t.Fatalf("tnode %08x pos %d: slen %d, want %d", tr.key(n), tr.pos(n), tr.slen(n), slen)
		}
		return slen
	}
	if top := tr.child(rootOff, 0); top != nilRef {
		rec(top, rootOff)
	}
	if leaves != tr.leaves || tnodes != tr.tnodes {
		t.Fatalf("counted %d leaves %d tnodes, trie says %d %d", leaves, tnodes, tr.leaves, tr.tnodes)
	}
	if live := int(tr.nextLeaf) - len(tr.freeLeaves); live != leaves {
		t.Fatalf("%d leaf records in use, %d leaves", live, leaves)
	}
	freed := 0
	for nb, fl := range tr.free {
		freed += len(fl) * (hdrWords + 1<<nb)
	}
	if words+hdrWords+1 != tr.live || freed != tr.freed {
		t.Fatalf("tnodes hold %d words (with the root's), %d freed; the trie counts %d and %d", words+hdrWords+1, freed, tr.live, tr.freed)
	}
}

// bruteLookup is the longest-prefix match the trie must equal: the
// longest prefix covering a whose routes fl accepts, in table order.
func bruteLookup(routes []*Route, a [4]byte, fl *FlowKey) *Route {
	var best *Route
	d := header.IPv4Uint32(a)
	for _, r := range routes {
		if d&header.IPv4Mask(int(r.Len)) != header.IPv4Uint32(r.Dst) || !fl.accepts(r) {
			continue
		}
		if best == nil || r.Len > best.Len {
			best = r
		}
	}
	return best
}

// randomPrefix draws prefixes clustered as real tables are: most under a
// few /8s, lengths weighted to /24 and /16, some /32 and the default.
func randomPrefix(rng *rand.Rand) ([4]byte, uint8) {
	lens := []uint8{0, 8, 12, 16, 16, 20, 22, 23, 24, 24, 24, 24, 25, 28, 30, 32, 32}
	l := lens[rng.IntN(len(lens))]
	a := rng.Uint32()
	switch rng.IntN(3) {
	case 0:
		a = a&0x00ffffff | 0xc6120000&0xff000000 // 198.x.x.x
	case 1:
		a = a&0x0000ffff | 0xc6120000 // 198.18.x.x
	}
	return header.IPv4FromUint32(a & header.IPv4Mask(int(l))), l
}

// TestTrieAgainstBrute: random inserts and deletes, the invariants after
// each change, and lookups (of covered and random addresses) equal to the
// brute-force longest-prefix match, also with routes the flow refuses so
// the lookup must backtrack past them.
func TestTrieAgainstBrute(t *testing.T) {
	for seed := uint64(1); seed <= 6; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			t.Parallel() // each seed its own table: the longest test of the package, spread over the cores
			rng := rand.New(rand.NewPCG(seed, 42))
			var f Tables
			f.Init()
			var live []*Route
			scopes := []Scope{ScopeUniverse, ScopeLink, ScopeHost}
			for step := 0; step < 3000; step++ {
				if len(live) > 0 && rng.IntN(3) == 0 {
					i := rng.IntN(len(live))
					r := live[i]
					if _, err := f.Delete(&Route{Table: TableMain, Dst: r.Dst, Len: r.Len, Priority: r.Priority, Scope: ScopeNowhere}); err != nil {
						t.Fatalf("delete %v: %v", r.Prefix(), err)
					}
					live = slices.Delete(live, i, i+1)
				} else {
					d, l := randomPrefix(rng)
					r := &Route{Table: TableMain, Dst: d, Len: l, Type: RTNUnicast, Scope: scopes[rng.IntN(len(scopes))], Priority: uint32(rng.IntN(3))}
					if err := f.Insert(r, false); err == nil {
						live = append(live, r)
					}
				}
				tr := f.tables[TableMain].trie
				if step%250 == 0 {
					tr.compact() // as a bigger table would, with the lookups below checking the copy
				}
				if step%10 == 0 || step > 2900 {
					checkTrie(t, tr)
				}
				if f.tables[TableMain].routes != len(live) {
					t.Fatalf("table holds %d routes, want %d", f.tables[TableMain].routes, len(live))
				}
				for range 20 {
					var a [4]byte
					if len(live) > 0 && rng.IntN(2) == 0 {
						r := live[rng.IntN(len(live))]
						a = header.IPv4FromUint32(header.IPv4Uint32(r.Dst) | rng.Uint32()&^header.IPv4Mask(int(r.Len)))
					} else {
						a = header.IPv4FromUint32(rng.Uint32()&0x00ffffff | 0xc6000000)
					}
					for _, sc := range scopes {
						fl := &FlowKey{Dst: a, Scope: sc}
						want := bruteLookup(live, a, fl)
						got := lookupRoute(tr, header.IPv4Uint32(a), fl)
						if got != nil && want != nil && got.Len == want.Len {
							continue // same prefix; which route of it is the alias order's business
						}
						if got != want {
							t.Fatalf("step %d: lookup %v scope %v: got %v, want %v", step, a, sc, prefixOf(got), prefixOf(want))
						}
					}
				}
			}
			// Empty it again: nothing may be left.
			for _, r := range live {
				if _, err := f.Delete(&Route{Table: TableMain, Dst: r.Dst, Len: r.Len, Priority: r.Priority, Scope: ScopeNowhere}); err != nil {
					t.Fatalf("delete %v: %v", r.Prefix(), err)
				}
			}
			tr := f.tables[TableMain].trie
			checkTrie(t, tr)
			if tr.leaves != 0 || tr.tnodes != 0 || tr.child(rootOff, 0) != nilRef {
				t.Fatalf("empty table: %d leaves %d tnodes", tr.leaves, tr.tnodes)
			}
		})
	}
}

func prefixOf(r *Route) string {
	if r == nil {
		return "none"
	}
	return r.Prefix().String()
}

// TestTrieLevels: a dense table inflates (the top node takes many bits)
// and a drained one halves and collapses back, as fib_trie resizes.
func TestTrieLevels(t *testing.T) {
	var f Tables
	f.Init()
	// Every /24 of 198.18.0.0/15: 512 keys densely under one /15.
	for i := range 512 {
		r := &Route{Table: TableMain, Dst: header.IPv4FromUint32(0xc6120000 + uint32(i)<<8), Len: 24, Type: RTNUnicast}
		if err := f.Insert(r, false); err != nil {
			t.Fatal(err)
		}
	}
	tr := f.tables[TableMain].trie
	checkTrie(t, tr)
	// One node under the root indexes them all, and inflates on to half
	// use: the root's child inflates while 60 % of its slots are used.
	top := tr.child(rootOff, 0).id()
	if tr.nbits(top) != 10 || tr.pos(top) != 7 {
		t.Errorf("512 dense /24s: top node pos %d bits %d, want pos 7 bits 10", tr.pos(top), tr.nbits(top))
	}
	if tr.tnodes != 1 || tr.leaves != 512 {
		t.Errorf("%d tnodes %d leaves, want 1 and 512", tr.tnodes, tr.leaves)
	}
	// Drain all but two: the node halves while under 15 % of it is used,
	// down to four slots (two used is half of them).
	for i := 2; i < 512; i++ {
		if _, err := f.Delete(&Route{Table: TableMain, Dst: header.IPv4FromUint32(0xc6120000 + uint32(i)<<8), Len: 24, Scope: ScopeNowhere}); err != nil {
			t.Fatal(err)
		}
	}
	checkTrie(t, tr)
	if top := tr.child(rootOff, 0).id(); tr.nbits(top) != 2 || tr.tnodes != 1 {
		t.Errorf("two /24s left: top bits %d, %d tnodes, want one node of four slots", tr.nbits(top), tr.tnodes)
	}
}

// FuzzTrie: any sequence of inserts, deletes and compactions keeps the
// invariants and lookups equal to the brute-force match.
func FuzzTrie(f *testing.F) {
	f.Add([]byte{0, 198, 18, 0, 0, 24, 1, 198, 18, 0, 0, 24})
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 0, 8, 0, 10, 1, 0, 0, 16, 2, 10, 1, 2, 3, 32})
	f.Fuzz(func(t *testing.T, ops []byte) {
		var tb Tables
		tb.Init()
		var live []*Route
		for len(ops) >= 6 {
			op, a, l := ops[0]%4, [4]byte{ops[1], ops[2], ops[3], ops[4]}, ops[5]%33
			ops = ops[6:]
			a = header.IPv4FromUint32(header.IPv4Uint32(a) & header.IPv4Mask(int(l)))
			switch op {
			case 0, 1:
				r := &Route{Table: TableMain, Dst: a, Len: l, Type: RTNUnicast, Scope: Scope(op) * ScopeLink}
				if tb.Insert(r, false) == nil {
					live = append(live, r)
				}
			case 2:
				if r, err := tb.Delete(&Route{Table: TableMain, Dst: a, Len: l, Scope: ScopeNowhere}); err == nil {
					live = slices.DeleteFunc(live, func(o *Route) bool { return o.Dst == r.Dst && o.Len == r.Len })
				}
			case 3:
				tb.tables[TableMain].trie.compact()
			}
			tr := tb.tables[TableMain].trie
			checkTrie(t, tr)
			for _, q := range [][4]byte{a, header.IPv4FromUint32(header.IPv4Uint32(a) | 0x55), header.IPv4FromUint32(^header.IPv4Uint32(a))} {
				for _, sc := range []Scope{ScopeUniverse, ScopeLink} {
					fl := &FlowKey{Dst: q, Scope: sc}
					got, want := lookupRoute(tr, header.IPv4Uint32(q), fl), bruteLookup(live, q, fl)
					if (got == nil) != (want == nil) || got != nil && got.Len != want.Len {
						t.Fatalf("lookup %v: got %v, want %v", q, prefixOf(got), prefixOf(want))
					}
				}
			}
		}
	})
}

// tier1 loads the real tier-1 table in ../shared/data (902k prefixes) or
// skips when the checkout has no shared data beside it.
func tier1(tb testing.TB) []netip.Prefix {
	tb.Helper()
	f, err := os.Open(filepath.Join("..", "..", "..", "..", "shared", "data", "tier1-ipv4.txt.gz"))
	if err != nil {
		tb.Skipf("no tier-1 table: %v", err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		tb.Fatal(err)
	}
	var out []netip.Prefix
	sc := bufio.NewScanner(z)
	for sc.Scan() {
		p, err := netip.ParsePrefix(strings.TrimSpace(sc.Text()))
		if err != nil || !p.Addr().Is4() {
			continue
		}
		out = append(out, p.Masked())
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

// BenchmarkTier1: the real table in main — insert time and heap bytes per
// prefix (reported once), then fib_lookup of uniformly random addresses
// ("random") and of addresses inside the table's prefixes ("covered").
func BenchmarkTier1(b *testing.B) {
	prefixes := tier1(b)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	var f Tables
	f.Init()
	for i, p := range prefixes {
		r := &Route{Table: TableMain, Dst: p.Addr().As4(), Len: uint8(p.Bits()), Type: RTNUnicast, Priority: uint32(i & 1)}
		if err := f.Insert(r, false); err != nil && !errors.Is(err, syscall.EEXIST) {
			b.Fatal(err)
		}
	}
	took := time.Since(start)
	runtime.GC()
	runtime.ReadMemStats(&after)
	tr := f.tables[TableMain].trie
	b.Logf("%d prefixes in %v (%.0f ns each), %.1f heap bytes per prefix, %d leaves, %d tnodes",
		len(prefixes), took, float64(took.Nanoseconds())/float64(len(prefixes)),
		float64(after.HeapAlloc-before.HeapAlloc)/float64(len(prefixes)), tr.leaves, tr.tnodes)
	rng := rand.New(rand.NewPCG(7, 7))
	random := make([]FlowKey, 1<<16)
	covered := make([]FlowKey, 1<<16)
	for i := range random {
		random[i].Dst = header.IPv4FromUint32(rng.Uint32())
		p := prefixes[rng.IntN(len(prefixes))]
		covered[i].Dst = header.IPv4FromUint32(header.IPv4Uint32(p.Addr().As4()) | rng.Uint32()&^header.IPv4Mask(p.Bits()))
	}
	for _, c := range []struct {
		name string
		keys []FlowKey
	}{{"random", random}, {"covered", covered}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				_, _ = f.Lookup(&c.keys[i&(1<<16-1)])
			}
		})
	}
}

// TestDumpFrom: a dump taken a few routes at a time, with routes added
// and removed between batches, gives Dump's order; an unchanged table
// gives exactly Dump's routes.
func TestDumpFrom(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	var f Tables
	f.Init()
	for i := 0; i < 2000; i++ {
		d, l := randomPrefix(rng)
		tb := []uint32{TableMain, 100, TableLocal}[rng.IntN(3)]
		typ := RTNUnicast
		if tb == TableLocal {
			typ = RTNLocal
		}
		_ = f.Insert(&Route{Table: tb, Dst: d, Len: l, Type: typ, Priority: uint32(rng.IntN(2))}, false)
	}
	_ = f.Insert(&Route{Table: TableMain, Dst: [4]byte{255, 255, 255, 255}, Len: 32, Type: RTNUnicast}, false)
	for _, batch := range []int{1, 7, 1000, 100000} {
		for _, id := range []uint32{TableUnspec, TableMain, 100} {
			var got []string
			var c DumpCursor
			for calls := 0; ; calls++ {
				if calls > 10000 {
					t.Fatal("dump does not end")
				}
				n := 0
				done := f.DumpFrom(id, &c, func(r Route) bool {
					if n == batch {
						return false
					}
					n++
					got = append(got, fmt.Sprintf("%d %v %d %d", r.Table, r.Prefix(), r.TOS, r.Priority))
					return true
				})
				if done {
					break
				}
			}
			var want []string
			for _, r := range f.Dump(id) {
				want = append(want, fmt.Sprintf("%d %v %d %d", r.Table, r.Prefix(), r.TOS, r.Priority))
			}
			if !slices.Equal(got, want) {
				t.Fatalf("batch %d table %d: %d routes, want %d (first difference at %d)", batch, id, len(got), len(want), firstDiff(got, want))
			}
		}
	}
	// Changes between batches: every route present throughout is sent
	// once, in order.
	var c DumpCursor
	var got []Route
	for calls := 0; ; calls++ {
		n := 0
		done := f.DumpFrom(TableMain, &c, func(r Route) bool {
			if n == 50 {
				return false
			}
			n++
			got = append(got, r)
			return true
		})
		if done {
			break
		}
		d, l := randomPrefix(rng)
		_ = f.Insert(&Route{Table: TableMain, Dst: d, Len: l, Type: RTNUnicast, Priority: 7}, false)
	}
	seen := map[string]int{}
	for i, r := range got {
		k := fmt.Sprintf("%v %d %d", r.Prefix(), r.TOS, r.Priority)
		seen[k]++
		if seen[k] > 1 {
			t.Fatalf("%s sent twice", k)
		}
		if i > 0 {
			a, b := got[i-1], r
			if header.IPv4Uint32(a.Dst) > header.IPv4Uint32(b.Dst) || a.Dst == b.Dst && a.Len > b.Len {
				t.Fatalf("out of order: %v before %v", a.Prefix(), b.Prefix())
			}
		}
	}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestRemoveWhereRebuilds: removing most of a big table at once rebuilds
// its trie from what is left; the invariants hold and lookups equal the
// brute-force match, as after removing a few one at a time.
func TestRemoveWhereRebuilds(t *testing.T) {
	t.Parallel() // its own table; beside TestTrieAgainstBrute's seeds
	rng := rand.New(rand.NewPCG(9, 9))
	var f Tables
	f.Init()
	var live []*Route
	for len(live) < 3*rebuildMin {
		d, l := randomPrefix(rng)
		r := &Route{Table: TableMain, Dst: d, Len: l, Type: RTNUnicast, Priority: uint32(rng.IntN(3))}
		if f.Insert(r, false) == nil {
			live = append(live, r)
		}
	}
	for _, keep := range []int{90, 25} { // a tenth go (one at a time), then three quarters of the rest (rebuilt)
		var kept []*Route
		gone := map[*Route]bool{}
		for _, r := range live {
			if rng.IntN(100) < keep {
				kept = append(kept, r)
			} else {
				gone[r] = true
			}
		}
		if got := f.RemoveWhere(func(r *Route) bool { return gone[r] }); len(got) != len(gone) {
			t.Fatalf("removed %d, want %d", len(got), len(gone))
		}
		live = kept
		tr := f.tables[TableMain].trie
		checkTrie(t, tr)
		if f.tables[TableMain].routes != len(live) {
			t.Fatalf("table holds %d routes, want %d", f.tables[TableMain].routes, len(live))
		}
		for range 2000 {
			a := header.IPv4FromUint32(rng.Uint32()&0x00ffffff | 0xc6000000)
			if rng.IntN(2) == 0 {
				r := live[rng.IntN(len(live))]
				a = header.IPv4FromUint32(header.IPv4Uint32(r.Dst) | rng.Uint32()&^header.IPv4Mask(int(r.Len)))
			}
			fl := &FlowKey{Dst: a}
			got, want := lookupRoute(tr, header.IPv4Uint32(a), fl), bruteLookup(live, a, fl)
			if want != nil { // of the longest prefix's routes, the lowest metric
				for _, r := range live {
					if r.Dst == want.Dst && r.Len == want.Len && r.Priority < want.Priority {
						want = r
					}
				}
			}
			if got != want {
				t.Fatalf("lookup %v: got %v, want %v", a, prefixOf(got), prefixOf(want))
			}
		}
	}
}

// lookupRoute is the route a trie lookup answers.
func lookupRoute(tr *trie, key uint32, fl *FlowKey) *Route {
	r, _ := tr.lookup(key, fl)
	return r
}
