package fib

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"syscall"
	"testing"

	"vnic/internal/stacktest"
	"vnic/stack"
)

func a4(s string) [4]byte { return netip.MustParseAddr(s).As4() }

// route is a unicast route of table to prefix p through gateway gw (which
// also names the route in the tests' answers).
func route(table uint32, p, gw string) *Route {
	pf := netip.MustParsePrefix(p)
	return &Route{Table: table, Dst: pf.Addr().As4(), Len: uint8(pf.Bits()), Type: RTNUnicast, Gateway: a4(gw)}
}

func newTables(t testing.TB, rs ...*Route) *Tables {
	t.Helper()
	var f Tables
	f.Init()
	for _, r := range rs {
		if err := f.Insert(r, false); err != nil {
			t.Fatalf("insert %v table %d: %v", r.Prefix(), r.Table, err)
		}
	}
	return &f
}

// gwOf names a lookup's answer by its gateway, or its error.
func gwOf(res Result, err error) string {
	if err != nil {
		return err.(syscall.Errno).Error()
	}
	return fmt.Sprintf("%v/%d t%d", netip.AddrFrom4(res.Route.Gateway), res.PrefixLen, res.Table)
}

type lookupCase struct {
	dst  string
	tos  uint8
	want string
}

func checkLookups(t *testing.T, f *Tables, cases []lookupCase) {
	t.Helper()
	for _, c := range cases {
		if got := gwOf(f.Lookup(&FlowKey{Dst: a4(c.dst), TOS: c.tos})); got != c.want {
			t.Errorf("lookup %s tos %#x: %s, want %s", c.dst, c.tos, got, c.want)
		}
	}
}

// The most specific prefix that covers the destination wins, across every
// prefix length from /0 to /32; the route's destination is stored masked.
func TestLookupLongestPrefix(t *testing.T) {
	f := newTables(t,
		route(TableMain, "0.0.0.0/0", "198.18.0.100"),
		route(TableMain, "198.18.0.0/15", "198.18.0.115"),
		route(TableMain, "198.18.1.77/24", "198.18.0.124"), // stored as 198.18.1.0/24
		route(TableMain, "198.18.1.128/25", "198.18.0.125"),
		route(TableMain, "198.18.1.129/32", "198.18.0.132"),
		route(TableMain, "198.19.255.255/32", "198.18.0.133"),
	)
	checkLookups(t, f, []lookupCase{
		{dst: "203.0.113.1", want: "198.18.0.100/0 t254"},
		{dst: "198.19.0.1", want: "198.18.0.115/15 t254"},
		{dst: "198.18.1.0", want: "198.18.0.124/24 t254"},
		{dst: "198.18.1.127", want: "198.18.0.124/24 t254"},
		{dst: "198.18.1.128", want: "198.18.0.125/25 t254"},
		{dst: "198.18.1.255", want: "198.18.0.125/25 t254"},
		{dst: "198.18.1.129", want: "198.18.0.132/32 t254"},
		{dst: "198.19.255.255", want: "198.18.0.133/32 t254"},
		{dst: "198.19.255.254", want: "198.18.0.115/15 t254"},
	})
	if r := f.TableLookup(TableMain, a4("198.18.1.5")); r == nil || r.Dst != a4("198.18.1.0") || r.Len != 24 {
		t.Fatalf("stored route %+v, want 198.18.1.0/24", r)
	}
	if r := f.TableLookup(77, a4("198.18.1.5")); r != nil {
		t.Fatalf("a table that does not exist answered %+v", r)
	}
	if err := f.Insert(&Route{Table: TableMain, Len: 33}, false); !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("/33: %v, want EINVAL", err)
	}
}

// A route with a TOS matches only that TOS (the ECN bits ignored) and is
// tried before the TOS-less route of the same prefix; a flow whose TOS no
// route of the prefix takes falls back to a shorter prefix.
func TestLookupTOS(t *testing.T) {
	tos := func(r *Route, v uint8) *Route { r.TOS = v; return r }
	f := newTables(t,
		route(TableMain, "198.18.0.0/16", "198.18.0.116"),
		route(TableMain, "198.18.2.0/24", "198.18.0.1"),
		tos(route(TableMain, "198.18.2.0/24", "198.18.0.2"), 0x10),
		tos(route(TableMain, "198.18.3.0/24", "198.18.0.3"), 0x08),
	)
	checkLookups(t, f, []lookupCase{
		{dst: "198.18.2.1", tos: 0x10, want: "198.18.0.2/24 t254"},
		{dst: "198.18.2.1", tos: 0x13, want: "198.18.0.2/24 t254"},
		{dst: "198.18.2.1", tos: 0, want: "198.18.0.1/24 t254"},
		{dst: "198.18.2.1", tos: 0x08, want: "198.18.0.1/24 t254"},
		{dst: "198.18.3.1", tos: 0x08, want: "198.18.0.3/24 t254"},
		{dst: "198.18.3.1", tos: 0x0a, want: "198.18.0.3/24 t254"},
		{dst: "198.18.3.1", tos: 0, want: "198.18.0.116/16 t254"},
		{dst: "198.18.3.1", tos: 0x10, want: "198.18.0.116/16 t254"},
	})
}

// Routes to one prefix are tried lowest metric first, whatever order they
// were added in; deleting the best one uncovers the next.
func TestLookupMetricOrder(t *testing.T) {
	prio := func(r *Route, p uint32) *Route { r.Priority = p; return r }
	f := newTables(t,
		prio(route(TableMain, "198.18.4.0/24", "198.18.0.20"), 20),
		prio(route(TableMain, "198.18.4.0/24", "198.18.0.30"), 30),
		prio(route(TableMain, "198.18.4.0/24", "198.18.0.10"), 10),
		prio(route(TableMain, "198.18.4.0/24", "198.18.0.15"), 15),
	)
	for _, want := range []string{"198.18.0.10", "198.18.0.15", "198.18.0.20", "198.18.0.30"} {
		res, err := f.Lookup(&FlowKey{Dst: a4("198.18.4.9")})
		if err != nil || res.Route.Gateway != a4(want) {
			t.Fatalf("lookup: %s, want via %s", gwOf(res, err), want)
		}
		if _, err := f.Delete(&Route{Table: TableMain, Dst: a4("198.18.4.0"), Len: 24, Scope: ScopeNowhere, Priority: res.Route.Priority}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.Lookup(&FlowKey{Dst: a4("198.18.4.9")}); !errors.Is(err, syscall.ENETUNREACH) {
		t.Fatalf("after deleting every route: %v", err)
	}
}

// The default rules: local, then main, then default. The first table with
// a match answers, even with a shorter prefix than a later table's; a
// throw route ends the table's search and goes on to the next table (not
// to the table's own less specific routes); a throw in the last table is
// no route.
func TestLookupTablesAndThrow(t *testing.T) {
	throw := func(r *Route) *Route { r.Type = RTNThrow; return r }
	local := route(TableLocal, "198.18.5.1/32", "0.0.0.1")
	local.Type, local.Scope = RTNLocal, ScopeHost
	f := newTables(t,
		local,
		route(TableMain, "198.18.5.1/32", "0.0.0.2"),
		route(TableDefault, "198.18.5.1/32", "0.0.0.3"),
		route(TableMain, "0.0.0.0/0", "198.18.0.254"),
		route(TableDefault, "198.18.6.0/24", "198.18.0.253"),
		throw(route(TableMain, "198.18.6.0/24", "0.0.0.0")),
		route(TableDefault, "198.18.7.0/24", "198.18.0.252"), // hidden by main's /0
		throw(route(TableMain, "198.18.8.0/24", "0.0.0.0")),
		throw(route(TableDefault, "198.18.8.0/24", "0.0.0.0")),
	)
	checkLookups(t, f, []lookupCase{
		{dst: "198.18.5.1", want: "0.0.0.1/32 t255"},
		{dst: "198.18.6.1", want: "198.18.0.253/24 t253"},
		{dst: "198.18.7.1", want: "198.18.0.254/0 t254"},
		{dst: "198.18.8.1", want: "network is unreachable"},
	})
	if _, err := f.Delete(&Route{Table: TableLocal, Dst: a4("198.18.5.1"), Len: 32, Scope: ScopeNowhere}); err != nil {
		t.Fatal(err)
	}
	checkLookups(t, f, []lookupCase{{dst: "198.18.5.1", want: "0.0.0.2/32 t254"}})
	if _, err := f.Delete(&Route{Table: TableMain, Dst: a4("198.18.5.1"), Len: 32, Scope: ScopeNowhere}); err != nil {
		t.Fatal(err)
	}
	checkLookups(t, f, []lookupCase{{dst: "198.18.5.1", want: "198.18.0.254/0 t254"}})
	// Tables other than the three are not in the default rules.
	if err := f.Insert(route(100, "198.18.9.0/24", "198.18.0.9"), false); err != nil {
		t.Fatal(err)
	}
	checkLookups(t, f, []lookupCase{{dst: "198.18.9.1", want: "198.18.0.254/0 t254"}})
	if _, err := f.Delete(&Route{Table: TableMain, Len: 0, Scope: ScopeNowhere}); err != nil {
		t.Fatal(err)
	}
	checkLookups(t, f, []lookupCase{
		{dst: "198.18.5.1", want: "0.0.0.3/32 t253"},
		{dst: "198.18.7.1", want: "198.18.0.252/24 t253"},
		{dst: "198.18.9.1", want: "network is unreachable"},
	})
}

// Without rules of their own local and main answer as Linux's merged
// trie: the longest prefix of the two wins, local's first at the same
// length, and a throw ends the pair's answer (on to default) — Linux
// 6.18's answers in a scratch namespace, AnyIP's "local 10.0.0.0/8 dev
// lo table local" beside main's routes. Once a rule is added local is
// looked in first, whatever main holds.
func TestLookupLocalAndMainMerged(t *testing.T) {
	throw := func(r *Route) *Route { r.Type = RTNThrow; return r }
	local := func(p, name string) *Route {
		r := route(TableLocal, p, name)
		r.Type, r.Scope = RTNLocal, ScopeHost
		return r
	}
	f := newTables(t,
		local("10.0.0.0/8", "0.0.0.1"),
		route(TableMain, "10.1.0.0/16", "198.18.9.2"),
		route(TableMain, "10.0.0.0/8", "198.18.9.3"),
		throw(route(TableMain, "10.3.0.0/16", "0.0.0.0")),
		route(TableDefault, "10.3.0.0/16", "198.18.9.4"),
		throw(route(TableLocal, "10.4.0.0/16", "0.0.0.0")),
		route(TableMain, "10.4.0.0/16", "198.18.9.5"),
	)
	checkLookups(t, f, []lookupCase{
		{dst: "10.1.2.3", want: "198.18.9.2/16 t254"},     // main's /16 over local's /8
		{dst: "10.2.2.3", want: "0.0.0.1/8 t255"},         // the same length: local's
		{dst: "10.3.1.1", want: "198.18.9.4/16 t253"},     // main's throw, the longest: default
		{dst: "10.4.1.1", want: "network is unreachable"}, // local's throw first at /16; default has none
	})
	if _, err := f.AddRule(NewRule(100, RuleToTable, 100), true, true, nil); err != nil {
		t.Fatal(err)
	}
	checkLookups(t, f, []lookupCase{
		{dst: "10.1.2.3", want: "0.0.0.1/8 t255"},
		{dst: "10.2.2.3", want: "0.0.0.1/8 t255"},
		{dst: "10.4.1.1", want: "198.18.9.5/16 t254"}, // local's throw: on to main
	})
}

// TableLookup in the local table is what inet_addr_type reads: while no
// rule was added, main's routes answer there too (the merged trie), and a
// refusing type is no answer. The kernel agrees (a namespace with
// 198.18.0.1/24 on a veth, iptables' addrtype match counting pings):
// after ip route add local 198.18.7.0/24 dev lo, 198.18.7.5 is LOCAL;
// after ip route add 127.1.0.0/16 dev v0, 127.1.2.3 is UNICAST and
// 127.2.2.2 LOCAL; after ip route add broadcast 198.18.9.9 dev v0,
// 198.18.9.9 is BROADCAST.
func TestTableLookupLocalMerged(t *testing.T) {
	typed := func(r *Route, typ RouteType, scope Scope) *Route { r.Type, r.Scope = typ, scope; return r }
	f := newTables(t,
		typed(route(TableLocal, "127.0.0.0/8", "0.0.0.0"), RTNLocal, ScopeHost),
		typed(route(TableLocal, "198.18.0.1/32", "0.0.0.0"), RTNLocal, ScopeHost),
		typed(route(TableLocal, "198.18.0.77/32", "0.0.0.0"), RTNBlackhole, ScopeUniverse),
		typed(route(TableMain, "198.18.7.0/24", "0.0.0.0"), RTNLocal, ScopeHost),
		route(TableMain, "127.1.0.0/16", "198.18.0.2"),
		typed(route(TableMain, "198.18.9.9/32", "0.0.0.0"), RTNBroadcast, ScopeLink),
	)
	check := func(when string, want map[string]string) {
		t.Helper()
		for dst, w := range want {
			got := "none"
			if r := f.TableLookup(TableLocal, a4(dst)); r != nil {
				got = fmt.Sprintf("%v/%d t%d type %d", r.Dst, r.Len, r.Table, r.Type)
			}
			if got != w {
				t.Errorf("%s: local table lookup of %s: %s, want %s", when, dst, got, w)
			}
		}
	}
	check("merged", map[string]string{
		"198.18.7.5":  "[198 18 7 0]/24 t254 type 2",
		"127.1.2.3":   "[127 1 0 0]/16 t254 type 1",
		"127.2.2.2":   "[127 0 0 0]/8 t255 type 2",
		"198.18.9.9":  "[198 18 9 9]/32 t254 type 3",
		"198.18.0.1":  "[198 18 0 1]/32 t255 type 2",
		"198.18.0.77": "none",
		"203.0.113.1": "none",
	})
	if _, err := f.AddRule(NewRule(100, RuleToTable, 100), true, true, nil); err != nil {
		t.Fatal(err)
	}
	check("with a rule", map[string]string{
		"198.18.7.5":  "none",
		"127.1.2.3":   "[127 0 0 0]/8 t255 type 2",
		"198.18.9.9":  "none",
		"198.18.0.77": "none",
	})
}

// Blackhole, unreachable and prohibit routes answer their errno (EINVAL,
// EHOSTUNREACH, EACCES) together with the result that says which route
// refused; no route at all is ENETUNREACH and counts a miss.
func TestLookupRefusingTypesAndMiss(t *testing.T) {
	var f Tables
	f.Init()
	for i, c := range []struct {
		typ   RouteType
		errno syscall.Errno
	}{
		{RTNBlackhole, syscall.EINVAL},
		{RTNUnreachable, syscall.EHOSTUNREACH},
		{RTNProhibit, syscall.EACCES},
		{RTNUnicast, 0},
	} {
		dst := [4]byte{198, 18, 10 + byte(i), 0}
		if err := f.Insert(&Route{Table: TableMain, Dst: dst, Len: 24, Type: c.typ}, false); err != nil {
			t.Fatal(err)
		}
		res, err := f.Lookup(&FlowKey{Dst: [4]byte{198, 18, 10 + byte(i), 1}})
		if c.errno == 0 && err != nil || c.errno != 0 && !errors.Is(err, c.errno) {
			t.Errorf("%s: error %v, want %v", c.typ, err, c.errno)
		}
		if res.Type != c.typ || res.Table != TableMain || res.PrefixLen != 24 || res.Route == nil || res.Route.Dst != dst {
			t.Errorf("%s: result %+v", c.typ, res)
		}
	}
	if l, m := f.Stats(); l != 4 || m != 0 {
		t.Fatalf("stats %d lookups %d misses, want 4 0", l, m)
	}
	for i := 0; i < 3; i++ {
		res, err := f.Lookup(&FlowKey{Dst: a4("203.0.113.1")})
		if !errors.Is(err, syscall.ENETUNREACH) || res != (Result{}) {
			t.Fatalf("no route: %+v %v, want ENETUNREACH", res, err)
		}
	}
	if l, m := f.Stats(); l != 7 || m != 3 {
		t.Fatalf("stats %d lookups %d misses, want 7 3", l, m)
	}
}

// A flow's scope skips routes of a wider scope (a link-scope lookup finds
// only link and host routes); an output interface skips unicast routes
// through other devices.
func TestLookupScopeAndOif(t *testing.T) {
	_, h := stacktest.NewHost(t, 1)
	d1, _ := stacktest.NewDev(t, h, 1)
	d2, _ := stacktest.NewDev(t, h, 1)
	for _, d := range []*stack.NetDevice{d1, d2} {
		if err := d.Open(); err != nil {
			t.Fatal(err)
		}
	}
	wide := route(TableMain, "198.18.0.0/16", "198.18.0.1")
	wide.Dev = d1
	link := route(TableMain, "198.18.12.0/24", "0.0.0.0")
	link.Scope, link.Dev = ScopeLink, d2
	f := newTables(t, wide, link)
	for _, c := range []struct {
		dst   string
		scope Scope
		oif   int
		want  string
	}{
		{"198.18.12.1", ScopeUniverse, 0, "0.0.0.0/24 t254"},
		{"198.18.13.1", ScopeUniverse, 0, "198.18.0.1/16 t254"},
		{"198.18.13.1", ScopeLink, 0, "network is unreachable"},
		{"198.18.12.1", ScopeLink, 0, "0.0.0.0/24 t254"},
		{"198.18.12.1", ScopeHost, 0, "network is unreachable"},
		{"198.18.12.1", ScopeUniverse, d1.Ifindex(), "198.18.0.1/16 t254"},
		{"198.18.12.1", ScopeUniverse, d2.Ifindex(), "0.0.0.0/24 t254"},
		{"198.18.13.1", ScopeUniverse, d2.Ifindex(), "network is unreachable"},
	} {
		if got := gwOf(f.Lookup(&FlowKey{Dst: a4(c.dst), Scope: c.scope, Oif: c.oif})); got != c.want {
			t.Errorf("lookup %s scope %s oif %d: %s, want %s", c.dst, c.scope, c.oif, got, c.want)
		}
	}
}

// A unicast route whose device is down is skipped (its nexthop is dead):
// the lookup falls back to a less specific route, and takes the route
// again once the device is up; local and broadcast routes are used
// whatever their device's state.
func TestLookupSkipsDownDevice(t *testing.T) {
	_, h := stacktest.NewHost(t, 1)
	up, _ := stacktest.NewDev(t, h, 1)
	down, _ := stacktest.NewDev(t, h, 1)
	if err := up.Open(); err != nil {
		t.Fatal(err)
	}
	fallback := route(TableMain, "0.0.0.0/0", "198.18.0.254")
	fallback.Dev = up
	via := route(TableMain, "198.18.14.0/24", "198.18.0.14")
	via.Dev = down
	local := &Route{Table: TableLocal, Dst: a4("198.18.15.1"), Len: 32, Type: RTNLocal, Scope: ScopeHost, Dev: down}
	bcast := &Route{Table: TableLocal, Dst: a4("198.18.15.255"), Len: 32, Type: RTNBroadcast, Scope: ScopeLink, Dev: down}
	f := newTables(t, fallback, via, local, bcast)
	want := []lookupCase{
		{dst: "198.18.14.1", want: "198.18.0.254/0 t254"},
		{dst: "198.18.15.1", want: "0.0.0.0/32 t255"},
		{dst: "198.18.15.255", want: "0.0.0.0/32 t255"},
	}
	checkLookups(t, f, want)
	if err := down.Open(); err != nil {
		t.Fatal(err)
	}
	want[0].want = "198.18.0.14/24 t254"
	checkLookups(t, f, want)
	if err := down.Close(); err != nil {
		t.Fatal(err)
	}
	want[0].want = "198.18.0.254/0 t254"
	checkLookups(t, f, want)
	if err := up.Close(); err != nil {
		t.Fatal(err)
	}
	want[0].want = "network is unreachable"
	checkLookups(t, f, want)
}

// A second route with the same table, prefix, TOS and metric is EEXIST
// and changes nothing; with replace it takes the first one's place. A
// different metric or TOS is another route; in the local table a local
// and a broadcast route to one address coexist.
func TestInsertDuplicateAndReplace(t *testing.T) {
	f := newTables(t, route(TableMain, "198.18.16.0/24", "198.18.0.1"))
	gen := f.Genid()
	if err := f.Insert(route(TableMain, "198.18.16.0/24", "198.18.0.2"), false); !errors.Is(err, syscall.EEXIST) {
		t.Fatalf("duplicate: %v, want EEXIST", err)
	}
	if f.Genid() != gen {
		t.Fatal("a refused insert bumped the generation")
	}
	checkLookups(t, f, []lookupCase{{dst: "198.18.16.1", want: "198.18.0.1/24 t254"}})
	if err := f.Insert(route(TableMain, "198.18.16.0/24", "198.18.0.2"), true); err != nil {
		t.Fatalf("replace: %v", err)
	}
	checkLookups(t, f, []lookupCase{{dst: "198.18.16.1", want: "198.18.0.2/24 t254"}})
	if n := len(f.Dump(TableMain)); n != 1 {
		t.Fatalf("%d routes after a replace, want 1", n)
	}
	other := route(TableMain, "198.18.16.0/24", "198.18.0.3")
	other.Priority = 5
	tos := route(TableMain, "198.18.16.0/24", "198.18.0.4")
	tos.TOS = 0x10
	for _, r := range []*Route{other, tos} {
		if err := f.Insert(r, false); err != nil {
			t.Fatal(err)
		}
	}
	local := &Route{Table: TableLocal, Dst: a4("198.18.16.1"), Len: 32, Type: RTNLocal, Scope: ScopeHost}
	bcast := &Route{Table: TableLocal, Dst: a4("198.18.16.1"), Len: 32, Type: RTNBroadcast, Scope: ScopeLink}
	for _, r := range []*Route{local, bcast} {
		if err := f.Insert(r, false); err != nil {
			t.Fatalf("%s in local: %v", r.Type, err)
		}
	}
	if err := f.Insert(&Route{Table: TableLocal, Dst: a4("198.18.16.1"), Len: 32, Type: RTNBroadcast}, false); !errors.Is(err, syscall.EEXIST) {
		t.Fatalf("second broadcast in local: %v, want EEXIST", err)
	}
	if n := len(f.Dump(TableMain)); n != 3 {
		t.Fatalf("%d main routes, want 3", n)
	}
	if n := len(f.Dump(TableUnspec)); n != 5 {
		t.Fatalf("%d routes in all, want 5", n)
	}
}

// Delete removes the first route its request selects: the TOS must be the
// route's (Linux 6.18: ip route del without tos leaves a tos 0x10 route,
// ESRCH), other fields left zero match anything, a scope of ScopeNowhere
// any scope (ScopeUniverse only universe routes); nothing selected is
// ESRCH and leaves the table as it was. The deleted route is returned.
func TestDeleteWildcards(t *testing.T) {
	_, h := stacktest.NewHost(t, 1)
	d1, _ := stacktest.NewDev(t, h, 1)
	d2, _ := stacktest.NewDev(t, h, 1)
	mk := func() *Route {
		r := route(TableMain, "198.18.17.0/24", "198.18.0.1")
		r.TOS, r.Priority, r.Scope, r.Protocol, r.PrefSrc, r.Dev = 0x10, 7, ScopeLink, ProtoStatic, a4("198.18.0.9"), d1
		return r
	}
	q := func(edit func(*Route)) *Route {
		r := &Route{Table: TableMain, Dst: a4("198.18.17.0"), Len: 24, TOS: 0x10, Scope: ScopeNowhere}
		if edit != nil {
			edit(r)
		}
		return r
	}
	for _, c := range []struct {
		name string
		q    *Route
		ok   bool
	}{
		{"prefix only", q(nil), true},
		{"unmasked destination", q(func(r *Route) { r.Dst = a4("198.18.17.200") }), true},
		{"every field", q(func(r *Route) {
			r.TOS, r.Priority, r.Type, r.Scope, r.Protocol, r.PrefSrc, r.Dev, r.Gateway = 0x10, 7, RTNUnicast, ScopeLink, ProtoStatic, a4("198.18.0.9"), d1, a4("198.18.0.1")
		}), true},
		{"scope universe", q(func(r *Route) { r.Scope = ScopeUniverse }), false},
		{"other scope", q(func(r *Route) { r.Scope = ScopeHost }), false},
		{"other TOS", q(func(r *Route) { r.TOS = 0x08 }), false},
		{"no TOS", q(func(r *Route) { r.TOS = 0 }), false},
		{"other metric", q(func(r *Route) { r.Priority = 8 }), false},
		{"other type", q(func(r *Route) { r.Type = RTNBlackhole }), false},
		{"other device", q(func(r *Route) { r.Dev = d2 }), false},
		{"other gateway", q(func(r *Route) { r.Gateway = a4("198.18.0.2") }), false},
		{"other protocol", q(func(r *Route) { r.Protocol = ProtoKernel }), false},
		{"other source", q(func(r *Route) { r.PrefSrc = a4("198.18.0.8") }), false},
		{"other length", q(func(r *Route) { r.Len = 23 }), false},
		{"length 33", q(func(r *Route) { r.Len = 33 }), false},
		{"other table", q(func(r *Route) { r.Table = TableDefault }), false},
		{"no such table", q(func(r *Route) { r.Table = 1234 }), false},
	} {
		f := newTables(t, mk())
		gen := f.Genid()
		got, err := f.Delete(c.q)
		switch {
		case c.ok && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.ok && (got.Gateway != a4("198.18.0.1") || got.Dev != d1 || got.Priority != 7 || got.Cache() != nil):
			t.Errorf("%s: deleted %+v", c.name, got)
		case c.ok && (len(f.Dump(TableUnspec)) != 0 || f.Genid() == gen):
			t.Errorf("%s: %d routes left, generation %d→%d", c.name, len(f.Dump(TableUnspec)), gen, f.Genid())
		case !c.ok && !errors.Is(err, syscall.ESRCH):
			t.Errorf("%s: %v, want ESRCH", c.name, err)
		case !c.ok && (len(f.Dump(TableUnspec)) != 1 || f.Genid() != gen):
			t.Errorf("%s: refused delete changed the tables", c.name)
		}
	}
	// Of several routes the request selects, the first in lookup order
	// goes.
	a, b := mk(), mk()
	b.Priority, b.Gateway = 3, a4("198.18.0.3")
	f := newTables(t, a, b)
	if got, err := f.Delete(q(nil)); err != nil || got.Priority != 3 {
		t.Fatalf("first deleted %+v %v, want metric 3", got, err)
	}
	if got, err := f.Delete(q(nil)); err != nil || got.Priority != 7 {
		t.Fatalf("second deleted %+v %v, want metric 7", got, err)
	}
	if _, err := f.Delete(q(nil)); !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("third delete %v, want ESRCH", err)
	}
}

func routeNames(rs []Route) []string {
	var out []string
	for _, r := range rs {
		out = append(out, fmt.Sprintf("t%d %v %s", r.Table, r.Prefix(), r.Type))
	}
	return out
}

// FlushDev removes every route through the device, in every table, and
// RemoveWhere every route its predicate picks; both return what they
// removed in notification order (table descending, then the longer
// prefix, then the address, then the type) and leave the rest.
func TestRemoveWhereAndFlushDev(t *testing.T) {
	_, h := stacktest.NewHost(t, 1)
	d1, _ := stacktest.NewDev(t, h, 1)
	d2, _ := stacktest.NewDev(t, h, 1)
	for _, d := range []*stack.NetDevice{d1, d2} {
		if err := d.Open(); err != nil {
			t.Fatal(err)
		}
	}
	mk := func(table uint32, p string, typ RouteType, prio uint32, d *stack.NetDevice) *Route {
		pf := netip.MustParsePrefix(p)
		return &Route{Table: table, Dst: pf.Addr().As4(), Len: uint8(pf.Bits()), Type: typ, Priority: prio, Dev: d, Protocol: ProtoStatic}
	}
	f := newTables(t,
		mk(TableMain, "198.18.20.0/24", RTNUnicast, 0, d1),
		mk(TableMain, "0.0.0.0/0", RTNUnicast, 0, d1),
		mk(TableMain, "198.18.18.0/24", RTNUnicast, 0, d1),
		mk(TableMain, "198.18.18.0/24", RTNUnicast, 5, d1),
		mk(TableMain, "198.18.18.0/24", RTNUnicast, 9, d2),
		mk(TableMain, "198.18.18.128/25", RTNUnicast, 0, d1),
		mk(TableLocal, "198.18.18.255/32", RTNBroadcast, 0, d1),
		mk(TableLocal, "198.18.18.1/32", RTNLocal, 0, d1),
		mk(TableLocal, "198.18.19.1/32", RTNLocal, 0, d2),
		mk(TableDefault, "198.18.18.0/24", RTNUnicast, 0, d1),
		mk(100, "198.18.21.0/24", RTNUnicast, 0, d1),
		mk(TableMain, "198.18.22.0/24", RTNBlackhole, 0, nil),
	)
	gen := f.Genid()
	got := routeNames(f.FlushDev(d1))
	want := []string{
		"t255 198.18.18.1/32 local",
		"t255 198.18.18.255/32 broadcast",
		"t254 198.18.18.128/25 unicast",
		"t254 198.18.18.0/24 unicast",
		"t254 198.18.18.0/24 unicast",
		"t254 198.18.20.0/24 unicast",
		"t254 0.0.0.0/0 unicast",
		"t253 198.18.18.0/24 unicast",
		"t100 198.18.21.0/24 unicast",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("flushed\n%q\nwant\n%q", got, want)
	}
	if f.Genid() == gen {
		t.Fatal("a flush did not bump the generation")
	}
	left := routeNames(f.Dump(TableUnspec))
	wantLeft := []string{"t254 198.18.18.0/24 unicast", "t254 198.18.22.0/24 blackhole", "t255 198.18.19.1/32 local"}
	if !slices.Equal(left, wantLeft) {
		t.Fatalf("left\n%q\nwant\n%q", left, wantLeft)
	}
	checkLookups(t, f, []lookupCase{{dst: "198.18.18.200", want: "0.0.0.0/24 t254"}})
	if rs := f.FlushDev(d1); len(rs) != 0 {
		t.Fatalf("second flush removed %q", routeNames(rs))
	}
	got = routeNames(f.RemoveWhere(func(r *Route) bool { return r.Type != RTNLocal }))
	if want := []string{"t254 198.18.18.0/24 unicast", "t254 198.18.22.0/24 blackhole"}; !slices.Equal(got, want) {
		t.Fatalf("removed %q, want %q", got, want)
	}
	if left := routeNames(f.Dump(TableUnspec)); !slices.Equal(left, []string{"t255 198.18.19.1/32 local"}) {
		t.Fatalf("left %q", left)
	}
	// RemoveKernel takes the kernel routes of one address on one device.
	k1 := mk(TableMain, "198.18.23.0/24", RTNUnicast, 0, d2)
	k1.Protocol, k1.PrefSrc = ProtoKernel, a4("198.18.23.1")
	k2 := mk(TableMain, "198.18.24.0/24", RTNUnicast, 0, d2)
	k2.Protocol, k2.PrefSrc = ProtoKernel, a4("198.18.24.1")
	k3 := mk(TableMain, "198.18.25.0/24", RTNUnicast, 0, d2)
	k3.PrefSrc = a4("198.18.23.1") // static: stays
	for _, r := range []*Route{k1, k2, k3} {
		if err := f.Insert(r, false); err != nil {
			t.Fatal(err)
		}
	}
	if got := routeNames(f.RemoveKernel(d2, a4("198.18.23.1"))); !slices.Equal(got, []string{"t254 198.18.23.0/24 unicast"}) {
		t.Fatalf("RemoveKernel removed %q", got)
	}
	if n := len(f.Dump(TableMain)); n != 2 {
		t.Fatalf("%d main routes left, want 2", n)
	}
}

// Every change to the tables bumps the generation (a cached decision
// made under another one is stale): insert, replace, delete, flush.
// Lookups do not.
func TestGenidBumps(t *testing.T) {
	var f Tables
	f.Init()
	steps := []struct {
		name string
		do   func() error
	}{
		{"insert", func() error { return f.Insert(route(TableMain, "198.18.26.0/24", "198.18.0.1"), false) }},
		{"insert other", func() error { return f.Insert(route(TableDefault, "198.18.26.0/24", "198.18.0.1"), false) }},
		{"replace", func() error { return f.Insert(route(TableMain, "198.18.26.0/24", "198.18.0.2"), true) }},
		{"delete", func() error {
			_, err := f.Delete(&Route{Table: TableMain, Dst: a4("198.18.26.0"), Len: 24, Scope: ScopeNowhere})
			return err
		}},
		{"remove", func() error {
			if n := len(f.RemoveWhere(func(*Route) bool { return true })); n != 1 {
				return fmt.Errorf("removed %d, want 1", n)
			}
			return nil
		}},
	}
	for i, s := range steps {
		gen := f.Genid()
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if got := f.Genid(); got != gen+1 {
			t.Fatalf("step %d %s: generation %d→%d, want +1", i, s.name, gen, got)
		}
	}
	gen := f.Genid()
	for i := 0; i < 3; i++ {
		_, _ = f.Lookup(&FlowKey{Dst: a4("198.18.26.1")})
	}
	if f.Genid() != gen {
		t.Fatal("a lookup bumped the generation")
	}
}

// BenchmarkLookup: fib_lookup over ~1000 routes of mixed prefix lengths in
// main, with local routes in front (the per-packet route lookup when the
// decision cache misses).
func BenchmarkLookup(b *testing.B) {
	var f Tables
	f.Init()
	n := 0
	for i := 0; i < 4; i++ {
		if err := f.Insert(&Route{Table: TableLocal, Dst: [4]byte{198, 18, byte(i), 1}, Len: 32, Type: RTNLocal, Scope: ScopeHost}, false); err != nil {
			b.Fatal(err)
		}
		n++
	}
	if err := f.Insert(route(TableMain, "0.0.0.0/0", "198.18.0.254"), false); err != nil {
		b.Fatal(err)
	}
	n++
	for i := 0; n < 1000; i++ {
		l := uint8(16 + i%17) // /16 … /32
		dst := [4]byte{198, 18, byte(i >> 2), byte(i * 37)}
		if err := f.Insert(&Route{Table: TableMain, Dst: dst, Len: l, Type: RTNUnicast, Priority: uint32(i)}, false); err != nil {
			b.Fatal(err)
		}
		n++
	}
	keys := make([]FlowKey, 256)
	for i := range keys {
		keys[i] = FlowKey{Dst: [4]byte{198, 18, byte(i), byte(i * 91)}}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := f.Lookup(&keys[i&255]); err != nil {
			b.Fatal(err)
		}
	}
}
