package iproute

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"vnic/stack/rtnetlink"
)

// ip's options, usage texts and errors, worded and exit-coded as ip's
// (the usage texts are vnic's grammar in ip's layout).
func TestGlobalOptions(t *testing.T) {
	runCases(t, world, []ipCase{
		{"", "", Usage, 255},
		{"help", "", Usage, 255},
		{"-help", "", Usage, 255},
		{"--help", "", Usage, 255},
		{"-o", "", Usage, 255},
		{"-x", "", "Option \"-x\" is unknown, try \"ip -help\".\n", 255},
		{"--xyz", "", "Option \"-xyz\" is unknown, try \"ip -help\".\n", 255},
		{"-json -x", "", "Option \"-x\" is unknown, try \"ip -help\".\n", 255},
		{"-family foo addr", "", "Error: argument \"foo\" is wrong: invalid protocol family\n", 255},
		{"-f", "", Usage, 255},
		{"frob", "", "Object \"frob\" is unknown, try \"ip help\".\n", 1},
		{"-V", "ip utility, vnic (iproute2-6.1.0's grammar)\n", "", 0},
		{"addr help", "", addrUsage, 255},
		{"link help", "", linkUsage, 255},
		{"route help", "", routeUsage, 255},
		{"neigh help", "", neighUsage, 255},
		{"monitor help", "", monitorUsage, 255},
		{"route add", "", routeUsage, 255},
		{"route del", "", routeUsage, 255},
		{"route add via 198.18.5.1", "", routeUsage, 255},
		{"-n h1 link show lo", linkText[:strings2(linkText, 2)], "", 0},
		{"-netns", "", Usage, 255},
		{"-l 2 -4 addr show dev lo", `1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000
    inet 127.0.0.1/8 scope host lo
       valid_lft forever preferred_lft forever
`, "", 0},
		{"-t addr show dev lo", addrText[:strings2(addrText, 4)], "", 0},
		{"-ts monitor", "", "Error: ip monitor's timestamps (-timestamp, -tshort) are not supported by vnic.\n", 255},
		{"-r addr", "", "Error: -resolve is not supported by vnic: its hosts have no names to resolve.\n", 255},
		{"-b cmds", "", "Cannot open file \"cmds\" for reading: No such file or directory\n", 1},
		{"route frob", "", "Command \"frob\" is unknown, try \"ip route help\".\n", 255},
		{"addr frob", "", "Command \"frob\" is unknown, try \"ip address help\".\n", 255},
		{"link frob", "", "Command \"frob\" is unknown, try \"ip link help\".\n", 255},
		{"neigh frob", "", "Command \"frob\" is unknown, try \"ip neigh help\".\n", 255},
	})
}

// -n NAME reaches the Netns hook; without one Netns reads it for the
// caller.
func TestNetns(t *testing.T) {
	var got string
	var out, errb bytes.Buffer
	code := Run([]string{"-4", "-n", "h2", "route"}, Options{T: world(), Stdout: &out, Stderr: &errb,
		Netns: func(n string) error { got = n; return nil }})
	if code != 0 || got != "h2" || out.String() != mainText {
		t.Fatalf("code %d netns %q out %q err %q", code, got, out.String(), errb.String())
	}
	out.Reset()
	code = Run([]string{"-netns", "nope", "route"}, Options{T: world(), Stdout: &out, Stderr: &errb,
		Netns: func(string) error { return errors.New("no such host") }})
	if code != 255 || !strings.Contains(errb.String(), "Cannot open network namespace \"nope\": no such host") {
		t.Fatalf("code %d err %q", code, errb.String())
	}
	if n, err := Netns([]string{"-j", "-netns", "h3", "addr"}); n != "h3" || err != nil {
		t.Fatalf("Netns %q %v", n, err)
	}
	if n, err := Netns([]string{"addr", "-n", "h3"}); n != "" || err != nil {
		t.Fatalf("after the object: %q %v", n, err)
	}
}

// The errors of the change commands, as ip words them.
func TestChangeErrors(t *testing.T) {
	runCases(t, world, []ipCase{
		{"route add 198.18.9.0/24 via 198.18.5.7 bogus", "", "Error: either \"to\" is duplicate, or \"bogus\" is a garbage.\n", 255},
		{"route add 198.18.9.0/24 via", "", "Command line is not complete. Try option \"help\"\n", 255},
		{"route add 198.18.9.0/33", "", "Error: any valid prefix is expected rather than \"198.18.9.0/33\".\n", 1},
		{"route add default table nope", "", "Error: argument \"nope\" is wrong: \"table\" value is invalid\n\n", 255},
		{"route add default metric x", "", "Error: argument \"x\" is wrong: \"metric\" value is invalid\n\n", 255},
		{"route add default scope wide", "", "Error: argument \"wide\" is wrong: invalid \"scope\" value\n\n", 255},
		{"route add 198.18.12.0/24 dev nope", "", "Cannot find device \"nope\"\n", 1},
		{"route add 198.18.9.0/24 via 198.18.5.7 metric 10", "", "RTNETLINK answers: File exists\n", 2},
		{"-6 route add default dev vnic0", "", "Error: IPv6 is not supported: vnic's stack is IPv4 only.\n", 2},
		{"addr add 198.18.5.3/24 dev nope", "", "Cannot find device \"nope\"\n", 1},
		{"addr add 198.18.5.3/24", "", "Not enough information: \"dev\" argument is required.\n", 1},
		{"addr add", "", "Not enough information: \"dev\" argument is required.\n", 1},
		{"addr add bogus dev vnic0", "", "Error: any valid prefix is expected rather than \"bogus\".\n", 1},
		{"addr add 198.18.5.3/24 dev", "", "Command line is not complete. Try option \"help\"\n", 255},
		{"addr add 198.18.5.2/24 dev vnic0", "", "Error: ipv4: Address already assigned.\n", 2},
		{"addr del 198.18.77.1/24 dev vnic0", "", "Error: ipv4: Address not found.\n", 2},
		{"addr add 2001:db8::1/64 dev vnic0", "", "Error: IPv6 is not supported: vnic's stack is IPv4 only.\n", 2},
		{"link set vnic0 mtu x", "", "Error: argument \"x\" is wrong: Invalid \"mtu\" value\n\n", 255},
		{"link set vnic0 mtu", "", "Command line is not complete. Try option \"help\"\n", 255},
		{"link set nope up", "", "Cannot find device \"nope\"\n", 1},
		{"link set vnic0 frob", "", "Error: either \"dev\" is duplicate, or \"frob\" is a garbage.\n", 255},
		{"link set", "", "Not enough information: \"dev\" argument is required.\n", 255},
		{"link set vnic0 mtu 1280", "", "", 0},
		{"neigh add 198.18.5.20 lladdr zz dev vnic0", "", "\"zz\" is invalid lladdr.\n", 1},
		{"neigh add 198.18.5.20 lladdr 02:00:00:00:00:20", "", "Device and destination are required arguments.\n", 255},
		{"neigh add", "", "Device and destination are required arguments.\n", 255},
		{"neigh del 198.18.5.9", "", "Device and destination are required arguments.\n", 255},
		{"neigh add 198.18.5.20 lladdr 02:00:00:00:00:20 dev nope", "", "Cannot find device \"nope\"\n", 1},
		{"neigh del 198.18.5.99 dev vnic0", "", "RTNETLINK answers: No such file or directory\n", 2},
	})
}

// route add, append, prepend, change and replace send RTM_NEWROUTE with
// the kernel's flags.
func TestRouteFlags(t *testing.T) {
	for _, c := range []struct {
		cmd   string
		flags uint16
	}{{"add", 0x400 | 0x200}, {"replace", 0x400 | 0x100}, {"change", 0x100}, {"prepend", 0x400}, {"append", 0x400 | 0x800}} {
		f := world()
		if _, e, code := runLine(t, f, "route "+c.cmd+" 198.18.40.0/24 via 198.18.5.7"); code != 0 {
			t.Fatalf("%s: %s", c.cmd, e)
		}
		r := f.reqs[len(f.reqs)-1]
		if r.typ != rtnetlink.RTMNewRoute || uint16(r.flags)&0xf00 != c.flags || uint16(r.flags)&4 == 0 {
			t.Errorf("%s: type %d flags %#x, want %#x with NLM_F_ACK", c.cmd, r.typ, uint16(r.flags), c.flags)
		}
	}
}

// Flush: refused without a selector; dump, delete what it selects and
// dump again until nothing is left, with -s's reports.
func TestFlush(t *testing.T) {
	runCases(t, world, []ipCase{
		{"route flush", "", "\"ip route flush\" requires arguments.\n", 1},
		{"addr flush", "", "Flush requires arguments.\n", 1},
		{"neigh flush", "", "Flush requires arguments.\n", 1},
		{"route flush dev nope", "", "Cannot find device \"nope\"\n", 1},
		{"addr flush dev nope", "", "Device \"nope\" does not exist.\n", 1},
		{"neigh flush dev nope", "", "Cannot find device \"nope\"\n", 1},
		{"-s route flush table 7", "Nothing to flush.\n", "", 0},
		{"route flush cache", "", "Error: ip route flush cache is not supported by vnic's ip: it writes /proc/sys/net/ipv4/route/flush; vnic sysctl -w net.ipv4.route.flush=1 does.\n", 2},
	})
	round1 := func(n int, what string) string {
		return "\n*** Round 1, deleting " + string(rune('0'+n)) + " " + what + " ***\n*** Flush is complete after 1 round ***\n"
	}
	f := world()
	f.neighs = append(f.neighs, rtnetlink.NeighMsg{Index: 2, State: 0x80, Type: 1, Dst: a4("198.18.5.23"), LLAddr: mac("02:00:00:00:00:23")})
	f.addrs = append(f.addrs, rtnetlink.AddrMsg{Index: 2, PrefixLen: 24, Flags: rtnetlink.IFAFPermanent | rtnetlink.IFAFSecondary,
		Local: a4("198.18.5.3"), Address: a4("198.18.5.3"), Broadcast: a4("198.18.5.255"), Label: "vnic0"})
	for _, tc := range []ipCase{
		{"-s neigh flush dev vnic0", round1(4, "entries"), "", 0},
		{"neigh", "198.18.5.23 dev vnic0 lladdr 02:00:00:00:00:23 PERMANENT \n", "", 0},
		{"-s neigh flush dev vnic0", "Nothing to flush.\n", "", 0},
		{"neigh flush all", "", "", 0},
		{"-s route flush table 100", round1(1, "entries"), "", 0},
		{"-s route flush table 100", "Nothing to flush.\n", "", 0},
		{"route flush dev vnic0", "", "", 0},
		{"route show table all", "unreachable 198.18.11.0/24 \n" + allText[strings2(allText, 5):], "", 0},
		{"-s addr flush dev vnic0", round1(2, "addresses"), "", 0},
		{"-s addr flush dev vnic0", "Nothing to flush.\n", "", 0},
		{"addr flush dev vnic0", "", "", 0},
		{"-br addr", "lo               UNKNOWN        127.0.0.1/8 \nvnic0            UP             \n", "", 0},
	} {
		out, errs, code := runLine(t, f, tc.line)
		if out != tc.out || errs != tc.err || code != tc.code {
			t.Errorf("ip %s:\n got %d %q\n     %q\nwant %d %q\n     %q", tc.line, code, out, errs, tc.code, tc.out, tc.err)
		}
	}
	// What route flush sends: each route as dumped, as RTM_DELROUTE.
	f = world()
	n := len(f.reqs)
	if _, e, code := runLine(t, f, "route flush 198.18.9.0/24"); code != 0 {
		t.Fatal(e)
	}
	var dels []rtnetlink.RouteMsg
	for _, r := range f.reqs[n:] {
		if r.typ == rtnetlink.RTMDelRoute {
			var m rtnetlink.RouteMsg
			if err := m.Unmarshal(r.body); err != nil {
				t.Fatal(err)
			}
			dels = append(dels, m)
		}
	}
	if len(dels) != 1 || dels[0].Gateway != a4("198.18.5.7") || dels[0].Priority != 10 || dels[0].Protocol != 4 || dels[0].Table != 254 {
		t.Fatalf("deletes %+v", dels)
	}
	// A flush that never empties stops after -loops rounds.
	f = world()
	f.stuck = true
	out, errs, code := runLine(t, f, "-l 2 -s neigh flush all")
	if code != 1 || out != "\n*** Round 1, deleting 4 entries ***\n\n*** Round 2, deleting 4 entries ***\n" ||
		errs != "*** Flush not complete bailing out after 2 rounds\n" {
		t.Fatalf("stuck: %d %q %q", code, out, errs)
	}
}

func TestHostNeeds(t *testing.T) {
	for _, c := range []struct {
		line    string
		needs   bool
		monitor bool
		groups  uint32
	}{
		{"", false, false, 0}, {"help", false, false, 0}, {"-V", false, false, 0}, {"-x addr", false, false, 0},
		{"route help", false, false, 0}, {"frob", false, false, 0}, {"-j addr", true, false, 0}, {"-n h1 route", true, false, 0},
		{"route get 198.18.9.7", true, false, 0}, {"-o monitor route", true, true, 0x40}, {"monitor", true, true, 0x800000d5},
		{"monitor frob", false, true, 0}, {"monitor help", false, true, 0},
	} {
		args := strings.Fields(c.line)
		g, mon, _ := MonitorRequest(args)
		if NeedsHost(args) != c.needs || mon != c.monitor || g != c.groups {
			t.Errorf("%q: needs %v monitor %v groups %#x", c.line, NeedsHost(args), mon, g)
		}
	}
}
