package iproute

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	mnl "github.com/mdlayher/netlink"

	"vnic/internal/stacktest"
	"vnic/stack"
	"vnic/stack/inet"
	"vnic/stack/ipv4"
	"vnic/stack/netlink"
	"vnic/stack/rtnetlink"
)

// tcCase is one command line as iproute2 6.1's tc answered it, captured
// by testdata/tc/capture.py in a scratch namespace (on a kernel without
// netem: its answers to the requests are not netem's, so the tests take
// the requests and tc's own words).
type tcCase struct {
	Args     []string `json:"args"`
	RC       int      `json:"rc"`
	Stdout   string   `json:"stdout"`
	Stderr   string   `json:"stderr"`
	Requests []struct {
		Type  uint16 `json:"type"`
		Flags uint16 `json:"flags"`
		Body  string `json:"body"`
	} `json:"requests"`
}

func loadTCCases(t *testing.T, name string) []tcCase {
	t.Helper()
	b, err := os.ReadFile("testdata/tc/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var cs []tcCase
	if err := json.Unmarshal(b, &cs); err != nil {
		t.Fatal(err)
	}
	return cs
}

// tcHost is a host with IPv4 (lo up at ifindex 1), as the capture's
// namespace was.
func tcHost(t testing.TB) *stack.Host {
	t.Helper()
	_, h := stacktest.NewHost(t, 1)
	rtnetlink.Init(h)
	if _, err := inet.Init(h, ipv4.InetConfig{}); err != nil {
		t.Fatal(err)
	}
	return h
}

// replay answers what tc sends as the capture's kernel answered it: the
// qdisc changes are recorded and refused with the captured refusal; the
// rest goes to the host.
type replay struct {
	h      *stack.Host
	refuse error
	reqs   []fakeReq
}

func (r *replay) Route(typ uint16, flags mnl.HeaderFlags, body []byte) ([]mnl.Message, error) {
	if typ == rtnetlink.RTMNewQdisc || typ == rtnetlink.RTMDelQdisc || typ == rtnetlink.RTMGetQdisc {
		r.reqs = append(r.reqs, fakeReq{typ, flags, append([]byte(nil), body...)})
		if typ != rtnetlink.RTMGetQdisc && r.refuse != nil {
			return nil, r.refuse
		}
	}
	return hostTransport{r.h}.Route(typ, flags, body)
}

func (r *replay) ReceiveRoute(time.Duration) ([]mnl.Message, error) { return nil, nil }

// kernelRefusal is the refusal a captured stderr ends with.
func kernelRefusal(stderr string) error {
	lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
	last := lines[len(lines)-1]
	if m, ok := strings.CutPrefix(last, "Error: "); ok {
		return netlink.Errorf(syscall.EINVAL, "%s", strings.TrimSuffix(m, "."))
	}
	if m, ok := strings.CutPrefix(last, "RTNETLINK answers: "); ok {
		for e := syscall.Errno(1); e < 200; e++ {
			if capitalise(e.Error()) == m {
				return &netlink.Error{Errno: e}
			}
		}
	}
	return nil
}

// vnic differs from tc here on purpose (docs/tc.md).
var tcDeviations = map[string]string{
	"-V":       "its own version line",
	"-Version": "its own version line",
	// tc 6.1 ships no uniform.dist: vnic takes uniform as netem's own
	// table-less jitter.
	"qdisc add dev lo root netem delay 10ms 1ms distribution uniform": "uniform without a table",
	// A rate in percent needs the device's speed in sysfs.
	"qdisc add dev lo root netem rate 10%": "no sysfs",
}

// TestTCAgainstIproute2: every captured command line makes the request tc
// made (type, flags, tcmsg and attributes, byte for byte) and answers with
// tc's output, words and exit code.
func TestTCAgainstIproute2(t *testing.T) {
	// The capture's tc found its tables there (Debian's directory).
	const lib = "/usr/lib/x86_64-linux-gnu/tc"
	t.Setenv("TC_LIB_DIR", lib)
	_, err := os.Stat(lib + "/experimental.dist")
	experimental := err == nil
	for _, c := range loadTCCases(t, "requests.json") {
		line := strings.Join(c.Args, " ")
		if _, ok := tcDeviations[line]; ok {
			continue
		}
		if strings.Contains(line, "experimental") && !experimental {
			continue // iproute2's measured table, not vnic's to make
		}
		r := &replay{h: tcHost(t)}
		if len(c.Requests) > 0 && c.Requests[0].Type != rtnetlink.RTMGetQdisc {
			r.refuse = kernelRefusal(c.Stderr)
		}
		var o, e bytes.Buffer
		rc := RunTC(c.Args, Options{T: r, Stdout: &o, Stderr: &e,
			Netns: func(string) error { return syscall.ENOENT }})
		if rc != c.RC || o.String() != c.Stdout || e.String() != c.Stderr {
			t.Errorf("tc %s:\nrc %d stdout %q stderr %q\nwant rc %d stdout %q stderr %q", line, rc, o.String(), e.String(), c.RC, c.Stdout, c.Stderr)
			continue
		}
		if len(r.reqs) != len(c.Requests) {
			t.Errorf("tc %s: %d requests, tc made %d", line, len(r.reqs), len(c.Requests))
			continue
		}
		for i, w := range c.Requests {
			g := r.reqs[i]
			if got := hex.EncodeToString(g.body); g.typ != w.Type || uint16(g.flags)|1 != w.Flags || got != w.Body {
				t.Errorf("tc %s: request type %d flags %#x\n %s\nwant type %d flags %#x\n %s", line, g.typ, uint16(g.flags)|1, got, w.Type, w.Flags, w.Body)
			}
		}
	}
}

// TestTCHostAnswersAsLinux: the captured requests the kernel refused for
// reasons of its own (not its missing netem) are refused by vnic's host
// with the same words: the same checks in the same order (sch_api.c).
func TestTCHostAnswersAsLinux(t *testing.T) {
	t.Setenv("TC_LIB_DIR", "/usr/lib/x86_64-linux-gnu/tc")
	n := 0
	for _, c := range loadTCCases(t, "requests.json") {
		line := strings.Join(c.Args, " ")
		if len(c.Requests) == 0 || c.RC != 2 || c.Requests[0].Type == rtnetlink.RTMGetQdisc ||
			(strings.Contains(line, "netem") && strings.HasSuffix(c.Stderr, "Error: Specified qdisc kind is unknown.\n")) {
			continue
		}
		if _, ok := tcDeviations[line]; ok {
			continue
		}
		n++
		var o, e bytes.Buffer
		rc := RunTC(c.Args, Options{T: hostTransport{tcHost(t)}, Stdout: &o, Stderr: &e})
		if rc != c.RC || o.String() != c.Stdout || e.String() != c.Stderr {
			t.Errorf("tc %s:\nrc %d stderr %q\nwant rc %d stderr %q", line, rc, e.String(), c.RC, c.Stderr)
		}
	}
	if n < 15 {
		t.Fatalf("only %d cases", n)
	}
}

// FuzzRunTC runs arbitrary tc command lines against a host: no panic, an
// exit code of tc's, a word for every failure, and the host's qdisc
// dumps always printable.
func FuzzRunTC(f *testing.F) {
	for _, c := range []string{
		"qdisc add dev lo root netem delay 10ms 1ms 25% distribution normal loss state 1% 10% duplicate 1% corrupt 1% rate 1mbit 20 64 -4 slot 1ms 2ms packets 3 bytes 1k ecn",
		"qdisc replace dev lo root netem delay 5ms reorder 25% 50% gap 5", "-s qdisc show dev lo", "qdisc change dev lo root netem loss gemodel 1% 10% 70% 0.1%",
		"qdisc del dev lo root", "qdisc add dev lo handle 1: root netem limit 1k", "qdisc show root", "-r -iec qdisc", "qdisc add dev lo estimator 1s 8s root netem",
		"qdisc add dev lo root netem slot distribution pareto 1ms 100us", "-x", "help", "qdisc help",
	} {
		f.Add(c)
	}
	h := tcHost(f)
	f.Fuzz(func(t *testing.T, line string) {
		args := strings.Fields(line)
		for _, a := range args {
			if strings.Contains(a, "distribution") || strings.HasPrefix(a, "-b") {
				// Beyond the built-in tables: files (not the fuzzer's).
				if !strings.Contains(line, "normal") && !strings.Contains(line, "pareto") {
					return
				}
			}
		}
		var o, e bytes.Buffer
		rc := RunTC(args, Options{T: hostTransport{h}, Stdout: &o, Stderr: &e})
		switch rc {
		case 0, 1, 2, 255:
		default:
			t.Fatalf("%q: exit %d", line, rc)
		}
		if rc != 0 && e.Len() == 0 {
			t.Fatalf("%q: exit %d without a word", line, rc)
		}
		if rc := RunTC([]string{"-s", "qdisc"}, Options{T: hostTransport{h}, Stdout: &o, Stderr: &e}); rc != 0 {
			t.Fatalf("after %q: show exits %d: %s", line, rc, e.String())
		}
	})
}
