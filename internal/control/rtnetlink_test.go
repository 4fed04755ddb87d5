package control

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"vnic/internal/iproute"
	"vnic/internal/nlclient"
	"vnic/internal/topo"
	"vnic/stack/ipv4"
	"vnic/stack/netlink"
	"vnic/stack/rtnetlink"
)

// uid is what ip route get prints for an output decision: the control
// socket's peer, as the kernel prints the requesting socket's sk_uid.
var uid = fmt.Sprintf("uid %d", os.Getuid())

func ipWorld(t *testing.T) *topo.World {
	t.Helper()
	cfg := topo.Pair(topo.DeviceConfig{Queues: 1}, 1, 1000)
	cfg.Hosts[0].Devices[0].Addresses = []string{"198.18.5.2/24"}
	cfg.Hosts[0].Routes = []string{"default via 198.18.5.1"}
	cfg.Hosts[1].Devices[0].Addresses = []string{"198.18.5.1/24"}
	return topo.Started(t, cfg, 10*time.Millisecond)
}

func serveRtnl(t *testing.T, w *topo.World) *netlink.Server {
	t.Helper()
	s, _ := serve(t, w)
	return s
}

func ipConn(t *testing.T, s *netlink.Server, host string, groups uint32) *nlclient.Conn {
	t.Helper()
	c, err := nlclient.Dial(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.RouteBind(host, groups); err != nil {
		t.Fatal(err)
	}
	return c
}

func ip(t *testing.T, c *nlclient.Conn, line string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := iproute.Run(strings.Fields(line), iproute.Options{T: c, Stdout: &out, Stderr: &errb})
	return out.String(), errb.String(), code
}

// ip's output and errors, over rtnetlink, for the kernel-made and the
// user's routes, addresses and neighbours.
func TestIPCommands(t *testing.T) {
	w := ipWorld(t)
	s := serveRtnl(t, w)
	c := ipConn(t, s, "h1", 0)
	// Resolve h2 so the neighbour table has an entry.
	pc, err := ipv4.Of(w.Host("h1").Stack).OpenPing()
	if err != nil {
		t.Fatal(err)
	}
	if err := pc.SendEcho(netip.MustParseAddr("198.18.5.1"), 1, make([]byte, 56), ipv4.PingOptions{}); err != nil {
		t.Fatal(err)
	}
	w.Run(10 * time.Millisecond)
	for _, tc := range []struct {
		line, out, err string
		code           int
	}{
		{"addr", `1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000
    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
    inet 127.0.0.1/8 scope host lo
       valid_lft forever preferred_lft forever
2: vnic0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc pfifo_fast state UP group default qlen 1000
    link/ether 02:00:00:00:01:00 brd ff:ff:ff:ff:ff:ff
    inet 198.18.5.2/24 scope global vnic0
       valid_lft forever preferred_lft forever
`, "", 0},
		{"route", "default via 198.18.5.1 dev vnic0 \n198.18.5.0/24 dev vnic0 proto kernel scope link src 198.18.5.2 \n", "", 0},
		{"route show table local", `local 127.0.0.0/8 dev lo proto kernel scope host src 127.0.0.1 
local 127.0.0.1 dev lo proto kernel scope host src 127.0.0.1 
broadcast 127.255.255.255 dev lo proto kernel scope link src 127.0.0.1 
local 198.18.5.2 dev vnic0 proto kernel scope host src 198.18.5.2 
broadcast 198.18.5.255 dev vnic0 proto kernel scope link src 198.18.5.2 
`, "", 0},
		{"neigh", "198.18.5.1 dev vnic0 lladdr 02:00:00:00:02:00 REACHABLE \n", "", 0},
		{"route add 198.18.9.0/24 via 198.18.5.7 metric 10", "", "", 0},
		{"route add 198.18.9.0/24 via 198.18.5.7 metric 10", "", "RTNETLINK answers: File exists\n", 2},
		{"route add 198.18.10.0/24 via 203.0.113.1", "", "Error: Nexthop has invalid gateway.\n", 2},
		{"route get 198.18.9.7", "198.18.9.7 via 198.18.5.7 dev vnic0 src 198.18.5.2 " + uid + " \n    cache \n", "", 0},
		{"route get 198.18.5.2", "local 198.18.5.2 dev lo src 198.18.5.2 " + uid + " \n    cache <local> \n", "", 0},
		{"route del 198.18.9.0/24", "", "", 0},
		{"route del 198.18.9.0/24", "", "RTNETLINK answers: No such process\n", 2},
		{"route add 198.18.9.0/24 via 198.18.5.7 bogus", "", "Error: either \"to\" is duplicate, or \"bogus\" is a garbage.\n", 255},
		{"addr add 198.18.5.2/24 dev vnic0", "", "Error: ipv4: Address already assigned.\n", 2},
		{"addr add 198.18.5.3/24 dev nope", "", "Cannot find device \"nope\"\n", 1},
		{"neigh add 198.18.5.20 lladdr 02:00:00:00:00:20 dev vnic0", "", "", 0},
		{"neigh show dev vnic0", "198.18.5.1 lladdr 02:00:00:00:02:00 REACHABLE \n198.18.5.20 lladdr 02:00:00:00:00:20 PERMANENT \n", "", 0},
		{"neigh del 198.18.5.20 dev vnic0", "", "", 0},
		{"neigh del 198.18.5.20 dev vnic0", "", "RTNETLINK answers: No such file or directory\n", 2},
		{"link set vnic0 mtu 1280", "", "", 0},
		{"link show vnic0", "2: vnic0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1280 qdisc pfifo_fast state UP mode DEFAULT group default qlen 1000\n    link/ether 02:00:00:00:01:00 brd ff:ff:ff:ff:ff:ff\n", "", 0},
		{"frob", "", "Object \"frob\" is unknown, try \"ip help\".\n", 1},
	} {
		out, errs, code := ip(t, c, tc.line)
		if out != tc.out || errs != tc.err || code != tc.code {
			t.Errorf("ip %s:\n got %d %q\n     %q\nwant %d %q\n     %q", tc.line, code, out, errs, tc.code, tc.out, tc.err)
		}
	}
	// Another host's view is its own.
	out, _, _ := ip(t, ipConn(t, s, "h2", 0), "route")
	if out != "198.18.5.0/24 dev vnic0 proto kernel scope link src 198.18.5.1 \n" {
		t.Errorf("h2 routes %q", out)
	}
}

// ip monitor prints address and route changes as they happen, with
// "Deleted" for removals; another host's changes do not reach it.
func TestIPMonitor(t *testing.T) {
	w := ipWorld(t)
	s := serveRtnl(t, w)
	mon := ipConn(t, s, "h1", rtnetlink.RTMGrpIPv4Addr|rtnetlink.RTMGrpIPv4Rt)
	c := ipConn(t, s, "h1", 0)
	c2 := ipConn(t, s, "h2", 0)
	for _, l := range []string{"addr add 198.18.7.1/24 dev vnic0", "route add 198.18.8.0/24 via 198.18.7.9", "addr del 198.18.7.1/24 dev vnic0"} {
		if _, e, code := ip(t, c, l); code != 0 {
			t.Fatalf("%s: %s", l, e)
		}
	}
	if _, e, code := ip(t, c2, "addr add 198.18.70.1/24 dev vnic0"); code != 0 {
		t.Fatal(e)
	}
	var out bytes.Buffer
	stop := make(chan struct{})
	tm := time.AfterFunc(5*time.Second, func() { close(stop) })
	defer tm.Stop()
	code := iproute.Run([]string{"monitor"}, iproute.Options{T: mon, Stdout: &out, Stderr: &out, Count: 9, Stop: stop})
	if code != 0 {
		t.Fatal(out.String())
	}
	want := `2: vnic0    inet 198.18.7.1/24 scope global vnic0
       valid_lft forever preferred_lft forever
local 198.18.7.1 dev vnic0 table local proto kernel scope host src 198.18.7.1 
198.18.7.0/24 dev vnic0 proto kernel scope link src 198.18.7.1 
broadcast 198.18.7.255 dev vnic0 table local proto kernel scope link src 198.18.7.1 
198.18.8.0/24 via 198.18.7.9 dev vnic0 
Deleted 2: vnic0    inet 198.18.7.1/24 scope global vnic0
       valid_lft forever preferred_lft forever
Deleted 198.18.7.0/24 dev vnic0 proto kernel scope link src 198.18.7.1 
Deleted broadcast 198.18.7.255 dev vnic0 table local proto kernel scope link src 198.18.7.1 
Deleted local 198.18.7.1 dev vnic0 table local proto kernel scope host src 198.18.7.1 
`
	if out.String() != want {
		t.Fatalf("monitor:\n%s\nwant:\n%s", out.String(), want)
	}
}

// A device's own forwarding switch overrides its host's: with it off, a
// packet arriving there for another host is not forwarded (InAddrErrors).
func TestDeviceForwardingSwitch(t *testing.T) {
	off := false
	cfg := topo.Config{Time: topo.VirtualTime, Seed: 1, Hosts: []topo.HostConfig{
		{Name: "h1", CPUs: 1, Devices: []topo.DeviceConfig{{Queues: 1, Addresses: []string{"198.18.5.2/24"}}}, Routes: []string{"default via 198.18.5.1"}},
		{Name: "r", CPUs: 1, Forwarding: true, Devices: []topo.DeviceConfig{{Queues: 1, Addresses: []string{"198.18.5.1/24"}, Forwarding: &off}, {Queues: 1, Addresses: []string{"198.18.6.1/24"}}}},
		{Name: "h2", CPUs: 1, Devices: []topo.DeviceConfig{{Queues: 1, Addresses: []string{"198.18.6.2/24"}}}, Routes: []string{"default via 198.18.6.1"}},
	}, Cables: []topo.CableConfig{{A: "h1/vnic0", B: "r/vnic0"}, {A: "r/vnic1", B: "h2/vnic0"}}}
	w, err := topo.Build(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.Run(10 * time.Millisecond)
	rin := ipv4.Of(w.Host("r").Stack)
	if rin.DevForwarding(w.Host("r").Devices[0].Netdev) || !rin.DevForwarding(w.Host("r").Devices[1].Netdev) {
		t.Fatal("switches not as configured")
	}
	send := func(from, to string) bool {
		pc, err := ipv4.Of(w.Host(from).Stack).OpenPing()
		if err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
		if err := pc.SendEcho(netip.MustParseAddr(to), 1, make([]byte, 8), ipv4.PingOptions{}); err != nil {
			t.Fatal(err)
		}
		w.Run(20 * time.Millisecond)
		m, ok := pc.Recv()
		return ok && m.Type == ipv4.ICMPEchoReply
	}
	if send("h1", "198.18.6.2") {
		t.Fatal("forwarded in through a device with forwarding off")
	}
	if st := rin.Stats.Snapshot(); st.InAddrErrors != 1 || st.ForwDatagrams != 0 {
		t.Fatalf("router %+v", st)
	}
}

// The link and neighbour groups: ip link set and ip neigh add/del show up
// in ip monitor.
func TestIPMonitorLinkNeigh(t *testing.T) {
	w := ipWorld(t)
	s := serveRtnl(t, w)
	mon := ipConn(t, s, "h1", rtnetlink.RTMGrpLink|rtnetlink.RTMGrpNeigh)
	c := ipConn(t, s, "h1", 0)
	for _, l := range []string{"link set vnic0 mtu 1400", "neigh add 198.18.5.30 lladdr 02:00:00:00:00:30 dev vnic0", "neigh del 198.18.5.30 dev vnic0"} {
		if _, e, code := ip(t, c, l); code != 0 {
			t.Fatalf("%s: %s", l, e)
		}
	}
	var out bytes.Buffer
	stop := make(chan struct{})
	tm := time.AfterFunc(5*time.Second, func() { close(stop) })
	defer tm.Stop()
	if code := iproute.Run([]string{"monitor"}, iproute.Options{T: mon, Stdout: &out, Stderr: &out, Count: 3, Stop: stop}); code != 0 {
		t.Fatal(out.String())
	}
	want := `2: vnic0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1400 qdisc pfifo_fast state UP group default 
    link/ether 02:00:00:00:01:00 brd ff:ff:ff:ff:ff:ff
198.18.5.30 dev vnic0 lladdr 02:00:00:00:00:30 PERMANENT 
Deleted 198.18.5.30 dev vnic0 lladdr 02:00:00:00:00:30 PERMANENT 
`
	if out.String() != want {
		t.Fatalf("monitor:\n%s\nwant:\n%s", out.String(), want)
	}
}

// ip route's add, change, replace, append and prepend as the kernel takes
// their flags, a prefix with host bits refused, local routes in the local
// table, and an exclusive neighbour add refused when the entry exists.
func TestIPRouteFlags(t *testing.T) {
	w := ipWorld(t)
	s := serveRtnl(t, w)
	c := ipConn(t, s, "h1", 0)
	for _, tc := range []struct {
		line, out, err string
		code           int
	}{
		{"route add 198.18.9.1/24 via 198.18.5.7", "", "Error: Invalid prefix for given prefix length.\n", 2},
		{"route del 198.18.5.1/24", "", "Error: Invalid prefix for given prefix length.\n", 2},
		{"route change 198.18.44.0/24 via 198.18.5.7", "", "RTNETLINK answers: No such file or directory\n", 2},
		{"route add 198.18.9.0/24 via 198.18.5.7", "", "", 0},
		{"route append 198.18.9.0/24 via 198.18.5.8", "", "", 0},
		{"route append 198.18.9.0/24 via 198.18.5.8", "", "RTNETLINK answers: File exists\n", 2},
		{"route prepend 198.18.9.0/24 via 198.18.5.9", "", "", 0},
		{"route", "default via 198.18.5.1 dev vnic0 \n198.18.5.0/24 dev vnic0 proto kernel scope link src 198.18.5.2 \n" +
			"198.18.9.0/24 via 198.18.5.9 dev vnic0 \n198.18.9.0/24 via 198.18.5.7 dev vnic0 \n198.18.9.0/24 via 198.18.5.8 dev vnic0 \n", "", 0},
		{"route get 198.18.9.1", "198.18.9.1 via 198.18.5.9 dev vnic0 src 198.18.5.2 " + uid + " \n    cache \n", "", 0},
		{"route change 198.18.9.0/24 via 198.18.5.10", "", "", 0},
		{"route get 198.18.9.1", "198.18.9.1 via 198.18.5.10 dev vnic0 src 198.18.5.2 " + uid + " \n    cache \n", "", 0},
		// As Linux 6.18 answers with a default route and no policy rules:
		// broadcasts and groups leave on-link, with their cache flags.
		{"route get 198.18.5.255", "broadcast 198.18.5.255 dev vnic0 src 198.18.5.2 " + uid + " \n    cache <local,brd> \n", "", 0},
		{"route get 255.255.255.255", "broadcast 255.255.255.255 dev vnic0 src 198.18.5.2 " + uid + " \n    cache <local,brd> \n", "", 0},
		{"route get 224.0.0.1", "multicast 224.0.0.1 dev vnic0 src 198.18.5.2 rt_offload_failed " + uid + " \n    cache <local,mc> \n", "", 0},
		{"route get 239.1.2.3", "multicast 239.1.2.3 dev vnic0 src 198.18.5.2 rt_offload_failed " + uid + " \n    cache <mc> \n", "", 0},
		{"route replace 198.18.45.0/24 via 198.18.5.7", "", "", 0},
		{"route add local 198.18.33.1 dev vnic0", "", "", 0},
		{"route show table local", `local 127.0.0.0/8 dev lo proto kernel scope host src 127.0.0.1 
local 127.0.0.1 dev lo proto kernel scope host src 127.0.0.1 
broadcast 127.255.255.255 dev lo proto kernel scope link src 127.0.0.1 
local 198.18.5.2 dev vnic0 proto kernel scope host src 198.18.5.2 
broadcast 198.18.5.255 dev vnic0 proto kernel scope link src 198.18.5.2 
local 198.18.33.1 dev vnic0 scope host 
`, "", 0},
		{"neigh add 198.18.5.20 lladdr 02:00:00:00:00:20 dev vnic0", "", "", 0},
		{"neigh add 198.18.5.20 lladdr 02:00:00:00:00:21 dev vnic0", "", "RTNETLINK answers: File exists\n", 2},
		{"neigh replace 198.18.5.20 lladdr 02:00:00:00:00:21 dev vnic0", "", "", 0},
		{"neigh show dev vnic0", "198.18.5.20 lladdr 02:00:00:00:00:21 PERMANENT \n", "", 0},
	} {
		out, errs, code := ip(t, c, tc.line)
		if out != tc.out || errs != tc.err || code != tc.code {
			t.Errorf("ip %s:\n got %d %q\n     %q\nwant %d %q\n     %q", tc.line, code, out, errs, tc.code, tc.out, tc.err)
		}
	}
}

// Source validation as fib_validate_source answers it with rp_filter off
// (Linux 6.18's answers in a scratch namespace, the same commands): with
// no rules and no local routes of the user's, only one of the host's
// addresses is a martian source — not an address inside the local route
// an address with a prefix on lo makes; once a local route is added, the
// local table decides.
func TestValidateSourceQuickAndFull(t *testing.T) {
	w := ipWorld(t)
	s := serveRtnl(t, w)
	c := ipConn(t, s, "h1", 0)
	einval := "RTNETLINK answers: Invalid argument\n"
	checkIP(t, c, []ipStep{
		{"addr add 198.18.50.1/24 dev lo", "", "", 0},
		{"route get 198.18.5.2 from 198.18.50.7 iif vnic0", "local 198.18.5.2 from 198.18.50.7 dev lo \n    cache <local> iif vnic0 \n", "", 0},
		{"route get 198.18.5.2 from 198.18.50.1 iif vnic0", "", einval, 2},
		{"route get 198.18.5.2 from 198.18.5.2 iif vnic0", "", einval, 2},
		{"route add local 198.18.60.0/24 dev lo", "", "", 0},
		{"route get 198.18.5.2 from 198.18.50.7 iif vnic0", "", einval, 2},
		{"route get 198.18.5.2 from 198.18.60.9 iif vnic0", "", einval, 2},
	})
}
