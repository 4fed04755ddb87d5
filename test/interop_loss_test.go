//go:build linux

package test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"vnic/header"
	"vnic/stack"
	"vnic/stack/ipv4"
	"vnic/stack/tcp"
)

// Loss on either side of a TAP between the kernel and vnic.
//
// On vnic's side a netem on vnic's device (stack/sch_netem.go, what
// `vnic tc … netem loss` builds) drops what vnic sends before the port,
// so the capture at the port never sees it.
//
// On the kernel's side the kernel's netem on the TAP does it, when the
// kernel has sch_netem. A kernel without it (the CI machine's) drops in
// the output hook of an nftables bridge table instead: the kernel's
// address moves to a bridge with the TAP as its one port, and a rule
// there drops the stated share of the TCP frames leaving by the TAP
// (`numgen random mod 100 < N`, the nft spelling of iptables'
// `-m statistic --mode random`). The hook has to be past the point where
// the sender still hears of the drop: a drop in the IP layer's hooks
// (iptables OUTPUT or POSTROUTING) or the device's egress hook (nft
// netdev egress, tc clsact) comes back to the socket as a failed
// transmit, and the kernel's TCP keeps the segment unsent and sends it
// later without any loss recovery (in a 1 s iperf3 over veth, iptables
// OUTPUT dropped 135 segments and the sender counted 3 retransmissions).
// The bridge's transmit (br_dev_xmit) reports every frame sent, whatever
// its hooks then do, as netem reports a frame it drops: the kernel's TCP
// learns of the loss only from the ACKs, as on a wire.
//
// Either way GSO is off on the kernel's device, so that one drop is one
// MSS-sized segment, not a 64 KB super-frame's worth.

// kernelLoss is the loss on the kernel's egress.
type kernelLoss struct {
	how string // "netem" or "nft bridge" (which one ran)
	dev string // the kernel's device the address goes on
	// drops reads how many frames it has dropped.
	drops func(t *testing.T) int
}

// kernelEgressLoss drops pct % of the TCP that the kernel in ns sends by
// the TAP ifname: the kernel's netem if it has one, else an nftables
// bridge rule. It says which ran in the test's log.
func kernelEgressLoss(t *testing.T, ip, ns, ifname string, pct int) *kernelLoss {
	t.Helper()
	tc := requireTool(t, "tc")
	ethtool := requireTool(t, "ethtool")
	in := func(args ...string) (string, error) {
		out, err := exec.Command(ip, append([]string{"netns", "exec", ns}, args...)...).CombinedOutput()
		return string(out), err
	}
	must := func(args ...string) string {
		t.Helper()
		out, err := in(args...)
		if err != nil {
			t.Fatalf("%s: %v: %s", strings.Join(args, " "), err, out)
		}
		return out
	}
	count := func(re *regexp.Regexp, args ...string) func(t *testing.T) int {
		return func(t *testing.T) int {
			t.Helper()
			out := must(args...)
			m := re.FindStringSubmatch(out)
			if m == nil {
				t.Fatalf("%s: no drop count in %q", strings.Join(args, " "), out)
			}
			n, _ := strconv.Atoi(m[1])
			return n
		}
	}
	var l *kernelLoss
	out, err := in(tc, "qdisc", "add", "dev", ifname, "root", "netem", "loss", fmt.Sprintf("%d%%", pct))
	switch {
	case err == nil:
		l = &kernelLoss{how: "netem", dev: ifname,
			drops: count(regexp.MustCompile(`dropped (\d+)`), tc, "-s", "qdisc", "show", "dev", ifname)}
	case strings.Contains(out, "Specified qdisc kind is unknown"):
		nft := requireTool(t, "nft")
		must(ip, "link", "add", "br0", "type", "bridge")
		must(ip, "link", "set", ifname, "master", "br0")
		rules := fmt.Sprintf(`table bridge vnic_loss {
	chain out {
		type filter hook output priority 0; policy accept;
		oifname %q ip protocol tcp numgen random mod 100 < %d counter drop
	}
}
`, ifname, pct)
		cmd := exec.Command(ip, "netns", "exec", ns, nft, "-f", "-")
		cmd.Stdin = strings.NewReader(rules)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("nft -f: %v: %s\n%s", err, out, rules)
		}
		l = &kernelLoss{how: "nft bridge", dev: "br0",
			drops: count(regexp.MustCompile(`counter packets (\d+)`), nft, "list", "chain", "bridge", "vnic_loss", "out")}
	default:
		t.Fatalf("tc qdisc add dev %s root netem: %v: %s", ifname, err, out)
	}
	must(ethtool, "-K", l.dev, "tso", "off", "gso", "off")
	t.Logf("%d %% loss on the kernel's egress by %s (on %s)", pct, l.how, l.dev)
	return l
}

// vnicEgressLoss grafts a netem dropping pct % of what dev sends.
func vnicEgressLoss(t *testing.T, dev *stack.NetDevice, pct uint32) *stack.Qdisc {
	t.Helper()
	q, err := stack.NewNetem(dev, 0x80010000, stack.NetemConfig{Limit: 1000, Loss: pct * (1<<32 - 1) / 100})
	if err != nil {
		t.Fatal(err)
	}
	dev.GraftQdisc(q)
	return q
}

// lossSigns is what tshark sees of loss in one sender's segments.
type lossSigns struct {
	retrans int // tcp.analysis.retransmission (fast ones included)
	fast    int // tcp.analysis.fast_retransmission
	lost    int // tcp.analysis.lost_segment: a gap before it, not captured
}

// tsharkLossSigns counts loss's signs in the captures by source address.
func tsharkLossSigns(t *testing.T, files []string) map[string]lossSigns {
	t.Helper()
	signs := map[string]lossSigns{}
	for _, f := range files {
		cmd := tsharkRead(t, f, "-Y", "tcp.analysis.retransmission || tcp.analysis.fast_retransmission || tcp.analysis.lost_segment",
			"-T", "fields", "-E", "separator=,", "-e", "ip.src",
			"-e", "tcp.analysis.retransmission", "-e", "tcp.analysis.fast_retransmission", "-e", "tcp.analysis.lost_segment")
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("tshark %s: %v: %s", f, err, stderr.String())
		}
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			c := strings.Split(line, ",")
			if len(c) != 4 {
				continue
			}
			s := signs[c[0]]
			if c[1] != "" {
				s.retrans++
			}
			if c[2] != "" {
				s.fast++
			}
			if c[3] != "" {
				s.lost++
			}
			signs[c[0]] = s
		}
	}
	return signs
}

// checkLossSides holds a capture to its loss having been injected on
// lossy's egress only: nothing of lossless's is missing from the wire
// and lossless never fast-retransmits (a loss probe or a timeout after a
// lost ACK may come from either side); lossy, when it sent data through
// the loss (senderLossy), retransmitted.
func checkLossSides(t *testing.T, files []string, lossy, lossless string, senderLossy bool, allow lossAllowance) {
	t.Helper()
	signs := tsharkLossSigns(t, files)
	t.Logf("tshark: lossy %s %+v, lossless %s %+v", lossy, signs[lossy], lossless, signs[lossless])
	if s := signs[lossless]; uint64(s.fast) > allow.fast || uint64(s.lost) > allow.lost {
		t.Errorf("%s, whose egress drops nothing: %d fast retransmissions, %d segments missing from the capture (the path counted %+v)", lossless, s.fast, s.lost, allow)
	}
	if s := signs[lossy]; senderLossy && (s.retrans == 0 || s.lost == 0) {
		t.Errorf("%s: %d retransmissions, %d segments missing from the capture, though its egress drops", lossy, s.retrans, s.lost)
	}
	for src := range signs {
		if src != lossy && src != lossless {
			t.Errorf("tshark finds loss from %s, neither end", src)
		}
	}
}

// vnicRecovered is how often vnic's TCP went into loss recovery (fast
// retransmits, SACK and Reno recoveries): none where only its ACKs, not
// its data, can have been lost.
func vnicRecovered(h *stack.Host) uint64 {
	st := &tcp.Of(ipv4.Of(h)).Stats
	return st.ExtTCPFastRetrans.Load() + st.ExtTCPSackRecovery.Load() + st.ExtTCPRenoRecovery.Load()
}

// kernelTCPStats reads ns's TCP counters: /proc/net/snmp's Tcp line and
// /proc/net/netstat's TcpExt, by name ("RetransSegs", "TCPFastRetrans").
func kernelTCPStats(t *testing.T, ip, ns string) map[string]uint64 {
	t.Helper()
	out, err := exec.Command(ip, "netns", "exec", ns, "cat", "/proc/net/snmp", "/proc/net/netstat").Output()
	if err != nil {
		t.Fatalf("the namespace's counters: %v", err)
	}
	stats := map[string]uint64{}
	lines := strings.Split(string(out), "\n")
	for i := 0; i+1 < len(lines); i++ {
		names, values := strings.Fields(lines[i]), strings.Fields(lines[i+1])
		if len(names) == 0 || (names[0] != "Tcp:" && names[0] != "TcpExt:") || len(values) != len(names) || values[0] != names[0] {
			continue
		}
		for j := 1; j < len(names); j++ {
			if v, err := strconv.ParseUint(values[j], 10, 64); err == nil {
				stats[names[j]] = v
			}
		}
		i++
	}
	if _, ok := stats["TCPFastRetrans"]; !ok {
		t.Fatalf("no TcpExt counters in the namespace's /proc/net/netstat")
	}
	return stats
}

// kernelRecovered is kernelTCPStats' loss recoveries, as vnicRecovered.
func kernelRecovered(s map[string]uint64) uint64 {
	return s["TCPFastRetrans"] + s["TCPSackRecovery"] + s["TCPRenoRecovery"]
}

// checkLoss ends a test of k with loss on one side (vnicLoss or
// kernelLoss), after traffic both ways: the loss dropped, the lossy side
// retransmitted, the other side's TCP never went into loss recovery and
// neither side's found a bad checksum (each by its own counters); then, the world closed, the capture is
// clean and its loss is the lossy side's (checkLossSides).
func (k *kernelTAP) checkLoss(t *testing.T) {
	t.Helper()
	ks := kernelTCPStats(t, k.ip, k.ns)
	vs := &tcp.Of(ipv4.Of(k.h)).Stats
	lossy, lossless := k.vnic, k.kernel
	// What the path itself dropped, counted where it dropped: the
	// kernel's TAP queue (tun's tx_dropped: vnic's reader fell behind,
	// as on a machine busy with other work) and vnic's receive ring.
	// The kernel's data lost there is neither side's netem; the checks
	// of the lossless side then allow that much and no more.
	tapDropped := kernelTapTxDropped(t, k.ip, k.ns, k.ifname)
	ds := k.dev.Stats64()
	ringDropped := ds.RxMissedErrors + ds.RxFIFOErrors + ds.RxDropped
	if tapDropped+ringDropped != 0 {
		t.Logf("the path dropped: %d at the kernel's TAP queue, %d in vnic's receive path", tapDropped, ringDropped)
	}
	switch {
	case k.vnicLoss != nil:
		if st := k.vnicLoss.Stats(); st.Drops == 0 {
			t.Errorf("vnic's netem dropped nothing: %+v", st)
		}
		if vs.RetransSegs.Load() == 0 {
			t.Error("vnic retransmitted nothing, though its egress drops")
		}
		if n := kernelRecovered(ks); n != 0 && tapDropped+ringDropped == 0 {
			t.Errorf("the kernel, whose egress drops nothing, went into loss recovery %d times", n)
		}
	case k.kernelLoss != nil:
		lossy, lossless = lossless, lossy
		if n := k.kernelLoss.drops(t); n == 0 {
			t.Errorf("the kernel's %s dropped nothing", k.kernelLoss.how)
		}
		if ks["RetransSegs"] == 0 {
			t.Error("the kernel retransmitted nothing, though its egress drops")
		}
		if n := vnicRecovered(k.h); n != 0 {
			t.Errorf("vnic, whose egress drops nothing, went into loss recovery %d times", n)
		}
	default:
		t.Fatal("checkLoss without loss")
	}
	if v, k := vs.InCsumErrors.Load(), ks["InCsumErrors"]; v != 0 || k != 0 {
		t.Errorf("TCP checksum errors: vnic %d, the kernel %d", v, k)
	}
	k.w.Close()
	tsharkClean(t, k.files)
	if k.vnicLoss != nil {
		// The kernel's segments dropped on the path: missing from the
		// capture (at vnic's port) if its TAP queue dropped them,
		// retransmitted if vnic's ring did.
		checkLossSides(t, k.files, lossy, lossless, true, lossAllowance{lost: tapDropped, fast: tapDropped + ringDropped})
	} else {
		checkLossSides(t, k.files, lossy, lossless, true, lossAllowance{})
	}
}

// lossAllowance is what the lossless side may show of loss the path
// counted (lost: segments missing from the capture, fast: fast
// retransmissions).
type lossAllowance struct{ lost, fast uint64 }

// kernelTapTxDropped reads tun's tx_dropped for dev in ns: frames the
// kernel could not queue to the TAP's reader.
func kernelTapTxDropped(t *testing.T, ip, ns, dev string) uint64 {
	t.Helper()
	out, err := exec.Command(ip, "netns", "exec", ns, "cat", "/sys/class/net/"+dev+"/statistics/tx_dropped").Output()
	if err != nil {
		t.Fatalf("%s's tx_dropped: %v", dev, err)
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(out)), 10, 64)
	if err != nil {
		t.Fatalf("%s's tx_dropped %q: %v", dev, out, err)
	}
	return n
}

// TestTsharkProblems holds tsharkProblems' filter to what the loss tests
// need of it: a TCP checksum that is right (either zero of a sum that
// folds to zero included) passes, a wrong one is found, and random bytes
// on iperf3's port that Thrift's heuristic would take for a malformed
// exception pass as data (tsharkRead).
func TestTsharkProblems(t *testing.T) {
	// A Thrift binary message header (version 1, type exception, a name)
	// before bytes that do not parse as its fields.
	thrift := append([]byte{0x80, 0x01, 0x00, 0x03, 0, 0, 0, 4, 'U', 'E', 'e', 'e', 0, 0, 0, 7}, bytes.Repeat([]byte{0x8f, 0x3d, 0xe1}, 60)...)
	for _, tc := range []struct {
		name    string
		dport   uint16
		payload []byte
		csum    func(right uint16) uint16 // the checksum written, from the right one
		found   bool
	}{
		{"right", 80, []byte("vnic-tcp"), func(c uint16) uint16 { return c }, false},
		{"zero as 0x0000", 80, nil, func(uint16) uint16 { return 0 }, false},
		{"zero as 0xffff", 80, nil, func(uint16) uint16 { return 0xffff }, false},
		{"wrong", 80, []byte("vnic-tcp"), func(c uint16) uint16 { return c ^ 0x1234 }, true},
		{"iperf3 data", 5201, thrift, func(c uint16) uint16 { return c }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.payload
			if p == nil {
				// Two bytes that make the sum fold to zero: the right
				// checksum is then 0x0000, and 0xFFFF its other form.
				p = []byte{0, 0, 'v', 'n', 'i', 'c'}
				c := tcpFrameChecksum(tcpTestFrame(tc.dport, p))
				binary.BigEndian.PutUint16(p, c)
				if tcpFrameChecksum(tcpTestFrame(tc.dport, p)) != 0 {
					t.Fatal("the sum does not fold to zero")
				}
			}
			frame := tcpTestFrame(tc.dport, p)
			tcpSeg := frame[header.EthernetHeaderLen+header.IPv4MinHeaderLen:]
			binary.BigEndian.PutUint16(tcpSeg[16:], tc.csum(tcpFrameChecksum(frame)))
			f := filepath.Join(t.TempDir(), "one.pcap")
			pw := pcapFile(t, f)
			if pw.Write(0, frame); pw.Err() != nil {
				t.Fatal(pw.Err())
			}
			if got := tsharkProblems(t, f); (got != "") != tc.found {
				t.Errorf("tsharkProblems: %q, want a problem: %v", got, tc.found)
			}
		})
	}
}

// tcpTestFrame is an Ethernet frame of an IPv4 TCP segment (ACK|PSH,
// 198.18.10.1:36389 → 198.18.10.2:dport) with payload p and the TCP
// checksum field zero.
func tcpTestFrame(dport uint16, p []byte) []byte {
	frame := make([]byte, header.EthernetHeaderLen+header.IPv4MinHeaderLen+header.TCPMinHeaderLen+len(p))
	copy(frame, []byte{2, 2, 2, 2, 2, 2, 4, 4, 4, 4, 4, 4, 0x08, 0x00})
	ip := frame[header.EthernetHeaderLen:]
	ip[0], ip[8], ip[9] = 0x45, 64, 6
	binary.BigEndian.PutUint16(ip[2:], uint16(len(ip)))
	copy(ip[12:], []byte{198, 18, 10, 1, 198, 18, 10, 2})
	binary.BigEndian.PutUint16(ip[10:], header.Checksum(ip[:header.IPv4MinHeaderLen]))
	seg := ip[header.IPv4MinHeaderLen:]
	binary.BigEndian.PutUint16(seg[0:], 36389)
	binary.BigEndian.PutUint16(seg[2:], dport)
	seg[7], seg[11], seg[12], seg[13] = 1, 1, 5<<4, 0x18
	binary.BigEndian.PutUint16(seg[14:], 1000)
	copy(seg[header.TCPMinHeaderLen:], p)
	return frame
}

// tcpFrameChecksum is the right TCP checksum of tcpTestFrame's segment.
func tcpFrameChecksum(frame []byte) uint16 {
	ip := header.IPv4(frame[header.EthernetHeaderLen:])
	return header.L4Checksum(ip, ip[header.IPv4MinHeaderLen:])
}
