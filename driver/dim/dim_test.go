package dim

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

var tuneNames = map[int]string{ParkOnTop: "PARK_TOP", ParkTired: "PARK_TIRED", GoRight: "RIGHT", GoLeft: "LEFT"}

// trace runs n windows whose stats depend on the profile index and
// returns "window:verdict→state/index" for each.
func trace(n int, stats func(window, ix int) Stats) []string {
	d := New()
	var out []string
	for w := 0; w < n; w++ {
		cur := stats(w, d.Profile)
		v := map[int]string{better: "better", worse: "worse", same: "same"}[compare(cur, d.Prev)]
		d.Decide(cur)
		out = append(out, fmt.Sprintf("%d:%s→%s/%d", w, v, tuneNames[d.Tune], d.Profile))
	}
	return out
}

// The behaviour traces of spec/irq-vs-polling.md §3.6.
func TestTraces(t *testing.T) {
	eventsA := []uint32{100, 60, 20, 12, 8}
	openLoop := func(_, ix int) Stats { return Stats{BPMS: 1000, PPMS: 100, EPMS: eventsA[ix]} }
	tests := []struct {
		name  string
		n     int
		stats func(w, ix int) Stats
		want  string
	}{
		{"A open loop", 8, openLoop,
			"0:better→LEFT/0 1:worse→RIGHT/1 2:better→RIGHT/2 3:better→RIGHT/3 4:better→RIGHT/4 5:better→PARK_TOP/4 6:same→PARK_TOP/4 7:same→PARK_TOP/4"},
		{"C closed loop", 4, func(_, ix int) Stats { return Stats{BPMS: []uint32{1000, 800, 400, 250, 150}[ix], PPMS: 100, EPMS: 50} },
			"0:better→LEFT/0 1:better→PARK_TOP/0 2:same→PARK_TOP/0 3:same→PARK_TOP/0"},
		{"E interior optimum", 6, func(_, ix int) Stats { return Stats{BPMS: []uint32{600, 700, 800, 700, 600}[ix], PPMS: 100, EPMS: 50} },
			"0:better→LEFT/0 1:worse→RIGHT/1 2:better→RIGHT/2 3:better→RIGHT/3 4:worse→LEFT/2 5:better→PARK_TOP/2"},
		{"F load halves", 11, func(w, ix int) Stats {
			s := openLoop(w, ix)
			if w >= 8 {
				s.BPMS, s.PPMS = s.BPMS/2, s.PPMS/2
			}
			return s
		}, "0:better→LEFT/0 1:worse→RIGHT/1 2:better→RIGHT/2 3:better→RIGHT/3 4:better→RIGHT/4 5:better→PARK_TOP/4 6:same→PARK_TOP/4 7:same→PARK_TOP/4 8:worse→LEFT/3 9:worse→RIGHT/4 10:better→PARK_TOP/4"},
	}
	for _, tc := range tests {
		if got := strings.Join(trace(tc.n, tc.stats), " "); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
		}
	}
}

// TestTraceB: when nothing depends on the index, DIM oscillates between 0
// and 1 for ten steps, parks tired for ten windows, and does it again.
func TestTraceB(t *testing.T) {
	got := trace(42, func(_, _ int) Stats { return Stats{BPMS: 1000, PPMS: 100, EPMS: 50} })
	// Windows 0-9 step (10 steps: tired reaches 10), 10 is too tired,
	// then 10 windows parked tired.
	for w := 0; w < 10; w++ {
		if !strings.Contains(got[w], "→LEFT/0") && !strings.Contains(got[w], "→RIGHT/1") {
			t.Fatalf("window %d: %s (want oscillation between 0 and 1)", w, got[w])
		}
	}
	if !strings.HasSuffix(got[10], "→PARK_TIRED/"+got[10][len(got[10])-1:]) {
		t.Fatalf("window 10: %s, want PARK_TIRED", got[10])
	}
	for w := 11; w < 20; w++ {
		if !strings.Contains(got[w], "→PARK_TIRED/") {
			t.Fatalf("window %d: %s, want still tired", w, got[w])
		}
	}
	if strings.Contains(got[20], "PARK_TIRED") {
		t.Fatalf("window 20: %s, want moving again", got[20])
	}
}

// TestSampleWindows: decisions come every 64 events, nothing while a new
// profile is applied, and counters wrap.
func TestSampleWindows(t *testing.T) {
	d := New()
	s := Sample{Events: 65500, Pkts: 4294967000, Bytes: 4294960000}
	now := time.Duration(0)
	feed := func(events uint16, pkts, bytes uint32) bool {
		now += time.Millisecond
		s.Time, s.Events, s.Pkts, s.Bytes = now, s.Events+events, s.Pkts+pkts, s.Bytes+bytes
		return d.Sample(s)
	}
	if feed(1, 10, 1000) || d.State != MeasureInProgress {
		t.Fatal("the first sample starts a window")
	}
	for i := 0; i < 63; i++ {
		if feed(1, 10, 1000) {
			t.Fatalf("a decision after %d events", i+1)
		}
	}
	if !feed(1, 10, 1000) { // 64 events, across the 16-bit wrap: the first window moves the index
		t.Fatal("no decision after 64 events")
	}
	if d.State != ApplyNewProfile || d.Profile != 0 {
		t.Fatalf("state %d profile %d", d.State, d.Profile)
	}
	if feed(100, 10, 1000) {
		t.Fatal("a decision while the profile is being applied")
	}
	d.Applied()
	if d.State != StartMeasure {
		t.Fatal("Applied must restart measurement")
	}
}
