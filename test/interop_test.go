//go:build linux

package test

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"vnic/hw"
	"vnic/internal/topo"
	"vnic/stack"
	"vnic/stack/inet"
	"vnic/stack/ipv4"
	"vnic/stack/neigh"
	"vnic/stack/udp"
)

// kernelNetns makes an empty namespace (loopback up) removed at the end.
func kernelNetns(t *testing.T, ip, name string) string {
	t.Helper()
	ns := fmt.Sprintf("vnic-%s-%d", name, os.Getpid())
	ipRun(t, ip, "netns", "add", ns)
	t.Cleanup(func() { exec.Command(ip, "netns", "del", ns).Run() })
	ipRun(t, ip, "-n", ns, "link", "set", "lo", "up")
	return ns
}

func ipRun(t *testing.T, ip string, args ...string) string {
	t.Helper()
	out, err := exec.Command(ip, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// inNetnsDo runs fn on a thread inside namespace ns (sockets made there
// belong to it).
func inNetnsDo(ns string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		self, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer self.Close()
		target, err := os.Open("/var/run/netns/" + ns)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		err = fn()
		if unix.Setns(int(self.Fd()), unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		errc <- err
	}()
	return <-errc
}

// tapWorld builds a real-time topology and captures each TAP port's wire.
func tapWorld(t *testing.T, cfg topo.Config) (*topo.World, []string) {
	t.Helper()
	w, err := topo.Build(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var files []string
	for _, h := range w.Hosts {
		for _, d := range h.Devices {
			if d.Port == nil {
				continue
			}
			name := filepath.Join(dir, h.Name+"-"+d.Netdev.Name()+"-wire.pcap")
			d.Port.Tap(pcapFile(t, name))
			files = append(files, name)
		}
	}
	t.Cleanup(func() { w.Close() })
	return w, files
}

// pcapFile creates capture file name, closed when the test ends (what is
// written is in the file at once: tshark may read it before).
func pcapFile(t *testing.T, name string) *hw.PcapWriter {
	t.Helper()
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	pw, err := hw.NewPcapWriter(f, 0)
	if err != nil {
		t.Fatal(err)
	}
	return pw
}

// kernelTAP is a vnic host, h1, whose one device's port is a TAP in a
// namespace of the kernel's: the two ends of one cable, vnic at .2 and
// the kernel at .1 of a /24, the wire captured at vnic's port.
type kernelTAP struct {
	ip, ns       string
	w            *topo.World
	files        []string // the wire's captures
	h            *stack.Host
	dev          *stack.NetDevice
	ifname       string // the TAP, in ns
	vnic, kernel string // the ends' addresses
	// vnicLoss is the netem dropping on vnic's egress (nil: none).
	vnicLoss *stack.Qdisc
	// kernelLoss is what drops on the kernel's egress (nil: nothing).
	kernelLoss *kernelLoss
}

// tapSpec says what newKernelTAP builds.
type tapSpec struct {
	name   string // the namespace's (kernelNetns)
	ifname string // the TAP's
	subnet string // the /24's first three octets, "198.18.7"
	vnet   bool   // IFF_VNET_HDR and the offloads
	// rings sizes vnic's rx and tx rings (0: the driver's default). Deep
	// rings keep the kernel's bursts from overrunning vnic's receive ring,
	// so that a capture shows no loss of vnic's making.
	rings int
	// vnicLoss drops this percentage of what vnic sends (vnicEgressLoss),
	// kernelLoss of the TCP the kernel sends (kernelEgressLoss); 0: none.
	vnicLoss, kernelLoss int
}

// newKernelTAP builds s: the namespace, the world (closed when the test
// ends) and the kernel's side of the TAP addressed and up.
func newKernelTAP(t *testing.T, s tapSpec) *kernelTAP {
	t.Helper()
	ip := requireNetns(t)
	ns := kernelNetns(t, ip, s.name)
	cfg := topo.Config{Seed: 1, Hosts: []topo.HostConfig{{Name: "h1", CPUs: 1,
		Devices: []topo.DeviceConfig{{Name: "vnic0", Queues: 1, RxRing: s.rings, TxRing: s.rings, Addresses: []string{s.subnet + ".2/24"},
			Port: topo.PortConfig{Type: "tap", Ifname: s.ifname, Netns: ns, VnetHdr: s.vnet}}}}}}
	w, files := tapWorld(t, cfg)
	k := &kernelTAP{ip: ip, ns: ns, w: w, files: files, h: w.Host("h1").Stack, dev: w.Host("h1").Devices[0].Netdev,
		ifname: s.ifname, vnic: s.subnet + ".2", kernel: s.subnet + ".1"}
	if s.vnicLoss != 0 {
		k.vnicLoss = vnicEgressLoss(t, k.dev, uint32(s.vnicLoss))
	}
	kdev := s.ifname
	if s.kernelLoss != 0 {
		k.kernelLoss = kernelEgressLoss(t, ip, ns, s.ifname, s.kernelLoss)
		kdev = k.kernelLoss.dev
	}
	ipRun(t, ip, "-n", ns, "addr", "add", k.kernel+"/24", "dev", kdev)
	ipRun(t, ip, "-n", ns, "link", "set", s.ifname, "up")
	ipRun(t, ip, "-n", ns, "link", "set", kdev, "up")
	return k
}

// kping runs the kernel's ping in ns and returns its output and status.
func kping(t *testing.T, ip, ns string, args ...string) (string, int) {
	t.Helper()
	r := inNetns(t, ip, ns, append([]string{"ping", "-n"}, args...)...)
	return r.out, r.rc
}

// vping sends count echo requests of size bytes from in and waits for each
// answer; it returns the replies.
func vping(t *testing.T, in *ipv4.Inet, dst string, size, count int, o ipv4.PingOptions) []ipv4.PingMsg {
	t.Helper()
	c, err := in.OpenPing()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var got []ipv4.PingMsg
	for seq := 1; seq <= count; seq++ {
		if err := c.SendEcho(netip.MustParseAddr(dst), uint16(seq), make([]byte, size), o); err != nil {
			t.Fatalf("ping -s %d %s: %v", size, dst, err)
		}
		m, err := c.Wait(time.Now().Add(3 * time.Second))
		if err != nil {
			t.Fatalf("ping -s %d %s seq %d: %v", size, dst, seq, err)
		}
		got = append(got, m)
	}
	return got
}

// tsharkClean fails the test if any capture is empty or tshark finds a
// problem in it (tsharkProblems).
func tsharkClean(t *testing.T, files []string) {
	t.Helper()
	for _, f := range files {
		if s := tsharkProblems(t, f); s != "" {
			t.Errorf("tshark finds problems in %s:\n%s", filepath.Base(f), s)
		}
		n, err := tsharkRead(t, f, "-T", "fields", "-e", "frame.number").Output()
		if err != nil || len(strings.Fields(string(n))) == 0 {
			t.Errorf("%s: no frames captured (%v)", filepath.Base(f), err)
		}
	}
}

// tsharkProblems lists the frames of capture f that tshark finds
// malformed, with an error, or with a bad IP, UDP, TCP or ICMP checksum.
// A TCP checksum of 0xFFFF is not bad: the kernel's software checksum
// (skb_checksum_help) writes a sum that folds to zero as 0xFFFF
// (CSUM_MANGLED_0), the other zero of one's complement, which receivers
// accept; tshark calls it Bad, with a warning of its own
// (tcp.checksum.ffff), left out here.
func tsharkProblems(t *testing.T, f string) string {
	t.Helper()
	cmd := tsharkRead(t, f, "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE",
		"-Y", "_ws.malformed || _ws.expert.severity == error || ip.checksum.status == \"Bad\" || udp.checksum.status == \"Bad\" || "+
			"(tcp.checksum.status == \"Bad\" && !tcp.checksum.ffff) || icmp.checksum.status == \"Bad\"")
	var stderr strings.Builder
	cmd.Stderr = &stderr // tshark warns about running as root there
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark %s: %v: %s", f, err, stderr.String())
	}
	return strings.TrimSpace(string(out))
}

// tsharkRead is tshark reading capture f with args, as the TAP tests
// read theirs: no name resolution; TCP's payload not reassembled (the
// reassembly of 4 MiB HTTP bodies costs tshark seconds and checks
// nothing here: TCP's analysis and checksums are per segment); iperf3's
// port decoded as plain data (its streams are random bytes, which
// tshark's heuristic dissectors otherwise take for a protocol, Thrift,
// and find malformed).
func tsharkRead(t *testing.T, f string, args ...string) *exec.Cmd {
	t.Helper()
	return exec.Command(requireTool(t, "tshark"), append([]string{"-n", "-r", f,
		"-o", "tcp.desegment_tcp_streams:FALSE", "-d", "tcp.port==5201,data"}, args...)...)
}

// The Linux kernel as the peer of a vnic host over a TAP: pings both
// ways from 56 to 65,000 bytes (fragmented both ways), UDP both ways,
// port unreachable seen by the kernel, ARP both ways, clean captures.
//
// With vnet headers (IFF_VNET_HDR and checksum/TSO offload asked of the
// kernel) the kernel leaves UDP checksums to the port, which finishes them.
func TestKernelPeerOverTAP(t *testing.T) {
	for _, vnet := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "vnet_hdr"}[vnet], func(t *testing.T) { kernelPeer(t, vnet) })
	}
}

func kernelPeer(t *testing.T, vnet bool) {
	ip := requireNetns(t)
	requireTool(t, "ping")
	ns := kernelNetns(t, ip, "peer")
	cfg := topo.Config{Seed: 1, Hosts: []topo.HostConfig{{Name: "h1", CPUs: 1,
		Devices: []topo.DeviceConfig{{Name: "vnic0", Queues: 1, Addresses: []string{"198.18.5.2/24"},
			Port: topo.PortConfig{Type: "tap", Ifname: "vt0", Netns: ns, VnetHdr: vnet}}},
		Routes: []string{"default via 198.18.5.1"}}}}
	w, files := tapWorld(t, cfg)
	ipRun(t, ip, "-n", ns, "addr", "add", "198.18.5.1/24", "dev", "vt0")
	ipRun(t, ip, "-n", ns, "link", "set", "vt0", "up")
	h1 := w.Host("h1")
	in := ipv4.Of(h1.Stack)
	vnicMAC := h1.Devices[0].Netdev.Addr()

	for _, size := range []string{"56", "1472", "4000", "65000"} {
		out, rc := kping(t, ip, ns, "-c", "2", "-i", "0.2", "-W", "3", "-s", size, "198.18.5.2")
		if rc != 0 || !strings.Contains(out, "2 packets transmitted, 2 received") {
			t.Fatalf("kernel ping -s %s: rc %d\n%s", size, rc, out)
		}
	}
	for _, size := range []int{56, 1472, 4000, 65000} {
		for _, m := range vping(t, in, "198.18.5.1", size, 2, ipv4.PingOptions{}) {
			if m.IsError || m.Type != ipv4.ICMPEchoReply || m.Len != size+8 || m.From != netip.MustParseAddr("198.18.5.1") {
				t.Fatalf("vnic ping -s %d: %+v", size, m)
			}
		}
	}
	if s := in.Stats.Snapshot(); s.ReasmOKs == 0 || s.FragCreates == 0 {
		t.Errorf("no fragments went both ways: %+v", s)
	}

	// UDP both ways, small and fragmented.
	vconn, err := inet.ListenPacket(in.Host(), "udp4", "0.0.0.0:7000")
	if err != nil {
		t.Fatal(err)
	}
	defer vconn.Close()
	var kconn *net.UDPConn
	if err := inNetnsDo(ns, func() (err error) {
		kconn, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(198, 18, 5, 1), Port: 7001})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer kconn.Close()
	for _, n := range []int{5, 3000} {
		msg := []byte(strings.Repeat("k", n))
		if _, err := kconn.WriteToUDP(msg, &net.UDPAddr{IP: net.IPv4(198, 18, 5, 2), Port: 7000}); err != nil {
			t.Fatal(err)
		}
		vconn.SetReadDeadline(time.Now().Add(3 * time.Second))
		buf := make([]byte, 70000)
		got, from, err := vconn.ReadFrom(buf)
		if err != nil || got != n || from.String() != "198.18.5.1:7001" {
			t.Fatalf("kernel → vnic UDP %d: %d from %v: %v", n, got, from, err)
		}
		reply := []byte(strings.Repeat("v", n))
		if _, err := vconn.WriteTo(reply, from); err != nil {
			t.Fatal(err)
		}
		kconn.SetReadDeadline(time.Now().Add(3 * time.Second))
		got, kfrom, err := kconn.ReadFromUDP(buf)
		if err != nil || got != n || kfrom.String() != "198.18.5.2:7000" || string(buf[:got]) != string(reply) {
			t.Fatalf("vnic → kernel UDP %d: %d from %v: %v", n, got, kfrom, err)
		}
	}

	// Port unreachable: a connected kernel socket hears ECONNREFUSED.
	var refused error
	if err := inNetnsDo(ns, func() error {
		c, err := net.DialUDP("udp4", nil, &net.UDPAddr{IP: net.IPv4(198, 18, 5, 2), Port: 9})
		if err != nil {
			return err
		}
		defer c.Close()
		c.Write([]byte("anyone?"))
		c.SetReadDeadline(time.Now().Add(3 * time.Second))
		_, refused = c.Read(make([]byte, 10))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(refused, syscall.ECONNREFUSED) {
		t.Errorf("kernel UDP to a closed vnic port: %v, want connection refused", refused)
	}
	if s := udp.Of(in).Stats.Snapshot(); s.NoPorts != 1 || s.InCsumErrors != 0 {
		t.Errorf("vnic UDP counters %+v", s)
	}

	// ARP both ways.
	if out := ipRun(t, ip, "-n", ns, "neigh", "show", "198.18.5.2", "dev", "vt0"); !strings.Contains(out, "lladdr "+vnicMAC.String()) {
		t.Errorf("kernel neighbour: %q, want lladdr %v", out, vnicMAC)
	}
	kmac := strings.TrimSpace(ipRun(t, ip, "-n", ns, "-br", "link", "show", "vt0"))
	n, ok := in.ARP(h1.Devices[0].Netdev).Lookup([4]byte{198, 18, 5, 1})
	if !ok || n.State&(neigh.NUDReachable|neigh.NUDStale|neigh.NUDDelay|neigh.NUDProbe) == 0 || !strings.Contains(kmac, n.MAC.String()) {
		t.Errorf("vnic neighbour %+v, kernel link %q", n, kmac)
	}
	w.Close()
	tsharkClean(t, files)
}

// A vnic host routes between two kernel namespaces: pings pass with the
// TTL down by one, TTL 1 is answered with time exceeded, and a DF packet
// too big for the 1280-byte side gets fragmentation needed, which the
// kernel caches as the path MTU.
func TestKernelVnicRouter(t *testing.T) {
	ip := requireNetns(t)
	requireTool(t, "ping")
	a, b := kernelNetns(t, ip, "ra"), kernelNetns(t, ip, "rb")
	cfg := topo.Config{Seed: 1, Hosts: []topo.HostConfig{{Name: "r", CPUs: 2, Forwarding: true,
		Devices: []topo.DeviceConfig{
			{Name: "vnic0", Queues: 1, Addresses: []string{"198.18.10.1/24"}, Port: topo.PortConfig{Type: "tap", Ifname: "vta", Netns: a}},
			{Name: "vnic1", Queues: 1, Addresses: []string{"198.18.11.1/24"}, MTU: 1280, Port: topo.PortConfig{Type: "tap", Ifname: "vtb", Netns: b}},
		}}}}
	w, files := tapWorld(t, cfg)
	for _, s := range []struct{ ns, dev, addr, gw string }{{a, "vta", "198.18.10.2/24", "198.18.10.1"}, {b, "vtb", "198.18.11.2/24", "198.18.11.1"}} {
		ipRun(t, ip, "-n", s.ns, "addr", "add", s.addr, "dev", s.dev)
		ipRun(t, ip, "-n", s.ns, "link", "set", s.dev, "up")
		ipRun(t, ip, "-n", s.ns, "route", "add", "default", "via", s.gw)
	}
	ipRun(t, ip, "-n", b, "link", "set", "vtb", "mtu", "1280")

	out, rc := kping(t, ip, a, "-c", "2", "-i", "0.2", "-W", "3", "198.18.11.2")
	if rc != 0 || !regexp.MustCompile(`icmp_seq=1 ttl=63 `).MatchString(out) {
		t.Fatalf("through the router: rc %d\n%s", rc, out)
	}
	out, rc = kping(t, ip, a, "-c", "1", "-W", "3", "-t", "1", "198.18.11.2")
	if rc == 0 || !strings.Contains(out, "From 198.18.10.1 icmp_seq=1 Time to live exceeded") {
		t.Fatalf("TTL 1: rc %d\n%s", rc, out)
	}
	out, _ = kping(t, ip, a, "-c", "1", "-W", "3", "-M", "do", "-s", "1400", "198.18.11.2")
	if !strings.Contains(out, "Frag needed and DF set (mtu = 1280)") && !strings.Contains(out, "mtu=1280") {
		t.Fatalf("DF too big: %s", out)
	}
	if got := ipRun(t, ip, "-n", a, "route", "get", "198.18.11.2"); !strings.Contains(got, "mtu 1280") {
		t.Errorf("the kernel did not cache the path MTU: %q", got)
	}
	// Without DF the router fragments, and B answers.
	out, rc = kping(t, ip, b, "-c", "1", "-W", "3", "-s", "3000", "198.18.10.2")
	if rc != 0 {
		t.Fatalf("fragmented through the router: rc %d\n%s", rc, out)
	}
	r := ipv4.Of(w.Host("r").Stack).Stats.Snapshot()
	if r.ForwDatagrams == 0 || r.FragFails == 0 || r.InHdrErrors == 0 {
		t.Errorf("router counters %+v", r)
	}
	w.Close()
	tsharkClean(t, files)
}
