package fib

import (
	"testing"
	"time"

	"vnic/internal/stacktest"
)

// Routes that differ only in their prefix share one fib_info (and so its
// nexthop's caches and exceptions); a difference fib_find_info compares
// (gateway, metric, protocol, metrics, table, type) makes another; the
// last route to go frees it; a replaced route lets go of its own.
func TestInfoSharing(t *testing.T) {
	_, h := stacktest.NewHost(t, 1)
	d1, _ := stacktest.NewDev(t, h, 1)
	mk := func(dst, gw string, edit func(r *Route)) *Route {
		r := route(TableMain, dst, gw)
		r.Dev = d1
		if edit != nil {
			edit(r)
		}
		return r
	}
	a := mk("198.18.1.0/24", "198.18.0.1", nil)
	b := mk("198.18.2.0/24", "198.18.0.1", nil)
	c := mk("198.18.3.0/24", "198.18.0.2", nil)                               // another gateway
	d := mk("198.18.4.0/24", "198.18.0.1", func(r *Route) { r.Priority = 5 }) // another metric
	e := mk("198.18.5.0/24", "198.18.0.1", func(r *Route) { r.Protocol = ProtoStatic })
	g := mk("198.18.6.0/24", "198.18.0.1", func(r *Route) { r.Metrics.Val[rtaxMTU] = 1400 })
	k := mk("198.18.7.0/24", "198.18.0.1", func(r *Route) { r.Table = 77 })
	f := newTables(t, a, b, c, d, e, g, k)
	if a.fi != b.fi || a.fi.refs != 2 {
		t.Fatalf("two routes through one gateway: infos %p %p, refs %d; want one info held twice", a.fi, b.fi, a.fi.refs)
	}
	for _, o := range []*Route{c, d, e, g, k} {
		if o.fi == a.fi {
			t.Errorf("%v shares %v's info though fib_find_info tells them apart", o.Prefix(), a.Prefix())
		}
	}
	if n := f.InfoCount(); n != 6 {
		t.Fatalf("%d infos, want 6", n)
	}
	// An exception learnt through one is the other's: one nexthop.
	a.Cache().UpdateException(ExceptionUpdate{Hash: 1, Daddr: a4("198.18.2.9"), PMTU: 1300, Expires: time.Hour, MaxDepth: FNHEReclaimDepth})
	if xs := b.Cache().Exceptions(); len(xs) != 1 || xs[0].PMTU != 1300 {
		t.Fatalf("exceptions through the shared nexthop: %+v", xs)
	}
	if _, err := f.Delete(&Route{Table: TableMain, Dst: a.Dst, Len: a.Len, Scope: ScopeNowhere}); err != nil {
		t.Fatal(err)
	}
	if b.fi.refs != 1 || f.InfoCount() != 6 {
		t.Fatalf("after a delete: refs %d, %d infos; want 1 and 6", b.fi.refs, f.InfoCount())
	}
	// Replacing b by a route through another gateway frees b's info.
	nb := mk("198.18.2.0/24", "198.18.0.3", nil)
	if err := f.Insert(nb, true); err != nil {
		t.Fatal(err)
	}
	if f.InfoCount() != 6 || b.fi.refs != 0 {
		t.Fatalf("after a replace: %d infos, old refs %d; want 6 and 0", f.InfoCount(), b.fi.refs)
	}
	f.RemoveWhere(func(*Route) bool { return true })
	if n := f.InfoCount(); n != 0 {
		t.Fatalf("%d infos left in empty tables", n)
	}
}
