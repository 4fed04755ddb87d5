package conntrack

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"vnic/stack/ipv4"
	"vnic/stack/tcp"
	"vnic/stack/udp"
)

// The flows both sides make, all on 127.0.0.1: a UDP query answered
// (40000 → 5353), one unanswered (40002 → 5354, nobody listening), a TCP
// connection with 100 bytes sent (40001 → 8080), an ICMP echo.
const (
	udpAnswered   = 40000
	udpUnanswered = 40002
	tcpClient     = 40001
)

// TestMain runs the kernel side's traffic when the test binary is
// started for it inside a network namespace (VNIC_CT_TRAFFIC=1).
func TestMain(m *testing.M) {
	switch os.Getenv("VNIC_CT_TRAFFIC") {
	case "list":
		os.Exit(kernelTraffic(nil))
	case "events":
		os.Exit(kernelEvents())
	case "filters", "zonefilters":
		cases := filterCases
		if os.Getenv("VNIC_CT_TRAFFIC") == "zonefilters" {
			cases = zoneFilterCases
		}
		os.Exit(kernelTraffic(func() error {
			for _, args := range cases {
				cmd := exec.Command("/usr/sbin/conntrack", args...)
				var out, errb strings.Builder
				cmd.Stdout, cmd.Stderr = &out, &errb
				rc, err := exitCode(cmd.Run())
				if err != nil {
					return err
				}
				fmt.Print(filterResult(rc, out.String(), errb.String()))
			}
			return nil
		}))
	}
	os.Exit(m.Run())
}

// kernelTraffic makes the flows in the namespace it runs in, and, with
// them still open, runs then (nil: prints what conntrack -L says).
func kernelTraffic(then func() error) int {
	fail := func(err error) int { fmt.Fprintln(os.Stderr, err); return 1 }
	lo := func(port int) *net.UDPAddr { return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port} }
	srv, err := net.ListenUDP("udp4", lo(5353))
	if err != nil {
		return fail(err)
	}
	defer srv.Close()
	cli, err := net.DialUDP("udp4", lo(udpAnswered), lo(5353))
	if err != nil {
		return fail(err)
	}
	defer cli.Close()
	buf := make([]byte, 64)
	cli.Write([]byte("query"))
	srv.SetReadDeadline(time.Now().Add(2 * time.Second))
	_, from, err := srv.ReadFromUDP(buf)
	if err != nil {
		return fail(err)
	}
	srv.WriteToUDP([]byte("answer"), from)
	cli.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := cli.Read(buf); err != nil {
		return fail(err)
	}
	lone, err := net.DialUDP("udp4", lo(udpUnanswered), lo(5354))
	if err != nil {
		return fail(err)
	}
	defer lone.Close()
	lone.Write([]byte("query"))
	ln, err := net.ListenTCP("tcp4", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080})
	if err != nil {
		return fail(err)
	}
	defer ln.Close()
	c, err := net.DialTCP("tcp4", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: tcpClient}, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080})
	if err != nil {
		return fail(err)
	}
	defer c.Close()
	s, err := ln.Accept()
	if err != nil {
		return fail(err)
	}
	defer s.Close()
	c.Write(make([]byte, 100))
	s.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := s.Read(buf); err != nil {
		return fail(err)
	}
	if err := rawPing(); err != nil {
		return fail(err)
	}
	time.Sleep(100 * time.Millisecond) // the last ACKs and the echo reply
	if then != nil {
		if err := then(); err != nil {
			return fail(err)
		}
		return 0
	}
	out, err := exec.Command("/usr/sbin/conntrack", "-L").Output()
	if err != nil {
		return fail(err)
	}
	os.Stdout.Write(out)
	return 0
}

// kernelEvents runs conntrack -E while the flows are made and then
// deleted (conntrack -D), and prints the events. Probe datagrams (to
// port 39998) show that -E has subscribed before the flows start.
func kernelEvents() int {
	fail := func(err error) int { fmt.Fprintln(os.Stderr, err); return 1 }
	ev := exec.Command("/usr/sbin/conntrack", "-E")
	var out lockedBuffer
	ev.Stdout = &out
	if err := ev.Start(); err != nil {
		return fail(err)
	}
	defer ev.Process.Kill()
	wait := func(what string, ok func(string) bool) error {
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if ok(out.String()) {
				return nil
			}
		}
		return fmt.Errorf("conntrack -E: no %s in %q", what, out.String())
	}
	// Each probe is a new flow (its own source port), so that one sent
	// after -E subscribed makes an event.
	for i := 0; i < 100 && !strings.Contains(out.String(), "dport=39998"); i++ {
		probe, err := net.DialUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 39000 + i}, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 39998})
		if err != nil {
			return fail(err)
		}
		probe.Write([]byte("probe"))
		probe.Close()
		time.Sleep(50 * time.Millisecond)
	}
	if err := wait("probe", func(s string) bool { return strings.Contains(s, "dport=39998") }); err != nil {
		return fail(err)
	}
	probes := strings.Count(out.String(), "dport=39998")
	return kernelTraffic(func() error {
		if err := exec.Command("/usr/sbin/conntrack", "-D").Run(); err != nil {
			return err
		}
		if err := wait("destroys", func(s string) bool { return strings.Count(s, "[DESTROY]") >= 4+probes }); err != nil {
			return err
		}
		ev.Process.Signal(syscall.SIGTERM)
		ev.Wait()
		for _, line := range lines(out.String()) {
			if !strings.Contains(line, "dport=39998") {
				fmt.Println(line)
			}
		}
		return nil
	})
}

// rawPing sends one ICMP echo to 127.0.0.1 over a raw socket (the kernel
// answers it) and waits for the reply.
func rawPing() error {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_RAW, syscall.IPPROTO_ICMP)
	if err != nil {
		return err
	}
	defer syscall.Close(fd)
	msg := []byte{8, 0, 0, 0, 0x12, 0x34, 0, 1, 'p', 'i', 'n', 'g'}
	var sum uint32
	for i := 0; i < len(msg); i += 2 {
		sum += uint32(msg[i])<<8 | uint32(msg[i+1])
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	binary.BigEndian.PutUint16(msg[2:], ^uint16(sum))
	if err := syscall.Sendto(fd, msg, 0, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		return err
	}
	tv := syscall.Timeval{Sec: 2}
	syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv)
	buf := make([]byte, 256)
	for range 4 { // our echo, then its reply
		n, _, err := syscall.Recvfrom(fd, buf, 0)
		if err != nil {
			return err
		}
		if n > 20 && buf[20] == 0 {
			return nil
		}
	}
	return errors.New("no echo reply")
}

// vnicLoopbackFlows makes the same flows over host r's loopback.
func vnicLoopbackFlows(t *testing.T, g *rig) {
	in := g.in("r")
	lo := func(port uint16) netip.AddrPort { return netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port) }
	srv, err := udp.Of(in).Listen(lo(5353))
	if err != nil {
		t.Fatal(err)
	}
	cli, err := udp.Of(in).Listen(lo(udpAnswered))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cli.SendTo([]byte("query"), lo(5353)); err != nil {
		t.Fatal(err)
	}
	g.w.Run(time.Millisecond)
	if _, err := srv.SendTo([]byte("answer"), lo(udpAnswered)); err != nil {
		t.Fatal(err)
	}
	lone, err := udp.Of(in).Listen(lo(udpUnanswered))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lone.SendTo([]byte("query"), lo(5354)); err != nil {
		t.Fatal(err)
	}
	l := tcp.Of(in).NewSocket()
	if err := l.Bind(lo(8080)); err != nil {
		t.Fatal(err)
	}
	if err := l.Listen(4); err != nil {
		t.Fatal(err)
	}
	c := tcp.Of(in).NewSocket()
	if err := c.Bind(lo(tcpClient)); err != nil {
		t.Fatal(err)
	}
	if err := c.Connect(lo(8080)); !errors.Is(err, syscall.EINPROGRESS) {
		t.Fatal(err)
	}
	g.w.Run(10 * time.Millisecond)
	if _, err := c.Write(make([]byte, 100)); err != nil {
		t.Fatal(err)
	}
	p, err := in.OpenPing()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.SendEcho(netip.MustParseAddr("127.0.0.1"), 1, []byte("ping"), ipv4.PingOptions{}); err != nil {
		t.Fatal(err)
	}
	g.w.Run(100 * time.Millisecond)
}

// fields splits a conntrack -L line into its words.
func fields(line string) []string { return strings.Fields(line) }

// flowKey names a line by its protocol and its original source port
// (ICMP: its type), which both sides share.
func flowKey(line string) string {
	f := fields(line)
	for _, w := range f {
		if strings.HasPrefix(w, "sport=") || strings.HasPrefix(w, "type=") {
			return f[0] + " " + w
		}
	}
	return f[0]
}

// TestKernelConntrackList: the same flows on 127.0.0.1 in a network
// namespace of Linux's and on a vnic host print, with conntrack -L and
// vnic's conntrack -L, the same lines word for word: the words in the
// same order and the same values, but for the timeouts (±1 s: the two
// clocks) and the ICMP id (each stack picks its own).
func TestKernelConntrackList(t *testing.T) {
	for _, acct := range []bool{false, true} {
		t.Run(fmt.Sprintf("acct=%v", acct), func(t *testing.T) { kernelList(t, acct, false) })
	}
	// The flows in zones (raw table CT rules): zone=, zone-orig=,
	// zone-reply= where the kernel prints them.
	t.Run("zones", func(t *testing.T) { kernelList(t, true, true) })
}

// kernelList is one comparison, with net.netfilter.nf_conntrack_acct on
// or off on both sides, the flows in zones (zoneRules) or not.
func kernelList(t *testing.T, acct, zoned bool) {
	out := kernelSide(t, "list", acct, zoned)
	kernel := map[string]string{}
	for _, line := range lines(out) {
		kernel[flowKey(line)] = line
	}

	g := newRig(t)
	if acct {
		cfg := g.r.Config()
		cfg.Acct = true
		g.r.SetConfig(cfg)
	}
	if zoned {
		g.zoneRules()
	}
	vnicLoopbackFlows(t, g)
	code, vout, verr := g.conntrack("-L")
	if code != 0 {
		t.Fatalf("vnic conntrack -L: %d %s", code, verr)
	}
	vnic := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(vout), "\n") {
		vnic[flowKey(line)] = line
	}
	keys := func(m map[string]string) []string {
		var k []string
		for key := range m {
			k = append(k, key)
		}
		sort.Strings(k)
		return k
	}
	if fmt.Sprint(keys(kernel)) != fmt.Sprint(keys(vnic)) {
		t.Fatalf("flows differ:\nkernel:\n%s\nvnic:\n%s", out, vout)
	}
	if len(kernel) != 4 {
		t.Fatalf("the kernel tracked %d flows, want 4:\n%s", len(kernel), out)
	}
	t.Logf("kernel:\n%svnic:\n%s", out, vout)
	for _, key := range keys(kernel) {
		kf, vf := fields(kernel[key]), fields(vnic[key])
		if len(kf) != len(vf) {
			t.Errorf("%s: %d words, kernel %d:\nvnic:   %s\nkernel: %s", key, len(vf), len(kf), vnic[key], kernel[key])
			continue
		}
		for i := range kf {
			k, v := kf[i], vf[i]
			if i == 2 { // the timeout
				a, _ := strconv.Atoi(k)
				b, _ := strconv.Atoi(v)
				if a-b > 1 || b-a > 1 {
					t.Errorf("%s: timeout %s, kernel %s", key, v, k)
				}
				continue
			}
			if strings.HasPrefix(k, "id=") && strings.HasPrefix(v, "id=") {
				continue
			}
			if k != v {
				t.Errorf("%s: word %d is %q, kernel's %q:\nvnic:   %s\nkernel: %s", key, i, v, k, vnic[key], kernel[key])
			}
		}
	}
}

// eventKey names an event line by its protocol and original source port
// (ICMP: its type).
func eventKey(line string) string {
	f := fields(line)
	for _, w := range f {
		if strings.HasPrefix(w, "sport=") || strings.HasPrefix(w, "type=") {
			return f[1] + " " + w
		}
	}
	return line
}

// userspace is what the kernel adds to an event a userspace request
// caused (the requester's port id and program), which vnic cannot tell.
var userspace = regexp.MustCompile(` \[USERSPACE\] portid=\d+( progname=\S+)?$`)

// TestKernelConntrackEvents: the same flows on 127.0.0.1, then
// conntrack -D, print with conntrack -E on Linux and vnic's conntrack -E
// the same events for each flow, in the same order, word for word (the
// timeouts ±1 s, the ICMP id aside; the kernel's [USERSPACE] suffix is
// left out).
func TestKernelConntrackEvents(t *testing.T) {
	for _, zoned := range []bool{false, true} {
		t.Run(fmt.Sprintf("zones=%v", zoned), func(t *testing.T) { kernelEventsCompare(t, zoned) })
	}
}

// kernelEventsCompare is one events comparison, the flows in zones or
// not (a zone of one direction must be named by -D's request for the
// delete to find the entry).
func kernelEventsCompare(t *testing.T, zoned bool) {
	out := kernelSide(t, "events", false, zoned)
	kernel := map[string][]string{}
	for _, line := range lines(out) {
		line = userspace.ReplaceAllString(line, "")
		k := eventKey(line)
		// Once in a while the kernel's -E printed one destroy twice;
		// an entry is destroyed once.
		if l := kernel[k]; len(l) > 0 && l[len(l)-1] == line && strings.HasPrefix(line, "[DESTROY]") {
			continue
		}
		kernel[k] = append(kernel[k], line)
	}

	g := newRig(t)
	if zoned {
		g.zoneRules()
	}
	_, vout, verr := g.events(nil, func() {
		vnicLoopbackFlows(t, g)
		if c, _, e := g.conntrack("-D"); c != 0 {
			t.Fatal(e)
		}
	}, func(out string) bool { return strings.Count(out, "[DESTROY]") >= 4 })
	vnic := map[string][]string{}
	for _, line := range lines(vout) {
		vnic[eventKey(line)] = append(vnic[eventKey(line)], line)
	}
	t.Logf("kernel:\n%s\nvnic:\n%s%s", out, vout, verr)
	if len(kernel) != 4 || len(vnic) != 4 {
		t.Fatalf("%d flows' events from the kernel, %d from vnic, want 4", len(kernel), len(vnic))
	}
	for key, kl := range kernel {
		vl := vnic[key]
		if len(vl) != len(kl) {
			t.Errorf("%s: %d events, kernel %d:\nvnic:\n%s\nkernel:\n%s", key, len(vl), len(kl), strings.Join(vl, "\n"), strings.Join(kl, "\n"))
			continue
		}
		for i := range kl {
			kf, vf := fields(kl[i]), fields(vl[i])
			if len(kf) != len(vf) {
				t.Errorf("%s event %d:\nvnic:   %s\nkernel: %s", key, i, vl[i], kl[i])
				continue
			}
			for j := range kf {
				k, v := kf[j], vf[j]
				if j == 3 {
					a, _ := strconv.Atoi(k)
					b, _ := strconv.Atoi(v)
					if a-b > 1 || b-a > 1 {
						t.Errorf("%s event %d: timeout %s, kernel %s", key, i, v, k)
					}
					continue
				}
				if strings.HasPrefix(k, "id=") && strings.HasPrefix(v, "id=") {
					continue
				}
				if k != v {
					t.Errorf("%s event %d: word %d is %q, kernel's %q:\nvnic:   %s\nkernel: %s", key, i, j, v, k, vl[i], kl[i])
				}
			}
		}
	}
}

// filterCases are filters and gets over the loopback flows; but for the
// last, none changes the table (the -D and -U ones match nothing to
// change).
var filterCases = [][]string{
	{"-L", "-p", "tcp"}, {"-L", "-p", "udp", "--dport", "5353"}, {"-L", "-p", "udp", "--reply-port-src", "5354"},
	{"-L", "-s", "127.0.0.0/8"}, {"-L", "-d", "10.0.0.0/8"}, {"-L", "-s", "127.0.0.1", "--mask-src", "255.0.0.0"},
	{"-L", "-s", "127.1.2.3", "--mask-src", "255.255.0.0"}, {"-L", "-r", "127.0.0.1", "-p", "udp"},
	{"-L", "-q", "10.1.1.1"}, {"-L", "-u", "UNREPLIED"}, {"-L", "-u", "ASSURED"}, {"-L", "-u", "!ASSURED"},
	{"-L", "-u", "SEEN_REPLY,!ASSURED"}, {"-L", "-u", "SEEN_REPLY"}, {"-L", "-u", "UNREPLIED,ASSURED"},
	{"-L", "-m", "0"}, {"-L", "-m", "1"}, {"-L", "-m", "1/0"}, {"-L", "-m", "0x10/0xf"}, {"-L", "-f", "ipv6"},
	{"-L", "-f", "ipv4", "-p", "icmp", "--icmp-type", "8"}, {"-L", "-p", "icmp", "--icmp-type", "0"},
	{"-L", "-p", "icmp", "--icmp-code", "0"}, {"-L", "-p", "tcp", "--state", "ESTABLISHED"},
	{"-L", "-p", "tcp", "--state", "SYN_SENT"}, {"-L", "-p", "tcp", "--sport", "40001", "--dport", "8080"},
	{"-L", "-p", "tcp", "--reply-port-dst", "40001"}, {"-L", "-w", "0"}, {"-L", "-w", "1"},
	{"-L", "--orig-zone", "0"}, {"-L", "--reply-zone", "1"}, {"-L", "-n"}, {"-L", "-g"}, {"-L", "-j"},
	{"-L", "-n", "127.0.0.1"}, {"-L", "-g", "127.0.0.1:8080"}, {"-L", "-c", "5"}, {"-L", "-p", "6"},
	{"-L", "-p", "17", "-s", "127.0.0.1", "-d", "127.0.0.1"}, {"-L", "-p", "sctp"},
	{"-G", "-p", "udp", "-s", "127.0.0.1", "-d", "127.0.0.1", "--sport", "40000", "--dport", "5353"},
	{"-G", "-p", "udp", "-s", "127.0.0.1", "-d", "127.0.0.1", "--sport", "5353", "--dport", "40000"},
	{"-G", "-p", "tcp", "-s", "127.0.0.1", "-d", "127.0.0.1", "--sport", "40001", "--dport", "8080", "--state", "SYN_SENT"},
	{"-G", "-p", "tcp", "-r", "127.0.0.1", "-q", "127.0.0.1", "--reply-port-src", "8080", "--reply-port-dst", "40001"},
	{"-G", "-p", "udp", "-s", "127.0.0.1", "-d", "127.0.0.1", "--sport", "40002", "--dport", "5354", "-i", "1"},
	{"-D", "-p", "tcp", "--state", "SYN_SENT"}, {"-D", "-m", "9"}, {"-D", "-u", "FIXED_TIMEOUT"},
	{"-U", "-m", "0"}, {"-U", "-p", "udp", "--sport", "1", "-m", "5"},
	{"-E", "-z"}, {"-L", "-z", "-p", "tcp"},
	// Last: -t is not one of -D's filters (CT_COMPARISON), so this
	// deletes every entry, on Linux as on vnic.
	{"-D", "-t", "5"}, {"-L"},
}

// filterResult is what a filter case is compared by: its status, the
// flows it printed (by key, sorted), its last line on stderr.
func filterResult(rc int, out, errs string) string {
	var keys []string
	for _, l := range lines(out) {
		keys = append(keys, flowKey(l))
	}
	sort.Strings(keys)
	el := lines(errs)
	last := ""
	if len(el) > 0 {
		last = el[len(el)-1]
	}
	return fmt.Sprintf("rc=%d flows=%q stderr=%q\n", rc, keys, last)
}

// TestKernelConntrackFilters: conntrack's filters and gets, run by Linux's
// conntrack over the kernel's table of the loopback flows and by vnic's
// over vnic's, keep the same flows and end the same.
func TestKernelConntrackFilters(t *testing.T) {
	t.Run("default zone", func(t *testing.T) { kernelFilters(t, "filters", filterCases, false) })
	t.Run("zones", func(t *testing.T) { kernelFilters(t, "zonefilters", zoneFilterCases, true) })
}

// kernelFilters runs cases on both sides (mode is the kernel side's).
func kernelFilters(t *testing.T, mode string, cases [][]string, zoned bool) {
	out := kernelSide(t, mode, false, zoned)
	kernel := lines(out)
	if len(kernel) != len(cases) {
		t.Fatalf("%d results from the kernel side, want %d:\n%s", len(kernel), len(cases), out)
	}
	g := newRig(t)
	if zoned {
		g.zoneRules()
	}
	vnicLoopbackFlows(t, g)
	for i, args := range cases {
		code, vout, verr := g.conntrack(args...)
		if got := strings.TrimSuffix(filterResult(code, vout, verr), "\n"); got != kernel[i] {
			t.Errorf("conntrack %s:\nvnic:   %s\nkernel: %s", strings.Join(args, " "), got, kernel[i])
		}
	}
}

// kernelSide runs the test binary in a fresh namespace whose traffic is
// tracked, as the kernel side of a comparison (VNIC_CT_TRAFFIC=mode),
// and returns what it printed. acct turns nf_conntrack_acct on first;
// zoned loads zoneRules.
func kernelSide(t *testing.T, mode string, acct, zoned bool) string {
	t.Helper()
	ns := netns(t)
	_, err := exec.LookPath("iptables")
	need(t, err == nil, "no iptables (a rule makes the namespace's traffic tracked)")
	// A rule that uses tracking registers conntrack's hooks in the
	// namespace (nf_ct_netns_get), as vnic's host config does.
	nsRun(t, ns, "iptables", "-A", "INPUT", "-m", "conntrack", "--ctstate", "NEW,ESTABLISHED,RELATED", "-j", "ACCEPT")
	if acct {
		nsRun(t, ns, "sysctl", "-qw", "net.netfilter.nf_conntrack_acct=1")
	}
	if zoned {
		for _, r := range zoneRules {
			nsRun(t, ns, append([]string{"iptables", "-t", "raw", "-A", "OUTPUT"}, r.args()...)...)
		}
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("ip", "netns", "exec", ns, self, "-test.run=^$")
	cmd.Env = append(os.Environ(), "VNIC_CT_TRAFFIC="+mode)
	var kerr strings.Builder
	cmd.Stderr = &kerr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kernel side: %v: %s", err, kerr.String())
	}
	return string(out)
}

// exitCode is a finished command's status (an error that is not an exit
// status is returned).
func exitCode(err error) (int, error) {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), nil
	}
	return 0, err
}
