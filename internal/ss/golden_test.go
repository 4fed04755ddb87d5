package ss

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/synthetic.diag")

// readDiagFile reads a TCPDIAG_FILE (what ss -D writes): netlink
// messages up to NLMSG_DONE; it returns each message's payload, an
// inet_diag_msg and its attributes.
func readDiagFile(path string) ([][]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for len(b) >= nlmsgHdrLen {
		n := int(binary.NativeEndian.Uint32(b))
		typ := binary.NativeEndian.Uint16(b[4:])
		if n < nlmsgHdrLen || n > len(b) {
			return nil, fmt.Errorf("%s: message of %d bytes", path, n)
		}
		if typ == NlmsgDone {
			return out, nil
		}
		out = append(out, b[nlmsgHdrLen:n])
		b = b[min((n+3)&^3, len(b)):]
	}
	return nil, fmt.Errorf("%s: no NLMSG_DONE", path)
}

// diagFile is replies as ss -D writes them: each in an nlmsghdr of type
// SOCK_DIAG_BY_FAMILY (NLM_F_MULTI, ss's sequence number), then
// NLMSG_DONE.
func diagFile(replies [][]byte) []byte {
	var b []byte
	hdr := func(typ uint16, n int) {
		b = binary.NativeEndian.AppendUint32(b, uint32(nlmsgHdrLen+n))
		b = binary.NativeEndian.AppendUint16(b, typ)
		b = binary.NativeEndian.AppendUint16(b, 2) // NLM_F_MULTI
		b = binary.NativeEndian.AppendUint32(b, 123456)
		b = binary.NativeEndian.AppendUint32(b, 0)
	}
	for _, r := range replies {
		hdr(SockDiagByFamily, len(r))
		b = append(b, r...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
	}
	hdr(NlmsgDone, 4)
	return append(b, 0, 0, 0, 0)
}

// testEnv is what gen.sh gave ss: the services of testdata/services, the
// default ephemeral range, no terminal.
func testEnv(t *testing.T) Env {
	t.Helper()
	f, err := os.Open("testdata/services")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return Env{Services: ParseServices(f), PortLow: 32768, PortHigh: 60999}
}

type goldenCase struct {
	kind string
	args []string
}

func goldenCases(t *testing.T) []goldenCase {
	t.Helper()
	f, err := os.Open("testdata/args.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cs []goldenCase
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := sc.Text(); l != "" && l[0] != '#' {
			w := strings.Fields(l)
			cs = append(cs, goldenCase{w[0], w[1:]})
		}
	}
	return cs
}

// TestAsIproute2SS: the printer over Linux's own replies (kernel-*.diag,
// captured by capture.sh in a scratch namespace: listeners, ESTABLISHED,
// FIN-WAIT-2, CLOSE-WAIT, TIME-WAIT, SYN-SENT, keepalive and persist
// timers, IPv4 and IPv6, cubic and bbr, with and without -m's memory)
// and over synthetic.diag (every field set, the odd values ss treats
// apart) prints byte for byte what iproute2-6.1.0's ss printed over the
// same bytes (gen.sh: out/).
func TestAsIproute2SS(t *testing.T) {
	env := testEnv(t)
	n := 0
	for _, c := range goldenCases(t) {
		files, _ := filepath.Glob("testdata/" + c.kind + "*.diag")
		for _, f := range files {
			replies, err := readDiagFile(f)
			if err != nil {
				t.Fatal(err)
			}
			name := strings.ReplaceAll(filepath.Base(f)+" "+strings.Join(c.args, " "), " ", "_")
			want, err := os.ReadFile("testdata/out/" + name + ".out")
			if err != nil {
				t.Fatal(err)
			}
			o, err := ParseArgs(c.args)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			var got bytes.Buffer
			if err := Print(&got, o, env, replies); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if d := lineDiff(got.String(), string(want)); d != "" {
				t.Errorf("%s: %s", name, d)
			}
			n++
		}
	}
	if n < 60 {
		t.Fatalf("%d cases", n)
	}
}

// On a terminal ss spreads the columns over its width and pads each
// line to whole screen lines where they do not fit (gen.sh ran ss under
// script(1) with the widths of tty.txt).
func TestTerminalWidths(t *testing.T) {
	f, err := os.Open("testdata/tty.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	env := testEnv(t)
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		l := sc.Text()
		if l == "" || l[0] == '#' {
			continue
		}
		w := strings.Fields(l)
		var width int
		fmt.Sscan(w[1], &width)
		replies, err := readDiagFile("testdata/" + w[0] + ".diag")
		if err != nil {
			t.Fatal(err)
		}
		name := strings.Join(append([]string{w[0] + ".diag", "w" + w[1]}, w[2:]...), "_")
		want, err := os.ReadFile("testdata/out/" + name + ".out")
		if err != nil {
			t.Fatal(err)
		}
		o, err := ParseArgs(w[2:])
		if err != nil {
			t.Fatal(err)
		}
		env.Screen = width
		var got bytes.Buffer
		if err := Print(&got, o, env, replies); err != nil {
			t.Fatal(err)
		}
		if d := lineDiff(got.String(), string(want)); d != "" {
			t.Errorf("%s: %s", name, d)
		}
		n++
	}
	if n < 8 {
		t.Fatalf("%d cases", n)
	}
}

// TestAgainstInstalledSS runs the machine's ss (when it is iproute2's
// 6.1) over the same dumps now, so that a drift between it and out/
// shows too.
func TestAgainstInstalledSS(t *testing.T) {
	path, err := exec.LookPath("ss")
	if err != nil {
		t.Skip("no ss on this machine")
	}
	if v, _ := exec.Command(path, "-V").Output(); !strings.Contains(string(v), "iproute2-6.1.0") {
		t.Skipf("ss is %q, not iproute2-6.1.0's", strings.TrimSpace(string(v)))
	}
	rng := filepath.Join(t.TempDir(), "range")
	os.WriteFile(rng, []byte("32768\t60999\n"), 0o644)
	env := testEnv(t)
	for _, c := range goldenCases(t) {
		files, _ := filepath.Glob("testdata/" + c.kind + "*.diag")
		for _, f := range files {
			cmd := exec.Command(path, c.args...)
			cmd.Env = append(os.Environ(), "TCPDIAG_FILE="+f, "PROC_IP_LOCAL_PORT_RANGE="+rng)
			want, err := cmd.Output()
			if err != nil {
				t.Fatalf("ss %v over %s: %v", c.args, f, err)
			}
			replies, _ := readDiagFile(f)
			o, _ := ParseArgs(c.args)
			var got bytes.Buffer
			Print(&got, o, env, replies)
			if d := lineDiff(got.String(), string(want)); d != "" {
				t.Errorf("%s %v: %s", f, c.args, d)
			}
		}
	}
}

// lineDiff names the first line where got and want differ ("" if none).
func lineDiff(got, want string) string {
	if got == want {
		return ""
	}
	g, w := strings.SplitAfter(got, "\n"), strings.SplitAfter(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d:\n got %q\nwant %q", i+1, gl, wl)
		}
	}
	return "differ"
}

// syntheticReplies are sockets no kernel shows at once: every field of
// tcp_info set, each congestion control's attribute, both memory
// attributes, marks, shutdowns, IPv6 and v4-mapped addresses, bound
// devices, every timer kind and state, and the values ss leaves out or
// prints signed.
func syntheticReplies() [][]byte {
	a4 := netip.MustParseAddr
	full := TCPInfo{State: StateEstablished, CAState: 1, Retransmits: 2, Probes: 3, Backoff: 4,
		Options: OptTimestamps | OptSACK | OptWscale | OptECN | OptECNSeen | OptSynData, SndWscale: 7, RcvWscale: 9,
		DeliveryRateAppLimited: true, FastopenClientFail: 2,
		RTO: 201000, ATO: 40000, SndMSS: 1448, RcvMSS: 536, Unacked: 5, Sacked: 6, Lost: 7, Retrans: 8, Fackets: 9,
		LastDataSent: 10, LastAckSent: 11, LastDataRecv: 12, LastAckRecv: 13, PMTU: 1500, RcvSsthresh: 64076,
		RTT: 1234, RTTVar: 567, SndSsthresh: 20, SndCwnd: 10, AdvMSS: 1448, Reordering: 4, RcvRTT: 2345, RcvSpace: 14600,
		TotalRetrans: 21, PacingRate: 123456789, MaxPacingRate: 987654321, BytesAcked: 100001, BytesReceived: 200002,
		SegsOut: 30, SegsIn: 31, NotsentBytes: 32, MinRTT: 890, DataSegsIn: 33, DataSegsOut: 34, DeliveryRate: 4567890,
		BusyTime: 500000, RwndLimited: 100000, SndbufLimited: 33333, Delivered: 35, DeliveredCE: 36, BytesSent: 300003,
		BytesRetrans: 40004, DSACKDups: 37, ReordSeen: 38, RcvOOOPack: 39, SndWnd: 65535, RcvWnd: 65536, Rehash: 1}
	u32 := func(v ...uint32) []byte {
		var b []byte
		for _, x := range v {
			b = binary.NativeEndian.AppendUint32(b, x)
		}
		return b
	}
	msg := func(m Msg, attrs ...[]byte) []byte {
		b := m.Append(nil)
		for _, a := range attrs {
			b = append(b, a...)
		}
		return b
	}
	attr := func(typ uint16, p []byte) []byte { return AppendAttr(nil, typ, p) }
	id := func(src string, sport uint16, dst string, dport uint16) SockID {
		return SockID{SPort: sport, DPort: dport, Src: a4(src), Dst: a4(dst)}
	}
	var out [][]byte
	// 1. Everything at once.
	dctcp := binary.NativeEndian.AppendUint16(binary.NativeEndian.AppendUint16(nil, 1), 2)
	dctcp = append(dctcp, u32(3, 4, 5)...)
	out = append(out, msg(Msg{Family: AFInet, State: StateEstablished, Timer: TimerOn, Retrans: 3,
		ID:      SockID{SPort: 8080, DPort: 40000, Src: a4("198.18.0.1"), Dst: a4("198.18.0.2"), Cookie: [2]uint32{0x89abcdef, 0x1234}},
		Expires: 1500, RQueue: 1<<31 + 5, WQueue: 17, UID: 1000, Inode: 12345},
		attr(AttrShutdown, []byte{3}), attr(AttrMark, u32(0x10)),
		attr(AttrSkMemInfo, u32(1, 2, 3, 4, 5, 6, 7, 8, 9)), attr(AttrMemInfo, u32(11, 12, 13, 14)),
		attr(AttrInfo, full.Marshal()), attr(AttrCong, []byte("a-very-long-congestion-name\x00")),
		attr(AttrVegasInfo, u32(1, 2, 2500, 3)), attr(AttrDCTCPInfo, dctcp),
		attr(AttrBBRInfo, u32(0x1234, 0x1, 2000, 739, 512))))
	// 2. A listener: DCTCP fallen back, sacked (its backlog) not shown, default reordering,
	// no RTO of 3 s, no ssthresh of 0xffff, unlimited pacing, no min RTT.
	li := TCPInfo{State: StateListen, RTO: 3000000, Sacked: 128, Unacked: 1, Reordering: 3, SndSsthresh: 0xffff,
		SndCwnd: 10, PacingRate: ^uint64(0), MinRTT: ^uint32(0), RcvSpace: 1<<31 + 1}
	out = append(out, msg(Msg{Family: AFInet, State: StateListen, ID: id("0.0.0.0", 22, "0.0.0.0", 0), RQueue: 1, WQueue: 128},
		attr(AttrInfo, li.Marshal()), attr(AttrCong, []byte("cubic\x00")),
		attr(AttrDCTCPInfo, make([]byte, 16)), attr(AttrSkMemInfo, u32(1, 2, 3, 4, 5, 6, 7))))
	// 3. Timers of every kind and length, the states ss names.
	timers := []struct {
		state, timer uint8
		expires      uint32
	}{{StateTimeWait, TimerTimeWait, 59000}, {StateEstablished, TimerKeepalive, 7200000}, {StateFinWait1, TimerPersist, 65000},
		{StateSynRecv, TimerOn, 10500}, {StateLastAck, TimerOn, 9500}, {StateClosing, 7, 0}, {StateCloseWait, TimerKeepalive, 600000},
		{StateFinWait2, TimerKeepalive, 59999}, {StateSynSent, TimerOn, 1}}
	for k, tm := range timers {
		i := TCPInfo{State: tm.state, Options: OptWscale, SndWscale: 14, RcvWscale: 0, RTT: 100, SndMSS: 100, SndCwnd: 1,
			Reordering: 3, DeliveryRate: uint64(k) * 999999, PacingRate: 125 * uint64(k+1) * 1000000}
		if k == 4 {
			i.BusyTime, i.SndbufLimited = 1000, 999 // percentages of a small busy time
		}
		out = append(out, msg(Msg{Family: AFInet, State: tm.state, Timer: tm.timer, Retrans: uint8(k),
			ID: id("198.18.0.1", uint16(50000+k), "198.18.0.2", 80), Expires: tm.expires, WQueue: uint32(k)},
			attr(AttrInfo, i.Marshal()[:100+k*10]), attr(AttrCong, []byte("reno\x00"))))
	}
	// 4. IPv6: the wildcard (v6only or not), a v4-mapped peer, a bound
	// device, a closed socket; one that says it is UDP (no -i line).
	six := func(state uint8, src string, sport uint16, dst string, dport uint16, dev uint32, attrs ...[]byte) {
		out = append(out, msg(Msg{Family: AFInet6, State: state,
			ID: SockID{SPort: sport, DPort: dport, Src: a4(src), Dst: a4(dst), If: dev}}, attrs...))
	}
	six(StateListen, "::", 8080, "::", 0, 0, attr(AttrSkV6Only, []byte{0}))
	six(StateListen, "::", 8081, "::", 0, 0, attr(AttrSkV6Only, []byte{1}))
	six(StateEstablished, "::ffff:198.18.0.1", 8080, "::ffff:198.18.0.9", 33000, 0)
	six(StateEstablished, "fe80::1", 22, "fe80::2", 44000, 4000, attr(AttrProtocol, []byte{17}), attr(AttrInfo, full.Marshal()))
	six(StateClose, "2001:db8::1", 0, "::", 0, 0)
	// 5. Odd attributes: a name with a NUL inside, an empty name, a
	// short tcp_info, the old MEMINFO alone, a bound IPv4 socket. (ss
	// reads past a short DCTCP or memory attribute; vnic reads zeros.)
	out = append(out, msg(Msg{Family: AFInet, State: StateEstablished, ID: id("127.0.0.1", 1100, "127.0.0.1", 65535)},
		attr(AttrInfo, full.Marshal()[:8]), attr(AttrCong, []byte("cu\x00bic"))))
	out = append(out, msg(Msg{Family: AFInet, State: StateEstablished, ID: id("127.0.0.1", 2, "127.0.0.1", 65534)},
		attr(AttrCong, []byte{0}), attr(AttrMemInfo, u32(1, 2, 3, 4))))
	b4 := id("198.18.0.1", 5001, "198.18.0.3", 5002)
	b4.If = 4001
	out = append(out, msg(Msg{Family: AFInet, State: StateEstablished, ID: b4}))
	return out
}

// synthetic.diag is syntheticReplies as a dump file (-update writes it).
func TestSyntheticFile(t *testing.T) {
	want := diagFile(syntheticReplies())
	if *update {
		if err := os.WriteFile("testdata/synthetic.diag", want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile("testdata/synthetic.diag")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("testdata/synthetic.diag is not syntheticReplies: run go test -run TestSyntheticFile -update, then gen.sh")
	}
}
