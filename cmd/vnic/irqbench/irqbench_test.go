package irqbench

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestE1 reproduces receive livelock and NAPI's flat curve on the teaching
// preset; every pass criterion of the spec holds.
func TestE1(t *testing.T) {
	e, err := E1("teaching", 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range e.Checks {
		if !c.Pass {
			t.Errorf("%s: %s", c.Name, c.Detail)
		} else {
			t.Logf("%s: %s", c.Name, c.Detail)
		}
	}
	if !e.Pass {
		t.Error("E1 did not pass")
	}
}

// TestE6 replicates the NAPI_HOWTO table's shapes.
func TestE6(t *testing.T) {
	e, err := E6("", 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range e.Checks {
		if !c.Pass {
			t.Errorf("%s: %s", c.Name, c.Detail)
		}
	}
}

// TestE7: interrupt coalescing caps the interrupt rate, costs latency only
// when the interval is longer than the packet gap, leaves NAPI's overload
// throughput alone and rescues the legacy driver's.
func TestE7(t *testing.T) {
	e, err := E7("teaching", 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range e.Checks {
		if !c.Pass {
			t.Errorf("%s: %s", c.Name, c.Detail)
		}
	}
}

// TestDeterministic: the same runs give byte-identical CSV.
func TestDeterministic(t *testing.T) {
	run := func() string {
		var e Experiment
		e.ID = "E1"
		for _, m := range []Mode{M0, M1} {
			s := Series{Mode: m.ID}
			for _, l := range []float64{20e3, 70e3, 150e3} {
				p, err := Measure(Run{Mode: m, Costs: Presets["teaching"], Offered: l, Warmup: Warmup, Window: 20 * time.Millisecond, Seed: 3})
				if err != nil {
					t.Fatal(err)
				}
				s.Points = append(s.Points, p)
			}
			e.Series = append(e.Series, s)
		}
		var b bytes.Buffer
		if err := WriteCSV(&b, e); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	if a, b := run(), run(); a != b {
		t.Fatalf("two runs differ:\n%s\n%s", a, b)
	}
}

// TestPlotsAndReport renders E1's figures and the report.
func TestPlotsAndReport(t *testing.T) {
	e := Experiment{ID: "E1", Title: "t", Preset: "teaching", Pass: true, MLFRR: map[string]float64{}}
	for _, m := range []Mode{M0, M1} {
		s := Series{Mode: m.ID}
		for _, l := range []float64{20e3, 70e3} {
			p, err := Measure(Run{Mode: m, Costs: Presets["teaching"], Offered: l, Warmup: Warmup, Window: 10 * time.Millisecond, Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			s.Points = append(s.Points, p)
		}
		e.Series = append(e.Series, s)
	}
	dir := t.TempDir()
	figs, err := Plot(e, dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteReport(dir, []Experiment{e}, map[string][]Figure{"E1": figs}); err != nil {
		t.Fatal(err)
	}
	for _, f := range figs {
		for _, ext := range []string{".png", ".svg"} {
			if fi, err := os.Stat(filepath.Join(dir, f.Stem+ext)); err != nil || fi.Size() < 1000 {
				t.Errorf("%s%s: %v", f.Stem, ext, err)
			}
		}
	}
	rep, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil || !bytes.Contains(rep, []byte(`<img src="E1-delivered.svg"`)) {
		t.Errorf("report: %v", err)
	}
}

// TestE11: four NAPI instances on one CPU share it max-min fairly under a
// 5:1:1:1 load, and time_squeeze grows with the load.
func TestE11(t *testing.T) {
	e, err := E11("teaching", 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range e.Checks {
		if !c.Pass {
			t.Errorf("%s: %s", c.Name, c.Detail)
		} else {
			t.Logf("%s: %s", c.Name, c.Detail)
		}
	}
	for _, p := range e.Series[0].Points {
		t.Logf("%.0f offered %.0f delivered per queue %v / %v squeeze %.0f", p.OfferedPPS, p.DeliveredPPS, p.QueueOfferedPPS, p.QueueDeliveredPPS, p.TimeSqueezePerSec)
	}
}

// TestFairShares: water filling.
func TestFairShares(t *testing.T) {
	for _, tc := range []struct {
		offered []float64
		cap     float64
		want    []float64
	}{
		{[]float64{10, 10}, 100, []float64{10, 10}},
		{[]float64{50, 10, 10, 10}, 60, []float64{30, 10, 10, 10}},
		{[]float64{50, 20, 20, 20}, 60, []float64{15, 15, 15, 15}},
		{[]float64{5, 100, 30}, 60, []float64{5, 27.5, 27.5}},
	} {
		got := FairShares(tc.offered, tc.cap)
		for i := range got {
			if math.Abs(got[i]-tc.want[i]) > 1e-9 {
				t.Errorf("FairShares(%v, %v) = %v, want %v", tc.offered, tc.cap, got, tc.want)
				break
			}
		}
	}
}

// TestE5: without ksoftirqd a CPU-bound user task starves under receive
// overload; with it the task keeps about half the CPU.
func TestE5(t *testing.T) {
	e, err := E5("teaching", 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range e.Checks {
		if !c.Pass {
			t.Errorf("%s: %s", c.Name, c.Detail)
		} else {
			t.Logf("%s: %s", c.Name, c.Detail)
		}
	}
}

// TestE10: igb's adaptive schemes walk their classes and sizes through the
// load steps and settle at once; lib/dim is reported.
func TestE10(t *testing.T) {
	e, err := E10("teaching", 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range e.Checks {
		if !c.Pass {
			t.Errorf("%s: %s", c.Name, c.Detail)
		} else {
			t.Logf("%s: %s", c.Name, c.Detail)
		}
	}
	if e.Preset != "modern" || len(e.Traces) != 5 || len(e.Traces[0].Samples) != 400 {
		t.Errorf("preset %s, %d traces", e.Preset, len(e.Traces))
	}
}

// TestE3: Mogul's quota ordering, and each quota on its closed form.
func TestE3(t *testing.T) {
	e, err := E3("teaching", 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range e.Checks {
		if !c.Pass {
			t.Errorf("%s: %s", c.Name, c.Detail)
		} else {
			t.Logf("%s: %s", c.Name, c.Detail)
		}
	}
}

// TestE4: without feedback the application starves; with it, it runs at
// its capacity.
func TestE4(t *testing.T) {
	e, err := E4("teaching", 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range e.Checks {
		if !c.Pass {
			t.Errorf("%s: %s", c.Name, c.Detail)
		} else {
			t.Logf("%s: %s", c.Name, c.Detail)
		}
	}
}

// TestE8: deferral trades latency for CPU at light load, and a tiny
// timeout serves less flat out.
func TestE8(t *testing.T) {
	e, err := E8("teaching", 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range e.Checks {
		if !c.Pass {
			t.Errorf("%s: %s", c.Name, c.Detail)
		} else {
			t.Logf("%s: %s", c.Name, c.Detail)
		}
	}
}

// TestRequestResponseErrors: a negative request rate is refused.
func TestRequestResponseErrors(t *testing.T) {
	if _, err := Measure(Run{Mode: M1, Costs: Presets["teaching"], Offered: -1, Clients: 2, Window: time.Millisecond}); err == nil {
		t.Error("negative rate accepted")
	}
	if _, err := Measure(Run{Mode: M1, Costs: Presets["teaching"], Offered: 1000, UserTask: true, App: true, Window: time.Millisecond}); err == nil {
		t.Error("a user task and an application accepted")
	}
}

// TestE9: the cover letter's orderings among busy polling, deferral,
// threaded NAPI and IRQ suspension.
func TestE9(t *testing.T) {
	e, err := E9("teaching", 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range e.Checks {
		if !c.Pass {
			t.Errorf("%s: %s", c.Name, c.Detail)
		} else {
			t.Logf("%s: %s", c.Name, c.Detail)
		}
	}
}

// TestE2: a batching handler moves the collapse, and still collapses.
func TestE2(t *testing.T) {
	e, err := E2("teaching", 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range e.Checks {
		if !c.Pass {
			t.Errorf("%s: %s", c.Name, c.Detail)
		} else {
			t.Logf("%s: %s", c.Name, c.Detail)
		}
	}
}
