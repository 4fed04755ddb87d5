package main

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"vnic/stack/inet"
	"vnic/stack/ipv4"
)

// TestPingOptionErrors: each refused option is worded, and exits, as
// iputils ping 20221126 (Debian 12) does; nothing reaches stdout.
func TestPingOptionErrors(t *testing.T) {
	tests := []struct {
		args    []string
		errOut  string
		rc      int
		version bool
	}{
		{[]string{"-c", "0", "198.18.0.1"}, "ping: invalid argument: '0': out of range: 1 <= value <= 9223372036854775807\n", 1, false},
		{[]string{"-c", "-1", "198.18.0.1"}, "ping: invalid argument: '-1': out of range: 1 <= value <= 9223372036854775807\n", 1, false},
		{[]string{"-c", "abc", "198.18.0.1"}, "ping: invalid argument: 'abc'\n", 1, false},
		{[]string{"-c", "1x", "198.18.0.1"}, "ping: invalid argument: '1x'\n", 1, false},
		{[]string{"-t", "256", "198.18.0.1"}, "ping: invalid argument: '256': out of range: 0 <= value <= 255\n", 1, false},
		{[]string{"-t", "abc", "198.18.0.1"}, "ping: invalid argument: 'abc'\n", 1, false},
		{[]string{"-t", "0", "198.18.0.1"}, "ping: cannot set unicast time-to-live: Invalid argument\n", 2, false},
		{[]string{"-s", "-1", "198.18.0.1"}, "ping: invalid argument: '-1': out of range: 0 <= value <= 2147483647\n", 1, false},
		{[]string{"-s", "abc", "198.18.0.1"}, "ping: invalid argument: 'abc'\n", 1, false},
		{[]string{"-w", "9999999999", "198.18.0.1"}, "ping: invalid argument: '9999999999': out of range: 0 <= value <= 2147483647\n", 1, false},
		{[]string{"-w", "-1", "198.18.0.1"}, "ping: invalid argument: '-1': out of range: 0 <= value <= 2147483647\n", 1, false},
		{[]string{"-w", "abc", "198.18.0.1"}, "ping: invalid argument: 'abc'\n", 1, false},
		{[]string{"-W", "-1", "198.18.0.1"}, "ping: bad linger time: -1\n", 2, false},
		{[]string{"-W", "99999999", "198.18.0.1"}, "ping: bad linger time: 99999999\n", 2, false},
		{[]string{"-i", "2147484", "198.18.0.1"}, "ping: bad timing interval: 2147484\n", 2, false},
		{[]string{"-i", "nan", "198.18.0.1"}, "ping: bad timing interval: nan\n", 2, false},
		{[]string{"-W", "inf", "198.18.0.1"}, "ping: bad linger time: inf\n", 2, false},
		{[]string{"-i", "0.001", "198.18.0.1"}, "ping: cannot flood; minimal interval allowed for user is 2ms\n", 2, false},
		{[]string{"-Q", "300", "198.18.0.1"}, "ping: the decimal value of TOS bits must be in range 0-255: 300\n", 2, false},
		{[]string{"-Q", "abc", "198.18.0.1"}, "ping: bad TOS value: abc\n", 2, false},
		{[]string{"-M", "foo", "198.18.0.1"}, "ping: invalid -M argument: foo\n", 2, false},
		{[]string{"-T", "foo", "198.18.0.1"}, "ping: invalid timestamp type: foo\n", 2, false},
		{[]string{"-R", "-T", "tsonly", "198.18.0.1"}, "ping: only one of -T or -R may be used\n", 2, false},
		{[]string{}, "ping: usage error: Destination address required\n", 1, false},
		{[]string{"-c", "1", "nosuchhost"}, "ping: nosuchhost: Name or service not known\n", 2, false},
		{[]string{"-V"}, "", 0, true},
	}
	for _, tc := range tests {
		var out, errOut bytes.Buffer
		var o pingOpts
		fs := pflag.NewFlagSet("ping", pflag.ContinueOnError)
		pingFlags(fs, &o)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		o.host = ""
		rc := runPing(o, fs.Args(), &out, &errOut)
		if rc != tc.rc || errOut.String() != tc.errOut {
			t.Errorf("ping %v: rc %d stderr %q, want %d %q", tc.args, rc, errOut.String(), tc.rc, tc.errOut)
		}
		if tc.version {
			if out.String() != pingVersion+"\n" {
				t.Errorf("-V: %q", out.String())
			}
		} else if out.Len() != 0 {
			t.Errorf("ping %v: stdout %q", tc.args, out.String())
		}
	}
}

// TestPingGarbageWarning: a number with trailing garbage for -i or -W is
// warned about on stderr and its number used, as Debian's ping does.
func TestPingGarbageWarning(t *testing.T) {
	var warn bytes.Buffer
	c, err := parsePingOpts(pingOpts{size: "56", pmtu: "want", interval: "0.5x", linger: "2x"}, []string{"198.18.0.1"}, &warn)
	if err != nil {
		t.Fatal(err.msg)
	}
	want := "ping: option argument contains garbage: x\nping: this will become fatal error in the future\n"
	if warn.String() != want+want || c.interval != 500*time.Millisecond || c.linger != 2*time.Second {
		t.Errorf("warnings %q, interval %v, linger %v", warn.String(), c.interval, c.linger)
	}
}

// ev builders for the host's stream.
func evStart(src string) pingEvent {
	return pingEvent{kind: inet.PingStart, from: netip.MustParseAddr(src)}
}
func evSent(seq uint16, at time.Duration) pingEvent {
	return pingEvent{kind: inet.PingSent, seq: seq, elapsed: uint64(at)}
}
func evReply(seq uint16, from string, us int64, opts []byte) pingEvent {
	return pingEvent{kind: inet.PingReply, seq: seq, from: netip.MustParseAddr(from), ttl: 64, nbytes: 64, rtt: uint64(us * 1000), options: opts}
}
func evUnreach(seq uint16, from string) pingEvent {
	return pingEvent{kind: inet.PingError, seq: seq, from: netip.MustParseAddr(from), typ: ipv4.ICMPDestUnreach, code: ipv4.ICMPHostUnreach}
}
func evSummary(sent uint32, elapsed time.Duration) pingEvent {
	return pingEvent{kind: inet.PingSummary, sent: sent, elapsed: uint64(elapsed)}
}

func rrOption(addrs ...string) []byte {
	// As IP_RETOPTS gives them: the options echoed (no NOP before).
	o := []byte{ipv4.IPOptRR, 39, byte(4 + 4*len(addrs))}
	for _, a := range addrs {
		b := netip.MustParseAddr(a).As4()
		o = append(o, b[:]...)
	}
	return append(o, make([]byte, 40-len(o))...)
}

func tsOption(flags byte, length int, entries ...uint32) []byte {
	o := []byte{ipv4.IPOptTimestamp, byte(length), 0, flags}
	for _, e := range entries {
		o = append(o, byte(e>>24), byte(e>>16), byte(e>>8), byte(e))
	}
	o[2] = byte(len(o) + 1)
	return append(o, make([]byte, length-len(o))...)
}

func golden(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/ping/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestPingOutputAsIputils replays host streams whose round trips are
// those of captured runs of iputils ping 20221126 on Linux (testdata/ping:
// a veth in a scratch namespace) and compares the whole output.
func TestPingOutputAsIputils(t *testing.T) {
	ms := time.Millisecond
	a := netip.MustParseAddr("198.18.0.1").As4()
	tsPair := func(ts uint32) []uint32 {
		return []uint32{uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3]), ts}
	}
	var tsandaddr []uint32
	tsandaddr = append(tsandaddr, tsPair(83992521)...)
	for range 3 {
		tsandaddr = append(tsandaddr, tsPair(83992521)...)
	}
	tests := []struct {
		name, golden, errGolden string
		c                       pingConfig
		events                  []pingEvent
		rc                      int
	}{
		{"replies", "ok.out", "", pingConfig{count: 3}, []pingEvent{evStart("198.18.0.1"),
			evSent(1, 0), evReply(1, "198.18.0.1", 112, nil), evSent(2, 204*ms), evReply(2, "198.18.0.1", 51, nil),
			evSent(3, 409*ms), evReply(3, "198.18.0.1", 56, nil), evSummary(3, 409*ms)}, 0},
		{"unreachable with a pipe", "unr.out", "", pingConfig{target: "198.18.0.2", count: 4}, []pingEvent{evStart("198.18.0.1"),
			evSent(1, 0), evSent(2, 300*ms), evSent(3, 600*ms), evSent(4, 950*ms),
			evUnreach(1, "198.18.0.1"), evUnreach(2, "198.18.0.1"), evUnreach(3, "198.18.0.1"), evUnreach(4, "198.18.0.1"), evSummary(4, 950*ms)}, 1},
		{"quiet", "q.out", "", pingConfig{count: 2, quiet: true}, []pingEvent{evStart("198.18.0.1"),
			evSent(1, 0), evReply(1, "198.18.0.1", 27, nil), evSent(2, 203*ms), evReply(2, "198.18.0.1", 60, nil), evSummary(2, 203*ms)}, 0},
		{"no reply", "W.out", "", pingConfig{target: "198.18.0.2", count: 1}, []pingEvent{evStart("198.18.0.1"), evSent(1, 0), evSummary(1, 0)}, 1},
		{"local error", "s65508.out", "s65508.err", pingConfig{count: 1, size: 65508}, []pingEvent{evStart("198.18.0.1"), evSent(1, 0),
			{kind: inet.PingLocal, seq: 1, mtu: 65535}, evSummary(1, 0)}, 1},
		{"source address", "Iaddr.out", "", pingConfig{count: 1, src: netip.MustParseAddr("198.18.0.1")}, []pingEvent{evStart("198.18.0.1"),
			evSent(1, 0), evReply(1, "198.18.0.1", 173, nil), evSummary(1, 0)}, 0},
		{"record route", "R.out", "", pingConfig{count: 2, ipopt: inet.IPOptRecordRoute}, []pingEvent{evStart("198.18.0.1"),
			evSent(1, 0), evReply(1, "198.18.0.1", 123, rrOption("198.18.0.1", "198.18.0.1", "198.18.0.1", "198.18.0.1")),
			evSent(2, 204*ms), evReply(2, "198.18.0.1", 61, rrOption("198.18.0.1", "198.18.0.1", "198.18.0.1", "198.18.0.1")), evSummary(2, 204*ms)}, 0},
		{"timestamps", "Ts.out", "", pingConfig{count: 2, ipopt: inet.IPOptTSOnly}, []pingEvent{evStart("198.18.0.1"),
			evSent(1, 0), evReply(1, "198.18.0.1", 28, tsOption(0, 40, 83992309, 83992309, 83992309, 83992309)),
			evSent(2, 201*ms), evReply(2, "198.18.0.1", 52, tsOption(0, 40, 83992510, 83992510, 83992510, 83992510)), evSummary(2, 201*ms)}, 0},
		{"timestamps and addresses", "Ta.out", "", pingConfig{count: 1, ipopt: inet.IPOptTSAndAddr}, []pingEvent{evStart("198.18.0.1"),
			evSent(1, 0), evReply(1, "198.18.0.1", 27, tsOption(1, 36, tsandaddr...)), evSummary(1, 0)}, 0},
	}
	for _, tc := range tests {
		c := tc.c
		if c.target == "" {
			c.target = "198.18.0.1"
		}
		c.dst = netip.MustParseAddr(c.target)
		if c.size == 0 {
			c.size = 56
		}
		var out, errOut bytes.Buffer
		p := newPingSession(c, &out, &errOut)
		for _, e := range tc.events {
			p.handle(e)
		}
		p.finish()
		want := golden(t, tc.golden)
		wantErr := ""
		if tc.errGolden != "" {
			wantErr = golden(t, tc.errGolden)
		}
		if out.String() != want || errOut.String() != wantErr || p.exitCode() != tc.rc {
			t.Errorf("%s: rc %d, want %d\n%s\nwant\n%s\nstderr %q want %q", tc.name, p.exitCode(), tc.rc, out.String(), want, errOut.String(), wantErr)
		}
	}
}

// TestPingDuplicatesStampsDeadline: a repeated reply is marked and
// counted as iputils does, -D stamps each line, and with -w fewer
// replies than -c asked for exit 1.
func TestPingDuplicatesStampsDeadline(t *testing.T) {
	c := pingConfig{target: "198.18.0.1", dst: netip.MustParseAddr("198.18.0.1"), size: 56, count: 2, deadline: time.Second, stamps: true}
	var out, errOut bytes.Buffer
	p := newPingSession(c, &out, &errOut)
	p.now = func() time.Time { return time.Unix(1796167192, 770414000) }
	for _, e := range []pingEvent{evStart("198.18.0.1"), evSent(1, 0), evReply(1, "198.18.0.1", 28, nil), evReply(1, "198.18.0.1", 30, nil), evSummary(1, 0)} {
		p.handle(e)
	}
	p.finish()
	want := "PING 198.18.0.1 (198.18.0.1) 56(84) bytes of data.\n" +
		"[1796167192.770414] 64 bytes from 198.18.0.1: icmp_seq=1 ttl=64 time=0.028 ms\n" +
		"[1796167192.770414] 64 bytes from 198.18.0.1: icmp_seq=1 ttl=64 time=0.030 ms (DUP!)\n" +
		"\n--- 198.18.0.1 ping statistics ---\n" +
		"1 packets transmitted, 1 received, +1 duplicates, 0% packet loss, time 0ms\n" +
		"rtt min/avg/max/mdev = 0.028/0.029/0.030/0.001 ms\n"
	if out.String() != want || p.exitCode() != 1 {
		t.Errorf("rc %d\n%s\nwant\n%s", p.exitCode(), out.String(), want)
	}
}

// TestPingTimeFormat: the reply's time= as iputils rounds it (the
// precision is chosen before rounding: 9995 µs is "10.00").
func TestPingTimeFormat(t *testing.T) {
	for us, want := range map[int64]string{0: "0.000", 51: "0.051", 999: "0.999", 1004: "1.00", 1005: "1.01", 9994: "9.99", 9995: "10.00",
		10049: "10.0", 10050: "10.1", 99949: "99.9", 99950: "100.0", 100000: "100", 123456: "123"} {
		if got := pingTime(us); got != want {
			t.Errorf("%d µs: %q, want %q", us, got, want)
		}
	}
}

// TestPingJSON: --json gives one object with iputils -j's summary keys.
func TestPingJSON(t *testing.T) {
	c := pingConfig{target: "198.18.0.1", dst: netip.MustParseAddr("198.18.0.1"), size: 56, count: 2, asJSON: true}
	var out bytes.Buffer
	p := newPingSession(c, &out, &out)
	for _, e := range []pingEvent{evStart("198.18.0.1"), evSent(1, 0), evReply(1, "198.18.0.1", 27, nil), evSent(2, 203*time.Millisecond),
		evReply(2, "198.18.0.1", 60, nil), evSummary(2, 203*time.Millisecond)} {
		p.handle(e)
	}
	p.finish()
	var j map[string]any
	if err := json.Unmarshal(out.Bytes(), &j); err != nil || strings.Count(out.String(), "\n") != 1 {
		t.Fatalf("%v: %s", err, out.String())
	}
	for k, v := range map[string]any{"host": "198.18.0.1", "transmitted": 2.0, "received": 2.0, "duplicates": 0.0, "corrupted": 0.0, "errors": 0.0, "loss": 0.0, "time": 203.0} {
		if j[k] != v {
			t.Errorf("%s: %v, want %v", k, j[k], v)
		}
	}
	rtt, _ := j["rtt"].(map[string]any)
	if rtt["min"] != "0.027" || rtt["avg"] != "0.043" || rtt["max"] != "0.060" || rtt["mdev"] != "0.016" {
		t.Errorf("rtt %v", j["rtt"])
	}
	if r, _ := j["replies"].([]any); len(r) != 2 {
		t.Errorf("replies %v", j["replies"])
	}
}

func FuzzPingOptions(f *testing.F) {
	f.Add([]byte{ipv4.IPOptNoop, ipv4.IPOptRR, 39, 8, 198, 18, 0, 1})
	f.Add(tsOption(1, 36, 1, 2, 3, 4))
	f.Add(tsOption(0, 40, 0x80000001, 5))
	f.Fuzz(func(t *testing.T, opts []byte) {
		p := newPingSession(pingConfig{}, &bytes.Buffer{}, &bytes.Buffer{})
		p.prOptions(opts)
		p.prOptions(opts)
	})
}

func FuzzPingArgs(f *testing.F) {
	f.Add("3", "56", "1", "0.2", "x", "0x10")
	f.Add("-1", "70000", "", "abc", "-1", "300")
	f.Fuzz(func(t *testing.T, count, size, deadline, interval, linger, tos string) {
		c, err := parsePingOpts(pingOpts{count: count, size: size, deadline: deadline, interval: interval, linger: linger, tos: tos, pmtu: "want"}, []string{"198.18.0.1"}, &bytes.Buffer{})
		if err != nil {
			if err.code != 1 && err.code != 2 || err.msg == "" {
				t.Fatalf("refusal %+v", err)
			}
			return
		}
		if c.interval < 2*time.Millisecond || c.linger < 0 || c.deadline < 0 || c.size < 0 || c.tos < 0 || c.tos > 255 || c.count < 0 {
			t.Fatalf("accepted %+v", c)
		}
	})
}

// TestUpPing runs vnic ping against the router topology under `vnic up`:
// setup errors print no header and exit 2 with ping's wording; -I DEV
// names the source in the header; -w stops at the deadline on the host's
// clock; a count ends once every request is answered.
func TestUpPing(t *testing.T) {
	f, sock := routerConfig(t)
	ping := func(host string, args ...string) func(o, e *bytes.Buffer) int {
		return func(o, e *bytes.Buffer) int {
			var po pingOpts
			fs := pflag.NewFlagSet("ping", pflag.ContinueOnError)
			pingFlags(fs, &po)
			if err := fs.Parse(args); err != nil {
				t.Error(err)
				return -1
			}
			po.socket, po.host = sock, host
			return runPing(po, fs.Args(), o, e)
		}
	}
	cmds := []func(o, e *bytes.Buffer) int{
		ping("r", "-c", "1", "198.19.0.1"),
		ping("h1", "-c", "1", "-I", "198.18.9.9", "198.18.6.2"),
		ping("h1", "-c", "1", "-I", "nodev", "198.18.6.2"),
		ping("h1", "-c", "1", "198.18.5.255"),
		ping("h1", "-c", "1", "-R", "198.18.6.2"),
		ping("h1", "-c", "1", "-i", "0.2", "-I", "vnic0", "198.18.6.2"),
		ping("h1", "-w", "1", "-i", "0.2", "-q", "198.18.6.2"),
		ping("h1", "-c", "2", "-i", "0.2", "-I", "198.18.5.2", "198.18.6.2"),
		ping("nope", "-c", "1", "198.18.6.2"),
		func(o, e *bytes.Buffer) int {
			for _, typ := range []string{"unreachable", "prohibit", "blackhole"} {
				n := map[string]string{"unreachable": "1", "prohibit": "2", "blackhole": "3"}[typ]
				if rc := runIP([]string{"--socket", sock, "--host", "h1", "route", "add", typ, "198.19." + n + ".0/24"}, o, e); rc != 0 {
					return rc
				}
			}
			return 0
		},
		ping("h1", "-c", "1", "198.19.1.1"),
		ping("h1", "-c", "1", "198.19.2.1"),
		ping("h1", "-c", "1", "198.19.3.1"),
		ping("h1", "-c", "1", "-W", "1", "198.18.5.9"),
		ping("h1", "-w", "1", "198.18.5.8"),
		ping("h1", "-c", "4", "-i", "0.3", "198.18.5.7"),
	}
	_, results, err := runUp(t, cmds, "up", "--config", f, "--socket", sock)
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != len(cmds) {
		t.Fatalf("%d results", len(results))
	}
	want := []struct {
		rc       int
		out, err string
	}{
		{2, "", "ping: connect: Network is unreachable\n"},
		{2, "", "ping: bind: Cannot assign requested address\n"},
		{2, "", "ping: SO_BINDTODEVICE nodev: No such device\n"},
		{2, "", "ping: Do you want to ping broadcast? Then -b. If not, check your local firewall rules\n"},
		// -R: every hop records, the two ends both ways (as Linux's ping -R
		// over a router prints it).
		{0, "PING 198.18.6.2 (198.18.6.2) 56(124) bytes of data.\n64 bytes from 198.18.6.2: icmp_seq=1 ttl=63 time=0.023 ms\nRR: \t198.18.5.2\n\t198.18.6.1\n\t198.18.6.2\n\t198.18.6.2\n\t198.18.5.1\n\t198.18.5.2\n\n", ""},
		{0, "PING 198.18.6.2 (198.18.6.2) from 198.18.5.2 vnic0: 56(84) bytes of data.\n", ""},
		{0, "PING 198.18.6.2 (198.18.6.2) 56(84) bytes of data.\n\n--- 198.18.6.2 ping statistics ---\n5 packets transmitted, 5 received, 0% packet loss, time 800ms\nrtt min/avg/max/mdev = ", ""},
		{0, "PING 198.18.6.2 (198.18.6.2) from 198.18.5.2 : 56(84) bytes of data.\n", ""},
		{2, "", "ping: no host \"nope\" in the running topology\n"},
		{0, "", ""},
		// As Linux's connect answers each route type, and ping words it.
		{2, "", "ping: connect: No route to host\n"},
		{2, "", "ping: Do you want to ping broadcast? Then -b. If not, check your local firewall rules\n"},
		{2, "", "ping: connect: Invalid argument\n"},
		// No neighbour answers: -W ends the wait before the host's
		// unreachable comes; -w ends the run; errors for requests
		// still out make a pipe.
		{1, "PING 198.18.5.9 (198.18.5.9) 56(84) bytes of data.\n\n--- 198.18.5.9 ping statistics ---\n1 packets transmitted, 0 received, 100% packet loss, time 0ms\n\n", ""},
		{1, "PING 198.18.5.8 (198.18.5.8) 56(84) bytes of data.\n\n--- 198.18.5.8 ping statistics ---\n1 packets transmitted, 0 received, 100% packet loss, time 0ms\n\n", ""},
		{1, "PING 198.18.5.7 (198.18.5.7) 56(84) bytes of data.\n" +
			"From 198.18.5.2 icmp_seq=1 Destination Host Unreachable\nFrom 198.18.5.2 icmp_seq=2 Destination Host Unreachable\n" +
			"From 198.18.5.2 icmp_seq=3 Destination Host Unreachable\nFrom 198.18.5.2 icmp_seq=4 Destination Host Unreachable\n" +
			"\n--- 198.18.5.7 ping statistics ---\n4 packets transmitted, 0 received, +4 errors, 100% packet loss, time 900ms\npipe 4\n", ""},
	}
	for i, w := range want {
		r := results[i]
		exact := i >= len(want)-3 // whole outputs
		if r.rc != w.rc || !strings.HasPrefix(r.out, w.out) || exact && r.out != w.out || r.errOut != w.err || w.out == "" && r.out != "" {
			t.Errorf("command %d: rc %d, want %d\n%s\nwant prefix\n%s\nstderr %q, want %q", i, r.rc, w.rc, r.out, w.out, r.errOut, w.err)
		}
	}
	if !strings.Contains(results[5].out, "1 packets transmitted, 1 received, 0% packet loss") || !strings.Contains(results[7].out, "2 packets transmitted, 2 received, 0% packet loss, time 200ms") {
		t.Errorf("summaries:\n%s\n%s", results[5].out, results[7].out)
	}
}
