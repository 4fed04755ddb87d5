package irqbench

import (
	"fmt"
	"math"
	"strings"
	"time"

	"vnic/ethtool"
	"vnic/hw"
	"vnic/internal/topo"
)

// Phase is one step of a load-step run: frames of Size bytes (without
// FCS) at Rate packets per second for Dur.
type Phase struct {
	Name string        `json:"name"`
	Size int           `json:"size_bytes"`
	Rate float64       `json:"rate_pps"`
	Dur  time.Duration `json:"duration_ns"`
}

// Sample is the moderation state at one instant of a load-step run.
type Sample struct {
	TimeMS     float64 `json:"time_ms"`
	Phase      int     `json:"phase"`
	IntervalUS float64 `json:"interval_us"`        // queue 0's EITR interval
	Interrupts uint64  `json:"interrupts"`         // since the run began
	OfferedPPS float64 `json:"offered_pps"`        // over the last sample period
	IntrPerSec float64 `json:"interrupts_per_sec"` // over the last sample period
}

// Convergence is how long a mode took to settle after a phase began: to
// the interval it held at the phase's end, for good.
type Convergence struct {
	Phase      int     `json:"phase"`
	IntervalUS float64 `json:"interval_us"`
	AfterMS    float64 `json:"after_ms"`
	Interrupts uint64  `json:"after_interrupts"`
	Settled    bool    `json:"settled"` // within the phase's first half
}

// Trace is one mode's load-step run.
type Trace struct {
	Mode        string        `json:"mode"`
	Samples     []Sample      `json:"samples"`
	Convergence []Convergence `json:"convergence"`
}

// SamplePeriod is how often a load-step run samples the moderation state.
const SamplePeriod = time.Millisecond

// adaptive is how a mode of E10 moderates: a fixed interval, lib/dim
// (adaptive-rx), or igb's dynamic rx-usecs.
type adaptive struct {
	mode   Mode
	queues int // igb's scheme depends on the queue vectors
	usecs  uint32
	dim    bool
}

// steps runs phases back to back against one mode and reports each
// phase's second half as a Point, plus the sampled moderation state.
func steps(a adaptive, c hw.CostModel, phases []Phase, seed int64) ([]Point, Trace, error) {
	weights := make([]float64, a.queues)
	weights[0] = 1 // all on queue 0; the other queue vectors only count for igb's choice
	r := Run{Mode: a.mode, Costs: c, Seed: seed, Weights: weights}
	g, err := newRig(r, topo.DeviceConfig{MTU: 9000, ITRUsecs: int(a.usecs)})
	if err != nil {
		return nil, Trace{}, err
	}
	defer g.w.Close()
	if a.dim {
		var co ethtool.Coalesce
		co.V[ethtool.AdaptiveRx] = 1
		if err := ethtool.SetCoalesce(g.dut.Adapter, co, ethtool.AdaptiveRx.Bit()); err != nil {
			return nil, Trace{}, err
		}
	}
	// Constant rate within each phase, from the phase's start.
	var bounds []time.Duration
	var t0 time.Duration
	for _, p := range phases {
		bounds = append(bounds, t0)
		t0 += p.Dur
	}
	ph, n := 0, 0.0
	g.generate(func() (time.Duration, int) {
		for {
			at := bounds[ph] + time.Duration(math.Round((n+1)/phases[ph].Rate*1e9))
			if ph == len(phases)-1 || at < bounds[ph+1] {
				n++
				return at, phases[ph].Size
			}
			ph, n = ph+1, 0
		}
	})
	tr := Trace{Mode: a.mode.ID}
	var points []Point
	start := g.w.Clock.Now()
	var last counters
	last = g.snap()
	sample := func(i int) {
		c := g.snap()
		tr.Samples = append(tr.Samples, Sample{TimeMS: float64(g.w.Clock.Now()-start) / 1e6, Phase: i,
			IntervalUS: float64(g.dut.Adapter.Interval(0)) / 1e3, Interrupts: c.interrupts,
			OfferedPPS: float64(c.offered-last.offered) / SamplePeriod.Seconds(),
			IntrPerSec: float64(c.interrupts-last.interrupts) / SamplePeriod.Seconds()})
		last = c
	}
	for i, p := range phases {
		half := p.Dur / 2
		for t := SamplePeriod; t <= half; t += SamplePeriod {
			g.w.Run(SamplePeriod)
			sample(i)
		}
		c0 := g.measure()
		for t := half + SamplePeriod; t <= p.Dur; t += SamplePeriod {
			g.w.Run(SamplePeriod)
			sample(i)
		}
		c1 := g.snap()
		g.cons.measuring = false
		pt, err := g.point(fmt.Sprintf("%s, %s", a.mode.ID, p.Name), c0, c1, p.Dur-half, p.Size)
		if err != nil {
			return nil, tr, err
		}
		points = append(points, pt)
	}
	if err := g.drain(a.mode.ID + " load steps"); err != nil {
		return nil, tr, err
	}
	tr.Convergence = converge(tr.Samples, phases)
	return points, tr, nil
}

// converge finds, per phase, when the interval last changed.
func converge(samples []Sample, phases []Phase) []Convergence {
	var out []Convergence
	for i := range phases {
		var in []Sample
		for _, s := range samples {
			if s.Phase == i {
				in = append(in, s)
			}
		}
		if len(in) == 0 {
			continue
		}
		final := in[len(in)-1].IntervalUS
		k := len(in) - 1
		for k > 0 && in[k-1].IntervalUS == final {
			k--
		}
		var before uint64
		if i > 0 {
			for _, s := range samples {
				if s.Phase == i-1 {
					before = s.Interrupts
				}
			}
		}
		// Settled at sample k: the state after k+1 sample periods.
		out = append(out, Convergence{Phase: i, IntervalUS: final, AfterMS: float64(k) * SamplePeriod.Seconds() * 1e3,
			Interrupts: in[k].Interrupts - before, Settled: k < len(in)/2})
	}
	return out
}

// E10Phases are E10's load steps: light small-frame traffic, a jumbo-frame
// bulk transfer near a gigabit, a small-frame flood, and light traffic
// again.
var E10Phases = []Phase{
	{"light 60 B", 60, 20000, 100 * time.Millisecond},
	{"bulk 9014 B", 9014, 13000, 100 * time.Millisecond},
	{"flood 60 B", 60, 1000000, 100 * time.Millisecond},
	{"light 60 B again", 60, 20000, 100 * time.Millisecond},
}

// E10 is adaptive interrupt moderation against fixed intervals under load
// steps: lib/dim (adaptive-rx, A1), igb's latency classes (rx-usecs 1 with
// one queue vector, the e1000-style A2) and igb's average-size interval
// (rx-usecs 1 with two, A3), against no throttling and a fixed 250 µs. It
// runs on the modern preset whatever the preset asked: the schemes'
// thresholds are bytes and packets per interrupt tuned for gigabit
// traffic, which the teaching preset's 83 kpps CPU cannot carry.
func E10(preset Preset, seed int64, progress Progress) (Experiment, error) {
	if preset.Name == "" {
		return Experiment{}, fmt.Errorf("irqbench: no preset (teaching, modern)")
	}
	c := Presets["modern"]
	e := Experiment{ID: "E10", Title: "Adaptive moderation under load steps", Preset: "modern", MLFRR: map[string]float64{}}
	modes := []adaptive{
		{Mode{ID: "static 0us", RxMode: M1.RxMode}, 1, 0, false},
		{Mode{ID: "static 250us", RxMode: M1.RxMode}, 1, 250, false},
		{Mode{ID: "A1 lib/dim", RxMode: M1.RxMode}, 1, 0, true},
		{Mode{ID: "A2 igb classes", RxMode: M1.RxMode}, 1, 1, false},
		{Mode{ID: "A3 igb size", RxMode: M1.RxMode}, 2, 1, false},
	}
	byMode := map[string][]Point{}
	traces := map[string]Trace{}
	for i, m := range modes {
		pts, tr, err := steps(m, c, E10Phases, seed)
		if err != nil {
			return e, err
		}
		e.Series = append(e.Series, Series{Mode: m.mode.ID, Points: pts})
		e.Traces = append(e.Traces, tr)
		byMode[m.mode.ID], traces[m.mode.ID] = pts, tr
		if progress != nil {
			progress(i+1, len(modes))
		}
	}
	// The interval each igb scheme holds at each phase's end.
	ends := func(id string) []float64 {
		var v []float64
		for _, cv := range traces[id].Convergence {
			v = append(v, cv.IntervalUS)
		}
		return v
	}
	classes := ends("A2 igb classes")
	wantClasses := []float64{14, 245, 14, 14} // 70,000/s, 4,000/s (jumbo), back to 70,000/s
	via20k := false
	for _, s := range traces["A2 igb classes"].Samples {
		via20k = via20k || (s.Phase == 2 && s.IntervalUS == 49)
	}
	e.Checks = append(e.Checks, Check{"igb's classes reach 70,000/s, 4,000/s and, on the way back, 20,000/s",
		fmt.Sprint(classes) == fmt.Sprint(wantClasses) && via20k,
		fmt.Sprintf("intervals at the phases' ends %v µs (want %v), 49 µs seen in the flood: %v", classes, wantClasses, via20k)})
	size := ends("A3 igb size")
	wantSize := []float64{10, 375, 10, 10} // (60+24)/2 → 40 → 10 µs; 3000/2 → 375 µs
	e.Checks = append(e.Checks, Check{"igb's size scheme follows the frame size", fmt.Sprint(size) == fmt.Sprint(wantSize),
		fmt.Sprintf("intervals %v µs (want %v)", size, wantSize)})
	// igb's schemes take fewer interrupts than no throttling in the
	// flood; every adaptive scheme keeps light-load latency well under a
	// fixed 250 µs interval's. (lib/dim need not cut interrupts here: it
	// ranks bytes, then packets per ms before interrupts, and with
	// everything delivered at any interval it parks where it stands, at
	// its shortest profile after the step.)
	fewer, lat := true, true
	var fd, ld []string
	base, slow := byMode["static 0us"], byMode["static 250us"]
	for _, m := range modes[2:] {
		p := byMode[m.mode.ID]
		if !m.dim && p[2].InterruptsPerSec >= base[2].InterruptsPerSec {
			fewer = false
		}
		if p[0].P99LatencyUS > slow[0].P99LatencyUS/2 {
			lat = false
		}
		fd = append(fd, fmt.Sprintf("%s %.0f/s", m.mode.ID, p[2].InterruptsPerSec))
		ld = append(ld, fmt.Sprintf("%s %.1f µs", m.mode.ID, p[0].P99LatencyUS))
	}
	e.Checks = append(e.Checks, Check{"igb's schemes take fewer interrupts than no throttling in the flood", fewer,
		fmt.Sprintf("no throttling %.0f/s; %s", base[2].InterruptsPerSec, strings.Join(fd, ", "))})
	e.Checks = append(e.Checks, Check{"adaptive schemes keep light-load p99 under half a fixed 250 µs interval's", lat,
		fmt.Sprintf("fixed 250 µs %.1f µs; %s", slow[0].P99LatencyUS, strings.Join(ld, ", "))})
	// Convergence: igb's schemes settle in every phase's first half.
	settled, cd := true, []string{}
	for _, m := range modes[2:] {
		var parts []string
		for _, cv := range traces[m.mode.ID].Convergence {
			if !cv.Settled && m.mode.ID != "A1 lib/dim" {
				settled = false
			}
			parts = append(parts, fmt.Sprintf("%.0f ms/%d irqs", cv.AfterMS, cv.Interrupts))
		}
		cd = append(cd, m.mode.ID+": "+strings.Join(parts, ", "))
	}
	e.Checks = append(e.Checks, Check{"igb's schemes settle within each phase's first half (lib/dim reported)", settled, strings.Join(cd, "; ")})
	e.finish()
	return e, nil
}
