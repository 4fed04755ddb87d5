package fib

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"vnic/hw"
	"vnic/internal/stacktest"
	"vnic/stack"
)

// resFix is a namespace's tables on a virtual clock with nexthops 1..8
// (via 198.18.5.N) to make resilient groups of.
type resFix struct {
	t   *testing.T
	clk *hw.VirtualClock
	f   *Tables
	dev *stack.NetDevice
}

func newResFix(t *testing.T) *resFix {
	t.Helper()
	clk, h := stacktest.NewHost(t, 1)
	dev, _ := stacktest.NewDev(t, h, 1)
	if err := dev.Open(); err != nil {
		t.Fatal(err)
	}
	x := &resFix{t: t, clk: clk, f: &Tables{}, dev: dev}
	x.f.Init()
	x.f.SetClock(clk)
	for i := uint32(1); i <= 8; i++ {
		if _, err := x.f.AddNexthop(Nexthop{ID: i, Dev: dev, Gateway: [4]byte{198, 18, 5, byte(i)}}, false, nil); err != nil {
			t.Fatal(err)
		}
	}
	return x
}

// members parses ip's group syntax: "1,3/2/4,7".
func members(spec string) []GroupMember {
	var out []GroupMember
	for _, e := range strings.Split(spec, "/") {
		id, w, ok := strings.Cut(e, ",")
		n, _ := strconv.Atoi(id)
		m := GroupMember{ID: uint32(n), Weight: 1}
		if ok {
			k, _ := strconv.Atoi(w)
			m.Weight = uint16(k)
		}
		out = append(out, m)
	}
	return out
}

func resCfg(buckets int, idle, unb time.Duration) *Resilient {
	r := &Resilient{Buckets: uint16(buckets), HasBuckets: buckets > 0, IdleTimer: idle, HasIdleTimer: idle > 0, UnbalancedTimer: unb, HasUnbalancedTimer: unb > 0}
	return r
}

// set adds (or with replace replaces) resilient group id.
func (x *resFix) set(id uint32, spec string, r *Resilient, replace bool) error {
	_, err := x.f.AddNexthop(Nexthop{ID: id, Group: members(spec), Resilient: r}, replace, nil)
	return err
}

func (x *resFix) mustSet(id uint32, spec string, r *Resilient, replace bool) {
	x.t.Helper()
	if err := x.set(id, spec, r, replace); err != nil {
		x.t.Fatalf("group %d %s: %v", id, spec, err)
	}
}

// assign is the group's buckets' members, run-length: "2x4 1x4".
func (x *resFix) assign(id uint32) string {
	x.t.Helper()
	bs, err := x.f.NexthopBuckets(id)
	if err != nil {
		x.t.Fatal(err)
	}
	var parts []string
	for i := 0; i < len(bs); {
		j := i
		for j < len(bs) && bs[j].NhID == bs[i].NhID {
			j++
		}
		parts = append(parts, fmt.Sprintf("%dx%d", bs[i].NhID, j-i))
		i = j
	}
	return strings.Join(parts, " ")
}

// use has a lookup choose each bucket of idx (the hash idx picks bucket
// idx for idx below the number of buckets).
func (x *resFix) use(id uint32, idx ...int) {
	x.t.Helper()
	for _, i := range idx {
		if _, ok := x.f.ResolveNexthop(id, uint32(i)); !ok {
			x.t.Fatalf("group %d: no nexthop for bucket %d", id, i)
		}
	}
}

func (x *resFix) unbalancedTime(id uint32) time.Duration {
	nh, _ := x.f.Nexthop(id)
	return nh.Resilient.UnbalancedTime
}

func all(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// TestResilientAssignment: a new group's buckets as Linux 6.18 fills
// them (ip nexthop add id N group G type resilient buckets B, then ip -j
// nexthop bucket show id N, run-length), from the wants its weights give
// and the underweight members, the last first.
func TestResilientAssignment(t *testing.T) {
	x := newResFix(t)
	for i, tc := range []struct {
		group   string
		buckets int
		want    string
	}{
		{"1/2", 8, "2x4 1x4"},
		{"1/2/3", 8, "3x3 2x2 1x3"},
		{"1,3/2,5/3,2/4,7", 32, "4x13 3x4 2x9 1x6"},
		{"1/2/3/4", 128, "4x32 3x32 2x32 1x32"},
		{"1,255/2", 10, "1x10"},
		{"1/2", 1, "1x1"},
		{"1/2/3", 2, "3x1 1x1"},
		{"3,7/1,13/2,29", 1000, "2x592 1x265 3x143"},
		{"1,256/2,256/3,1/4,100/5,2/6,3/7,50/8,9", 100, "8x1 7x8 4x15 2x38 1x38"},
		{"2/1", 5, "1x2 2x3"},
		{"4,2/3,3/2,4", 7, "2x3 3x2 4x2"},
		{"1", 4, "1x4"},
		{"5,3", 3, "5x3"},
		{"1/2/3/4/5/6/7/8", 7, "8x1 7x1 6x1 4x1 3x1 2x1 1x1"},
	} {
		id := uint32(100 + i)
		x.mustSet(id, tc.group, resCfg(tc.buckets, 0, 0), false)
		if got := x.assign(id); got != tc.want {
			t.Errorf("group %s buckets %d: %s, want %s", tc.group, tc.buckets, got, tc.want)
		}
		if u := x.unbalancedTime(id); u != 0 {
			t.Errorf("group %s: unbalanced for %v after creation", tc.group, u)
		}
	}
}

// TestResilientRefusals: the kernel's words for resilient groups made and
// replaced wrongly (captured from ip nexthop on Linux 6.18).
func TestResilientRefusals(t *testing.T) {
	x := newResFix(t)
	x.mustSet(10, "1/2", resCfg(8, 2*time.Second, 0), false)
	if _, err := x.f.AddNexthop(Nexthop{ID: 12, Group: members("1/2")}, false, nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		nh      Nexthop
		replace bool
		want    string
	}{
		{Nexthop{ID: 11, Group: members("1/2"), Resilient: &Resilient{HasIdleTimer: true, IdleTimer: 3 * time.Second}}, false,
			"invalid argument \"Number of buckets not specified for nexthop group insertion\""},
		{Nexthop{ID: 11, Group: members("1/2"), Resilient: &Resilient{HasBuckets: true}}, false, "invalid argument \"Number of buckets needs to be non-0\""},
		{Nexthop{ID: 10, Group: members("1/2"), Resilient: resCfg(16, 0, 0)}, true, "invalid argument \"Can not change number of buckets of a resilient nexthop group.\""},
		{Nexthop{ID: 10, Group: members("1/2")}, true, "invalid argument \"Can not replace a nexthop group with one of a different type.\""},
		{Nexthop{ID: 12, Group: members("1/2"), Resilient: resCfg(8, 0, 0)}, true, "invalid argument \"Can not replace a nexthop group with one of a different type.\""},
		{Nexthop{ID: 1, Group: members("2/3"), Resilient: resCfg(8, 0, 0)}, true, "invalid argument \"Can not replace a nexthop with a nexthop group.\""},
		{Nexthop{ID: 10, Dev: x.dev, Gateway: a4("198.18.5.1")}, true, "invalid argument \"Can not replace a nexthop group with a nexthop.\""},
		{Nexthop{ID: 13, Group: members("1/10"), Resilient: resCfg(8, 0, 0)}, false, "invalid argument \"Resilient group can not be a nexthop within a group\""},
		{Nexthop{Group: members("1/2"), Resilient: resCfg(8, 0, 0)}, true, "invalid argument \"Replace requires nexthop id\""},
	} {
		if _, err := x.f.AddNexthop(tc.nh, tc.replace, nil); nhMsg(err) != tc.want {
			t.Errorf("%v replace %v: %s, want %s", tc.nh, tc.replace, nhMsg(err), tc.want)
		}
	}
	for _, tc := range []struct {
		id    uint32
		index uint16
		want  string
	}{
		{1, 0, "invalid argument \"Not a nexthop group\""},
		{12, 0, "invalid argument \"Nexthop group not of type resilient\""},
		{99, 0, "no such file or directory"},
		{10, 8, "no such file or directory \"Bucket index out of bounds\""},
	} {
		if _, err := x.f.NexthopBucket(tc.id, tc.index); nhMsg(err) != tc.want {
			t.Errorf("bucket %d of %d: %s, want %s", tc.index, tc.id, nhMsg(err), tc.want)
		}
	}
	if b, err := x.f.NexthopBucket(10, 7); err != nil || b.NhID != 1 || b.Index != 7 || b.Dev != x.dev {
		t.Errorf("bucket 7 of 10: %+v %v", b, err)
	}
}

// TestResilientMigration: how buckets move after the weights change, in
// virtual time, exactly: an overweight member's bucket moves once idle
// for the idle timer, never while busy unless the group has been
// unbalanced longer than the unbalanced timer, and the upkeep comes back
// at the first moment one can move (at least half a second on), a jiffy
// late. The orders and the half-second steps are those Linux 6.18 showed
// (ip nexthop bucket show after replacing 1/2 by 1/2/3, 8 buckets).
func TestResilientMigration(t *testing.T) {
	const ms = time.Millisecond
	type step struct {
		at     time.Duration
		want   string
		unbal  time.Duration // -1: not checked
		action func(x *resFix)
	}
	useAll := func(x *resFix) { x.use(10, all(8)...) }
	for _, tc := range []struct {
		name      string
		idle, unb time.Duration
		// traffic uses every bucket each 200 ms from 1 s until then.
		trafficUntil time.Duration
		steps        []step
	}{{
		name: "idle", idle: 2 * time.Second,
		steps: []step{
			{at: 900 * ms, action: func(x *resFix) { x.use(10, 0) }},
			{at: 1000 * ms, action: func(x *resFix) { x.use(10, 1, 2, 3, 4, 5, 6, 7) }},
			{at: 1500 * ms, want: "2x4 1x4", unbal: 0, action: func(x *resFix) { x.mustSet(10, "1/2/3", &Resilient{}, true) }},
			{at: 1500 * ms, want: "2x4 1x4", unbal: 0},
			{at: 2500 * ms, want: "2x4 1x4", unbal: 1000 * ms},
			// Bucket 0 idles at 2.9 s: the upkeep due then runs at 2.901.
			{at: 2900 * ms, want: "2x4 1x4", unbal: 1400 * ms},
			{at: 2901 * ms, want: "3x1 2x3 1x4", unbal: 1401 * ms},
			// Buckets 1 and 4 idle at 3.0 s, but the next upkeep is half
			// a second on.
			{at: 3401 * ms, want: "3x1 2x3 1x4", unbal: 1901 * ms},
			{at: 3402 * ms, want: "3x2 2x2 3x1 1x3", unbal: 0},
			{at: 9 * time.Second, want: "3x2 2x2 3x1 1x3", unbal: 0},
		},
	}, {
		name: "busy", idle: 2 * time.Second, trafficUntil: 10 * time.Second,
		steps: []step{
			{at: 1500 * ms, action: func(x *resFix) { x.mustSet(10, "1/2/3", &Resilient{}, true) }},
			{at: 9 * time.Second, want: "2x4 1x4", unbal: 7500 * ms},
			// The last use is at 10 s: idle at 12 s, which the upkeep at
			// 11.401 (each one came 2 s after a use) found as the next
			// moment.
			{at: 12000 * ms, want: "2x4 1x4", unbal: 10500 * ms},
			{at: 12001 * ms, want: "3x2 2x2 3x1 1x3", unbal: 0},
		},
	}, {
		name: "forced", idle: 100 * time.Second, unb: 3 * time.Second, trafficUntil: 20 * time.Second,
		steps: []step{
			{at: 1500 * ms, action: func(x *resFix) { x.mustSet(10, "1/2/3", &Resilient{}, true) }},
			{at: 4500 * ms, want: "2x4 1x4", unbal: 3000 * ms},
			{at: 4501 * ms, want: "3x2 2x2 3x1 1x3", unbal: 0},
		},
	}, {
		name: "never forced", idle: 100 * time.Second, trafficUntil: 20 * time.Second,
		steps: []step{
			{at: 1500 * ms, action: func(x *resFix) { x.mustSet(10, "1/2/3", &Resilient{}, true) }},
			{at: 20 * time.Second, want: "2x4 1x4", unbal: 18500 * ms},
		},
	}, {
		name: "member removed", idle: 100 * time.Second, trafficUntil: 20 * time.Second,
		steps: []step{
			{at: 1100 * ms, action: func(x *resFix) { x.mustSet(10, "1/2/3", resCfg(8, 0, 2*time.Second), true) }},
			{at: 3200 * ms, want: "3x2 2x2 3x1 1x3", unbal: 0},
			// Deleting 3 moves its buckets at once, busy or not: to 2
			// (the last underweight member) until it holds 4, then 1.
			{at: 5 * time.Second, action: func(x *resFix) {
				if _, err := x.f.DeleteNexthop(3); err != nil {
					x.t.Fatal(err)
				}
			}},
			{at: 5 * time.Second, want: "2x4 1x4", unbal: 0},
		},
	}, {
		name: "replace keeps its place", idle: 2 * time.Second, trafficUntil: 20 * time.Second,
		steps: []step{
			{at: 1500 * ms, action: func(x *resFix) { x.mustSet(10, "1/2/3", &Resilient{}, true) }},
			// Still unbalanced after a second replace: since 1.5 s. The
			// timers given change, the buckets stay.
			{at: 4 * time.Second, want: "2x4 1x4", unbal: 2500 * ms, action: func(x *resFix) {
				x.mustSet(10, "1/2,2/3", &Resilient{HasUnbalancedTimer: true, UnbalancedTimer: 5 * time.Second}, true)
			}},
			// The upkeep at 6.001 (the buckets' idle point after the
			// replace) found the unbalanced timer running out at 6.5 s,
			// but comes back no sooner than half a second on.
			{at: 6501 * ms, want: "2x4 1x4", unbal: 5001 * ms},
			// Wants 2,4,2: 1 gives up 2 buckets, 2 keeps its 4.
			{at: 6502 * ms, want: "2x4 3x2 1x2", unbal: 0},
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			x := newResFix(t)
			x.mustSet(10, "1/2", resCfg(8, tc.idle, tc.unb), false)
			if tc.trafficUntil > 0 {
				for at := time.Second; at <= tc.trafficUntil; at += 200 * ms {
					at := at
					tm := x.clk.NewTimer(func() { useAll(x) })
					tm.Reset(at - x.clk.Now())
				}
			}
			for _, s := range tc.steps {
				x.clk.RunUntil(s.at)
				if s.want != "" {
					if got := x.assign(10); got != s.want {
						t.Errorf("at %v: %s, want %s", s.at, got, s.want)
					}
					if got := x.unbalancedTime(10); got != s.unbal {
						t.Errorf("at %v: unbalanced for %v, want %v", s.at, got, s.unbal)
					}
				}
				if s.action != nil {
					s.action(x)
				}
			}
		})
	}
}

// TestResilientLookups: a route through a resilient group takes the path
// of its flow's bucket, marks the bucket used (its idle time starts
// again) and follows the bucket when it moves; a bucket migrated and not
// used since reads as idle for as long.
func TestResilientLookups(t *testing.T) {
	x := newResFix(t)
	x.mustSet(10, "1/2", resCfg(8, 2*time.Second, 0), false)
	r := &Route{Table: TableMain, Dst: a4("198.19.0.0"), Len: 16, Type: RTNUnicast, NhID: 10}
	if err := x.f.Insert(r, false); err != nil {
		t.Fatal(err)
	}
	flows := map[int]*FlowKey{} // bucket → a flow hashing to it
	for i := 0; len(flows) < 8 && i < 10000; i++ {
		fl := &FlowKey{Dst: [4]byte{198, 19, byte(i >> 8), byte(i)}}
		b := int(fl.multipathHash(0)&0x7fffffff) % 8
		if flows[b] == nil {
			flows[b] = fl
		}
	}
	if len(flows) != 8 {
		t.Fatalf("flows for %d buckets only", len(flows))
	}
	gw := func(b int) byte {
		res, err := x.f.Lookup(flows[b])
		if err != nil {
			t.Fatal(err)
		}
		return res.Route.Gateway[3]
	}
	x.clk.RunUntil(time.Second)
	for b := 0; b < 8; b++ {
		want := byte(2)
		if b >= 4 {
			want = 1
		}
		if g := gw(b); g != want {
			t.Errorf("bucket %d: via .%d, want .%d", b, g, want)
		}
	}
	x.clk.RunUntil(1500 * time.Millisecond)
	bs, _ := x.f.NexthopBuckets(10)
	for _, b := range bs {
		if b.IdleTime != 500*time.Millisecond {
			t.Errorf("bucket %d idle %v after a lookup 0.5 s ago", b.Index, b.IdleTime)
		}
	}
	// 1/2/3 at 1.5 s: buckets idle at 3 s, moved at 3.001 (0, 1 and 4).
	x.mustSet(10, "1/2/3", &Resilient{}, true)
	x.clk.RunUntil(3001 * time.Millisecond)
	if got := x.assign(10); got != "3x2 2x2 3x1 1x3" {
		t.Fatalf("after the upkeep: %s", got)
	}
	for b, want := range []byte{3, 3, 2, 2, 3, 1, 1, 1} {
		if g := gw(b); g != want {
			t.Errorf("bucket %d after migration: via .%d, want .%d", b, g, want)
		}
	}
	// Every bucket was used at 3.001 by the lookups above.
	x.clk.RunUntil(4 * time.Second)
	bs, _ = x.f.NexthopBuckets(10)
	for _, b := range bs {
		if b.IdleTime != 999*time.Millisecond {
			t.Errorf("bucket %d idle %v, want 999ms", b.Index, b.IdleTime)
		}
	}
}

// TestResilientGroupGone: a group deleted while its upkeep is scheduled:
// the upkeep does nothing, and the notifier hears only of scheduled
// migrations.
func TestResilientGroupGone(t *testing.T) {
	x := newResFix(t)
	var told []Bucket
	x.f.SetBucketNotifier(func(b Bucket) { told = append(told, b) })
	x.mustSet(10, "1/2", resCfg(8, 2*time.Second, 0), false)
	x.mustSet(11, "1/2", resCfg(4, 2*time.Second, 0), false)
	x.clk.RunUntil(time.Second)
	x.use(10, all(8)...)
	x.use(11, all(4)...)
	x.mustSet(10, "1/2/3", &Resilient{}, true)
	x.mustSet(11, "1/2/3", &Resilient{}, true)
	if _, err := x.f.DeleteNexthop(11); err != nil {
		t.Fatal(err)
	}
	x.clk.RunUntil(10 * time.Second)
	var got []string
	for _, b := range told {
		got = append(got, fmt.Sprintf("%d/%d:%d@%v", b.Group, b.Index, b.NhID, b.IdleTime))
	}
	if s := strings.Join(got, " "); s != "10/0:3@0s 10/1:3@0s 10/4:3@0s" {
		t.Errorf("told %s", s)
	}
	if _, err := x.f.NexthopBuckets(11); err == nil {
		t.Error("group 11 still has buckets")
	}
}

// BenchmarkResilientLookup: a lookup through a route of a group of four
// members, hash-threshold and resilient of 128 buckets (the bucket's used
// time written atomically).
func BenchmarkResilientLookup(b *testing.B) {
	for _, bc := range []struct {
		name string
		res  *Resilient
	}{{"mpath", nil}, {"resilient", resCfg(128, 0, 0)}} {
		b.Run(bc.name, func(b *testing.B) {
			clk, h := stacktest.NewHost(b, 1)
			dev, _ := stacktest.NewDev(b, h, 1)
			if err := dev.Open(); err != nil {
				b.Fatal(err)
			}
			var f Tables
			f.Init()
			f.SetClock(clk)
			for i := uint32(1); i <= 4; i++ {
				if _, err := f.AddNexthop(Nexthop{ID: i, Dev: dev, Gateway: [4]byte{198, 18, 5, byte(i)}}, false, nil); err != nil {
					b.Fatal(err)
				}
			}
			if _, err := f.AddNexthop(Nexthop{ID: 10, Group: members("1/2/3,2/4"), Resilient: bc.res}, false, nil); err != nil {
				b.Fatal(err)
			}
			if err := f.Insert(&Route{Table: TableMain, Dst: a4("198.19.0.0"), Len: 16, Type: RTNUnicast, NhID: 10}, false); err != nil {
				b.Fatal(err)
			}
			fl := &FlowKey{Dst: a4("198.19.3.4"), Src: a4("198.18.1.1")}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				fl.Src[3] = byte(i)
				if _, err := f.Lookup(fl); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
