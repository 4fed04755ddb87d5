package irqbench

import (
	"fmt"
	"strings"
	"time"

	"vnic/hw"
)

// E8Clients and E8AppCost are E8's request/response load: clients with
// one request outstanding each, and the server application's work per
// request.
const (
	E8Clients = 16
	E8AppCost = 5 * time.Microsecond
)

// ECoalesce is the EITR interval that stands for a NIC's boot-time
// coalescing in E8.
const ECoalesce = 50 * time.Microsecond

// requestResponse measures a mode at a request rate (0: flat out) under
// E8's and E9's load.
func requestResponse(c hw.CostModel, seed int64) func(Mode, float64) (Point, error) {
	return func(m Mode, rate float64) (Point, error) {
		return Measure(Run{Mode: m, Costs: c, Offered: rate, Warmup: Warmup, Window: Window, Seed: seed, Clients: E8Clients, AppCost: E8AppCost})
	}
}

// rrSeries measures m under request/response load at each fraction of
// top's rate (0: flat out; top itself when m is the mode top measured).
func rrSeries(run func(Mode, float64) (Point, error), m Mode, fracs []float64, top Point, t *tally) (Series, error) {
	return measureSeries(m.ID, fracs, t, func(f float64) (Point, error) {
		if m.ID == top.Mode && f == 0 {
			return top, nil
		}
		return run(m, f*top.DeliveredPPS)
	})
}

// E8 is NAPI deferral (M3: napi_defer_hard_irqs 100, gro_flush_timeout
// 10, 20, 50 and 200 µs) against plain NAPI under request/response load:
// 16 clients with a request outstanding each, at 15, 50 and 80 % of what
// plain NAPI serves flat out, and flat out. At light load the timer polls
// replace interrupts: a request waits for the next timer poll, so latency
// grows with the timeout, and the timer polls (each an hrtimer interrupt
// and a poll, empty or not) cost CPU in inverse proportion to it. Flat
// out, a tiny timeout spends the CPU on timer polls that find little.
func E8(preset Preset, seed int64, progress Progress) (Experiment, error) {
	e, c, err := newExperiment("E8", "NAPI deferral (gro_flush_timeout) under request/response load", preset)
	if err != nil {
		return e, err
	}
	timeouts := []time.Duration{0, 10 * time.Microsecond, 20 * time.Microsecond, 50 * time.Microsecond, 200 * time.Microsecond}
	run := requestResponse(c, seed)
	base := Mode{ID: "base", RxMode: M1.RxMode}
	top, err := run(base, 0)
	if err != nil {
		return e, err
	}
	fracs := []float64{0.15, 0.5, 0.8}
	for _, f := range fracs {
		e.LoadLabels = append(e.LoadLabels, fmt.Sprintf("%.0f %%", 100*f))
	}
	e.LoadLabels = append(e.LoadLabels, "flat out")
	t := &tally{total: len(timeouts)*(len(fracs)+1) + 1, progress: progress}
	byMode := map[time.Duration][]Point{}
	for _, to := range timeouts {
		m := base
		if to > 0 {
			m = Mode{ID: fmt.Sprintf("defer%d", to/time.Microsecond), RxMode: M1.RxMode, DeferHardIRQs: 100, GROFlushTimeout: to}
		}
		s, err := rrSeries(run, m, append(fracs, 0), top, t)
		if err != nil {
			return e, err
		}
		s.Family, s.Param = "gro_flush_timeout", float64(to/time.Microsecond)
		e.add(s)
		byMode[to] = s.Points
	}
	// Light load: latency up, CPU down as the timeout grows.
	latUp, cpuDown := true, true
	var ld, cd []string
	for i, to := range timeouts {
		p := byMode[to][0]
		ld = append(ld, fmt.Sprintf("%s %.1f µs", e.Series[i].Mode, p.MeanLatencyUS))
		cd = append(cd, fmt.Sprintf("%s %.1f %%", e.Series[i].Mode, 100*(1-p.CPUIdle)))
		if i >= 2 {
			prev := byMode[timeouts[i-1]][0]
			latUp = latUp && p.MeanLatencyUS > prev.MeanLatencyUS
			cpuDown = cpuDown && (1-p.CPUIdle) < (1-prev.CPUIdle)
		}
	}
	e.Checks = append(e.Checks, Check{"at light load mean latency grows with the timeout", latUp, strings.Join(ld, ", ")})
	e.Checks = append(e.Checks, Check{"at light load CPU falls as the timeout grows (the shortest costs more than no deferral)",
		cpuDown && (1-byMode[timeouts[1]][0].CPUIdle) > (1-byMode[0][0].CPUIdle), strings.Join(cd, ", ")})
	// Flat out: the tiniest timeout serves less than the best deferral.
	best, bestID := 0.0, ""
	for i, to := range timeouts[1:] {
		if q := byMode[to][len(fracs)].DeliveredPPS; q > best {
			best, bestID = q, e.Series[i+1].Mode
		}
	}
	tiny := byMode[timeouts[1]][len(fracs)].DeliveredPPS
	e.Checks = append(e.Checks, Check{"flat out, a tiny timeout serves less than a longer one", tiny < 0.97*best,
		fmt.Sprintf("defer10 %.0f requests/s, %s %.0f, no deferral %.0f", tiny, bestID, best, top.DeliveredPPS)})
	// The cover letter's base ran with the NIC's boot-time coalescing, and
	// flat out its defer10 served 13 % less than base. Without coalescing
	// plain NAPI takes an interrupt per request batch and serves least of
	// all; with a 50 µs EITR interval it batches, and the too-short
	// deferral falls behind it.
	coal := Mode{ID: "base ITR 50us", RxMode: M1.RxMode, ITR: ECoalesce}
	cp, err := run(coal, 0)
	if err != nil {
		return e, err
	}
	t.step()
	e.add(Series{Mode: coal.ID, Points: []Point{cp}})
	e.Checks = append(e.Checks, Check{"with the NIC coalescing (EITR 50 µs), plain NAPI flat out serves more than defer10", cp.DeliveredPPS > tiny,
		fmt.Sprintf("base ITR 50us %.0f requests/s, defer10 %.0f (%+.1f %%; the cover letter: −13 %%), base without coalescing %.0f",
			cp.DeliveredPPS, tiny, 100*(tiny/cp.DeliveredPPS-1), top.DeliveredPPS)})
	e.finish()
	return e, nil
}
