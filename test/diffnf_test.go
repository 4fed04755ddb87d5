//go:build linux

package test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"vnic/header"
)

// The netfilter differential: one ruleset, one script of crafted packets,
// two routers — a kernel namespace running Debian's iptables-legacy and a
// vnic host whose two ports are TAPs — between the same two kernel
// namespaces A (198.18.20.2) and B (198.18.21.2). A and B send the
// script's packets themselves (AF_PACKET, so their own stacks neither
// answer nor interfere: both drop every IPv4 packet at raw PREROUTING,
// after the capture), and what each router lets through, rewrites or sends
// back is read at A and B. Verdicts, the bytes on the wire, the conntrack
// table and the rule counters must be the same.

const (
	nfA, nfRa = "198.18.20.2", "198.18.20.1"
	nfB, nfRb = "198.18.21.2", "198.18.21.1"
)

// nfRouter is a router under test.
type nfRouter interface {
	// restore loads an iptables-restore file (every table it names).
	restore(t *testing.T, rules string)
	// conntrack is conntrack -L's lines, normalised (nfConntrackLines).
	conntrack(t *testing.T) []string
	// save is iptables-save -c, normalised (nfSaveLines).
	save(t *testing.T) []string
	// reset empties the connection table and zeroes the counters.
	reset(t *testing.T)
}

// nfBed is a router between A and B, and the raw ports at A and B.
type nfBed struct {
	name       string
	r          nfRouter
	a, b       *rawPort
	macA, macB [6]byte // the router's MACs on A's and B's side
}

// rawPort is an AF_PACKET socket on one interface of a namespace: it sends
// IPv4 packets to a given MAC and reads the IPv4 packets that arrive.
type rawPort struct {
	fd      int
	ifindex int
}

func openRawPort(t *testing.T, ns, ifname string) *rawPort {
	t.Helper()
	p := &rawPort{fd: -1}
	err := inNetnsDo(ns, func() error {
		ifi, err := net.InterfaceByName(ifname)
		if err != nil {
			return err
		}
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_IP)))
		if err != nil {
			return err
		}
		if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_IP), Ifindex: ifi.Index}); err != nil {
			unix.Close(fd)
			return err
		}
		p.fd, p.ifindex = fd, ifi.Index
		return nil
	})
	if err != nil {
		t.Fatalf("AF_PACKET on %s in %s: %v", ifname, ns, err)
	}
	t.Cleanup(func() { unix.Close(p.fd) })
	return p
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

func (p *rawPort) send(t *testing.T, dst [6]byte, pkt []byte) {
	t.Helper()
	sa := &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_IP), Ifindex: p.ifindex, Halen: 6}
	copy(sa.Addr[:], dst[:])
	if err := unix.Sendto(p.fd, pkt, 0, sa); err != nil {
		t.Fatalf("AF_PACKET send: %v", err)
	}
}

// drain reads what arrives until quiet has passed with nothing (at most
// 64 packets, at most two seconds).
func (p *rawPort) drain(t *testing.T, quiet time.Duration) [][]byte {
	t.Helper()
	var got [][]byte
	end := time.Now().Add(2 * time.Second)
	buf := make([]byte, 65536)
	for len(got) < 64 && time.Now().Before(end) {
		fds := []unix.PollFd{{Fd: int32(p.fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, int(quiet/time.Millisecond))
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			t.Fatalf("poll: %v", err)
		}
		if n == 0 {
			break
		}
		m, from, err := unix.Recvfrom(p.fd, buf, unix.MSG_DONTWAIT)
		if err != nil {
			continue
		}
		if ll, ok := from.(*unix.SockaddrLinklayer); ok && ll.Pkttype == unix.PACKET_OUTGOING {
			continue
		}
		got = append(got, append([]byte(nil), buf[:m]...))
	}
	return got
}

// nfStep is one packet of the script: sent by A (toB) or by B.
type nfStep struct {
	name  string
	fromB bool
	pkt   []byte
}

// nfObserved is what one step brought to A and to B.
type nfObserved struct{ atA, atB []string }

// run plays the script; the packets each side saw are described by
// nfDescribe with the IDs the script used (sent) kept and others masked.
func (bed *nfBed) run(t *testing.T, script []nfStep) []nfObserved {
	t.Helper()
	sent := map[uint16]bool{}
	for _, s := range script {
		sent[header.IPv4(s.pkt).ID()] = true
	}
	var out []nfObserved
	for _, s := range script {
		if s.fromB {
			bed.b.send(t, bed.macB, s.pkt)
		} else {
			bed.a.send(t, bed.macA, s.pkt)
		}
		// Both ends are read together: the quiet period is what either
		// side takes to answer.
		var o nfObserved
		deadline := time.Now().Add(300 * time.Millisecond)
		for time.Now().Before(deadline) {
			a := bed.a.drain(t, 20*time.Millisecond)
			b := bed.b.drain(t, 20*time.Millisecond)
			for _, p := range a {
				o.atA = append(o.atA, nfDescribe(p, sent))
			}
			for _, p := range b {
				o.atB = append(o.atB, nfDescribe(p, sent))
			}
		}
		out = append(out, o)
	}
	return out
}

// nfDescribe renders an IPv4 packet for comparison: the whole datagram in
// hex, but for a packet the routers made themselves (an ID the script did
// not use: ICMP errors, resets) the ID and the header checksum, which
// each stack picks its own way, are masked — after checking the checksum.
func nfDescribe(p []byte, sent map[uint16]bool) string {
	ip := header.IPv4(p)
	if len(p) < header.IPv4MinHeaderLen || !ip.IsValid() || int(ip.TotalLen()) > len(p) {
		return "malformed " + fmt.Sprintf("%x", p)
	}
	b := append([]byte(nil), p[:ip.TotalLen()]...)
	note := ""
	if header.Checksum(b[:ip.HeaderLen()]) != 0 {
		note = " BAD-IP-CSUM"
	}
	if !sent[ip.ID()] {
		b[4], b[5], b[10], b[11] = 0, 0, 0, 0
		note += " (id masked)"
	}
	src, dst := ip.Src(), ip.Dst()
	return fmt.Sprintf("%s > %s proto %d len %d %x%s", net.IP(src[:]), net.IP(dst[:]), ip.Protocol(), ip.TotalLen(), b, note)
}

var (
	nfTimeoutField = regexp.MustCompile(`^(\S+\s+\d+\s+)\d+ `)
	nfIDField      = regexp.MustCompile(` id=\d+`)
)

// nfConntrackLines normalises conntrack -L: each entry's remaining
// timeout (the two clocks differ by the test's own pace) and id go; the
// lines are sorted.
func nfConntrackLines(out string) []string {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "conntrack v") {
			continue
		}
		l = nfTimeoutField.ReplaceAllString(l, "${1}T ")
		l = nfIDField.ReplaceAllString(l, "")
		lines = append(lines, strings.Join(strings.Fields(l), " "))
	}
	sort.Strings(lines)
	return lines
}

// nfSaveLines drops iptables-save's comment lines (they carry the date).
func nfSaveLines(out string) []string {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		lines = append(lines, l)
	}
	return lines
}

// nfPacket builds an IPv4 datagram: header (with id, ttl, df, frag
// offset in 8-byte units and more-fragments) around an L4 payload whose
// checksum, for TCP, UDP and ICMP, the builder fills unless raw is set.
type nfPacket struct {
	src, dst string
	proto    uint8
	id       uint16
	ttl      uint8
	df, mf   bool
	fragOff  uint16
	l4       []byte
	raw      bool // l4 is sent as given (a fragment's bytes)
}

func (s nfPacket) bytes() []byte {
	hl := header.IPv4MinHeaderLen
	b := make([]byte, hl+len(s.l4))
	ip := header.IPv4(b)
	ip.SetHeaderLen(hl)
	ip.SetTotalLen(uint16(len(b)))
	ip.SetID(s.id)
	ff := s.fragOff & 0x1fff
	if s.df {
		ff |= header.IPv4DF
	}
	if s.mf {
		ff |= 0x2000
	}
	ip.SetFlagsFrag(ff)
	ttl := s.ttl
	if ttl == 0 {
		ttl = 64
	}
	ip.SetTTL(ttl)
	ip.SetProtocol(s.proto)
	ip.SetSrc(mustAddr4(s.src))
	ip.SetDst(mustAddr4(s.dst))
	copy(b[hl:], s.l4)
	ip.UpdateChecksum()
	if s.raw {
		return b
	}
	l4 := b[hl:]
	switch s.proto {
	case header.ProtoTCP:
		binary.BigEndian.PutUint16(l4[16:], 0)
		binary.BigEndian.PutUint16(l4[16:], header.L4Checksum(ip, l4))
	case header.ProtoUDP:
		binary.BigEndian.PutUint16(l4[6:], 0)
		binary.BigEndian.PutUint16(l4[6:], header.L4Checksum(ip, l4))
	case header.ProtoICMP:
		binary.BigEndian.PutUint16(l4[2:], 0)
		binary.BigEndian.PutUint16(l4[2:], header.Checksum(l4))
	}
	return b
}

func mustAddr4(s string) [4]byte {
	a := net.ParseIP(s).To4()
	if a == nil {
		panic("not an IPv4 address: " + s)
	}
	return [4]byte(a)
}

// nfTCP is a TCP header with options (a multiple of 4 bytes) and payload.
func nfTCP(sport, dport uint16, seq, ack uint32, flags uint8, opts []byte, payload string) []byte {
	hl := header.TCPMinHeaderLen + len(opts)
	b := make([]byte, hl+len(payload))
	th := header.TCP(b)
	th.SetSrcPort(sport)
	th.SetDstPort(dport)
	th.SetSeq(seq)
	th.SetAck(ack)
	th.SetHeaderLen(hl)
	th.SetFlags(flags)
	th.SetWindow(64240)
	copy(b[header.TCPMinHeaderLen:], opts)
	copy(b[hl:], payload)
	return b
}

// nfUDP is a UDP header and payload.
func nfUDP(sport, dport uint16, payload []byte) []byte {
	b := make([]byte, header.UDPHeaderLen+len(payload))
	binary.BigEndian.PutUint16(b[0:], sport)
	binary.BigEndian.PutUint16(b[2:], dport)
	binary.BigEndian.PutUint16(b[4:], uint16(len(b)))
	copy(b[header.UDPHeaderLen:], payload)
	return b
}

// nfICMP is an ICMP message: type, code, the 4 bytes after the checksum
// (echo id and sequence, or unused) and the body.
func nfICMP(typ, code uint8, rest uint32, body []byte) []byte {
	b := make([]byte, 8+len(body))
	b[0], b[1] = typ, code
	binary.BigEndian.PutUint32(b[4:], rest)
	copy(b[8:], body)
	return b
}

// kernelRouter is the kernel namespace R with iptables-legacy.
type kernelRouter struct{ ip, ns string }

func (k kernelRouter) exec(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(k.ip, append([]string{"netns", "exec", k.ns}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s in %s: %v: %s%s", strings.Join(args, " "), k.ns, err, out.String(), errb.String())
	}
	return out.String() + errb.String()
}

func (k kernelRouter) restore(t *testing.T, rules string) {
	k.exec(t, rules, "iptables-legacy-restore")
}

func (k kernelRouter) conntrack(t *testing.T) []string {
	return nfConntrackLines(k.exec(t, "", "conntrack", "-L"))
}

func (k kernelRouter) save(t *testing.T) []string {
	return nfSaveLines(k.exec(t, "", "iptables-legacy-save", "-c"))
}

func (k kernelRouter) reset(t *testing.T) {
	k.exec(t, "", "conntrack", "-F")
	for _, tb := range []string{"filter", "nat", "mangle", "raw"} {
		k.exec(t, "", "iptables-legacy", "-t", tb, "-Z")
	}
}

// nfEnds addresses A and B (their side of the cable ifA, ifB), turns IPv6
// off and drops every IPv4 packet at raw PREROUTING, behind the capture.
func nfEnds(t *testing.T, ip, a, ifA, b, ifB string) {
	t.Helper()
	for _, s := range []struct{ ns, dev, addr, gw string }{{a, ifA, nfA + "/24", nfRa}, {b, ifB, nfB + "/24", nfRb}} {
		inNetnsOK(t, ip, s.ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1")
		ipRun(t, ip, "-n", s.ns, "addr", "add", s.addr, "dev", s.dev)
		ipRun(t, ip, "-n", s.ns, "link", "set", s.dev, "up")
		ipRun(t, ip, "-n", s.ns, "route", "add", "default", "via", s.gw)
		inNetnsOK(t, ip, s.ns, "iptables-legacy", "-t", "raw", "-A", "PREROUTING", "-j", "DROP")
	}
}

func inNetnsOK(t *testing.T, ip, ns string, args ...string) string {
	t.Helper()
	out, err := exec.Command(ip, append([]string{"netns", "exec", ns}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s in %s: %v: %s", strings.Join(args, " "), ns, err, out)
	}
	return string(out)
}

// linkMAC is the MAC of dev in ns.
func linkMAC(t *testing.T, ip, ns, dev string) [6]byte {
	t.Helper()
	out := ipRun(t, ip, "-n", ns, "-o", "link", "show", dev)
	m := regexp.MustCompile(`link/ether ([0-9a-f:]{17})`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no MAC for %s in %s: %s", dev, ns, out)
	}
	hw, err := net.ParseMAC(m[1])
	if err != nil {
		t.Fatal(err)
	}
	return [6]byte(hw)
}

// newKernelBed is A – R – B in three kernel namespaces over veths.
func newKernelBed(t *testing.T, ip string) *nfBed {
	t.Helper()
	a, r, b := kernelNetns(t, ip, "nfka"), kernelNetns(t, ip, "nfkr"), kernelNetns(t, ip, "nfkb")
	ipRun(t, ip, "-n", r, "link", "add", "ra", "type", "veth", "peer", "name", "a0", "netns", a)
	ipRun(t, ip, "-n", r, "link", "add", "rb", "type", "veth", "peer", "name", "b0", "netns", b)
	inNetnsOK(t, ip, r, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1", "net.ipv4.ip_forward=1")
	ipRun(t, ip, "-n", r, "addr", "add", nfRa+"/24", "dev", "ra")
	ipRun(t, ip, "-n", r, "addr", "add", nfRb+"/24", "dev", "rb")
	ipRun(t, ip, "-n", r, "link", "set", "ra", "up")
	ipRun(t, ip, "-n", r, "link", "set", "rb", "up")
	// The router's veths finish no checksum for it (a veth passes
	// CHECKSUM_PARTIAL on, and A's capture would show the pseudo-header's
	// sum of what the router makes itself): what A and B read is what a
	// wire would carry, as from vnic's device.
	for _, dev := range []string{"ra", "rb"} {
		inNetnsOK(t, ip, r, "ethtool", "-K", dev, "tx", "off")
	}
	nfEnds(t, ip, a, "a0", b, "b0")
	return &nfBed{name: "kernel", r: kernelRouter{ip: ip, ns: r},
		a: openRawPort(t, a, "a0"), b: openRawPort(t, b, "b0"),
		macA: linkMAC(t, ip, r, "ra"), macB: linkMAC(t, ip, r, "rb")}
}

// warmUp has each end ping the router once, so that both routers know
// both neighbours before the script (its first packets then wait on no
// ARP resolution); reset forgets the pings' connections and counts.
func (bed *nfBed) warmUp(t *testing.T) {
	t.Helper()
	ping := func(src, dst string, id uint16) []byte {
		return nfPacket{src: src, dst: dst, proto: header.ProtoICMP, id: id, l4: nfICMP(8, 0, uint32(id)<<16|1, []byte("warm"))}.bytes()
	}
	for try := 0; try < 3; try++ {
		bed.a.send(t, bed.macA, ping(nfA, nfRa, 0x0f00))
		bed.b.send(t, bed.macB, ping(nfB, nfRb, 0x0f01))
		a, b := bed.a.drain(t, 100*time.Millisecond), bed.b.drain(t, 100*time.Millisecond)
		if len(a) > 0 && len(b) > 0 {
			return
		}
	}
	t.Fatalf("%s: the router does not answer pings from A and B", bed.name)
}

// lineDiff lists the lines only in want (-) and only in got (+), in
// order; "" when they are equal.
func lineDiff(want, got []string) string {
	if strings.Join(want, "\n") == strings.Join(got, "\n") {
		return ""
	}
	count := map[string]int{}
	for _, l := range got {
		count[l]++
	}
	var b strings.Builder
	for _, l := range want {
		if count[l] > 0 {
			count[l]--
			continue
		}
		fmt.Fprintf(&b, "- %s\n", l)
	}
	seen := map[string]int{}
	for _, l := range want {
		seen[l]++
	}
	for _, l := range got {
		if seen[l] > 0 {
			seen[l]--
			continue
		}
		fmt.Fprintf(&b, "+ %s\n", l)
	}
	if b.Len() == 0 {
		b.WriteString("(the same lines in another order)\n")
	}
	return b.String()
}
