package main

import (
	"bytes"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"testing"

	"vnic/internal/topo"
)

// BenchmarkUDPAnchor sends b.N 64-byte datagrams through vnic
// (topo.BenchUDP), then b.N through the gVisor pair, in one run, and
// reports both received rates and their ratio. -count N gives N rounds,
// each with both:
//
//	cd test/anchors && go test -run '^$' -bench UDPAnchor -benchtime 500000x -count 5 ./udp
func BenchmarkUDPAnchor(b *testing.B) {
	v, err := topo.BenchUDP(64, uint64(b.N), 0)
	if err != nil {
		b.Fatal(err)
	}
	g, err := benchGvisor(64, uint64(b.N), 0)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(0, "ns/op") // two stacks' setups and runs: no one time per datagram
	b.ReportMetric(v.ReceivedPerS, "vnic-received/s")
	b.ReportMetric(g.ReceivedPerS, "gvisor-received/s")
	b.ReportMetric(v.ReceivedPerS/g.ReceivedPerS, "ratio")
	b.ReportMetric(v.AllocsPerDatagram, "vnic-allocs/op")
	b.ReportMetric(g.AllocsPerDatagram, "gvisor-allocs/op")
}

// TestGvisorPair: the gVisor pair carries datagrams (ARP first) and its
// run's counts add up.
func TestGvisorPair(t *testing.T) {
	r, err := benchGvisor(64, 2000, 0)
	if err != nil {
		t.Fatal(err)
	}
	if r.Sent != 2000 || r.Received == 0 || r.Received > r.Sent || r.Lost != r.Sent-r.Received || r.LostSocket > r.Lost {
		t.Fatalf("%+v", r)
	}
}

func TestSummarize(t *testing.T) {
	rounds := func(rates ...float64) []topo.UDPResult {
		var rs []topo.UDPResult
		for _, x := range rates {
			rs = append(rs, topo.UDPResult{Sent: 100, Lost: uint64(x / 10), LostSocket: 1, ReceivedPerS: x})
		}
		return rs
	}
	for _, tc := range []struct {
		name             string
		rates            []float64
		median, min, max float64
		lostShare        float64
	}{
		{"one", []float64{300}, 300, 300, 300, 0.3},
		{"odd", []float64{500, 100, 300}, 300, 100, 500, 0.3},
		{"even", []float64{400, 100, 300, 200}, 250, 100, 400, 0.25},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := summarize(rounds(tc.rates...))
			if s.ReceivedPerS != tc.median || s.ReceivedPerSMin != tc.min || s.ReceivedPerSMax != tc.max ||
				s.LostShare != tc.lostShare || s.LostSocketShare != 0.01 || len(s.Rounds) != len(tc.rates) {
				t.Fatalf("%+v", s)
			}
		})
	}
	if r := report(rounds(600, 900), rounds(100, 200)); r.Ratio != 5 {
		t.Fatalf("ratio %v, want 750/150", r.Ratio)
	}
	if r := report(rounds(600), nil); r.Ratio != 0 || r.GVisor.ReceivedPerS != 0 {
		t.Fatalf("no gVisor rounds: %+v", r)
	}
}

// TestRunJSON runs the program for one short round: the JSON has the
// three keys the issue names, each stack's received rate is positive.
func TestRunJSON(t *testing.T) {
	var out bytes.Buffer
	if err := run([]string{"--rounds", "1", "--seconds", "0.02", "--json"}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(out.Bytes(), &top); err != nil {
		t.Fatal(err)
	}
	keys := make([]string, 0, len(top))
	for k := range top {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if !slices.Equal(keys, []string{"gvisor", "ratio", "vnic"}) {
		t.Fatalf("keys %v", keys)
	}
	var rep Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]Summary{"vnic": rep.VNIC, "gvisor": rep.GVisor} {
		if s.ReceivedPerS <= 0 || len(s.Rounds) != 1 || s.Rounds[0].Received > s.Rounds[0].Sent {
			t.Errorf("%s: %+v", name, s)
		}
	}
	if rep.Ratio != rep.VNIC.ReceivedPerS/rep.GVisor.ReceivedPerS {
		t.Errorf("ratio %v", rep.Ratio)
	}
}

func TestRunBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--rounds", "0"}, "--rounds 0: want at least 1"},
		{[]string{"--seconds", "0"}, "--seconds 0: want more than 0"},
		{[]string{"--seconds", "NaN"}, "--seconds NaN: want more than 0"},
		{[]string{"--size", "70000"}, "--size 70000: want 0 to 65507"},
		{[]string{"--rounds", "x"}, `invalid value "x"`},
		{[]string{"extra"}, `unexpected arguments ["extra"]`},
	} {
		err := run(tc.args, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want %q", tc.args, err, tc.want)
		}
	}
}
