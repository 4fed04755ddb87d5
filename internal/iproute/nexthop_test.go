package iproute

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"vnic/hw"
	"vnic/internal/stacktest"
	"vnic/stack"
	"vnic/stack/inet"
	"vnic/stack/ipv4"
	"vnic/stack/rtnetlink"
)

// TestNexthopCommands: ip nexthop add, show (text, -j, -d), get, del,
// flush and routes naming a nexthop, each answer as ip 6.1 printed it on
// Linux 6.18 for the same commands (the kernel's device was vd0).
func TestNexthopCommands(t *testing.T) {
	run := ipHost(t)
	for _, line := range []string{
		"nexthop add id 1 via 198.18.5.1 dev vnic0",
		"nexthop add id 2 via 198.18.5.3 dev vnic0 onlink",
		"nexthop add id 3 dev vnic0",
		"nexthop add via 198.18.5.4 dev vnic0",
		"nexthop add id 0 dev vnic0",
		"nexthop add id 10 group 1/2,3",
		"nexthop add id 11 group 1/2 type resilient buckets 8 idle_timer 60",
		"nexthop add id 20 blackhole",
		"route add 198.18.10.0/24 nhid 1",
		"route add 198.18.40.0/24 nhid 20",
		"route add 198.18.9.0/24 nhid 10",
	} {
		if _, e, code := run(line); code != 0 {
			t.Fatalf("ip %s: exit %d: %s", line, code, e)
		}
	}
	want := `id 1 via 198.18.5.1 dev vnic0 scope link 
id 2 via 198.18.5.3 dev vnic0 scope link onlink 
id 3 dev vnic0 scope host 
id 4 via 198.18.5.4 dev vnic0 scope link 
id 5 dev vnic0 scope host 
id 10 group 1/2,3 
id 11 group 1/2 type resilient buckets 8 idle_timer 60 unbalanced_timer 0 unbalanced_time 0 
id 20 blackhole 
`
	if got, e, _ := run("nexthop show"); got != want {
		t.Errorf("ip nexthop show:\n%s\nwant:\n%s%s", got, want, e)
	}
	for _, tc := range []struct{ line, out, err string }{
		{"-j nexthop show id 2", `[{"id":2,"gateway":"198.18.5.3","dev":"vnic0","scope":"link","flags":["onlink"]}]` + "\n", ""},
		{"-j nexthop show groups", `[{"id":10,"group":[{"id":1},{"id":2,"weight":3}],"flags":[]},{"id":11,"group":[{"id":1},{"id":2}],"type":"resilient","resilient_args":{"buckets":8,"idle_timer":60,"unbalanced_timer":0,"unbalanced_time":0},"flags":[]}]` + "\n", ""},
		{"-j nexthop show id 20", `[{"id":20,"blackhole":null,"flags":[]}]` + "\n", ""},
		{"-d nexthop show id 1", "id 1 via 198.18.5.1 dev vnic0 scope link proto unspec \n", ""},
		{"nexthop get id 10", "id 10 group 1/2,3 \n", ""},
		{"nexthop show dev vnic0", "id 1 via 198.18.5.1 dev vnic0 scope link \nid 2 via 198.18.5.3 dev vnic0 scope link onlink \nid 3 dev vnic0 scope host \nid 4 via 198.18.5.4 dev vnic0 scope link \nid 5 dev vnic0 scope host \n", ""},
		{"route show 198.18.10.0/24", "198.18.10.0/24 nhid 1 via 198.18.5.1 dev vnic0 \n", ""},
		{"route show 198.18.40.0/24", "blackhole 198.18.40.0/24 nhid 20 dev lo \n", ""},
		{"route show 198.18.9.0/24", "198.18.9.0/24 nhid 10 \n\tnexthop via 198.18.5.1 dev vnic0 weight 1 \n\tnexthop via 198.18.5.3 dev vnic0 weight 3 onlink \n", ""},
		{"-j route show 198.18.9.0/24", `[{"dst":"198.18.9.0/24","nhid":10,"flags":[],"nexthops":[{"gateway":"198.18.5.1","dev":"vnic0","weight":1,"flags":[]},{"gateway":"198.18.5.3","dev":"vnic0","weight":3,"flags":["onlink"]}]}]` + "\n", ""},
		{"nexthop add id 1 via 198.18.5.1 dev vnic0", "", "RTNETLINK answers: File exists\n"},
		{"nexthop add id 5 via 198.18.9.1 dev vnic0", "", "Error: Nexthop has invalid gateway.\n"},
		{"nexthop add id 6 via 198.18.5.1", "", "Error: Device attribute required for non-blackhole and non-fdb nexthops.\n"},
		{"nexthop add id 7 blackhole dev vnic0", "", "Error: Blackhole attribute can not be used with gateway, oif, encap or fdb.\n"},
		{"nexthop add id 12 group 1/99", "", "Error: Invalid nexthop id.\n"},
		{"nexthop add id 13 group 1/10", "", "Error: Hash-threshold group can not be a nexthop within a group.\n"},
		{"nexthop add id 14 group 1/1", "", "Error: Nexthop id can not be used twice in a group.\n"},
		{"nexthop del id 99", "", "RTNETLINK answers: No such file or directory\n"},
		{"nexthop get id 99", "", "RTNETLINK answers: No such file or directory\n"},
		{"route add 198.18.11.0/24 nhid 99", "", "Error: Nexthop id does not exist.\n"},
		{"route add 198.18.41.0/24 nhid 20 via 198.18.5.1", "", "Error: Nexthop specification and nexthop id are mutually exclusive.\n"},
		{"nexthop bogus", "", "Command \"bogus\" is unknown, try \"ip nexthop help\".\n"},
	} {
		out, e, _ := run(tc.line)
		if out != tc.out || e != tc.err {
			t.Errorf("ip %s:\n got %q %q\nwant %q %q", tc.line, out, e, tc.out, tc.err)
		}
	}
	// Deleting 1: it leaves its groups and its route goes.
	if _, e, code := run("nexthop del id 1"); code != 0 {
		t.Fatal(e)
	}
	if out, _, _ := run("nexthop show groups"); out != "id 10 group 2,3 \nid 11 group 2 type resilient buckets 8 idle_timer 60 unbalanced_timer 0 unbalanced_time 0 \n" {
		t.Errorf("groups after deleting 1:\n%s", out)
	}
	if out, _, _ := run("route show 198.18.10.0/24"); out != "" {
		t.Errorf("the route through 1 stayed: %q", out)
	}
	if out, _, _ := run("route show 198.18.9.0/24"); out != "198.18.9.0/24 nhid 10 via 198.18.5.3 dev vnic0 onlink \n" {
		t.Errorf("the group route after deleting 1: %q", out)
	}
	if out, _, _ := run("nexthop flush"); out != "Flushed 7 nexthops\n" {
		t.Errorf("flush: %q", out)
	}
	if out, _, _ := run("nexthop flush"); out != "Nothing to flush\n" {
		t.Errorf("flush again: %q", out)
	}
	if out, _, _ := run("route show"); strings.Contains(out, "nhid") {
		t.Errorf("routes through flushed nexthops stayed:\n%s", out)
	}
}

// TestMultipathRoute: a route given its paths inline (RTA_MULTIPATH), as
// ip 6.1 showed it on Linux 6.18, its flows split by weight, and the
// grammar's refusals.
func TestMultipathRoute(t *testing.T) {
	run := ipHost(t)
	if _, e, code := run("route add 198.18.20.0/24 nexthop via 198.18.5.1 weight 1 nexthop via 198.18.5.7 dev vnic0 weight 2"); code != 0 {
		t.Fatal(e)
	}
	for _, tc := range []struct {
		line, out, err string
		code           int
	}{
		{"route show 198.18.20.0/24", "198.18.20.0/24 \n\tnexthop via 198.18.5.1 dev vnic0 weight 1 \n\tnexthop via 198.18.5.7 dev vnic0 weight 2 \n", "", 0},
		{"-j route show 198.18.20.0/24", `[{"dst":"198.18.20.0/24","flags":[],"nexthops":[{"gateway":"198.18.5.1","dev":"vnic0","weight":1,"flags":[]},{"gateway":"198.18.5.7","dev":"vnic0","weight":2,"flags":[]}]}]` + "\n", "", 0},
		{"route add 198.18.21.0/24 nexthop via 198.18.9.1", "", "Error: Nexthop has invalid gateway.\n", 2},
		{"route add 198.18.22.0/24 nexthop via 198.18.5.1 nhid 1", "", "Error: \"nexthop\" or end of line is expected instead of \"nhid\"\n", 255},
		{"route add 198.18.23.0/24 nexthop via 198.18.5.1 weight 300", "", "Error: argument \"300\" is wrong: \"weight\" is invalid\n\n", 255},
		{"route del 198.18.20.0/24", "", "", 0},
		{"route show 198.18.20.0/24", "", "", 0},
	} {
		out, e, code := run(tc.line)
		if out != tc.out || e != tc.err || code != tc.code {
			t.Errorf("ip %s:\n got %q %q %d\nwant %q %q %d", tc.line, out, e, code, tc.out, tc.err, tc.code)
		}
	}
}

// TestRouteGetFibmatch: route get fibmatch answers with the table entry
// the decision came from, printed as route show prints it (Linux 6.18's
// answers; local and main are one table without rules).
func TestRouteGetFibmatch(t *testing.T) {
	run := ipHost(t)
	for _, line := range []string{
		"route add 198.18.9.0/24 via 198.18.5.1 proto static metric 5",
		"nexthop add id 1 via 198.18.5.1 dev vnic0",
		"nexthop add id 2 via 198.18.5.3 dev vnic0",
		"nexthop add id 10 group 1/2",
		"route add 198.18.10.0/24 nhid 10",
	} {
		if _, e, code := run(line); code != 0 {
			t.Fatalf("ip %s: %s", line, e)
		}
	}
	for _, tc := range []struct{ line, out, err string }{
		{"route get fibmatch 198.18.9.9", "198.18.9.0/24 via 198.18.5.1 dev vnic0 proto static metric 5 \n", ""},
		{"route get fibmatch 198.18.5.7", "198.18.5.0/24 dev vnic0 proto kernel scope link src 198.18.5.2 \n", ""},
		{"route get fibmatch 198.18.5.2", "local 198.18.5.2 dev vnic0 proto kernel scope host src 198.18.5.2 \n", ""},
		{"-j route get fibmatch 198.18.9.9", `[{"dst":"198.18.9.0/24","gateway":"198.18.5.1","dev":"vnic0","protocol":"static","metric":5,"flags":[]}]` + "\n", ""},
		{"route get fibmatch 198.18.10.1", "198.18.10.0/24 nhid 10 \n\tnexthop via 198.18.5.1 dev vnic0 weight 1 \n\tnexthop via 198.18.5.3 dev vnic0 weight 1 \n", ""},
		{"route get fibmatch 203.0.113.1", "", "RTNETLINK answers: Network is unreachable\n"},
	} {
		if out, e, _ := run(tc.line); out != tc.out || e != tc.err {
			t.Errorf("ip %s:\n got %q %q\nwant %q %q", tc.line, out, e, tc.out, tc.err)
		}
	}
}

// ipHostClock is ipHost with a second device vnic1 (198.18.6.2/24) and
// the host's virtual clock.
func ipHostClock(t *testing.T) (func(line string) (string, string, int), *hw.VirtualClock) {
	t.Helper()
	clk, h := stacktest.NewHost(t, 1)
	rtnetlink.Init(h)
	var devs []*stack.NetDevice
	for range 2 {
		d, _ := stacktest.NewDev(t, h, 1)
		d.CarrierOn()
		devs = append(devs, d)
	}
	if _, err := inet.Init(h, ipv4.InetConfig{}); err != nil {
		t.Fatal(err)
	}
	for _, d := range devs {
		if err := d.Open(); err != nil {
			t.Fatal(err)
		}
	}
	run := func(line string) (string, string, int) {
		var o, e bytes.Buffer
		code := Run(strings.Fields(line), Options{T: hostTransport{h}, Stdout: &o, Stderr: &e})
		return o.String(), e.String(), code
	}
	for _, line := range []string{"addr add 198.18.5.2/24 dev vnic0", "addr add 198.18.6.2/24 dev vnic1",
		"nexthop add id 1 via 198.18.5.1 dev vnic0", "nexthop add id 2 via 198.18.5.3 dev vnic0", "nexthop add id 3 via 198.18.6.1 dev vnic1"} {
		if _, e, code := run(line); code != 0 {
			t.Fatalf("ip %s: %s", line, e)
		}
	}
	return run, clk
}

// TestNexthopBuckets: ip nexthop bucket show and get, the resilient
// group's line in ip nexthop show, and the refusals, as ip 6.1 printed
// them against Linux 6.18 for the same groups (the kernel's devices were
// veths); times are the virtual clock's.
func TestNexthopBuckets(t *testing.T) {
	run, clk := ipHostClock(t)
	if _, e, code := run("nexthop add id 10 group 1/2 type resilient buckets 8 idle_timer 2"); code != 0 {
		t.Fatal(e)
	}
	clk.RunUntil(2510 * time.Millisecond)
	bucketLines := func(id int, nhids ...int) string {
		var b strings.Builder
		for i, n := range nhids {
			fmt.Fprintf(&b, "id %d index %d idle_time 2.51 nhid %d \n", id, i, n)
		}
		return b.String()
	}
	type tc struct {
		line, out, err string
		code           int
	}
	check := func(cases []tc) {
		t.Helper()
		for _, c := range cases {
			out, e, code := run(c.line)
			if out != c.out || e != c.err || code != c.code {
				t.Errorf("ip %s:\n got %q %q %d\nwant %q %q %d", c.line, out, e, code, c.out, c.err, c.code)
			}
		}
	}
	usage := nexthopUsage
	check([]tc{
		{"nexthop bucket show id 10", bucketLines(10, 2, 2, 2, 2, 1, 1, 1, 1), "", 0},
		{"nexthop bucket", bucketLines(10, 2, 2, 2, 2, 1, 1, 1, 1), "", 0},
		{"nexthop bucket show nhid 1", strings.Join(strings.SplitAfter(bucketLines(10, 2, 2, 2, 2, 1, 1, 1, 1), "\n")[4:], ""), "", 0},
		{"nexthop bucket get id 10 index 3", "id 10 index 3 idle_time 2.51 nhid 2 \n", "", 0},
		{"-j nexthop bucket get id 10 index 3", `[{"id":10,"bucket":{"index":3,"idle_time":2.51,"nhid":2},"flags":[]}]` + "\n", "", 0},
		{"-j -p nexthop bucket get id 10 index 1", "[ {\n        \"id\": 10,\n        \"bucket\": {\n            \"index\": 1,\n            \"idle_time\": 2.51,\n            \"nhid\": 2\n        },\n        \"flags\": [ ]\n    } ]\n", "", 0},
		{"-j nexthop bucket show nhid 77", "[]\n", "", 0},
		{"nexthop bucket show nhid 77", "", "", 0},
		{"nexthop bucket show master vnic0", "", "", 0},
		{"nexthop show id 10", "id 10 group 1/2 type resilient buckets 8 idle_timer 2 unbalanced_timer 0 unbalanced_time 0 \n", "", 0},
		{"-j nexthop show id 10", `[{"id":10,"group":[{"id":1},{"id":2}],"type":"resilient","resilient_args":{"buckets":8,"idle_timer":2,"unbalanced_timer":0,"unbalanced_time":0},"flags":[]}]` + "\n", "", 0},
		// Never used: the buckets are idle, and move at once.
		{"nexthop replace id 10 group 1/2/3 type resilient", "", "", 0},
		{"-j nexthop bucket show dev vnic1", `[{"id":10,"bucket":{"index":0,"idle_time":0,"nhid":3},"flags":[]},{"id":10,"bucket":{"index":1,"idle_time":0,"nhid":3},"flags":[]},{"id":10,"bucket":{"index":4,"idle_time":0,"nhid":3},"flags":[]}]` + "\n", "", 0},
		{"nexthop replace id 10 group 1/2 type resilient buckets 16", "", "Error: Can not change number of buckets of a resilient nexthop group.\n", 2},
		{"nexthop replace id 10 group 1/2", "", "Error: Can not replace a nexthop group with one of a different type.\n", 2},
		{"nexthop replace id 1 group 2/3 type resilient buckets 8", "", "Error: Can not replace a nexthop with a nexthop group.\n", 2},
		{"nexthop replace id 10 via 198.18.5.1 dev vnic0", "", "Error: Can not replace a nexthop group with a nexthop.\n", 2},
		{"nexthop add id 11 group 1/2 type resilient", "", "Error: Number of buckets not specified for nexthop group insertion.\n", 2},
		{"nexthop add id 11 group 1/2 type resilient idle_timer 3", "", "Error: Number of buckets not specified for nexthop group insertion.\n", 2},
		{"nexthop add id 11 group 1/2 type resilient buckets 0", "", "Error: Number of buckets needs to be non-0.\n", 2},
		{"nexthop add id 11 group 1/2 type resilient buckets 70000", "", "Error: argument \"70000\" is wrong: invalid buckets value\n", 255},
		{"nexthop add id 11 group 1/2 type resilient idle_timer 42949673", "", "Error: argument \"42949673\" is wrong: invalid idle timer value\n", 255},
		{"nexthop add id 11 group 1/2 buckets 4", "", "Error: argument \"buckets\" is wrong: \n", 255},
		{"nexthop add id 11 foo", "", "Error: argument \"foo\" is wrong: \n", 255},
		{"nexthop add id 12 group 1/2", "", "", 0},
		{"nexthop bucket show id 1", "", "Error: Not a nexthop group.\nDump terminated\n", 2},
		{"nexthop bucket show id 12", "", "Error: Nexthop group not of type resilient.\nDump terminated\n", 2},
		{"nexthop bucket list id 100", "", "Dump terminated\n", 2},
		{"nexthop bucket get id 12 index 0", "", "Error: Nexthop group not of type resilient.\n", 2},
		{"nexthop bucket get id 10 index 8", "", "Error: Bucket index out of bounds.\n", 2},
		{"nexthop bucket get id 99 index 0", "", "RTNETLINK answers: No such file or directory\n", 2},
		{"nexthop bucket get id 10", "", usage, 255},
		{"nexthop bucket get id 10 index 1 foo", "", usage, 255},
		{"nexthop bucket get id 10 index 70000", "", "Error: argument \"70000\" is wrong: invalid bucket index value\n", 255},
		{"nexthop bucket show foo", "", "Error: argument \"foo\" is wrong: \n", 255},
		{"nexthop bucket show id x", "", "Error: argument \"x\" is wrong: invalid id value\n", 255},
		{"nexthop bucket show dev nosuch", "", "Error: argument \"nosuch\" is wrong: Device does not exist\n\n", 255},
		{"nexthop bucket show vrf vnic0", "", "Error: argument \"vnic0\" is wrong: Invalid VRF\n\n", 255},
		{"nexthop bucket foo", "", "Command \"foo\" is unknown, try \"ip nexthop help\".\n", 255},
		{"nexthop show master vnic0", "", "", 0},
		{"nexthop show vrf vnic0", "", "Error: argument \"vnic0\" is wrong: Invalid VRF\n\n", 255},
		{"nexthop show master nosuch", "", "Error: argument \"nosuch\" is wrong: Device does not exist\n\n", 255},
		{"nexthop help", "", usage, 255},
	})
	// Busy buckets stay while the group is out of balance: it has been
	// since the replace, 1.25 s ago.
	if _, e, code := run("nexthop add id 20 group 1/2 type resilient buckets 4 idle_timer 100 unbalanced_timer 30"); code != 0 {
		t.Fatal(e)
	}
	if _, e, code := run("route add 198.19.0.0/16 nhid 20"); code != 0 {
		t.Fatal(e)
	}
	// Lookups at the moment the buckets were filled would not count
	// (a bucket used at its migration time reads as never used).
	clk.RunFor(time.Second)
	for i := range 32 {
		if _, e, code := run(fmt.Sprintf("route get 198.19.0.%d", i+1)); code != 0 {
			t.Fatal(e)
		}
	}
	clk.RunFor(2 * time.Second)
	check([]tc{
		{"nexthop replace id 20 group 1/2/3 type resilient", "", "", 0},
	})
	clk.RunFor(1250 * time.Millisecond)
	check([]tc{
		{"nexthop show id 20", "id 20 group 1/2/3 type resilient buckets 4 idle_timer 100 unbalanced_timer 30 unbalanced_time 1.25 \n", "", 0},
		{"nexthop bucket show id 20", "id 20 index 0 idle_time 3.25 nhid 2 \nid 20 index 1 idle_time 3.25 nhid 2 \nid 20 index 2 idle_time 3.25 nhid 1 \nid 20 index 3 idle_time 3.25 nhid 1 \n", "", 0},
	})
}

// TestPrintTv: times print as print_tv prints them, with C's %g (each
// value checked against printf).
func TestPrintTv(t *testing.T) {
	for _, tc := range []struct {
		clockT uint64
		want   string
	}{{0, "0"}, {1, "0.01"}, {251, "2.51"}, {12000, "120"}, {123456789, "1.23457e+06"}, {99999999, "1e+06"}, {10000050, "100000"}} {
		p := newOut(globals{})
		p.tv("t", "%s", tc.clockT)
		if p.String() != tc.want {
			t.Errorf("%d: %q, want %q", tc.clockT, p.String(), tc.want)
		}
	}
}
