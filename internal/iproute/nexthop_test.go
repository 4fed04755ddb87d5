package iproute

import (
	"strings"
	"testing"
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
