package packetdrill

import (
	"errors"
	"os"
	"testing"
)

const out0 = " > . 1:1(0) ack 1"

func TestTimes(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Time
	}{
		{"0", Time{Kind: AbsoluteTime}},
		{"0.100", Time{Kind: AbsoluteTime, Usecs: 100000}},
		{"1", Time{Kind: AbsoluteTime, Usecs: 1000000}},
		{"2.5", Time{Kind: AbsoluteTime, Usecs: 2500000}},
		{"0.035", Time{Kind: AbsoluteTime, Usecs: 35000}},
		{"0.0000019", Time{Kind: AbsoluteTime, Usecs: 1}},
		{"-0", Time{Kind: AbsoluteTime}},
		{"+0", Time{Kind: RelativeTime}},
		{"+.1", Time{Kind: RelativeTime, Usecs: 100000}},
		{"+0.001", Time{Kind: RelativeTime, Usecs: 1000}},
		{"+ 2", Time{Kind: RelativeTime, Usecs: 2000000}},
		{"*", Time{Kind: AnyTime}},
		{"1~2", Time{Kind: AbsoluteRange, Usecs: 1000000, EndUsecs: 2000000}},
		{"+.35~+2.35", Time{Kind: RelativeRange, Usecs: 350000, EndUsecs: 2350000}},
		{"+.01~+.015", Time{Kind: RelativeRange, Usecs: 10000, EndUsecs: 15000}},
	} {
		ev := event1(t, c.in+out0)
		if ev.Time != c.want {
			t.Errorf("%q: time %+v, want %+v", c.in, ev.Time, c.want)
		}
	}
}

func TestBlockingSyscall(t *testing.T) {
	for _, c := range []struct {
		in       string
		start    Time
		end      int64
		relative bool
	}{
		{"+0...0.100 read(4, ..., 2000) = 2000", Time{Kind: RelativeTime}, 100000, true},
		{"+.1...0.200 read(4, ..., 2000) = 2000", Time{Kind: RelativeTime, Usecs: 100000}, 200000, true},
		{"+0...0 connect(4, ..., ...) = 0", Time{Kind: RelativeTime}, 0, true},
		{"0...0 connect(4, ..., ...) = 0", Time{Kind: AbsoluteTime}, 0, false},
		{"0.1...0.3 write(4, ..., 61000) = 61000", Time{Kind: AbsoluteTime, Usecs: 100000}, 300000, false},
		{"+0...30 connect(3, ..., ...) = -1 ETIMEDOUT (Connection Timed Out)", Time{Kind: RelativeTime}, 30000000, true},
	} {
		ev := event1(t, c.in)
		sc := ev.Action.(*Syscall)
		if ev.Time != c.start || !sc.Blocking || sc.End != c.end || sc.EndIsRelative != c.relative {
			t.Errorf("%q: time %+v blocking %v end %d relative %v", c.in, ev.Time, sc.Blocking, sc.End, sc.EndIsRelative)
		}
	}
	if sc := event1(t, "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3").Action.(*Syscall); sc.Blocking || sc.End != 0 {
		t.Errorf("non-blocking call: %+v", sc)
	}
}

func TestSyscalls(t *testing.T) {
	for _, c := range []struct {
		in                    string
		name, args, result    string
		errno, strerror, note string
	}{
		{"0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3", "socket", "..., SOCK_STREAM, IPPROTO_TCP", "3", "", "", ""},
		{"+0 getpid() = 7", "getpid", "", "7", "", "", ""},
		{"+0 fcntl(4, F_SETFL, O_RDWR|O_NONBLOCK) = 0", "fcntl", "4, F_SETFL, O_RDWR|O_NONBLOCK", "0", "", "", ""},
		{"+0 setsockopt(3, SOL_SOCKET, SO_LINGER, {onoff=1, linger=0}, 8) = 0", "setsockopt", "3, SOL_SOCKET, SO_LINGER, {onoff=1, linger=0}, 8", "0", "", "", ""},
		{"+0 setsockopt(3, SOL_SOCKET, SO_LINGER, {l_onoff=1, l_linger=0}, 8) = 0", "setsockopt", "3, SOL_SOCKET, SO_LINGER, {l_onoff=1, l_linger=0}, 8", "0", "", "", ""},
		{`+0 connect(3, {sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr("192.0.2.1")}, 16) = 0`, "connect",
			`3, {sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr("192.0.2.1")}, 16`, "0", "", "", ""},
		{"+0 poll([{fd=4, events=POLLIN, revents=POLLIN}], 1, 0) = 1", "poll", "[{fd=4, events=POLLIN, revents=POLLIN}], 1, 0", "1", "", "", ""},
		{"+0 writev(4, [{..., 100}, {..., 200}], 2) = 300", "writev", "4, [{..., 100}, {..., 200}], 2", "300", "", "", ""},
		{"+0 sendmsg(4, {msg_name(...)=..., msg_iov(1)=[{..., 1000}], msg_flags=0}, MSG_ZEROCOPY) = 1000", "sendmsg",
			"4, {msg_name(...)=..., msg_iov(1)=[{..., 1000}], msg_flags=0}, MSG_ZEROCOPY", "1000", "", "", ""},
		{"+0 getsockopt(4, SOL_TCP, TCP_INFO, {tcpi_state=TCP_ESTABLISHED, tcpi_rto=200000}, [104]) = 0", "getsockopt",
			"4, SOL_TCP, TCP_INFO, {tcpi_state=TCP_ESTABLISHED, tcpi_rto=200000}, [104]", "0", "", "", ""},
		{`+0 write(4, "hello"..., 5) = 5`, "write", `4, "hello"..., 5`, "5", "", "", ""},
		{"+0 setsockopt(4, SOL_SOCKET, SO_MARK, [0x1f], 4) = 0", "setsockopt", "4, SOL_SOCKET, SO_MARK, [0x1f], 4", "0", "", "", ""},
		{"+0 epoll_ctl(5, EPOLL_CTL_ADD, 4, {events=EPOLLIN, fd=4}) = 0", "epoll_ctl", "5, EPOLL_CTL_ADD, 4, {events=EPOLLIN, fd=4}", "0", "", "", ""},
		{"+0 setsockopt(4, SOL_IPV6, IPV6_X, [], 0) = 0", "setsockopt", "4, SOL_IPV6, IPV6_X, [], 0", "0", "", "", ""},
		{"+0 ioctl(4, SIOCX, {}) = 0", "ioctl", "4, SIOCX, {}", "0", "", "", ""},
		{"+0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)", "connect", "3, ..., ...", "-1", "EINPROGRESS", "Operation now in progress", ""},
		{"+0 read(4, ..., 4) = -1 ECONNRESET (Connection Reset by Peer)", "read", "4, ..., 4", "-1", "ECONNRESET", "Connection Reset by Peer", ""},
		{"+0 send(4, ..., 1000, 0) = 1000 (partial write)", "send", "4, ..., 1000, 0", "1000", "", "", "partial write"},
		{"+0 recv(4, ..., 10, 0) = -1 EAGAIN (Resource temporarily unavailable) (nothing yet)", "recv", "4, ..., 10, 0", "-1", "EAGAIN", "Resource temporarily unavailable", "nothing yet"},
		{"+0 foo() = BAR (a note)", "foo", "", "BAR", "", "", "a note"},
		{"+0 foo() = ...", "foo", "", "...", "", "", ""},
		{"+0 foo() = A|B|C", "foo", "", "A|B|C", "", "", ""},
	} {
		sc := event1(t, c.in).Action.(*Syscall)
		if sc.Name != c.name || joinExprs(sc.Args) != c.args || sc.Result.String() != c.result ||
			sc.Errno != c.errno || sc.Strerror != c.strerror || sc.Note != c.note {
			t.Errorf("%q: %q(%q) = %q %q (%q) (%q)", c.in, sc.Name, joinExprs(sc.Args), sc.Result, sc.Errno, sc.Strerror, sc.Note)
		}
	}
}

// The expression trees, not only their printing.
func TestExpressionTrees(t *testing.T) {
	sc := event1(t, `+0 f(O_RDWR|O_NONBLOCK|O_CLOEXEC, [{fd=4, events=POLLIN}], {sin_port=htons(8080)}, 0x10, msg_iov(1)=[{..., 5}], "s"...) = -1 E (x)`).Action.(*Syscall)
	or1, ok := sc.Args[0].(*Or)
	if !ok {
		t.Fatalf("arg 0 %T", sc.Args[0])
	}
	if or0, ok := or1.L.(*Or); !ok || or0.L.(*Symbol).Name != "O_RDWR" || or0.R.(*Symbol).Name != "O_NONBLOCK" || or1.R.(*Symbol).Name != "O_CLOEXEC" {
		t.Errorf("or chain %#v", or1)
	}
	pfd := sc.Args[1].(*List).Elems[0].(*Struct)
	if a := pfd.Fields[1].(*Assign); a.LHS.(*Symbol).Name != "events" || a.RHS.(*Symbol).Name != "POLLIN" {
		t.Errorf("pollfd %v", pfd)
	}
	call := sc.Args[2].(*Struct).Fields[0].(*Assign).RHS.(*Call)
	if call.Func != "htons" || call.Args[0].(*Int).Value != 8080 {
		t.Errorf("htons %v", call)
	}
	if n := sc.Args[3].(*Int); n.Value != 16 || !n.Hex {
		t.Errorf("hex %#v", n)
	}
	if a := sc.Args[4].(*Assign); a.LHS.(*Call).Func != "msg_iov" || a.LHS.(*Call).Args[0].(*Int).Value != 1 {
		t.Errorf("msg_iov %v", a)
	}
	if s := sc.Args[5].(*Str); s.Raw != "s" || !s.Ellipsis {
		t.Errorf("string %#v", s)
	}
	if n := sc.Result.(*Int); n.Value != -1 || n.Hex {
		t.Errorf("result %#v", n)
	}
	if p := sc.Args[1].Pos(); p != (Pos{1, 35}) {
		t.Errorf("list at %v", p)
	}
}

func TestMPLSAndGREExpressions(t *testing.T) {
	sc := event1(t, "+0 setsockopt(3, SOL_X, X, {(label 1, tc 2, ttl 3) (label 4, tc 5, [S], ttl 6)}, {flags [checksum present, key present], sum 1, off 2, key=3, seq 4}) = 0").Action.(*Syscall)
	m := sc.Args[3].(*MPLSStack)
	if len(m.Entries) != 2 || m.Entries[1] != (MPLSEntry{Label: 4, TC: 5, Bottom: true, TTL: 6}) {
		t.Errorf("mpls %v", m)
	}
	g := sc.Args[4].(*GREFields).GRE
	if g != (GREHeader{Flags: 0xa000, FlagList: true, Sum: 1, Off: 2, Key: 3, Seq: 4}) {
		t.Errorf("gre %+v", g)
	}
}

func TestScriptStructure(t *testing.T) {
	s := mustParse(t, "// c\n--tolerance_usecs=10000\n--dry_run\n--ip_version=ipv4\n--define=PROTO=IPPROTO_TCP\n--define=CC=\"reno\"\n"+
		"--define=S=`x`\n--local_ip=192.0.2.1\n--remote_ip=2001:db8::1\n--name=\"quoted\"\n"+
		"`./defaults.sh`\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 `echo mid`\n+0 %{ print(1) }%\n`cleanup.sh`\n")
	want := []Option{
		{Pos: Pos{2, 1}, Name: "tolerance_usecs", Value: "10000", HasValue: true},
		{Pos: Pos{3, 1}, Name: "dry_run"},
		{Pos: Pos{4, 1}, Name: "ip_version", Value: "ipv4", HasValue: true},
		{Pos: Pos{5, 1}, Name: "define", Value: "PROTO=IPPROTO_TCP", HasValue: true},
		{Pos: Pos{6, 1}, Name: "define", Value: `CC="reno"`, HasValue: true},
		{Pos: Pos{7, 1}, Name: "define", Value: "S=`x`", HasValue: true},
		{Pos: Pos{8, 1}, Name: "local_ip", Value: "192.0.2.1", HasValue: true},
		{Pos: Pos{9, 1}, Name: "remote_ip", Value: "2001:db8::1", HasValue: true},
		{Pos: Pos{10, 1}, Name: "name", Value: "quoted", HasValue: true, Quoted: true},
	}
	if len(s.Options) != len(want) {
		t.Fatalf("options %+v", s.Options)
	}
	for i := range want {
		if s.Options[i] != want[i] {
			t.Errorf("option %d: %+v, want %+v", i, s.Options[i], want[i])
		}
	}
	if s.Init == nil || *s.Init != (Command{Pos{11, 1}, "./defaults.sh"}) {
		t.Errorf("init %+v", s.Init)
	}
	if s.Cleanup == nil || *s.Cleanup != (Command{Pos{15, 1}, "cleanup.sh"}) {
		t.Errorf("cleanup %+v", s.Cleanup)
	}
	if len(s.Events) != 3 {
		t.Fatalf("%d events", len(s.Events))
	}
	if c := s.Events[1].Action.(*Command); c.Text != "echo mid" || s.Events[1].Pos != (Pos{13, 1}) {
		t.Errorf("timed command %+v at %v", c, s.Events[1].Pos)
	}
	if c := s.Events[2].Action.(*Code); c.Text != "print(1)" {
		t.Errorf("code %+v", c)
	}
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", "t.pkt:1:1: expected an event, found end of file (a script needs at least one)"},
		{"`init`\n", "t.pkt:2:1: expected an event, found end of file (a script needs at least one)"},
		{"0 a() = 0\n--x=1\n", "t.pkt:2:1: option --x after the first event or command: options come first"},
		{"`a`\n--x\n0 a() = 0", "t.pkt:2:1: option --x after the first event or command: options come first"},
		{"0 a() = 0\n`b`\n+0 a() = 0", "t.pkt:2:1: expected an event time before command `b`: only the first command (before any event) and the last (after all) go untimed"},
		{"--x=0x10\n0 a() = 0", "t.pkt:1:5: expected the value of --x (an integer, a word, a \"string\" or an address), found \"0x10\""},
		{"--define=A=1\n0 a() = 0", "t.pkt:1:12: expected a word, \"string\" or `command` after --define=A=, found \"1\""},
		{"socket() = 3", "t.pkt:1:1: expected an event time (0, 0.100, +0, +.1 or *), found \"socket\""},
		{"-1 a() = 0", "t.pkt:1:1: negative time"},
		{"+-0.5 a() = 0", "t.pkt:1:2: negative time"},
		{"99999999999999 a() = 0", "t.pkt:1:1: time 99999999999999 out of range"},
		{"0 \"s\"", "t.pkt:1:3: expected a packet (< or >), a system call, a `command` or %{ code }% after the event time, found string \"s\""},
		{"0 a() = 0 ... 1", "t.pkt:1:11: expected an event time (0, 0.100, +0, +.1 or *), found '...'"},
		{"`a`\n`b`\n0 a() = 0", "t.pkt:2:1: expected an event time before command `b`: only the first command (before any event) and the last (after all) go untimed"},
		{"%{ x }%", "t.pkt:1:1: expected an event time (0, 0.100, +0, +.1 or *), found code %{ x }%"},
		{"0 (", "t.pkt:1:3: expected a packet (< or >), a system call, a `command` or %{ code }% after the event time, found \"(\""},
		{"2~1 > . 1:1(0)", "t.pkt:1:1: time range is backwards"},
		{"+1~2 > . 1:1(0)", "t.pkt:1:4: expected '+' starting the end of a relative range (+a~+b), found \"2\""},
		{"1~+2 > . 1:1(0)", "t.pkt:1:3: an absolute range's end is absolute: a~b, or +a~+b for a relative one"},
		{"* a() = 0", "t.pkt:1:1: event time * can only be used with outbound packets"},
		{"* < . 1:1(0) win 1", "t.pkt:1:1: event time * can only be used with outbound packets"},
		{"+1~+2 a() = 0", "t.pkt:1:1: event time range can only be used with outbound packets"},
		{"0~1 `x`", "t.pkt:1:1: event time range can only be used with outbound packets"},
		{"+0...+1 a() = 0", "t.pkt:1:6: a blocking call's end time takes no '+': it is relative when the start is"},
		{"+0... a() = 0", "t.pkt:1:7: expected the time the blocking call returns (start...end), found \"a\""},
		{"0 ...1 > . 1:1(0)", "t.pkt:1:8: expected a system call name, found \">\""},
		{"0 a = 0", "t.pkt:1:5: expected '(' after the system call name a, found \"=\""},
		{"0 a(1 2) = 0", "t.pkt:1:7: expected ',' or ')' in the arguments of a, found \"2\""},
		{"0 a(1)", "t.pkt:1:7: expected '=' and the result a must return, found end of file"},
		{"0 a(1) =", "t.pkt:1:9: expected an expression (a number, a symbol, a \"string\", ..., [list] or {struct}), found end of file"},
		{"0 a(1) = -1 EAGAIN", "t.pkt:1:19: expected '(' and the text of EAGAIN (EAGAIN (…)), found end of file"},
		{"0 a(1) = -1 EAGAIN ()", "t.pkt:1:21: expected the words of a note, found \")\""},
		{"0 a(1) = -1 EAGAIN (try 2 again)", "t.pkt:1:25: expected ')' closing the note (a note holds words only), found \"2\""},
		{"0 a(1.5) = 0", "t.pkt:1:5: expected an expression (a number, a symbol, a \"string\", ..., [list] or {struct}), found \"1.5\""},
		{"0 a([1, 2) = 0", "t.pkt:1:10: expected ',' or ']' in the list, found \")\""},
		{"0 a({x=1) = 0", "t.pkt:1:9: expected ',' or '}' in the braces, found \")\""},
		{"0 a(htons(-1)) = 0", "t.pkt:1:5: htons wants one integer 0..65535"},
		{"0 a(htons(65536)) = 0", "t.pkt:1:5: htons wants one integer 0..65535"},
		{"0 a(inet_addr(1)) = 0", "t.pkt:1:5: inet_addr wants one \"string\""},
		{`0 a(inet6_addr("1.2.3.4")) = 0`, `t.pkt:1:16: cannot parse in6_addr "1.2.3.4"`},
		{"0 a(99999999999999999999) = 0", "t.pkt:1:5: integer 99999999999999999999 out of range"},
		{"0 a(0x8000000000000000) = 0", "t.pkt:1:5: integer 0x8000000000000000 out of range"},
		{"0 a({(label 1, tc 8, ttl 1)}) = 0", "t.pkt:1:19: MPLS traffic class out of range (3 bits)"},
		{"0 a({(label 1, tc 1, [T], ttl 1)}) = 0", "t.pkt:1:23: expected [S] for MPLS label stack bottom, found \"T\""},
		{"0 a({(label 1, tc 1, ttl 1) (label 1, tc 1, ttl 1) (label 1, tc 1, ttl 1) (label 1, tc 1, ttl 1) (label 1, tc 1, ttl 1) (label 1, tc 1, ttl 1) (label 1, tc 1, ttl 1)}) = 0",
			"t.pkt:1:144: too many MPLS labels"},
		{"0 a({flags 0, sum 1, off 2, seq 3}) = 0", "t.pkt:1:29: expected key in the GRE header (flags, sum, off, key, seq), found \"seq\""},
		{"0 a({flags [key], sum 1, off 2, key 3, seq 4}) = 0", "t.pkt:1:16: expected present after key, found \"]\""},
	} {
		if got := parseError(t, c.in); got != c.want {
			t.Errorf("%q:\n got %s\nwant %s", c.in, got, c.want)
		}
	}
}

func TestErrorType(t *testing.T) {
	_, err := Parse("x.pkt", []byte("0 > psp spi 1: . 1:1(0)"))
	var pe *Error
	if !errors.As(err, &pe) || pe.File != "x.pkt" || pe.Pos != (Pos{1, 5}) || !errors.Is(err, ErrUnsupported) {
		t.Fatalf("err %#v", err)
	}
	_, err = Parse("x.pkt", []byte("0 > . 1:1(2)"))
	if !errors.As(err, &pe) || errors.Is(err, ErrUnsupported) {
		t.Fatalf("err %#v", err)
	}
}

func TestParseFile(t *testing.T) {
	path := t.TempDir() + "/a.pkt"
	if err := os.WriteFile(path, []byte("0 close(3) = 0\n+0 x("), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ParseFile(path); err == nil || err.Error() != path+":2:6: expected an expression (a number, a symbol, a \"string\", ..., [list] or {struct}), found end of file" {
		t.Errorf("ParseFile: %v", err)
	}
	if _, err := ParseFile(path + ".missing"); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ParseFile of a missing file: %v", err)
	}
}

func TestAccessors(t *testing.T) {
	pk := packet1(t, "0 > [ect1] FP. 1:2(1)")
	if !pk.TCP.Has('F') || !pk.TCP.Has('.') || pk.TCP.Has('S') || pk.Direction.String() != ">" || Inbound.String() != "<" {
		t.Errorf("flags %q, direction %v", pk.TCP.Flags, pk.Direction)
	}
	if pk.IP.IsZero() || (IPInfo{}).IsZero() != true || pk.IP.ECN.String() != "ect1" || ECT01.String() != "ect01" || ECN(9).String() != "ecn?" {
		t.Errorf("ip %+v", pk.IP)
	}
	for k, rel := range map[TimeKind]bool{AbsoluteTime: false, RelativeTime: true, AnyTime: false, AbsoluteRange: false, RelativeRange: true} {
		if (Time{Kind: k}).IsRelative() != rel {
			t.Errorf("kind %d relative %v", k, !rel)
		}
	}
	if (Pos{3, 4}).String() != "3:4" {
		t.Errorf("pos")
	}
}
