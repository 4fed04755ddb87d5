package ss

import (
	"bytes"
	"errors"
	"net/netip"
	"strings"
	"testing"
)

// ParseArgs reads ss's command line as getopt_long does and sets the
// states ss asks for: SS_CONN by default, -a all, -l listeners and
// closed, the state words replacing (state) or removing (exclude).
func TestParseArgs(t *testing.T) {
	conn := uint32(StatesConn)
	for _, tc := range []struct {
		args []string
		want Options
	}{
		{[]string{"-t"}, Options{States: conn}},
		{[]string{"-tan"}, Options{States: StatesAll, Numeric: true}},
		{[]string{"-tanio"}, Options{States: StatesAll, Numeric: true, Info: true, Timers: true}},
		{[]string{"-tl"}, Options{States: 1<<StateListen | 1<<StateClose}},
		{[]string{"-t", "-e", "-m", "-p", "-r", "-H", "-O"}, Options{States: conn, Timers: true, Details: true, Memory: true, Processes: true, Resolve: true, NoHeader: true, OneLine: true}},
		{[]string{"--tcp", "--all", "--numeric", "--info", "--options"}, Options{States: StatesAll, Numeric: true, Info: true, Timers: true}},
		{[]string{"--tc", "--no-h", "--ext"}, Options{States: conn, NoHeader: true, Timers: true, Details: true}}, // unique prefixes
		{[]string{"-4t"}, Options{States: conn, Family: AFInet}},
		{[]string{"-t6"}, Options{States: conn, Family: AFInet6}},
		{[]string{"-t", "-f", "inet"}, Options{States: conn, Family: AFInet}},
		{[]string{"-t", "--family=inet6"}, Options{States: conn, Family: AFInet6}},
		{[]string{"-A", "tcp"}, Options{States: conn}},
		{[]string{"--query=tcp", "-n"}, Options{States: conn, Numeric: true}},
		{[]string{"-tNh1"}, Options{States: conn, Host: "h1"}},
		{[]string{"-t", "-N", "h2"}, Options{States: conn, Host: "h2"}},
		{[]string{"-t", "--net", "h3"}, Options{States: conn, Host: "h3"}},
		{[]string{"-t", "state", "established"}, Options{States: 1 << StateEstablished}},
		{[]string{"state", "established", "-t"}, Options{States: 1 << StateEstablished}}, // options after the filter
		{[]string{"-ta", "state", "established", "state", "time-wait"}, Options{States: 1<<StateEstablished | 1<<StateTimeWait}},
		{[]string{"-t", "state", "LISTENING"}, Options{States: 1 << StateListen}},
		{[]string{"-t", "state", "closed"}, Options{States: 1 << StateClose}},
		{[]string{"-t", "state", "syn-rcv"}, Options{States: 1 << StateSynRecv}},
		{[]string{"-t", "state", "unconnected"}, Options{States: 1 << StateClose}},
		{[]string{"-t", "state", "connected"}, Options{States: StatesAll &^ (1<<StateClose | 1<<StateListen)}},
		{[]string{"-t", "state", "synchronized"}, Options{States: StatesAll &^ (1<<StateClose | 1<<StateListen | 1<<StateSynSent)}},
		{[]string{"-t", "state", "bucket"}, Options{States: 1<<StateSynRecv | 1<<StateTimeWait}},
		{[]string{"-t", "state", "big"}, Options{States: StatesAll &^ (1<<StateSynRecv | 1<<StateTimeWait)}},
		{[]string{"-t", "exclude", "listening"}, Options{States: StatesAll &^ (1 << StateListen)}},
		{[]string{"-t", "excl", "established", "state", "listening"}, Options{States: StatesAll&^(1<<StateEstablished) | 1<<StateListen}},
		{[]string{"-t", "--", "state", "established"}, Options{States: 1 << StateEstablished}},
	} {
		got, err := ParseArgs(tc.args)
		if err != nil || got != tc.want {
			t.Errorf("%q: %+v, %v\nwant %+v", tc.args, got, err, tc.want)
		}
	}
}

func TestParseArgsErrors(t *testing.T) {
	for _, tc := range []struct {
		args  []string
		msg   string
		usage bool // a UsageError (exit 255), else Unsupported (exit 1)
		help  bool
	}{
		{args: []string{"-t", "state", "bogus"}, msg: "ss: wrong state name: bogus", usage: true},
		{args: []string{"-t", "state"}, msg: `Command line is not complete. Try option "help"`, usage: true},
		{args: []string{"-tq"}, msg: "ss: invalid option -- 'q'", usage: true},
		{args: []string{"-t:"}, msg: "ss: invalid option -- ':'", usage: true},
		{args: []string{"--frobnicate"}, msg: "ss: unrecognized option '--frobnicate'", usage: true},
		{args: []string{"--frob=1"}, msg: "ss: unrecognized option '--frob=1'", usage: true},
		{args: []string{"--n"}, msg: "ss: option '--n' is ambiguous; possibilities: '--numeric' '--net' '--no-header'", usage: true},
		{args: []string{"--tcp=1"}, msg: "ss: option '--tcp' doesn't allow an argument", usage: true},
		{args: []string{"-t", "--family"}, msg: "ss: option '--family' requires an argument", usage: true},
		{args: []string{"-tN"}, msg: "ss: option requires an argument -- 'N'", usage: true},
		{args: []string{"-t", "-f", "ipx"}, msg: `ss: "ipx" is invalid family`, usage: true},
		{args: []string{"-A", "bogus"}, msg: `ss: "bogus" is illegal socket table id`, usage: true},
		{args: []string{"-tu"}, msg: "ss: -u: vnic serves TCP sockets only (ss -t)"},
		{args: []string{"-t", "-A", "tcp,udp"}, msg: "ss: -A udp: vnic serves TCP sockets only (ss -t)"},
		{args: []string{"-t", "--vsock"}, msg: "ss: --vsock: vnic serves TCP sockets only (ss -t)"},
		{args: []string{"-t", "-f", "unix"}, msg: "ss: -f unix: vnic serves TCP sockets only (ss -t)"},
		{args: []string{"-an"}, msg: "ss: vnic serves TCP sockets only: say so with -t (ss -t, -A tcp)"},
		{args: []string{"-A", "!tcp"}, msg: "ss: vnic serves TCP sockets only: say so with -t (ss -t, -A tcp)"},
		{args: []string{"-ts"}, msg: "ss: -s is not served by vnic: it keeps no socket summary (/proc/net/sockstat)"},
		{args: []string{"-tK"}, msg: "ss: -K is not served by vnic: it keeps no way to kill a socket from outside"},
		{args: []string{"-t", "-D", "f"}, msg: "ss: -D is not served by vnic: it keeps no raw dump or filter files"},
		{args: []string{"-t", "--tos"}, msg: "ss: --tos is not served by vnic: it keeps no tos information"},
		{args: []string{"-t", "dst", "198.18.0.1"}, msg: `ss: filter expressions are not supported by vnic (only state filters): "dst 198.18.0.1"`},
		{args: []string{"-h"}, help: true},
		{args: []string{"-t", "--help"}, help: true},
		{args: []string{"-f", "help"}, help: true},
	} {
		_, err := ParseArgs(tc.args)
		var ue *UsageError
		var un *Unsupported
		switch {
		case tc.help:
			if !errors.Is(err, ErrHelp) {
				t.Errorf("%q: %v, want help", tc.args, err)
			}
		case tc.usage:
			if !errors.As(err, &ue) || ue.Msg != tc.msg || !errors.Is(err, ErrUsage) {
				t.Errorf("%q: %v, want usage error %q", tc.args, err, tc.msg)
			}
		default:
			if !errors.As(err, &un) || un.Msg != tc.msg {
				t.Errorf("%q: %v, want %q", tc.args, err, tc.msg)
			}
		}
	}
}

// Requests are ss's, field for field as strace shows iproute2-6.1.0's ss
// sending them (sockdiag_send): AF_INET then AF_INET6 unless -4 or -6,
// the ext bits of -i (INFO, VEGASINFO, CONG) and -m (MEMINFO,
// SKMEMINFO), the states asked.
func TestRequests(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		families []uint8
		ext      uint8
		states   uint32
	}{
		{[]string{"-tan"}, []uint8{AFInet, AFInet6}, 0, 0xfff},
		{[]string{"-tanim"}, []uint8{AFInet, AFInet6}, 0x4f, 0xfff},
		{[]string{"-tl"}, []uint8{AFInet, AFInet6}, 0, 1<<StateClose | 1<<StateListen},
		{[]string{"-4", "-ta", "state", "established"}, []uint8{AFInet}, 0, 1 << StateEstablished},
		{[]string{"-6", "-tao"}, []uint8{AFInet6}, 0, 0xfff},
		{[]string{"-t"}, []uint8{AFInet, AFInet6}, 0, 0xfff &^ (1<<StateListen | 1<<StateClose | 1<<StateTimeWait | 1<<StateSynRecv)},
	} {
		o, err := ParseArgs(tc.args)
		if err != nil {
			t.Fatal(err)
		}
		rs := o.Requests()
		if len(rs) != len(tc.families) {
			t.Fatalf("%q: %d requests", tc.args, len(rs))
		}
		for i, r := range rs {
			want := ReqV2{Family: tc.families[i], Protocol: IPProtoTCP, Ext: tc.ext, States: tc.states}
			if r != want {
				t.Errorf("%q request %d: %+v, want %+v", tc.args, i, r, want)
			}
			b := r.Append(nil)
			back, attrs, err := ParseReqV2(b)
			if len(b) != ReqV2Len || err != nil || len(attrs) != 0 || back.Family != r.Family || back.States != r.States || back.Ext != r.Ext {
				t.Errorf("%q request %d: %d bytes, back %+v %v", tc.args, i, len(b), back, err)
			}
		}
	}
	if _, _, err := ParseReqV2(make([]byte, ReqV2Len-1)); err == nil {
		t.Error("short request parsed")
	}
}

// The request's bytes: the header fields, the states in host order,
// the id's ports and addresses in network order.
func TestReqV2Bytes(t *testing.T) {
	r := ReqV2{Family: AFInet, Protocol: IPProtoTCP, Ext: ExtInfo, States: 0x402,
		ID: SockID{SPort: 0x1f90, DPort: 22, Src: netip.MustParseAddr("198.18.0.1"), Dst: netip.MustParseAddr("198.18.0.2"), If: 3, Cookie: [2]uint32{1, 2}}}
	b := r.Append(nil)
	want := []byte{2, 6, 2, 0, 0x02, 0x04, 0, 0, 0x1f, 0x90, 0, 22, 198, 18, 0, 1}
	if !bytes.Equal(b[:16], want) || b[28] != 198 || b[31] != 2 || b[44] != 3 || b[48] != 1 || b[52] != 2 {
		t.Errorf("% x", b)
	}
	back, _, _ := ParseReqV2(b)
	if back != r {
		t.Errorf("%+v, want %+v", back, r)
	}
	r6 := ReqV2{Family: AFInet6, ID: SockID{Src: netip.MustParseAddr("2001:db8::1"), Dst: netip.IPv6Unspecified()}}
	if back, _, _ := ParseReqV2(r6.Append(nil)); back != r6 {
		t.Errorf("IPv6: %+v, want %+v", back, r6)
	}
}

// tcp_info's layout: every field where uapi/linux/tcp.h puts it, the
// wscale and app-limited bitfields packed as GCC packs them; a shorter
// struct (an older kernel's) reads as zeros past its end.
func TestTCPInfoLayout(t *testing.T) {
	i := TCPInfo{State: 1, CAState: 2, Retransmits: 3, Probes: 4, Backoff: 5, Options: 7, SndWscale: 7, RcvWscale: 14,
		DeliveryRateAppLimited: true, FastopenClientFail: 3, RTO: 0x01020304, SndWnd: 0xaabbccdd, PacingRate: 0x1122334455667788, Rehash: 9}
	b := i.Marshal()
	if len(b) != TCPInfoLen || b[6] != 0xe7 || b[7] != 0x07 || b[8] != 0x04 || b[11] != 0x01 || b[104] != 0x88 || b[111] != 0x11 ||
		b[228] != 0xdd || b[231] != 0xaa || b[236] != 9 {
		t.Errorf("% x", b)
	}
	if back := ParseTCPInfo(b); back != i {
		t.Errorf("round trip: %+v, want %+v", back, i)
	}
	short := ParseTCPInfo(b[:12])
	if short.RTO != 0x01020304 || short.SndWnd != 0 || short.PacingRate != 0 || short.RcvWscale != 14 {
		t.Errorf("short: %+v", short)
	}
	if long := ParseTCPInfo(append(b, 1, 2, 3, 4)); long != i {
		t.Errorf("longer: %+v", long)
	}
	// Every field has its own bytes.
	seen := map[int]bool{}
	for _, f := range tcpInfoLayout {
		for k := f.off; k < f.off+f.size; k++ {
			if seen[k] {
				t.Errorf("byte %d twice", k)
			}
			seen[k] = true
		}
	}
	if len(seen) != TCPInfoLen-8 {
		t.Errorf("%d bytes laid out, want %d", len(seen), TCPInfoLen-8)
	}
}

// Attributes as iproute2 indexes them: the first of a type, the walk
// ending at one that does not fit, zero-length payloads kept.
func TestParseAttrs(t *testing.T) {
	b := AppendAttr(nil, AttrCong, []byte("cubic\x00"))
	b = AppendAttr(b, AttrCong, []byte("reno\x00"))
	b = AppendAttr(b, AttrShutdown, nil)
	b = AppendAttr(b, 200, []byte{1}) // past INET_DIAG_MAX: skipped
	b = AppendAttr(b, AttrMark, []byte{1, 0, 0, 0})
	tb := ParseAttrs(b)
	if string(tb[AttrCong]) != "cubic\x00" || tb[AttrShutdown] == nil || len(tb[AttrShutdown]) != 0 || len(tb[AttrMark]) != 4 {
		t.Errorf("%q", tb)
	}
	// A length past the end stops the walk there.
	bad := append(AppendAttr(nil, AttrShutdown, []byte{1}), 0xff, 0, byte(AttrMark), 0, 1, 2, 3, 4)
	if tb := ParseAttrs(bad); tb[AttrShutdown] == nil || tb[AttrMark] != nil {
		t.Errorf("bad length: %q", tb)
	}
	// An unaligned last attribute still counts.
	if tb := ParseAttrs([]byte{5, 0, byte(AttrShutdown), 0, 3}); len(tb[AttrShutdown]) != 1 {
		t.Errorf("unaligned: %q", tb)
	}
	for _, b := range [][]byte{nil, {1}, {3, 0, 1, 0}, {0, 0, 0, 0}} {
		for typ, a := range ParseAttrs(b) {
			if a != nil {
				t.Errorf("% x: attribute %d %q", b, typ, a)
			}
		}
	}
}

// print_ms_timer: minutes, seconds, milliseconds, the smaller units
// dropped as the larger grow past nine.
func TestMsTimer(t *testing.T) {
	for _, tc := range []struct {
		ms   uint32
		want string
	}{
		{0, ""}, {1, "001ms"}, {200, "200ms"}, {999, "999ms"}, {1000, "1sec"}, {1001, "1.001ms"}, {1500, "1.500ms"},
		{9999, "9.999ms"}, {10000, "10sec"}, {10500, "10sec"}, {59999, "59sec"}, {60000, "1min"}, {60500, "1min"},
		{98984, "1min38sec"}, {599999, "9min59sec"}, {600000, "10min"}, {659000, "10min"}, {7200000, "120min"},
		{4294967295, "71582min"},
	} {
		if got := msTimer(tc.ms); got != tc.want {
			t.Errorf("%d: %q, want %q", tc.ms, got, tc.want)
		}
	}
}

// resolve_service: "*" for port 0, numbers with -n, for ephemeral ports
// (the host's range, else ss's 1024 to 4999) and for ports without a name.
func TestService(t *testing.T) {
	services := ParseServices(strings.NewReader("# comment\nssh\t22/tcp\nssh-udp 22/udp\nhttp 80/tcp www # web\nwww2 80/tcp\nbad x/tcp\nshort\nx 70000/tcp\nhigh 40000/tcp\nlow 2000/tcp\n"))
	if len(services) != 4 || services[22] != "ssh" || services[80] != "http" {
		t.Fatalf("%v", services)
	}
	for _, tc := range []struct {
		numeric bool
		lo, hi  int
		port    uint16
		want    string
	}{
		{false, 32768, 60999, 0, "*"}, {true, 32768, 60999, 0, "*"},
		{false, 32768, 60999, 22, "ssh"}, {true, 32768, 60999, 22, "22"},
		{false, 32768, 60999, 40000, "40000"}, {false, 32768, 60999, 2000, "low"},
		{false, 0, 0, 2000, "2000"}, {false, 0, 0, 40000, "high"}, // ss's fallback range
		{false, 32768, 60999, 81, "81"},
	} {
		p := NewPrinter(&bytes.Buffer{}, Options{Numeric: tc.numeric}, Env{Services: services, PortLow: tc.lo, PortHigh: tc.hi})
		if got := p.service(tc.port); got != tc.want {
			t.Errorf("%+v: %q", tc, got)
		}
	}
	for _, tc := range []struct {
		in     string
		lo, hi int
		ok     bool
	}{{"32768\t60999\n", 32768, 60999, true}, {"1024 4999", 1024, 4999, true}, {"", 0, 0, false}, {"x y", 0, 0, false}, {"5", 0, 0, false}} {
		lo, hi, ok := ParsePortRange(tc.in)
		if lo != tc.lo || hi != tc.hi || ok != tc.ok {
			t.Errorf("%q: %d %d %v", tc.in, lo, hi, ok)
		}
	}
}

// sprint_bw: a plain number with -n, three digits and a unit otherwise.
func TestBandwidth(t *testing.T) {
	for _, tc := range []struct {
		v       float64
		numeric bool
		want    string
	}{
		{0, false, "0"}, {999, false, "999"}, {1000, false, "1k"}, {1234567, false, "1.23M"}, {38613333333, false, "38.6G"},
		{1e12, false, "1T"}, {2.5e15, false, "2.5e+03T"}, {999.5, false, "999.5"}, {38613333333.4, true, "38613333333"}, {0.5, true, "0"},
	} {
		p := NewPrinter(&bytes.Buffer{}, Options{Numeric: tc.numeric}, Env{})
		if got := p.bw(tc.v); got != tc.want {
			t.Errorf("%v numeric %v: %q, want %q", tc.v, tc.numeric, got, tc.want)
		}
	}
}

// A reply shorter than inet_diag_msg is an error; one of another family
// than -4/-6 ask for, or of no inet family, is skipped.
func TestPrintSkipsAndErrors(t *testing.T) {
	var b bytes.Buffer
	o := Options{States: StatesAll, Numeric: true, Family: AFInet}
	if err := Print(&b, o, Env{}, [][]byte{make([]byte, MsgLen-1)}); err == nil {
		t.Error("short reply printed")
	}
	six := Msg{Family: AFInet6, State: StateListen, ID: SockID{Src: netip.IPv6Unspecified(), Dst: netip.IPv6Unspecified()}}.Append(nil)
	unix := Msg{Family: 1, State: StateListen}.Append(nil)
	b.Reset()
	if err := Print(&b, Options{States: StatesAll, Numeric: true, NoHeader: true, Family: AFInet}, Env{}, [][]byte{six, unix}); err != nil || b.Len() != 0 {
		t.Errorf("%q %v", b.String(), err)
	}
	b.Reset()
	if err := Print(&b, Options{States: StatesAll, Numeric: true, NoHeader: true}, Env{}, [][]byte{six, unix}); err != nil || b.String() != "LISTEN 0      0      *:* *:*\n" {
		t.Errorf("%q %v", b.String(), err)
	}
}

// Options the printer takes from Env: a device's name for a bound
// socket; an unknown state's name.
func TestPrintEnv(t *testing.T) {
	m := Msg{Family: AFInet, State: 13, ID: SockID{SPort: 80, Src: netip.MustParseAddr("198.18.0.1"), Dst: netip.IPv4Unspecified(), If: 2}}
	var b bytes.Buffer
	env := Env{IfName: func(i int) string { return map[int]string{2: "vnic0"}[i] }}
	if err := Print(&b, Options{States: StatesAll, Numeric: true, NoHeader: true}, env, [][]byte{m.Append(nil)}); err != nil {
		t.Fatal(err)
	}
	if want := "UNKNOWN 0      0      198.18.0.1%vnic0:80 0.0.0.0:*\n"; b.String() != want {
		t.Errorf("%q, want %q", b.String(), want)
	}
}
