package fib

import (
	"errors"
	"fmt"
	"net/netip"
	"syscall"
	"testing"

	"vnic/internal/stacktest"
	"vnic/stack"
)

func nhMsg(err error) string {
	var ne *Error
	if errors.As(err, &ne) {
		return fmt.Sprintf("%v %q", ne.Errno, ne.Msg)
	}
	return fmt.Sprint(err)
}

// TestNexthops: the kernel's checks and answers for nexthop objects (each
// captured from ip nexthop on Linux 6.18), ids as nh_find_unused_id gives
// them, and a member's deletion leaving its groups, the routes that named
// it going with it.
func TestNexthops(t *testing.T) {
	_, h := stacktest.NewHost(t, 1)
	dev, _ := stacktest.NewDev(t, h, 1)
	down, _ := stacktest.NewDev(t, h, 1)
	if err := dev.Open(); err != nil {
		t.Fatal(err)
	}
	var f Tables
	f.Init()
	onLink := func(_ *stack.NetDevice, gw [4]byte) bool { return gw[2] == 5 } // 198.18.5.0/24 is on the link
	add := func(nh Nexthop) (Nexthop, error) { return f.AddNexthop(nh, false, onLink) }
	for _, nh := range []Nexthop{
		{ID: 1, Dev: dev, Gateway: a4("198.18.5.1")},
		{ID: 2, Dev: dev, Gateway: a4("198.18.5.3"), OnLink: true},
		{ID: 3, Dev: dev},
		{ID: 20, Blackhole: true},
	} {
		if _, err := add(nh); err != nil {
			t.Fatalf("add %v: %v", nh, err)
		}
	}
	if nh, err := add(Nexthop{Dev: dev, Gateway: a4("198.18.5.4")}); err != nil || nh.ID != 4 {
		t.Errorf("no id: got id %d (%v), want 4, the first unused", nh.ID, err)
	}
	if nh, err := add(Nexthop{Dev: dev}); err != nil || nh.ID != 5 {
		t.Errorf("no id again: got %d (%v), want 5", nh.ID, err)
	}
	for _, tc := range []struct {
		nh   Nexthop
		want string
	}{
		{Nexthop{ID: 1, Dev: dev, Gateway: a4("198.18.5.1")}, "file exists \"\""},
		{Nexthop{ID: 6, Dev: dev, Gateway: a4("198.18.9.1")}, "invalid argument \"Nexthop has invalid gateway\""},
		{Nexthop{ID: 6, Gateway: a4("198.18.5.1")}, "invalid argument \"Device attribute required for non-blackhole and non-fdb nexthops\""},
		{Nexthop{ID: 6, Blackhole: true, Dev: dev}, "invalid argument \"Blackhole attribute can not be used with gateway, oif, encap or fdb\""},
		{Nexthop{ID: 6, Dev: down}, "network is down \"Device for nexthop is not up\""},
		{Nexthop{ID: 12, Group: []GroupMember{{1, 1}, {99, 1}}}, "invalid argument \"Invalid nexthop id\""},
		{Nexthop{ID: 14, Group: []GroupMember{{1, 1}, {1, 1}}}, "invalid argument \"Nexthop id can not be used twice in a group\""},
	} {
		if _, err := add(tc.nh); nhMsg(err) != tc.want {
			t.Errorf("add %v: %s, want %s", tc.nh, nhMsg(err), tc.want)
		}
	}
	if _, err := add(Nexthop{ID: 10, Group: []GroupMember{{1, 1}, {2, 3}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := add(Nexthop{ID: 13, Group: []GroupMember{{1, 1}, {10, 1}}}); nhMsg(err) != "invalid argument \"Hash-threshold group can not be a nexthop within a group\"" {
		t.Errorf("nested group: %s", nhMsg(err))
	}
	// Routes through nexthop 1, through the blackhole and (not yet) a group.
	via := &Route{Table: TableMain, Dst: a4("198.18.10.0"), Len: 24, Type: RTNUnicast, NhID: 1}
	bh := &Route{Table: TableMain, Dst: a4("198.18.11.0"), Len: 24, Type: RTNUnicast, NhID: 20}
	for _, r := range []*Route{via, bh} {
		if err := f.Insert(r, false); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Insert(&Route{Table: TableMain, Dst: a4("198.18.12.0"), Len: 24, Type: RTNUnicast, NhID: 99}, false); nhMsg(err) != "invalid argument \"Nexthop id does not exist\"" {
		t.Errorf("missing nhid: %s", nhMsg(err))
	}
	// A route through group 10 (1 weight 1, 2 weight 3): each flow takes
	// one path, always the same, and the flows split 1:3.
	if err := f.Insert(&Route{Table: TableMain, Dst: a4("198.18.12.0"), Len: 24, Type: RTNUnicast, NhID: 10}, false); err != nil {
		t.Fatal(err)
	}
	gws := map[string]int{}
	for i := range 4000 {
		fl := FlowKey{Dst: a4("198.18.12.7"), Src: [4]byte{198, 19, byte(i >> 8), byte(i)}}
		res, err := f.Lookup(&fl)
		if err != nil {
			t.Fatal(err)
		}
		again, _ := f.Lookup(&fl)
		if again.Route != res.Route {
			t.Fatal("one flow, two paths")
		}
		gws[gwOf(res, nil)]++
	}
	if n1, n2 := gws["198.18.5.1/24 t254"], gws["198.18.5.3/24 t254"]; n1 < 850 || n1 > 1150 || n2 < 2850 || n2 > 3150 {
		t.Errorf("weights 1:3 split flows %v", gws)
	}
	if r := f.Dump(TableMain); len(r) == 0 || fmt.Sprint(multipathOf(f.Dump(TableMain), "198.18.12.0/24")) != "[198.18.5.1 w1 198.18.5.3 w3]" {
		t.Errorf("the group route's paths: %v", multipathOf(f.Dump(TableMain), "198.18.12.0/24"))
	}
	checkLookups(t, &f, []lookupCase{{dst: "198.18.10.7", want: "198.18.5.1/24 t254"}, {dst: "198.18.11.7", want: "invalid argument"}})
	// Replacing nexthop 1 moves its route.
	if _, err := f.AddNexthop(Nexthop{ID: 1, Dev: dev, Gateway: a4("198.18.5.9")}, true, onLink); err != nil {
		t.Fatal(err)
	}
	checkLookups(t, &f, []lookupCase{{dst: "198.18.10.7", want: "198.18.5.9/24 t254"}})
	// Deleting 1: it leaves group 10, its route goes.
	ch, err := f.DeleteNexthop(1)
	if err != nil || len(ch.Deleted) != 1 || len(ch.Changed) != 1 || ch.Changed[0].ID != 10 || len(ch.Routes) != 1 {
		t.Fatalf("delete 1: %+v %v", ch, err)
	}
	if g, _ := f.Nexthop(10); fmt.Sprint(g.Group) != "[{2 3}]" {
		t.Errorf("group 10 after deleting 1: %v", g.Group)
	}
	checkLookups(t, &f, []lookupCase{{dst: "198.18.10.7", want: "network is unreachable"}})
	// The group's route lost path 1: every flow takes 2 now.
	checkLookups(t, &f, []lookupCase{{dst: "198.18.12.7", want: "198.18.5.3/24 t254"}})
	if _, err := f.DeleteNexthop(1); !errors.Is(err, syscall.ENOENT) {
		t.Errorf("delete again: %v", err)
	}
	// The device going: its nexthops, then group 10 emptied, go.
	ch = f.FlushNexthopsDev(dev)
	var ids []uint32
	for _, nh := range ch.Deleted {
		ids = append(ids, nh.ID)
	}
	if fmt.Sprint(ids) != "[2 3 4 5 10]" {
		t.Errorf("flush dev deleted %v, want [2 3 4 5 10]", ids)
	}
	if left := f.Nexthops(); len(left) != 1 || left[0].ID != 20 {
		t.Errorf("left %v", left)
	}
}

// TestNexthopGroupHash: a hash-threshold group gives each member a share
// of the hash space in proportion to its weight.
func TestNexthopGroupHash(t *testing.T) {
	_, h := stacktest.NewHost(t, 1)
	dev, _ := stacktest.NewDev(t, h, 1)
	if err := dev.Open(); err != nil {
		t.Fatal(err)
	}
	var f Tables
	f.Init()
	for _, nh := range []Nexthop{{ID: 1, Dev: dev, Gateway: a4("198.18.5.1")}, {ID: 2, Dev: dev, Gateway: a4("198.18.5.2")},
		{ID: 10, Group: []GroupMember{{1, 1}, {2, 3}}}} {
		if _, err := f.AddNexthop(nh, false, nil); err != nil {
			t.Fatal(err)
		}
	}
	count := map[uint32]int{}
	for i := uint32(0); i < 4000; i++ {
		nh, ok := f.ResolveNexthop(10, i*0x9e3779b9)
		if !ok {
			t.Fatal("unresolved")
		}
		count[nh.ID]++
	}
	if count[1] < 900 || count[1] > 1100 || count[2] < 2900 || count[2] > 3100 {
		t.Errorf("weights 1:3 gave %v", count)
	}
}

func multipathOf(rs []Route, prefix string) []string {
	var out []string
	for _, r := range rs {
		if r.Prefix().String() == prefix {
			for _, p := range r.Multipath {
				out = append(out, fmt.Sprintf("%v w%d", netip.AddrFrom4(p.Gateway), p.Weight))
			}
		}
	}
	return out
}

// TestInlineMultipath: a route added with its paths (RTA_MULTIPATH) spreads
// flows by weight, skips a path whose device is down, and goes whole when
// a path's device goes away (fib_sync_down_dev on unregister).
func TestInlineMultipath(t *testing.T) {
	d1, d2 := twoOpenDevs(t)
	var f Tables
	f.Init()
	r := &Route{Table: TableMain, Dst: a4("198.18.20.0"), Len: 24, Type: RTNUnicast,
		Multipath: []Path{{Dev: d1, Gateway: a4("198.18.5.1"), Weight: 1}, {Dev: d2, Gateway: a4("198.18.6.1"), Weight: 2}}}
	if err := f.Insert(r, false); err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for i := range 3000 {
		res, err := f.Lookup(&FlowKey{Dst: a4("198.18.20.9"), Src: [4]byte{198, 19, byte(i >> 8), byte(i)}})
		if err != nil {
			t.Fatal(err)
		}
		count[gwOf(res, nil)]++
	}
	if a, b := count["198.18.5.1/24 t254"], count["198.18.6.1/24 t254"]; a < 850 || a > 1150 || b < 1850 || b > 2150 {
		t.Errorf("weights 1:2 split flows %v", count)
	}
	if err := d2.Close(); err != nil {
		t.Fatal(err)
	}
	checkLookups(t, &f, []lookupCase{{dst: "198.18.20.9", want: "198.18.5.1/24 t254"}})
	if gone := f.FlushDev(d2); len(gone) != 1 || len(gone[0].Multipath) != 2 {
		t.Errorf("flush of one path's device: %v", gone)
	}
	checkLookups(t, &f, []lookupCase{{dst: "198.18.20.9", want: "network is unreachable"}})
}

// TestMultipathHashPolicy: under the layer-3 policy one source and
// destination take one path whatever the ports; under layer 4 their flows
// spread by port; 3 (custom fields) is not there, 4 is out of range.
func TestMultipathHashPolicy(t *testing.T) {
	_, h := stacktest.NewHost(t, 1)
	d1, _ := stacktest.NewDev(t, h, 1)
	if err := d1.Open(); err != nil {
		t.Fatal(err)
	}
	var f Tables
	f.Init()
	r := &Route{Table: TableMain, Dst: a4("198.18.20.0"), Len: 24, Type: RTNUnicast,
		Multipath: []Path{{Dev: d1, Gateway: a4("198.18.5.1"), Weight: 1}, {Dev: d1, Gateway: a4("198.18.5.2"), Weight: 1}}}
	if err := f.Insert(r, false); err != nil {
		t.Fatal(err)
	}
	paths := func() int {
		seen := map[string]bool{}
		for port := range 64 {
			res, err := f.Lookup(&FlowKey{Dst: a4("198.18.20.9"), Src: a4("198.19.0.1"), Proto: 17, Sport: uint16(40000 + port), Dport: 53})
			if err != nil {
				t.Fatal(err)
			}
			seen[gwOf(res, nil)] = true
		}
		return len(seen)
	}
	if n := paths(); n != 1 {
		t.Errorf("layer 3: 64 ports of one address pair took %d paths, want 1", n)
	}
	if err := f.SetMultipathHashPolicy(1); err != nil {
		t.Fatal(err)
	}
	if n := paths(); n != 2 {
		t.Errorf("layer 4: 64 ports took %d paths, want 2", n)
	}
	if err := f.SetMultipathHashPolicy(3); !errors.Is(err, syscall.EOPNOTSUPP) {
		t.Errorf("policy 3: %v", err)
	}
	if err := f.SetMultipathHashPolicy(4); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("policy 4: %v", err)
	}
	if f.MultipathHashPolicy() != 1 {
		t.Errorf("a refused set changed the policy to %d", f.MultipathHashPolicy())
	}
}

// TestMultipathLinkdown: a path whose device lost its carrier still takes
// its share of flows until its device ignores routes with linkdown; then
// every flow takes the other path (fib_rebalance gives the linkdown one no
// share), and the dump marks it dead linkdown.
func TestMultipathLinkdown(t *testing.T) {
	d1, d2 := twoOpenDevs(t)
	var f Tables
	f.Init()
	r := &Route{Table: TableMain, Dst: a4("198.18.20.0"), Len: 24, Type: RTNUnicast,
		Multipath: []Path{{Dev: d1, Gateway: a4("198.18.5.1"), Weight: 1}, {Dev: d2, Gateway: a4("198.18.6.1"), Weight: 1}}}
	if err := f.Insert(r, false); err != nil {
		t.Fatal(err)
	}
	d1.CarrierOn()
	d2.CarrierOff()
	ignore := false
	f.SetIgnoreLinkdown(func(d *stack.NetDevice) bool { return ignore && d == d2 })
	spread := func() map[string]int {
		count := map[string]int{}
		for i := range 1000 {
			res, err := f.Lookup(&FlowKey{Dst: a4("198.18.20.9"), Src: [4]byte{198, 19, byte(i >> 8), byte(i)}})
			if err != nil {
				t.Fatal(err)
			}
			count[gwOf(res, nil)]++
		}
		return count
	}
	if c := spread(); c["198.18.6.1/24 t254"] < 400 {
		t.Fatalf("linkdown path without the sysctl: %v, want about half the flows", c)
	}
	ignore = true
	if c := spread(); c["198.18.5.1/24 t254"] != 1000 {
		t.Fatalf("linkdown path with the sysctl: %v, want every flow on the other", c)
	}
	dump := f.Dump(TableMain)
	if len(dump) != 1 || len(dump[0].Multipath) != 2 || dump[0].Multipath[0].Flags != 0 || dump[0].Multipath[1].Flags != NHFDead|NHFLinkdown {
		t.Fatalf("dump: %+v", dump)
	}
}

// twoOpenDevs makes a host's two devices, open.
func twoOpenDevs(t *testing.T) (d1, d2 *stack.NetDevice) {
	t.Helper()
	_, h := stacktest.NewHost(t, 1)
	d1, _ = stacktest.NewDev(t, h, 1)
	d2, _ = stacktest.NewDev(t, h, 1)
	for _, d := range []*stack.NetDevice{d1, d2} {
		if err := d.Open(); err != nil {
			t.Fatal(err)
		}
	}
	return d1, d2
}
