package iproute

import (
	"bytes"
	"strings"
	"syscall"
	"testing"
	"time"

	mnl "github.com/mdlayher/netlink"

	"vnic/internal/stacktest"
	"vnic/stack"
	"vnic/stack/inet"
	"vnic/stack/ipv4"
	"vnic/stack/netlink"
	"vnic/stack/rtnetlink"
)

// hostTransport speaks to a real host's rtnetlink handlers, as the
// control socket does after RouteBind.
type hostTransport struct{ h *stack.Host }

func (t hostTransport) Route(typ uint16, flags mnl.HeaderFlags, body []byte) ([]mnl.Message, error) {
	ms, err := rtnetlink.Handle(t.h, rtnetlink.Request{Type: typ, Flags: uint16(flags), Body: body})
	if e, ok := err.(syscall.Errno); ok {
		err = &netlink.Error{Errno: e} // the errno the control socket answers with
	}
	if err != nil {
		return nil, err
	}
	out := make([]mnl.Message, len(ms))
	for i, m := range ms {
		out[i] = mnl.Message{Header: mnl.Header{Type: mnl.HeaderType(m.Type)}, Data: m.Body}
	}
	return out, nil
}

func (hostTransport) ReceiveRoute(time.Duration) ([]mnl.Message, error) { return nil, nil }

// ipHost is a host with IPv4 and one device vnic0 (198.18.5.2/24), and a
// runner of ip command lines against it.
func ipHost(t *testing.T) func(line string) (stdout, stderr string, code int) {
	t.Helper()
	_, h := stacktest.NewHost(t, 1)
	rtnetlink.Init(h)
	dev, _ := stacktest.NewDev(t, h, 1)
	dev.CarrierOn() // as the kernel's device had: its routes are not linkdown
	if _, err := inet.Init(h, ipv4.InetConfig{}); err != nil {
		t.Fatal(err)
	}
	if err := dev.Open(); err != nil {
		t.Fatal(err)
	}
	run := func(line string) (string, string, int) {
		var o, e bytes.Buffer
		code := Run(strings.Fields(line), Options{T: hostTransport{h}, Stdout: &o, Stderr: &e})
		return o.String(), e.String(), code
	}
	if _, e, code := run("addr add 198.18.5.2/24 dev " + dev.Name()); code != 0 {
		t.Fatalf("addr add: %s", e)
	}
	return run
}

// TestRuleCommands: ip rule add, show (text, -j, -d), del and flush against
// a host, each answer as ip 6.1 printed it against the kernel (Linux 6.18)
// for the same commands.
func TestRuleCommands(t *testing.T) {
	run := ipHost(t)
	for _, line := range []string{
		"rule add from 198.18.5.0/24 lookup 100",
		"rule add not to 198.18.0.0/15 table 300 pref 101",
		"rule add fwmark 0x10/0xf0 lookup 100 pref 102",
		"rule add fwmark 0x20 lookup 100 pref 103",
		"rule add iif vnic0 lookup 100 pref 104",
		"rule add oif vd9 lookup 300 pref 105",
		"rule add tos 0x10 lookup 100 pref 106",
		"rule add uidrange 1000-1999 lookup 100 pref 107",
		"rule add ipproto udp dport 53 lookup 100 pref 108",
		"rule add sport 1000-2000 lookup 100 pref 109",
		"rule add pref 110 goto 200",
		"rule add pref 111 goto 999",
		"rule add pref 112 nop",
		"rule add pref 113 prohibit",
		"rule add pref 114 unreachable",
		"rule add pref 115 blackhole",
		"rule add pref 116 lookup main suppress_prefixlength 0",
		"rule add pref 117 lookup main suppress_ifgroup 0",
		"rule add pref 118 to 198.18.9.9 lookup 100 proto static",
		"rule add pref 119 from 198.18.9.9/32 lookup 5000",
		"rule add pref 120 lookup 100 realms 5",
		"rule add pref 200 lookup 100",
		"rule add lookup 100",
		"rule add pref 130 table 0",
	} {
		if _, e, code := run(line); code != 0 {
			t.Fatalf("ip %s: exit %d: %s", line, code, e)
		}
	}
	want := `0:	from all lookup local
100:	from all lookup 100
101:	not from all to 198.18.0.0/15 lookup 300
102:	from all fwmark 0x10/0xf0 lookup 100
103:	from all fwmark 0x20 lookup 100
104:	from all iif vnic0 lookup 100
105:	from all oif vd9 [detached] lookup 300
106:	from all tos 0x10 lookup 100
107:	from all uidrange 1000-1999 lookup 100
108:	from all ipproto udp dport 53 lookup 100
109:	from all sport 1000-2000 lookup 100
110:	from all goto 200
111:	from all goto 999 [unresolved]
112:	from all nop
113:	from all prohibit
114:	from all unreachable
115:	from all blackhole
116:	from all lookup main suppress_prefixlength 0
117:	from all lookup main suppress_ifgroup default
118:	from all to 198.18.9.9 lookup 100 proto static
119:	from 198.18.9.9 lookup 5000
120:	from all lookup 100 realms 5
130:	from all lookup 1
200:	from all lookup 100
32765:	from 198.18.5.0/24 lookup 100
32766:	from all lookup main
32767:	from all lookup default
`
	if got, e, _ := run("rule show"); got != want {
		t.Errorf("ip rule show:\n%s\nwant:\n%s%s", got, want, e)
	}
	for _, tc := range []struct{ line, out, err string }{
		{"-j rule show pref 101", `[{"priority":101,"not":null,"src":"all","dst":"198.18.0.0","dstlen":15,"table":"300"}]` + "\n", ""},
		{"-j rule show pref 105", `[{"priority":105,"src":"all","oif":"vd9","oif_detached":null,"table":"300"}]` + "\n", ""},
		{"-j rule show pref 107", `[{"priority":107,"src":"all","uid_start":1000,"uid_end":1999,"table":"100"}]` + "\n", ""},
		{"-j rule show pref 111", `[{"priority":111,"src":"all","goto":999,"unresolved":null}]` + "\n", ""},
		{"-j rule show pref 113", `[{"priority":113,"src":"all","action":"prohibit"}]` + "\n", ""},
		{"-j rule show pref 120", `[{"priority":120,"src":"all","table":"100","flow_to":"5"}]` + "\n", ""},
		{"-d rule show pref 0", "0:\tfrom all lookup local proto kernel\n", ""},
		{"-d rule show pref 103", "103:\tfrom all fwmark 0x20 lookup 100 proto unspec\n", ""},
		{"rule show table 300", "101:\tnot from all to 198.18.0.0/15 lookup 300\n105:\tfrom all oif vd9 [detached] lookup 300\n", ""},
		{"rule list from 198.18.5.0/24", "32765:\tfrom 198.18.5.0/24 lookup 100\n", ""},
		{"rule add from 198.18.5.0/24 lookup 100 pref 32765", "", "RTNETLINK answers: File exists\n"},
		{"rule add pref 10 goto 5", "", "Error: Backward goto not supported.\n"},
		{"rule add pref 10 tos 0x01 lookup 100", "", "Error: Invalid dsfield (tos): ECN bits must be 0.\n"},
		{"rule del pref 999", "", "RTNETLINK answers: No such file or directory\n"},
		{"rule add pref 7 lookup 100 foo", "", "Error: argument \"foo\" is wrong: Failed to parse rule type\n"},
	} {
		out, e, _ := run(tc.line)
		if out != tc.out || e != tc.err {
			t.Errorf("ip %s:\n got %q %q\nwant %q %q", tc.line, out, e, tc.out, tc.err)
		}
	}
	// The goto's target arriving resolves it.
	run("rule add pref 999 lookup main")
	if out, _, _ := run("rule show pref 111"); out != "111:\tfrom all goto 999\n" {
		t.Errorf("resolved goto: %q", out)
	}
	if _, _, code := run("rule del from 198.18.5.0/24"); code != 0 {
		t.Error("rule del from 198.18.5.0/24 failed")
	}
	if _, _, code := run("rule del table 100"); code != 0 {
		t.Error("rule del table 100 failed")
	}
	if out, _, _ := run("rule show pref 100"); out != "" {
		t.Errorf("del table 100 left %q (it removes the first such rule, pref 100)", out)
	}
	if _, e, code := run("rule flush"); code != 0 {
		t.Fatalf("flush: %s", e)
	}
	if out, _, _ := run("rule show"); out != "0:\tfrom all lookup local\n" {
		t.Errorf("after flush:\n%s", out)
	}
}

// TestRuleSteers: a rule added with ip steers ip route get as the kernel's
// would (a source in the rule's prefix looks in its table).
func TestRuleSteers(t *testing.T) {
	run := ipHost(t)
	for _, line := range []string{
		"route add 198.18.9.0/24 via 198.18.5.7 table 100",
		"route add 198.18.9.0/24 via 198.18.5.1",
		"rule add from 198.18.5.2 lookup 100 pref 10",
	} {
		if _, e, code := run(line); code != 0 {
			t.Fatalf("ip %s: %s", line, e)
		}
	}
	out, e, _ := run("route get 198.18.9.9 from 198.18.5.2")
	if !strings.Contains(out, "via 198.18.5.7") || !strings.Contains(out, "table 100") {
		t.Errorf("route get from the rule's source: %q %s", out, e)
	}
	out, _, _ = run("route get 198.18.9.9")
	if !strings.Contains(out, "via 198.18.5.1") {
		t.Errorf("route get without: %q", out)
	}
}

// TestRouteDumpFilters: the host filters a route dump by table as the
// kernel does with strict checking: a table that does not exist is an
// error ip reports and ends the dump with.
func TestRouteDumpFilters(t *testing.T) {
	run := ipHost(t)
	if _, e, code := run("route add 198.18.9.0/24 via 198.18.5.7 table 100"); code != 0 {
		t.Fatal(e)
	}
	for _, tc := range []struct {
		line, out, err string
		code           int
	}{
		{"route show table 7", "", "Error: ipv4: FIB table does not exist.\nDump terminated\n", 2},
		{"route show table 100", "198.18.9.0/24 via 198.18.5.7 dev vnic0 \n", "", 0},
		{"route flush table 7", "", "Error: ipv4: FIB table does not exist.\nFlush terminated\n", 2},
	} {
		out, e, code := run(tc.line)
		if out != tc.out || e != tc.err || code != tc.code {
			t.Errorf("ip %s:\n got %q %q %d\nwant %q %q %d", tc.line, out, e, code, tc.out, tc.err, tc.code)
		}
	}
}

// TestSecondaryAddressRoutes: a secondary address's local and broadcast
// routes take the primary's address as source and go with the secondary,
// as ip showed them on Linux 6.18.
func TestSecondaryAddressRoutes(t *testing.T) {
	run := ipHost(t)
	for _, line := range []string{"addr add 198.18.5.3/24 dev vnic0", "addr add 198.18.5.4/24 brd 198.18.5.200 dev vnic0"} {
		if _, e, code := run(line); code != 0 {
			t.Fatal(e)
		}
	}
	want := `local 198.18.5.2 dev vnic0 proto kernel scope host src 198.18.5.2 
local 198.18.5.3 dev vnic0 proto kernel scope host src 198.18.5.2 
local 198.18.5.4 dev vnic0 proto kernel scope host src 198.18.5.2 
broadcast 198.18.5.200 dev vnic0 proto kernel scope link src 198.18.5.2 
broadcast 198.18.5.255 dev vnic0 proto kernel scope link src 198.18.5.2 
`
	if out, _, _ := run("route show table local dev vnic0"); strings.ReplaceAll(out, " dev vnic0", "") != strings.ReplaceAll(want, " dev vnic0", "") {
		t.Errorf("local table:\n%s\nwant:\n%s", out, want)
	}
	run("addr del 198.18.5.4/24 dev vnic0")
	want = `local 198.18.5.2 dev vnic0 proto kernel scope host src 198.18.5.2 
local 198.18.5.3 dev vnic0 proto kernel scope host src 198.18.5.2 
broadcast 198.18.5.255 dev vnic0 proto kernel scope link src 198.18.5.2 
`
	if out, _, _ := run("route show table local dev vnic0"); strings.ReplaceAll(out, " dev vnic0", "") != strings.ReplaceAll(want, " dev vnic0", "") {
		t.Errorf("after deleting the secondary:\n%s\nwant:\n%s", out, want)
	}
}

// TestRouteGetFlow: route get's mark, uid, ipproto and ports reach the
// rules as a flow's, and the answer prints the mark and the uid as ip does
// (Linux 6.18: "mark 5 uid 0", a mark of 16 or more in hex).
func TestRouteGetFlow(t *testing.T) {
	run := ipHost(t)
	for _, line := range []string{
		"route add 198.18.9.0/24 via 198.18.5.1",
		"route add 198.18.9.0/24 via 198.18.5.7 table 100",
		"route add 198.18.9.0/24 via 198.18.5.8 table 200",
		"route add 198.18.9.0/24 via 198.18.5.9 table 300",
		"rule add fwmark 0x5 lookup 100 pref 10",
		"rule add uidrange 1000-1999 lookup 200 pref 11",
		"rule add ipproto udp dport 53 lookup 300 pref 12",
	} {
		if _, e, code := run(line); code != 0 {
			t.Fatalf("ip %s: %s", line, e)
		}
	}
	for _, tc := range []struct{ line, out string }{
		{"route get 198.18.9.9 mark 5", "198.18.9.9 via 198.18.5.7 dev vnic0 table 100 src 198.18.5.2 mark 5 uid 0 \n    cache \n"},
		{"route get 198.18.9.9 mark 0x20", "198.18.9.9 via 198.18.5.1 dev vnic0 src 198.18.5.2 mark 0x20 uid 0 \n    cache \n"},
		{"route get 198.18.9.9 uid 1000", "198.18.9.9 via 198.18.5.8 dev vnic0 table 200 src 198.18.5.2 uid 1000 \n    cache \n"},
		{"route get 198.18.9.9 ipproto udp dport 53", "198.18.9.9 via 198.18.5.9 dev vnic0 table 300 src 198.18.5.2 uid 0 \n    cache \n"},
		{"route get 198.18.9.9 ipproto tcp dport 53", "198.18.9.9 via 198.18.5.1 dev vnic0 src 198.18.5.2 uid 0 \n    cache \n"},
		{"-j route get 198.18.9.9 mark 5", `[{"dst":"198.18.9.9","gateway":"198.18.5.7","dev":"vnic0","table":"100","prefsrc":"198.18.5.2","flags":[],"mark":5,"uid":0,"cache":[]}]` + "\n"},
	} {
		if out, e, _ := run(tc.line); out != tc.out {
			t.Errorf("ip %s:\n got %q %s\nwant %q", tc.line, out, e, tc.out)
		}
	}
}

// TestMonitorRulesAndNexthops: ip monitor rule nexthop prints the host's
// rule and nexthop notifications as ip 6.1 printed Linux 6.18's.
func TestMonitorRulesAndNexthops(t *testing.T) {
	_, h := stacktest.NewHost(t, 1)
	rtnetlink.Init(h)
	dev, _ := stacktest.NewDev(t, h, 1)
	if _, err := inet.Init(h, ipv4.InetConfig{}); err != nil {
		t.Fatal(err)
	}
	if err := dev.Open(); err != nil {
		t.Fatal(err)
	}
	groups, _, err := MonitorRequest([]string{"monitor", "rule", "nexthop"})
	if err != nil {
		t.Fatal(err)
	}
	tr := &monitorTransport{hostTransport: hostTransport{h}}
	rtnetlink.Listen(h, func(group uint32, m rtnetlink.Message) {
		if group&groups != 0 {
			tr.events = append(tr.events, mnl.Message{Header: mnl.Header{Type: mnl.HeaderType(m.Type)}, Data: m.Body})
		}
	})
	run := func(line string) {
		var o, e bytes.Buffer
		if code := Run(strings.Fields(line), Options{T: tr, Stdout: &o, Stderr: &e}); code != 0 {
			t.Fatalf("ip %s: %s", line, e.String())
		}
	}
	run("addr add 198.18.5.2/24 dev " + dev.Name())
	tr.events = nil
	for _, line := range []string{"rule add pref 50 from 198.18.7.0/24 lookup 100", "rule del pref 50",
		"nexthop add id 40 via 198.18.5.1 dev vnic0", "nexthop del id 40"} {
		run(line)
	}
	var out bytes.Buffer
	if code := Run([]string{"monitor", "rule", "nexthop"}, Options{T: tr, Stdout: &out, Count: 4}); code != 0 {
		t.Fatal("monitor failed")
	}
	want := "50:\tfrom 198.18.7.0/24 lookup 100\nDeleted 50:\tfrom 198.18.7.0/24 lookup 100\n" +
		"id 40 via 198.18.5.1 dev vnic0 scope link \nDeleted id 40 via 198.18.5.1 dev vnic0 scope link \n"
	if out.String() != want {
		t.Errorf("monitor:\n%q\nwant:\n%q", out.String(), want)
	}
}

// monitorTransport hands the notifications it collected to ReceiveRoute.
type monitorTransport struct {
	hostTransport
	events []mnl.Message
}

func (m *monitorTransport) ReceiveRoute(time.Duration) ([]mnl.Message, error) {
	ev := m.events
	m.events = nil
	if len(ev) == 0 {
		return nil, syscall.ECONNRESET // nothing more: the monitor ends
	}
	return ev, nil
}
