package packetdrill

import (
	"bytes"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// matches reports whether got is want, where "…" in want stands for any
// text: the parts of a message that are vnic's TCP's own choices (its
// windows, its ISN) and not the runner's.
func matches(want, got string) bool {
	parts := strings.Split(want, "…")
	for i := range parts {
		parts[i] = regexp.QuoteMeta(parts[i])
	}
	return regexp.MustCompile("^" + strings.Join(parts, ".*") + "$").MatchString(got)
}

// The runner's own scripts: each feature against vnic's TCP, and a
// failing script for each kind of mismatch, with packetdrill's words.
func TestScripts(t *testing.T) {
	tests := []struct {
		file string
		want string // "" passes
		note string
	}{
		{file: "server.pkt"},
		{file: "client.pkt"},
		{file: "sysctl.pkt"},
		{file: "timing.pkt"},
		{file: "sockopt.pkt"},
		{file: "closed.pkt"},
		{file: "linked/link.pkt"},
		{file: "nested/fallback.pkt", note: "../common/defaults.sh not found; ran ../defaults.sh instead"},

		{file: "fail/flag.pkt", want: "testdata/fail/flag.pkt:6: error handling packet: live packet field tcp_ack: expected: 0 (0x0) vs actual: 1 (0x1); " +
			"script packet: 0.000000 S 0:0(0) ack 1 <...>; actual packet: 0.000000 S. …(0) ack 1 win … <mss 1460,nop,wscale 7>"},
		{file: "fail/time.pkt", want: "testdata/fail/time.pkt:6: error handling packet: timing error: expected outbound packet at 0.100000 sec " +
			"but happened at 0.000000 sec; tolerance 0.012500 sec; script packet: 0.100000 S. 0:0(0) ack 1 <...>; " +
			"actual packet: 0.000000 S. 0:0(0) ack 1 win … <mss 1460,nop,wscale 7>"},
		{file: "fail/range.pkt", want: "testdata/fail/range.pkt:7: error handling packet: timing error: expected outbound packet in relative time range " +
			"+1.500000~+1.900000 sec but happened at +1.000000 sec; script packet: 1.500000 S. 0:0(0) ack 1 <...>; actual packet: 1.000000 S. 0:0(0) ack 1 win …"},
		{file: "fail/absrange.pkt", want: "testdata/fail/absrange.pkt:6: error handling packet: timing error: expected outbound packet in time range " +
			"0.500000~0.600000 sec but happened at 0.000000 sec; script packet: 0.500000 S. 0:0(0) ack 1 <...>; actual packet: 0.000000 S. 0:0(0) ack 1 win …"},
		{file: "fail/option.pkt", want: "testdata/fail/option.pkt:6: error handling packet: bad value outbound TCP option 2; " +
			"script packet: 0.000000 S. 0:0(0) ack 1 <mss 1000,nop,wscale 7>; actual packet: 0.000000 S. 0:0(0) ack 1 win … <mss 1460,nop,wscale 7>"},
		{file: "fail/missing.pkt", want: "testdata/fail/missing.pkt:8: error handling packet: Timed out waiting for packet; script packet: 0.000000 P. 1:11(10) ack 1"},
		{file: "fail/payload.pkt", want: "testdata/fail/payload.pkt:10: error handling packet: aggregate candidate packet field tcp_seq: " +
			"expected: 1001 (0x3e9) vs actual: 1 (0x1); script packet: 0.000000 P. 1:2001(2000) ack 1; actual packet: … P. 1:1001(1000) ack 1 win …"},
		{file: "fail/ecr.pkt", want: "testdata/fail/ecr.pkt:7: error handling packet: unable to infer live TS ecr for script TS ecr 555;  no matching or preceding outbound TS val"},
		{file: "fail/errno.pkt", want: "testdata/fail/errno.pkt:7: runtime error in accept call: Expected errno 104 (Connection reset by peer) but got 11 (Resource temporarily unavailable)"},
		{file: "fail/result.pkt", want: "testdata/fail/result.pkt:11: runtime error in read call: Expected result 500 but got 1000 with errno 0 (Success)"},
		{file: "fail/blocking.pkt", want: "testdata/fail/blocking.pkt:6: timing error: expected system call return at 0.050000 sec but happened at 0.100000 sec; tolerance 0.006250 sec"},
		{file: "fail/syscall.pkt", want: "testdata/fail/syscall.pkt:3: runtime error in epoll_create call: unsupported: system call epoll_create"},
		{file: "fail/shell.pkt", want: "testdata/fail/shell.pkt:2: unsupported shell command: echo hello"},
		{file: "fail/code.pkt", want: "testdata/fail/code.pkt:3: unsupported: %{ }% code (packetdrill hands it to Python after the run)"},
		{file: "fail/first.pkt", want: "testdata/fail/first.pkt:2: first event should be at time 0"},
		{file: "fail/backward.pkt", want: "testdata/fail/backward.pkt:4: time goes backward in script from 200000 usec to 100000 usec"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			res := RunFile("testdata/"+tc.file, Config{})
			if tc.want == "" {
				if res.Err != nil {
					t.Fatalf("FAIL %v", res.Err)
				}
			} else if res.Err == nil {
				t.Fatalf("passed; want %s", tc.want)
			} else if !matches(tc.want, res.Err.Error()) {
				t.Fatalf("got  %s\nwant %s", res.Err, tc.want)
			}
			if got := strings.Join(res.Notes, "; "); got != tc.note {
				t.Errorf("notes %q, want %q", got, tc.note)
			}
		})
	}
}

// The one-line summaries `vnic packetdrill` prints.
func TestResultLine(t *testing.T) {
	ok := RunFile("testdata/nested/fallback.pkt", Config{})
	if got, want := ok.Line(), "ok   testdata/nested/fallback.pkt (note: ../common/defaults.sh not found; ran ../defaults.sh instead)"; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	bad := RunFile("testdata/fail/first.pkt", Config{})
	if got, want := bad.Line(), "FAIL testdata/fail/first.pkt:2: first event should be at time 0"; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	parse := RunFile("testdata/broken.pkt", Config{})
	if got, want := parse.Line(), "FAIL testdata/broken.pkt:3:1: expected ',' or ')' in the arguments of socket, found end of file"; !parse.Broken || got != want {
		t.Errorf("got  %s\nwant %s (broken)", got, want)
	}
	broken := RunFile("testdata/absent.pkt", Config{})
	if !broken.Broken || broken.Line() != "FAIL packetdrill: open testdata/absent.pkt: no such file or directory" {
		t.Errorf("a missing script: %+v %q", broken, broken.Line())
	}
}

// Command-line options override the script's: with packetdrill's
// --tolerance_usecs a late packet is on time.
func TestArgs(t *testing.T) {
	if res := RunFile("testdata/fail/time.pkt", Config{Args: []string{"--tolerance_usecs=100000"}}); res.Err != nil {
		t.Errorf("with a 100 ms tolerance: %v", res.Err)
	}
	res := RunFile("testdata/server.pkt", Config{Args: []string{"--no_such_option"}})
	if res.Err == nil || res.Err.Error() != "testdata/server.pkt:1: unsupported: option --no_such_option (command line)" {
		t.Errorf("an unknown option: %v", res.Err)
	}
}

// The verbose log shows each event at its virtual time, what was
// injected and sent, and what the shell lines did; two runs of one
// script log the same bytes.
func TestVerbose(t *testing.T) {
	var a, b bytes.Buffer
	RunFile("testdata/server.pkt", Config{Verbose: &a})
	RunFile("testdata/server.pkt", Config{Verbose: &b})
	if a.String() != b.String() {
		t.Fatal("two runs of a script logged differently")
	}
	for _, want := range []string{
		"shell: ip tcp_metrics flush all > /dev/null 2>&1: a no-op: vnic's TCP keeps no per-destination metrics (no tcp_metrics cache, no fast open cookies) to flush\n",
		"shell: sysctl net.ipv4.tcp_rmem = 4096 131072 6291456\n",
		"shell: sysctl: cannot stat /proc/sys/net/ipv4/tcp_fack: No such file or directory (vnic has no such setting; ignored)\n",
		"0.000000 line 11: +0...0.1 accept(3, ..., ...) = 4\n0.000000 accept blocks\n",
		"0.050000 line 13: +0.05 < S 0:0(0) win 65535 <mss 1000,nop,wscale 7>\n0.050000 inject 192.0.2.1:40000 > 198.18.0.1:8080 S 0:0(0) win 65535 <mss 1000,nop,wscale 7>\n",
		"0.100000 accept returns 4\n",
	} {
		if !strings.Contains(a.String(), want) {
			t.Errorf("the log lacks %q", want)
		}
	}
	if !regexp.MustCompile(`\n0\.050000 sent 198\.18\.0\.1:8080 > 192\.0\.2\.1:40000 S\. \d+:\d+\(0\) ack 1 win \d+ <mss 1460,nop,wscale 7>\n`).MatchString(a.String()) {
		t.Error("the log lacks the SYN-ACK sent")
	}
}

// tcpBehaviours are the project's own scripts of TCP behaviours
// (testdata/tcp), each stating what Linux does, and what it is about.
var tcpBehaviours = []struct{ file, about string }{
	{"ecn-receiver.pkt", "ECN: ECE after CE until CWR, TCPI_OPT_ECN_SEEN"},
	{"ecn-sender.pkt", "ECN: negotiation by the active open, ECT(0) data, CWR on ECE with PRR"},
	{"ecn-syn-ect.pkt", "ECN: an ECT SYN is refused it"},
	{"ecn-syncookie.pkt", "ECN: the cookie timestamp's ECN bit"},
	{"frto-real-loss.pkt", "F-RTO: new data SACKed after the RTO, the loss is real"},
	{"frto-spurious.pkt", "F-RTO: a segment never retransmitted acked after the RTO, undone"},
	{"keepalive.pkt", "keepalive probes and the timeout"},
	{"nagle-cork.pkt", "Nagle, TCP_NODELAY, TCP_CORK"},
	{"rfc5961.pkt", "RFC 5961 challenge ACKs"},
	{"rto-backoff.pkt", "RFC 6298 RTO and its backoff"},
	{"sack-recovery.pkt", "SACK fast recovery"},
	{"simultaneous-close.pkt", "simultaneous close"},
	{"simultaneous-open.pkt", "simultaneous open"},
	{"timewait-ack.pkt", "TIME-WAIT re-acks the FIN"},
	{"tlp.pkt", "tail loss probe"},
	{"tw-reuse-bound-nots.pkt", "no TIME-WAIT reuse without timestamps"},
	{"tw-reuse-bound.pkt", "a bound connect takes a TIME-WAIT four-tuple"},
	{"undo-dsack.pkt", "a fast retransmit undone by a D-SACK"},
	{"undo-eifel.pkt", "an RTO undone by the timestamp echo"},
	{"urgent-recv.pkt", "urgent data received: the mark, recv(MSG_OOB), POLLPRI, SO_OOBINLINE"},
	{"urgent-send.pkt", "send(MSG_OOB): URG and the pointer, Nagle bypassed"},
	{"zero-window.pkt", "zero-window probes"},
}

// TestTCPBehaviours runs the scripts of tcpBehaviours, each of which
// must pass; a script in testdata/tcp that is not in the table fails it.
func TestTCPBehaviours(t *testing.T) {
	files, err := filepath.Glob("testdata/tcp/*.pkt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts in testdata/tcp: %v", err)
	}
	listed := map[string]bool{}
	for _, b := range tcpBehaviours {
		listed[b.file] = true
	}
	for _, f := range files {
		if !listed[filepath.Base(f)] {
			t.Errorf("%s is not in tcpBehaviours: add it", f)
		}
	}
	for _, b := range tcpBehaviours {
		t.Run(b.file, func(t *testing.T) {
			if res := RunFile(filepath.Join("testdata", "tcp", b.file), Config{}); !res.OK() {
				t.Errorf("%s (%s)", res.Line(), b.about)
			}
		})
	}
}
