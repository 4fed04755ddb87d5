package control

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"vnic/internal/iproute"
	"vnic/internal/netns"
	"vnic/internal/nlclient"
	"vnic/internal/topo"
	"vnic/stack/ipv4"
)

// emptyWorld is vnic up --empty: no hosts until ip netns add makes them.
func emptyWorld(t *testing.T) (*topo.World, *nlclient.Conn, string) {
	t.Helper()
	w, err := topo.Build(topo.Config{Time: topo.VirtualTime, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	s, c := serve(t, w)
	return w, c, s.Path()
}

// ipn runs one ip command line on a connection of its own (bound to the
// line's -n host, as vnic ip binds one).
func ipn(t *testing.T, c *nlclient.Conn, path, line string) (string, string, int) {
	t.Helper()
	args := strings.Fields(line)
	conn := c
	if host, _ := iproute.Netns(args); host != "" {
		var err error
		if conn, err = nlclient.Dial(path); err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if err := conn.RouteBind(host, 0); err != nil {
			return "", err.Error(), -1
		}
	}
	var out, errb bytes.Buffer
	code := iproute.Run(args, iproute.Options{T: conn, Stdout: &out, Stderr: &errb,
		Namespaces: func() (netns.Client, error) { return c, nil }})
	return out.String(), errb.String(), code
}

// ipStep is one ip command line and what it must print and exit with.
type ipStep struct {
	line, out, err string
	code           int
}

// runSteps runs the steps in order (each on a connection of its own, as
// vnic ip runs), letting the world run a little after each.
func runSteps(t *testing.T, w *topo.World, c *nlclient.Conn, path string, steps []ipStep) {
	t.Helper()
	for _, s := range steps {
		out, errs, code := ipn(t, c, path, s.line)
		if out != s.out || errs != s.err || code != s.code {
			t.Fatalf("ip %s:\n got %q %q exit %d\nwant %q %q exit %d", s.line, out, errs, code, s.out, s.err, s.code)
		}
		w.Run(5 * time.Millisecond)
	}
}

// setUp runs ip command lines that must succeed, as runSteps does.
func setUp(t *testing.T, w *topo.World, c *nlclient.Conn, path string, lines ...string) {
	t.Helper()
	for _, line := range lines {
		if out, errs, code := ipn(t, c, path, line); code != 0 {
			t.Fatalf("ip %s: %q %q exit %d", line, out, errs, code)
		}
		w.Run(5 * time.Millisecond)
	}
}

// checkIP runs each case's line on c and compares what ip prints and
// its exit code.
func checkIP(t *testing.T, c *nlclient.Conn, cases []ipStep) {
	t.Helper()
	for _, tc := range cases {
		out, errs, code := ip(t, c, tc.line)
		if out != tc.out || errs != tc.err || code != tc.code {
			t.Errorf("ip %s:\n got %q %q exit %d\nwant %q %q exit %d", tc.line, out, errs, code, tc.out, tc.err, tc.code)
		}
	}
}

// Hosts and links made at run time: ip netns add/set/list/del, ip link
// add veth/dummy, set netns, carrier, address, del, with ip's words and
// exit codes.
func TestRuntimeHostsAndLinks(t *testing.T) {
	w, c, path := emptyWorld(t)
	steps := []ipStep{
		{"netns add ns1", "", "", 0},
		{"netns add ns1", "", "Cannot create namespace file \"/run/netns/ns1\": File exists\n", 1},
		{"netns add ns2", "", "", 0},
		{"netns add a/b", "", "Invalid netns name \"a/b\"\n", 255},
		{"netns set ns1 auto", "", "", 0},
		{"netns set ns1 7", "", "Error: Peer netns already has a nsid assigned.\n", 2},
		{"netns set ns2 abc", "", "Error: argument \"abc\" is wrong: Invalid \"netnsid\" value\n", 255},
		{"netns list", "ns2\nns1 (id: 0)\n", "", 0},
		{"-j netns", `[{"name":"ns2"},{"name":"ns1","id":0}]` + "\n", "", 0},
		{"netns del nope", "", "Cannot remove namespace file \"/run/netns/nope\": No such file or directory\n", 1},
		{"-n ns1 link add veth1 type veth peer name veth2", "", "", 0},
		{"-n ns1 link add veth1 type veth peer name veth3", "", "RTNETLINK answers: File exists\n", 2},
		{"-n ns1 link add x", "", "Not enough information: \"type\" argument is required\n", 1},
		{"-n ns1 link add x type bridge", "", "Error: Unknown device type.\n", 2},
		{"-n ns1 -br link", "lo               DOWN           00:00:00:00:00:00 <LOOPBACK> \nveth2@veth1      DOWN           02:76:6e:00:00:01 <BROADCAST,MULTICAST,M-DOWN> \nveth1@veth2      DOWN           02:76:6e:00:00:02 <BROADCAST,MULTICAST,M-DOWN> \n", "", 0},
		{"-n ns1 -j link show veth1", `[{"ifindex":3,"link":"veth2","ifname":"veth1","flags":["BROADCAST","MULTICAST","M-DOWN"],"mtu":1500,"qdisc":"noop","operstate":"DOWN","linkmode":"DEFAULT","group":"default","txqlen":1000,"link_type":"ether","address":"02:76:6e:00:00:02","broadcast":"ff:ff:ff:ff:ff:ff"}]` + "\n", "", 0},
		{"-n ns1 link set veth2 netns nope", "", "Error: argument \"nope\" is wrong: Invalid \"netns\" value\n", 255},
		{"-n ns1 link set veth2 netns ns2 up", "", "", 0},
		// No carrier until veth1 is up too: its NIC's PHY is powered down
		// while it is down, as igb does (a kernel veth: the same). Its
		// peer in another namespace, the state is DOWN, not
		// LOWERLAYERDOWN, as default_operstate finds no peer there.
		{"-n ns2 -br link", "lo               DOWN           00:00:00:00:00:00 <LOOPBACK> \nveth2@if3        DOWN           02:76:6e:00:00:01 <NO-CARRIER,BROADCAST,MULTICAST,UP> \n", "", 0},
		{"-n ns1 link show veth1", "3: veth1@if2: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000\n    link/ether 02:76:6e:00:00:02 brd ff:ff:ff:ff:ff:ff link-netns ns2\n", "", 0},
		{"-n ns1 -j link show veth1", `[{"ifindex":3,"link_index":2,"ifname":"veth1","flags":["BROADCAST","MULTICAST"],"mtu":1500,"qdisc":"noop","operstate":"DOWN","linkmode":"DEFAULT","group":"default","txqlen":1000,"link_type":"ether","address":"02:76:6e:00:00:02","broadcast":"ff:ff:ff:ff:ff:ff","link_netnsid":1}]` + "\n", "", 0},
		{"-n ns1 link set dev veth1 address zz", "", "\"zz\" is invalid lladdr.\n", 1},
		{"-n ns1 link set dev veth1 address 01:00:00:00:00:01", "", "RTNETLINK answers: Cannot assign requested address\n", 2},
		{"-n ns1 link set dev veth1 address 52:54:00:6a:c7:5e up", "", "", 0},
		{"-n ns2 -br link show veth2", "veth2@if3        UP             02:76:6e:00:00:01 <BROADCAST,MULTICAST,UP,LOWER_UP> \n", "", 0},
		{"-n ns1 link set dev veth1 carrier off", "", "RTNETLINK answers: Operation not supported\n", 2},
		{"-n ns1 link set dev veth1 carrier maybe", "", "Error: argument of \"carrier\" must be one of \"off\", \"on\", not \"maybe\"\n", 22},
		{"-n ns1 link add dummy0 type dummy", "", "", 0},
		{"-n ns1 link set dummy0 up", "", "", 0},
		{"-n ns1 link set dummy0 carrier off", "", "", 0},
		{"-n ns1 link add red type vrf table 1111", "", "", 0},
		{"-n ns1 link add blue type vrf", "", "Error: Invalid VRF table id.\n", 2},
		{"-n ns1 link set dummy0 vrf veth1", "", "Error: argument \"veth1\" is wrong: Not a valid VRF name\n\n", 255}, // ip prints invarg's own newline too
		{"-n ns1 link set dummy0 master nope", "", "Error: argument \"nope\" is wrong: Device does not exist\n\n", 255},
		{"-n ns1 link set red up", "", "", 0},
		{"-n ns1 link set dummy0 vrf red", "", "", 0},
		{"-n ns1 link show dummy0", "4: dummy0: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc pfifo_fast master red state DOWN mode DEFAULT group default qlen 1000\n    link/ether 02:76:6e:00:00:03 brd ff:ff:ff:ff:ff:ff\n", "", 0},
		{"-n ns1 -br link show red", "red              UP             00:00:00:00:00:00 <NOARP,MASTER,UP,LOWER_UP> \n", "", 0},
		{"-n ns1 link del red", "", "", 0},
		{"-n ns1 -br link show dummy0", "dummy0           DOWN           02:76:6e:00:00:03 <NO-CARRIER,BROADCAST,MULTICAST,UP> \n", "", 0},
		{"-n ns1 link del lo", "", "RTNETLINK answers: Operation not supported\n", 2},
		{"-n ns1 link del nope", "", "Cannot find device \"nope\"\n", 1},
	}
	runSteps(t, w, c, path, steps)
}

// A veth pair made at run time carries traffic between two hosts made at
// run time once one end is moved; deleting one end deletes the other, a
// host deleted takes its devices, and a moved device arrives without the
// addresses it had.
func TestRuntimeVethCarriesTraffic(t *testing.T) {
	w, c, path := emptyWorld(t)
	setUp(t, w, c, path,
		"netns add ns1", "netns add ns2",
		"-n ns1 link set lo up", "-n ns2 link set lo up",
		"-n ns1 link add veth1 type veth peer name veth2",
		"-n ns1 addr add 198.18.0.2/24 dev veth2",
		"-n ns1 link set veth2 netns ns2",
		"-n ns2 addr add 198.18.0.2/24 dev veth2",
		"-n ns1 addr add 198.18.0.1/24 dev veth1",
		"-n ns1 link set veth1 up", "-n ns2 link set veth2 up",
	)
	pc, err := ipv4.Of(w.Host("ns1").Stack).OpenPing()
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if err := pc.SendEcho(netip.MustParseAddr("198.18.0.2"), 1, make([]byte, 56), ipv4.PingOptions{}); err != nil {
		t.Fatal(err)
	}
	w.Run(10 * time.Millisecond)
	if m, ok := pc.Recv(); !ok || m.Type != ipv4.ICMPEchoReply || m.From != netip.MustParseAddr("198.18.0.2") {
		t.Fatalf("no echo reply from ns2: %+v %v", m, ok)
	}
	for _, s := range []struct{ line, out string }{
		{"-n ns2 -4 -br addr", "lo               UNKNOWN        127.0.0.1/8 \nveth2            UP             198.18.0.2/24 \n"},
		{"-n ns1 neigh", "198.18.0.2 dev veth1 lladdr 02:76:6e:00:00:01 REACHABLE \n"},
	} {
		if out, errs, code := ipn(t, c, path, s.line); out != s.out || code != 0 {
			t.Fatalf("ip %s: %q %q exit %d, want %q", s.line, out, errs, code, s.out)
		}
	}
	for _, s := range []struct{ line, out string }{
		{"-n ns1 link del veth1", ""},
		{"-n ns2 -br link", "lo               UNKNOWN        00:00:00:00:00:00 <LOOPBACK,UP,LOWER_UP> \n"},
		{"-n ns1 link add dummy0 type dummy", ""},
		{"netns del ns1", ""},
		{"netns", "ns2 (id: 1)\n"}, // given when ns1 listed veth1 with its peer there (peernet2id_alloc)
	} {
		if out, errs, code := ipn(t, c, path, s.line); out != s.out || code != 0 {
			t.Fatalf("ip %s: %q %q exit %d, want %q", s.line, out, errs, code, s.out)
		}
	}
	if len(w.HostList()) != 1 {
		t.Fatalf("%d hosts left, want 1", len(w.HostList()))
	}
}

// ip -batch FILE [-force]: a line a command, comments and continued
// lines, a failed command reported with its line and stopping the batch
// unless -force, exit 1 when one failed.
func TestIPBatch(t *testing.T) {
	w := ipWorld(t)
	s := serveRtnl(t, w)
	c := ipConn(t, s, "h1", 0)
	file := filepath.Join(t.TempDir(), "b.txt")
	text := "# routes\nroute add 198.18.20.0/24 via 198.18.5.1\nroute add 198.18.20.0/24 via 198.18.5.1\n\nroute add 198.18.21.0/24 \\\n via 198.18.5.1 # the second\n"
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	checkIP(t, c, []ipStep{
		{"-batch " + file, "", "RTNETLINK answers: File exists\nCommand failed " + file + ":3\n", 1},
		{"route show 198.18.21.0/24", "", "", 0},
		{"-force -batch " + file, "", "RTNETLINK answers: File exists\nCommand failed " + file + ":2\nRTNETLINK answers: File exists\nCommand failed " + file + ":3\n", 1},
		{"route show 198.18.21.0/24", "198.18.21.0/24 via 198.18.5.1 dev vnic0 \n", "", 0},
		{"-batch /nonexistent/b.txt", "", "Cannot open file \"/nonexistent/b.txt\" for reading: No such file or directory\n", 1},
	})
}

// ip -force -batch keeps changes in flight, many to a packet: every
// refusal is still reported with its own line, in order, and every other
// line takes effect; a listing in the middle of the batch sees what came
// before it.
func TestIPBatchForcePipelined(t *testing.T) {
	w := ipWorld(t)
	s := serveRtnl(t, w)
	c := ipConn(t, s, "h1", 0)
	file := filepath.Join(t.TempDir(), "b.txt")
	var text strings.Builder
	var wantErr strings.Builder
	for i := 1; i <= 700; i++ {
		switch {
		case i == 400:
			text.WriteString("route show 198.18.30.5\n") // line 5's route, sent before
		case i%97 == 0:
			// An address of no subnet of h1: refused.
			fmt.Fprintf(&text, "route add 198.18.%d.%d/32 via 203.0.113.1\n", 40+i/256, i%256)
			fmt.Fprintf(&wantErr, "Error: Nexthop has invalid gateway.\nCommand failed %s:%d\n", file, i)
		default:
			fmt.Fprintf(&text, "route add 198.18.%d.%d/32 via 198.18.5.1\n", 30+i/256, i%256)
		}
	}
	if err := os.WriteFile(file, []byte(text.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errs, code := ip(t, c, "-force -batch "+file)
	if code != 1 || errs != wantErr.String() || out != "198.18.30.5 via 198.18.5.1 dev vnic0 \n" {
		t.Fatalf("ip -force -batch: exit %d\nstdout %q\nstderr %q\nwant   %q", code, out, errs, wantErr.String())
	}
	n := 0
	list, _, _ := ip(t, c, "route show")
	for _, l := range strings.Split(list, "\n") {
		if strings.Contains(l, "via 198.18.5.1") && strings.HasPrefix(l, "198.18.3") {
			n++
		}
	}
	if want := 700 - 1 - 7; n != want { // less the listing and the refused
		t.Fatalf("%d routes added, want %d", n, want)
	}
}

// A VRF's slaves have their address routes in its table; routes are added
// to it with vrf NAME (gateways and sources checked there), and deleting
// an address takes the routes preferring it only in its own domain.
func TestRuntimeVRF(t *testing.T) {
	w, c, path := emptyWorld(t)
	steps := []ipStep{
		{"netns add ns1", "", "", 0},
		{"-n ns1 link set lo up", "", "", 0},
		{"-n ns1 link add dummy1 type dummy", "", "", 0},
		{"-n ns1 link add dummy2 type dummy", "", "", 0},
		{"-n ns1 link set dummy1 up", "", "", 0},
		{"-n ns1 link set dummy2 up", "", "", 0},
		{"-n ns1 link add red type vrf table 1111", "", "", 0},
		{"-n ns1 link set red up", "", "", 0},
		{"-n ns1 route add vrf red unreachable default", "", "", 0},
		{"-n ns1 route add vrf blue unreachable default", "", "Error: argument \"blue\" is wrong: Invalid VRF\n\n", 255},
		{"-n ns1 link set dummy2 vrf red", "", "", 0},
		{"-n ns1 addr add dev dummy1 172.16.104.1/24", "", "", 0},
		{"-n ns1 addr add dev dummy1 172.16.104.11/24", "", "", 0},
		{"-n ns1 addr add dev dummy2 172.16.104.1/24", "", "", 0},
		{"-n ns1 addr add dev dummy2 172.16.104.11/24", "", "", 0},
		{"-n ns1 route add 172.16.105.0/24 via 172.16.104.2 src 172.16.104.11", "", "", 0},
		{"-n ns1 route add vrf red 172.16.105.0/24 via 172.16.104.2 src 172.16.104.11", "", "", 0},
		{"-n ns1 route add vrf red 172.16.106.0/24 dev lo src 172.16.104.11", "", "", 0},
		{"-n ns1 route show vrf red", "unreachable default \n172.16.104.0/24 dev dummy2 proto kernel scope link src 172.16.104.1 \nlocal 172.16.104.1 dev dummy2 proto kernel scope host src 172.16.104.1 \nlocal 172.16.104.11 dev dummy2 proto kernel scope host src 172.16.104.1 \nbroadcast 172.16.104.255 dev dummy2 proto kernel scope link src 172.16.104.1 \n172.16.105.0/24 via 172.16.104.2 dev dummy2 src 172.16.104.11 \n172.16.106.0/24 dev lo scope link src 172.16.104.11 \n", "", 0},
		{"-n ns1 addr del dev dummy2 172.16.104.11/24", "", "", 0},
		{"-n ns1 route show vrf red", "unreachable default \n172.16.104.0/24 dev dummy2 proto kernel scope link src 172.16.104.1 \nlocal 172.16.104.1 dev dummy2 proto kernel scope host src 172.16.104.1 \nbroadcast 172.16.104.255 dev dummy2 proto kernel scope link src 172.16.104.1 \n", "", 0},
		{"-n ns1 route", "172.16.104.0/24 dev dummy1 proto kernel scope link src 172.16.104.1 \n172.16.105.0/24 via 172.16.104.2 dev dummy1 src 172.16.104.11 \n", "", 0},
		{"-n ns1 link set dummy2 nomaster", "", "", 0},
		{"-n ns1 route show vrf red", "unreachable default \n", "", 0},
		{"-n ns1 route show dev dummy2", "172.16.104.0/24 proto kernel scope link src 172.16.104.1 \n", "", 0},
	}
	runSteps(t, w, c, path, steps)
}

// ip route save writes iproute2's binary stream; restore adds it to
// another host in its three passes (local addresses, local networks,
// gateways), an existing route no error; showdump prints a stream.
func TestRouteSaveRestore(t *testing.T) {
	w, c, path := emptyWorld(t)
	setUp(t, w, c, path,
		"netns add a", "netns add b",
		"-n a link add d0 type dummy", "-n a link set d0 up", "-n a addr add 198.18.0.1/24 dev d0",
		"-n b link add d0 type dummy", "-n b link set d0 up", "-n b addr add 198.18.0.1/24 dev d0",
		"-n a route add 198.18.9.0/24 via 198.18.0.2 metric 7",
		"-n a route add 198.18.10.0/24 dev d0 src 198.18.0.1",
		"-n a route add unreachable 198.18.11.0/24",
		"-n a route add 198.18.12.0/24 via 198.18.0.3 table 100",
	)
	run := func(line string, stdin []byte) (string, string, int) {
		conn, err := nlclient.Dial(path)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		args := strings.Fields(line)
		host, _ := iproute.Netns(args)
		if err := conn.RouteBind(host, 0); err != nil {
			t.Fatal(err)
		}
		var out, errb bytes.Buffer
		code := iproute.Run(args, iproute.Options{T: conn, Stdout: &out, Stderr: &errb, Stdin: bytes.NewReader(stdin)})
		return out.String(), errb.String(), code
	}
	saved, errs, code := run("-n a route save", nil)
	if code != 0 || errs != "" || !strings.HasPrefix(saved, "\x24\x12\x31\x45") {
		t.Fatalf("save: exit %d %q, stream % x", code, errs, saved[:min(8, len(saved))])
	}
	want := "198.18.0.0/24 dev d0 proto kernel scope link src 198.18.0.1 \n198.18.9.0/24 via 198.18.0.2 dev d0 metric 7 \n198.18.10.0/24 dev d0 scope link src 198.18.0.1 \nunreachable 198.18.11.0/24 \n"
	if out, errs, code := run("-n b route showdump", []byte(saved)); out != want || code != 0 {
		t.Fatalf("showdump: %q %q exit %d\nwant %q", out, errs, code, want)
	}
	if out, errs, code := run("-n b route restore", []byte(saved)); out != "" || errs != "" || code != 0 {
		t.Fatalf("restore: %q %q exit %d", out, errs, code)
	}
	if out, _, _ := run("-n b route", nil); out != want {
		t.Fatalf("restored:\n%q\nwant\n%q", out, want)
	}
	if out, _, _ := run("-n b route show table 100", nil); out != "" {
		t.Fatalf("table 100 came along: %q (save takes the main table unless asked)", out)
	}
	if _, errs, code := run("-n b route restore", []byte("nope")); code == 0 || errs != "Magic mismatch (1 elems, 65706f6e magic)\n" {
		t.Fatalf("a stream without the magic: %q exit %d", errs, code)
	}
}

// ip route get … connected answers as iproute2 6.1 does: the answer, then
// the same request's answer again; without a source chosen, "Failed to
// connect the route".
func TestRouteGetConnected(t *testing.T) {
	w := ipWorld(t)
	s := serveRtnl(t, w)
	c := ipConn(t, s, "h1", 0)
	one := "198.18.9.7 via 198.18.5.1 dev vnic0 src 198.18.5.2 " + uid + " \n    cache \n"
	checkIP(t, c, []ipStep{
		{"route get 198.18.9.7 connected", one + one, "", 0},
		{"route get 198.18.9.7 from 198.18.5.2 connected", "198.18.9.7 from 198.18.5.2 via 198.18.5.1 dev vnic0 " + uid + " \n    cache \n", "", 0},
	})
}

// Found against the kernel (test/differential_test.go): a gateway of a
// route in another table is looked up there at link scope (that table's
// default route does not make it invalid), and once a rule unmerges the
// local and main tables, a local decision reports table local.
func TestGatewayInTableAndLocalTable(t *testing.T) {
	w := ipWorld(t)
	s := serveRtnl(t, w)
	c := ipConn(t, s, "h1", 0)
	checkIP(t, c, []ipStep{
		{"route add default via 198.18.5.7 table 200", "", "", 0},
		{"route add 10.1.0.0/16 via 198.18.5.8 table 200", "", "", 0},
		{"route get 198.18.5.2", "local 198.18.5.2 dev lo src 198.18.5.2 " + uid + " \n    cache <local> \n", "", 0},
		{"rule add from 198.18.77.0/24 lookup 100", "", "", 0},
		{"route get 198.18.5.2", "local 198.18.5.2 dev lo table local src 198.18.5.2 " + uid + " \n    cache <local> \n", "", 0},
	})
}

// The first VRF adds the l3mdev rule (vrf_add_fib_rules: pref 1000,
// protocol kernel); a flow through the VRF (route get … vrf NAME) or
// through a device enslaved to it then takes the VRF's table, and a
// VRF's table without a route refuses rather than guessing the link. The
// rule is added once per host: after it is deleted, a second VRF adds
// none.
func TestRuntimeVRFRule(t *testing.T) {
	w, c, path := emptyWorld(t)
	rules := "0:\tfrom all lookup local\n1000:\tfrom all lookup [l3mdev-table]\n32766:\tfrom all lookup main\n32767:\tfrom all lookup default\n"
	steps := []ipStep{
		{"netns add ns1", "", "", 0},
		{"-n ns1 link set lo up", "", "", 0},
		{"-n ns1 link add dummy1 type dummy", "", "", 0},
		{"-n ns1 link add dummy2 type dummy", "", "", 0},
		{"-n ns1 link set dummy1 up", "", "", 0},
		{"-n ns1 link set dummy2 up", "", "", 0},
		{"-n ns1 rule", "0:\tfrom all lookup local\n32766:\tfrom all lookup main\n32767:\tfrom all lookup default\n", "", 0},
		{"-n ns1 link add red type vrf table 1111", "", "", 0},
		{"-n ns1 rule", rules, "", 0},
		{"-n ns1 -d rule show pref 1000", "1000:\tfrom all lookup [l3mdev-table] proto kernel\n", "", 0},
		{"-n ns1 -j rule show pref 1000", `[{"priority":1000,"src":"all","l3mdev":null}]` + "\n", "", 0},
		{"-n ns1 link set red up", "", "", 0},
		{"-n ns1 link set dummy2 vrf red", "", "", 0},
		{"-n ns1 addr add dev dummy1 172.16.104.1/24", "", "", 0},
		{"-n ns1 addr add dev dummy2 172.16.104.1/24", "", "", 0},
		{"-n ns1 route add 172.16.105.0/24 via 172.16.104.2", "", "", 0},
		{"-n ns1 route add vrf red 172.16.105.0/24 via 172.16.104.3", "", "", 0},
		{"-n ns1 route get 172.16.105.9", "172.16.105.9 via 172.16.104.2 dev dummy1 src 172.16.104.1 uid 0 \n    cache \n", "", 0},
		{"-n ns1 route get 172.16.105.9 vrf red", "172.16.105.9 via 172.16.104.3 dev dummy2 table 1111 src 172.16.104.1 uid 0 \n    cache \n", "", 0},
		{"-n ns1 route get 172.16.105.9 oif dummy2", "172.16.105.9 via 172.16.104.3 dev dummy2 table 1111 src 172.16.104.1 uid 0 \n    cache \n", "", 0},
		{"-n ns1 route get 172.16.107.9 vrf red", "", "RTNETLINK answers: Network is unreachable\n", 2},
		{"-n ns1 route add vrf red unreachable default", "", "", 0},
		{"-n ns1 route get 172.16.107.9 vrf red", "", "RTNETLINK answers: No route to host\n", 2},
		{"-n ns1 route get 172.16.105.9 vrf dummy1", "", "Error: argument \"dummy1\" is wrong: Invalid VRF\n\n", 255},
		{"-n ns1 rule add l3mdev table 7", "", "table can not be specified for l3mdev rules\n", 22},
		{"-n ns1 rule add l3mdev unreachable pref 1001", "", "", 0},
		{"-n ns1 rule show pref 1001", "1001:\tfrom all lookup [l3mdev-table] unreachable\n", "", 0},
		{"-n ns1 rule del pref 1001", "", "", 0},
		{"-n ns1 rule del pref 1000", "", "", 0},
		{"-n ns1 link add blue type vrf table 2222", "", "", 0},
		{"-n ns1 rule", "0:\tfrom all lookup local\n32766:\tfrom all lookup main\n32767:\tfrom all lookup default\n", "", 0},
	}
	runSteps(t, w, c, path, steps)
}

// ignore_routes_with_linkdown (conf/all or the device's): routes through
// a device without carrier stay and are shown linkdown; once it is set
// they are passed over (a broadcast route too, a local one not) and
// shown dead linkdown, as a 6.18 kernel does in a scratch namespace.
func TestRuntimeIgnoreRoutesWithLinkdown(t *testing.T) {
	w, c, path := emptyWorld(t)
	setUp(t, w, c, path, "netns add ns1", "-n ns1 link set lo up", "-n ns1 link add d0 type dummy", "-n ns1 link set d0 up",
		"-n ns1 addr add 198.18.7.1/24 dev d0", "-n ns1 link set d0 carrier off",
		"-n ns1 route add 198.18.8.0/24 via 198.18.7.2", "-n ns1 route add default via 198.18.7.3 metric 10 dev d0")
	set := func(name, v string) {
		for _, s := range w.Host("ns1").Stack.Sysctls() {
			if s.Name == name {
				if err := s.Set(v); err != nil {
					t.Fatal(err)
				}
				return
			}
		}
		t.Fatalf("no sysctl %s", name)
	}
	unreach := "RTNETLINK answers: Network is unreachable\n"
	steps := func(flag string, via, onlink, bcast ipStep) []ipStep {
		return []ipStep{
			{"-n ns1 route", "default via 198.18.7.3 dev d0 metric 10 " + flag + "\n198.18.7.0/24 dev d0 proto kernel scope link src 198.18.7.1 " + flag +
				"\n198.18.8.0/24 via 198.18.7.2 dev d0 " + flag + "\n", "", 0},
			via, onlink, bcast,
			{"-n ns1 route get 198.18.7.1", "local 198.18.7.1 dev lo src 198.18.7.1 uid 0 \n    cache <local> \n", "", 0},
		}
	}
	runSteps(t, w, c, path, steps("linkdown ",
		ipStep{"-n ns1 route get 198.18.8.5", "198.18.8.5 via 198.18.7.2 dev d0 src 198.18.7.1 uid 0 \n    cache \n", "", 0},
		ipStep{"-n ns1 route get 198.18.7.9", "198.18.7.9 dev d0 src 198.18.7.1 uid 0 \n    cache \n", "", 0},
		ipStep{"-n ns1 route get 198.18.7.255", "broadcast 198.18.7.255 dev d0 src 198.18.7.1 uid 0 \n    cache <local,brd> \n", "", 0}))
	for _, name := range []string{"net.ipv4.conf.all.ignore_routes_with_linkdown", "net.ipv4.conf.d0.ignore_routes_with_linkdown"} {
		set(name, "1")
		runSteps(t, w, c, path, steps("dead linkdown ",
			ipStep{"-n ns1 route get 198.18.8.5", "", unreach, 2},
			ipStep{"-n ns1 route get 198.18.7.9", "", unreach, 2},
			ipStep{"-n ns1 route get 198.18.7.255", "", unreach, 2}))
		set(name, "0")
	}
	setUp(t, w, c, path, "-n ns1 link set d0 carrier on")
	set("net.ipv4.conf.all.ignore_routes_with_linkdown", "1")
	runSteps(t, w, c, path, []ipStep{
		{"-n ns1 route get 198.18.8.5", "198.18.8.5 via 198.18.7.2 dev d0 src 198.18.7.1 uid 0 \n    cache \n", "", 0},
	})
}

// Realms (RTA_FLOW) on routes and on a multipath route's paths: shown as
// ip shows them, carried to route get's decision, selected with realm,
// a raw value past 255 taken whole; a delete naming no device or gateway
// ignores them, as a 6.18 kernel in a scratch namespace does.
func TestRuntimeRealms(t *testing.T) {
	w, c, path := emptyWorld(t)
	setUp(t, w, c, path, "netns add ns1", "-n ns1 link set lo up", "-n ns1 link add d0 type dummy", "-n ns1 link set d0 up",
		"-n ns1 addr add 198.18.7.1/24 dev d0",
		"-n ns1 route add 198.18.8.0/24 via 198.18.7.2 realms 3/4 metric 5",
		"-n ns1 route add 198.18.9.0/24 via 198.18.7.2 realm 5",
		"-n ns1 route add 198.18.10.0/24 nexthop via 198.18.7.2 realm 6 nexthop via 198.18.7.3 realms 1/2",
		"-n ns1 route add 198.18.11.0/24 via 198.18.7.2 realms 0/7",
		"-n ns1 route add 198.18.12.0/24 via 198.18.7.2 realm 70000")
	runSteps(t, w, c, path, []ipStep{
		{"-n ns1 route", "198.18.7.0/24 dev d0 proto kernel scope link src 198.18.7.1 \n198.18.8.0/24 via 198.18.7.2 dev d0 metric 5 realms 3/4 \n" +
			"198.18.9.0/24 via 198.18.7.2 dev d0 realm 5 \n198.18.10.0/24 \n\tnexthop via 198.18.7.2 realm 6 dev d0 weight 1 \n\tnexthop via 198.18.7.3 realms 1/2 dev d0 weight 1 \n" +
			"198.18.11.0/24 via 198.18.7.2 dev d0 realm 7 \n198.18.12.0/24 via 198.18.7.2 dev d0 realms 1/4464 \n", "", 0},
		{"-n ns1 -j route show 198.18.8.0/24", `[{"dst":"198.18.8.0/24","gateway":"198.18.7.2","dev":"d0","metric":5,"flags":[],"flow":{"from":"3","to":"4"}}]` + "\n", "", 0},
		{"-n ns1 -j route show 198.18.10.0/24", `[{"dst":"198.18.10.0/24","flags":[],"nexthops":[{"gateway":"198.18.7.2","flow":{"to":"6"},"dev":"d0","weight":1,"flags":[]},{"gateway":"198.18.7.3","flow":{"from":"1","to":"2"},"dev":"d0","weight":1,"flags":[]}]}]` + "\n", "", 0},
		{"-n ns1 route get 198.18.8.1", "198.18.8.1 via 198.18.7.2 dev d0 src 198.18.7.1 realms 3/4 uid 0 \n    cache \n", "", 0},
		{"-n ns1 route get 198.18.9.1", "198.18.9.1 via 198.18.7.2 dev d0 src 198.18.7.1 realm 5 uid 0 \n    cache \n", "", 0},
		{"-n ns1 route get 198.18.7.9", "198.18.7.9 dev d0 src 198.18.7.1 uid 0 \n    cache \n", "", 0},
		{"-n ns1 route show realm 5", "198.18.9.0/24 via 198.18.7.2 dev d0 realm 5 \n", "", 0},
		{"-n ns1 route show realm 4", "198.18.8.0/24 via 198.18.7.2 dev d0 metric 5 realms 3/4 \n", "", 0},
		{"-n ns1 route show realms 3/4", "198.18.8.0/24 via 198.18.7.2 dev d0 metric 5 \n", "", 0},
		{"-n ns1 route add 198.18.13.0/24 via 198.18.7.2 realm x1", "", "Error: argument \"x1\" is wrong: \"realm\" value is invalid\n\n", 255},
		{"-n ns1 route del 198.18.8.0/24 via 198.18.7.2 realm 9", "", "RTNETLINK answers: No such process\n", 2},
		{"-n ns1 route del 198.18.8.0/24 realm 9", "", "", 0},
		{"-n ns1 route del 198.18.8.0/24 realms 3/4", "", "RTNETLINK answers: No such process\n", 2},
	})
}

// A veth end is up with carrier only while its peer is up too (each
// end's PHY is powered down while its interface is down, as igb does it):
// an end up alone, its peer in the same namespace, is LOWERLAYERDOWN and
// M-DOWN, as a 6.18 kernel shows a veth pair in a scratch namespace.
func TestRuntimeVethCarrier(t *testing.T) {
	w, c, path := emptyWorld(t)
	runSteps(t, w, c, path, []ipStep{
		{"netns add ns1", "", "", 0},
		{"-n ns1 link add vethee type veth peer name vethff", "", "", 0},
		{"-n ns1 link set vethee up", "", "", 0},
		{"-n ns1 -br link", "lo               DOWN           00:00:00:00:00:00 <LOOPBACK> \nvethff@vethee    DOWN           02:76:6e:00:00:01 <BROADCAST,MULTICAST> \n" +
			"vethee@vethff    LOWERLAYERDOWN 02:76:6e:00:00:02 <NO-CARRIER,BROADCAST,MULTICAST,UP,M-DOWN> \n", "", 0},
		{"-n ns1 link set vethff up", "", "", 0},
		{"-n ns1 -br link", "lo               DOWN           00:00:00:00:00:00 <LOOPBACK> \nvethff@vethee    UP             02:76:6e:00:00:01 <BROADCAST,MULTICAST,UP,LOWER_UP> \n" +
			"vethee@vethff    UP             02:76:6e:00:00:02 <BROADCAST,MULTICAST,UP,LOWER_UP> \n", "", 0},
		{"-n ns1 link set vethff down", "", "", 0},
		{"-n ns1 -br link", "lo               DOWN           00:00:00:00:00:00 <LOOPBACK> \nvethff@vethee    DOWN           02:76:6e:00:00:01 <BROADCAST,MULTICAST> \n" +
			"vethee@vethff    LOWERLAYERDOWN 02:76:6e:00:00:02 <NO-CARRIER,BROADCAST,MULTICAST,UP,M-DOWN> \n", "", 0},
	})
}

// A rule's realms fill the halves a decision's route leaves zero
// (set_class_tag), as a 6.18 kernel's route get shows them.
func TestRuntimeRuleRealms(t *testing.T) {
	w, c, path := emptyWorld(t)
	setUp(t, w, c, path, "netns add ns1", "-n ns1 link set lo up", "-n ns1 link add d0 type dummy", "-n ns1 link set d0 up",
		"-n ns1 addr add 198.18.7.1/24 dev d0",
		"-n ns1 route add 198.18.9.0/24 via 198.18.7.2 realm 5", "-n ns1 route add 198.18.10.0/24 via 198.18.7.2",
		"-n ns1 rule add pref 100 to 198.18.8.0/21 lookup main realms 9/8")
	runSteps(t, w, c, path, []ipStep{
		{"-n ns1 rule show pref 100", "100:\tfrom all to 198.18.8.0/21 lookup main realms 9/8\n", "", 0},
		{"-n ns1 route get 198.18.9.1", "198.18.9.1 via 198.18.7.2 dev d0 src 198.18.7.1 realms 9/5 uid 0 \n    cache \n", "", 0},
		{"-n ns1 route get 198.18.10.1", "198.18.10.1 via 198.18.7.2 dev d0 src 198.18.7.1 realms 9/8 uid 0 \n    cache \n", "", 0},
		{"-n ns1 route get 198.18.7.9", "198.18.7.9 dev d0 src 198.18.7.1 uid 0 \n    cache \n", "", 0},
	})
}
