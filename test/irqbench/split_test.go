package irqbench

import (
	"fmt"
	"math"
	"testing"
	"time"
)

// TestLatencySplit: the parts add up to the mean latency and come out as
// the teaching costs say (c_irq 4, c_poll 2, c_rx 2, c_proto 10 µs, timer
// 1 µs) at 10 kpps, one packet every 100 µs.
func TestLatencySplit(t *testing.T) {
	itr := Mode{ID: "M2 ITR 250us", RxMode: M1.RxMode, ITR: 250 * time.Microsecond}
	for _, tc := range []struct {
		name string
		run  Run
		// wait, irq→poll, ring, processing, socket in µs; NaN: not exact
		want [numParts]float64
	}{
		// NAPI: the interrupt (4) and the poll's cost (2) before the
		// pass; the driver (2) and the protocol (10) after.
		{"M1", Run{Mode: M1}, [numParts]float64{0, 6, 0, 12, 0}},
		// Legacy: the handler takes it after its entry cost; the backlog
		// poll (2) is in processing.
		{"M0", Run{Mode: M0}, [numParts]float64{0, 4, 0, 14, 0}},
		// An application behind a socket: its 5 µs per packet.
		{"M1 app", Run{Mode: M1, App: true, AppCost: 5 * time.Microsecond}, [numParts]float64{0, 6, 0, 12, 5}},
		// Tick polling: ten packets a tick, taken at tick + timer (1) +
		// poll (2): (1000 − 100)/2 + 3 = 453 µs in the ring; the i-th
		// of a burst waits for i − 1 ahead of it: 12 · (1 + 4.5) = 66.
		{"M8", Run{Mode: M8}, [numParts]float64{0, 0, 453, 66, 0}},
		// A 250 µs interval at a 100 µs gap: packets wait for the
		// interval to run out.
		{"ITR 250", Run{Mode: itr}, [numParts]float64{math.NaN(), 6, math.NaN(), math.NaN(), 0}},
	} {
		r := tc.run
		r.Costs, r.Offered, r.Warmup, r.Window, r.Seed = Presets["teaching"], 10e3, Warmup, 50*time.Millisecond, 1
		p, err := Measure(r)
		if err != nil {
			t.Fatal(err)
		}
		got := [numParts]float64{p.LatIRQWaitUS, p.LatIRQToPollUS, p.LatRingUS, p.LatProcessingUS, p.LatSocketUS}
		sum := 0.0
		for i, v := range got {
			sum += v
			if w := tc.want[i]; !math.IsNaN(w) && math.Abs(v-w) > 1e-9 {
				t.Errorf("%s: parts %v, want %v", tc.name, got, tc.want)
				break
			}
		}
		if math.Abs(sum-p.MeanLatencyUS) > 1e-6 {
			t.Errorf("%s: parts %v add to %.6f, mean latency %.6f", tc.name, got, sum, p.MeanLatencyUS)
		}
		if tc.name == "ITR 250" && !(p.LatIRQWaitUS > 50) {
			t.Errorf("ITR 250: irq wait %.1f µs, want the interval's wait", p.LatIRQWaitUS)
		}
	}
	// Request/response measures round trips: no split.
	p, err := Measure(Run{Mode: M1, Costs: Presets["teaching"], Clients: 2, Warmup: Warmup, Window: 20 * time.Millisecond, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if s := fmt.Sprint(p.LatIRQWaitUS, p.LatIRQToPollUS, p.LatRingUS, p.LatProcessingUS, p.LatSocketUS); s != "0 0 0 0 0" {
		t.Errorf("request/response split %s, want none", s)
	}
}

// TestInvariants: the interrupt invariants catch an interrupt without an
// unmask and messages closer than the interval, and let legal runs pass.
func TestInvariants(t *testing.T) {
	us := func(n int) time.Duration { return time.Duration(n) * time.Microsecond }
	itr := Mode{ID: "M2", RxMode: M1.RxMode, ITR: us(10)}
	for _, tc := range []struct {
		name    string
		mode    Mode
		p       Point
		signals []time.Duration
		ok      bool
	}{
		{"unmasks", M1, Point{Interrupts: 5, DonePolls: 4}, nil, true},
		{"interrupt without unmask", M1, Point{Interrupts: 6, DonePolls: 4}, nil, false},
		{"deferral may", Mode{ID: "M3", RxMode: M1.RxMode, DeferHardIRQs: 2}, Point{Interrupts: 6, DonePolls: 4}, nil, true},
		{"interval kept", itr, Point{}, []time.Duration{0, us(10), us(25)}, true},
		{"interval broken", itr, Point{}, []time.Duration{0, us(10), us(19)}, false},
		{"before the window", itr, Point{}, []time.Duration{0, us(5), us(200)}, true},
	} {
		g := &rig{r: Run{Mode: tc.mode}, nq: 1, sig: &splitter{signals: [][]time.Duration{tc.signals}}}
		err := g.invariants(tc.name, tc.p, us(8), us(1000))
		if (err == nil) != tc.ok {
			t.Errorf("%s: error %v, want ok %v", tc.name, err, tc.ok)
		}
	}
}

// TestWithKnobs: a derived preset differs from its base in c_ind and the
// switch cost only.
func TestWithKnobs(t *testing.T) {
	p, err := WithKnobs("teaching", 2*time.Microsecond, time.Microsecond)
	if err != nil {
		t.Fatal(err)
	}
	want := Presets["teaching"]
	want.Indirect, want.Switch = 2*time.Microsecond, time.Microsecond
	if p.Name != "teaching+c_ind=2µs+c_switch=1µs" || p.Costs != want {
		t.Errorf("%q: %+v", p.Name, p.Costs)
	}
	if _, ok := Presets[p.Name]; ok {
		t.Errorf("WithKnobs registered %q", p.Name)
	}
	if p, err := WithKnobs("modern", 0, 3*time.Microsecond); err != nil || p.Name != "modern+c_switch=3µs" {
		t.Errorf("%q, %v", p.Name, err)
	}
	for _, bad := range []struct {
		preset  string
		ind, sw time.Duration
	}{{"fast", time.Microsecond, 0}, {"teaching", -time.Microsecond, 0}, {"teaching", 2 * time.Millisecond, 0}, {"teaching", 0, -1}, {"teaching", 0, time.Second}} {
		if _, err := WithKnobs(bad.preset, bad.ind, bad.sw); err == nil {
			t.Errorf("%s %v %v: no error", bad.preset, bad.ind, bad.sw)
		}
	}
}
