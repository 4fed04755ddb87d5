package iproute

import (
	"strings"
	"testing"

	"vnic/stack/ipv4/fib"
	"vnic/stack/rtnetlink"
)

func TestParseRoute(t *testing.T) {
	for _, c := range []struct {
		in   string
		want string // RouteSpec fields as FormatRoute would print them, or "error: …"
	}{
		{"default via 198.18.5.1", "default via 198.18.5.1 "},
		{"198.18.9.0/24 via 198.18.5.1 dev vnic0 metric 10", "198.18.9.0/24 via 198.18.5.1 dev vnic0 metric 10 "},
		{"to 198.18.9.7 dev vnic0 scope link src 198.18.5.2 mtu lock 1280 table 100 proto static", "198.18.9.7 dev vnic0 table 100 proto static scope link src 198.18.5.2 mtu lock 1280 "},
		{"unreachable 203.0.113.0/24", "unreachable 203.0.113.0/24 "},
		{"blackhole default table main", "blackhole default "},
		{"198.18.9.0/24 via 198.18.5.1 onlink dev vnic0", "198.18.9.0/24 via 198.18.5.1 dev vnic0 onlink "},
		{"", "error: need at least a destination address"},
		{"default via", `error: Command line is not complete. Try option "help"`},
		{"default via 2001:db8::1", `error: inet address is expected rather than "2001:db8::1".`},
		{"198.18.9.0/33", `error: any valid prefix is expected rather than "198.18.9.0/33".`},
		{"default default", `error: either "to" is duplicate, or "default" is a garbage.`},
		{"default table nope", `error: argument "nope" is wrong: "table" value is invalid`},
		{"default metric x", `error: argument "x" is wrong: "metric" value is invalid`},
		{"default scope wide", `error: argument "wide" is wrong: invalid "scope" value`},
		{"default mtu x", `error: argument "x" is wrong: "mtu" value is invalid`},
		{"default mtu 10 rtt 1.5s rttvar 0x10 rto_min 2 window lock 3 features ecn congctl reno", "default mtu 10 window lock 3 rtt 1.5s rttvar 4ms features ecn rto_min lock 2ms congctl reno "},
		{"default rtt 1.5", "default rtt 0ms "},
		{"default rtt 1.5m", `error: argument "1.5m" is wrong: "rtt" value is invalid`},
		{"default rto_min lock 1s", `error: argument "lock" is wrong: "rto_min" value is invalid`},
		{"default hoplimit 256", `error: argument "256" is wrong: "hoplimit" value is invalid`},
		{"default advmss x", `error: argument "x" is wrong: "mss" value is invalid`},
		{"default quickack 2", `error: argument "2" is wrong: "quickack" value should be 0 or 1`},
		{"default features sack", `error: argument "sack" is wrong: "features" value not valid`},
		{"default fastopen_no_cookie", `error: Command line is not complete. Try option "help"`},
	} {
		r, err := ParseRoute(strings.Fields(c.in))
		got := ""
		if err != nil {
			got = "error: " + err.Error()
		} else {
			m := rtnetlink.RouteMsg{DstLen: uint8(r.Dst.Bits()), Type: uint8(r.Type), Table: r.Table, Protocol: r.Protocol, Gateway: r.Gateway, PrefSrc: r.Src,
				Priority: r.Metric, HasPrio: r.Set["metric"], Metrics: r.Metrics}
			if m.Table == 0 {
				m.Table = fib.TableMain
			}
			if m.Protocol == 0 {
				m.Protocol = fib.ProtoBoot
			}
			if r.HasScope {
				m.Scope = uint8(r.Scope)
			}
			if r.Dst.Bits() > 0 {
				m.Dst = r.Dst.Addr()
			}
			if r.Dev != "" {
				m.Oif = 2
			}
			if r.OnLink {
				m.Flags |= rtnetlink.RTMFOnLink
			}
			got = FormatRoute(m, func(uint32) string { return r.Dev })
		}
		if got != c.want {
			t.Errorf("%q:\n got %s\nwant %s", c.in, got, c.want)
		}
	}
}

func FuzzParseRoute(f *testing.F) {
	f.Add("default via 198.18.5.1 dev vnic0 metric 10")
	f.Add("unreachable 203.0.113.0/24 table 7 mtu lock 1280")
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRoute(strings.Fields(s))
		if err != nil {
			return
		}
		if !r.Dst.IsValid() || r.Dst.Bits() > 32 {
			t.Fatalf("%q: accepted %v", s, r.Dst)
		}
		_, _ = r.Message(rtnetlink.RTMNewRoute, func(string) (uint32, error) { return 1, nil })
	})
}

// A batch line splits as ip's makeargs splits it.
func TestMakeArgs(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { makeArgs("route add 1.0.0.0/24 via 198.18.0.2") }); n != 1 {
		t.Errorf("a plain line: %v allocations, want 1 (the slice)", n)
	}
	for _, tc := range []struct {
		line string
		want []string
		bad  bool
	}{
		{"route add 198.18.0.0/24 dev lo", []string{"route", "add", "198.18.0.0/24", "dev", "lo"}, false},
		{"  # only a comment", nil, false},
		{"addr add 198.18.0.1/24 dev d0 # note", []string{"addr", "add", "198.18.0.1/24", "dev", "d0"}, false},
		{"link set dev d0 alias \"a b\"", []string{"link", "set", "dev", "d0", "alias", "a b"}, false},
		{"x 'it''s'", []string{"x", "its"}, false},
		{"x \"open", nil, true},
		{"", nil, false},
		{" \t\r ", nil, false},
		{"\troute  add\r1.0.0.0/24 ", []string{"route", "add", "1.0.0.0/24"}, false},
		{"x \xff\xfey", []string{"x", "\ufffd\ufffdy"}, false},
		{"héllo wörld", []string{"héllo", "wörld"}, false},
	} {
		got, err := makeArgs(tc.line)
		if (err != nil) != tc.bad || strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("%q: %q %v, want %q (error %v)", tc.line, got, err, tc.want, tc.bad)
		}
	}
}

// makeArgs takes any line without panicking, what it returns has no
// empty word, and its fast path for plain lines splits as the general one.
func FuzzMakeArgs(f *testing.F) {
	f.Add("route add 198.18.0.0/24 \"dev\" lo # c")
	f.Add("route add 1.0.0.0/24 via 198.18.0.2")
	f.Add("\t a\rb  \xff")
	f.Fuzz(func(t *testing.T, line string) {
		args, err := makeArgs(line)
		ref, rerr := makeArgsQuoted(line)
		if (err != nil) != (rerr != nil) || strings.Join(args, "\x00") != strings.Join(ref, "\x00") || len(args) != len(ref) {
			t.Fatalf("%q: %q %v, the general splitter %q %v", line, args, err, ref, rerr)
		}
		if err != nil {
			return
		}
		for _, a := range args {
			if a == "" && !strings.ContainsAny(line, "\"'") {
				t.Fatalf("%q: empty word in %q", line, args)
			}
		}
	})
}
