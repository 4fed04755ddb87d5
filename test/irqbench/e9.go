package irqbench

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// E9Modes are E9's cases, after the IRQ suspension series' cover letter
// (§4.2 of the spec): no deferral; defer20 (napi_defer_hard_irqs 100,
// gro_flush_timeout 20 µs); threaded NAPI; napibusy (defer 100, 200 µs,
// epoll busy poll 64 µs with budget 64, prefer_busy_poll); fullbusy
// (defer 100, 5 ms, an application that never stops polling);
// suspend20 (defer 100, 20 µs, irq-suspend-timeout 20 ms, one poll per
// wait with budget 64, prefer_busy_poll); suspend0 (the same without
// deferral).
var E9Modes = []Mode{
	{ID: "base", RxMode: M1.RxMode},
	{ID: "defer20", RxMode: M1.RxMode, DeferHardIRQs: 100, GROFlushTimeout: 20 * time.Microsecond},
	{ID: "threaded", RxMode: M1.RxMode, Threaded: true},
	{ID: "napibusy", RxMode: M1.RxMode, DeferHardIRQs: 100, GROFlushTimeout: 200 * time.Microsecond, BusyPoll: 64 * time.Microsecond, BusyBudget: 64, PreferBusyPoll: true},
	{ID: "fullbusy", RxMode: M1.RxMode, DeferHardIRQs: 100, GROFlushTimeout: 5 * time.Millisecond, FullBusy: true, BusyBudget: 64},
	{ID: "suspend20", RxMode: M1.RxMode, DeferHardIRQs: 100, GROFlushTimeout: 20 * time.Microsecond, SuspendTimeout: 20 * time.Millisecond, BusyBudget: 64},
	{ID: "suspend0", RxMode: M1.RxMode, SuspendTimeout: 20 * time.Millisecond, BusyBudget: 64},
}

// E9 runs the modes of E9Modes under E8's request/response load at 20, 50
// and 80 % of what plain NAPI serves flat out, and flat out. The shapes of
// the cover letter's table it must show: fullbusy burns the whole CPU at
// every load; flat out, IRQ suspension carries as much as fullbusy, well
// above no deferral; at light load suspension costs what plain deferral
// costs, and napibusy sits between deferral and fullbusy.
func E9(preset Preset, seed int64, progress Progress) (Experiment, error) {
	e, c, err := newExperiment("E9", "Busy polling, threaded NAPI and IRQ suspension under request/response load", preset)
	if err != nil {
		return e, err
	}
	run := requestResponse(c, seed)
	top, err := run(E9Modes[0], 0)
	if err != nil {
		return e, err
	}
	fracs := []float64{0.2, 0.5, 0.8, 0}
	by := map[string][]Point{}
	t := &tally{total: len(E9Modes) * len(fracs), progress: progress}
	for _, m := range E9Modes {
		s, err := rrSeries(run, m, fracs, top, t)
		if err != nil {
			return e, err
		}
		e.add(s)
		by[m.ID] = s.Points
	}
	cpu := func(p Point) float64 { return 1 - p.CPUIdle }
	light, max := 0, len(fracs)-1

	full := true
	for _, p := range by["fullbusy"] {
		full = full && cpu(p) > 0.999
	}
	e.Checks = append(e.Checks, Check{"fullbusy burns the whole CPU at every load", full,
		fmt.Sprintf("%.1f %% at 20 %% load", 100*cpu(by["fullbusy"][light]))})
	sus, fb, base := by["suspend20"][max].DeliveredPPS, by["fullbusy"][max].DeliveredPPS, top.DeliveredPPS
	e.Checks = append(e.Checks, Check{"flat out, IRQ suspension carries as much as fullbusy, well above no deferral",
		sus > 0.95*fb && sus > 1.2*base, fmt.Sprintf("suspend20 %.0f, fullbusy %.0f, base %.0f requests/s", sus, fb, base)})
	sl, fl, bl := by["suspend20"][max].MeanLatencyUS, by["fullbusy"][max].MeanLatencyUS, top.MeanLatencyUS
	e.Checks = append(e.Checks, Check{"flat out, IRQ suspension's latency is fullbusy's (within 5 %), below no deferral's",
		math.Abs(sl-fl) <= 0.05*fl && sl < bl, fmt.Sprintf("mean round trip: suspend20 %.1f µs, fullbusy %.1f µs, base %.1f µs", sl, fl, bl)})
	s0 := by["suspend0"][max].DeliveredPPS
	e.Checks = append(e.Checks, Check{"without deferral IRQ suspension changes nothing: flat out suspend0 serves what base does",
		math.Abs(s0-base) <= 0.02*base, fmt.Sprintf("suspend0 %.0f, base %.0f requests/s", s0, base)})
	d := by["defer20"][light]
	e.Checks = append(e.Checks, Check{"at light load IRQ suspension costs what deferral costs",
		cpu(by["suspend20"][light]) < cpu(d)+0.03 && cpu(by["suspend20"][light]) < 0.5,
		fmt.Sprintf("suspend20 %.1f %%, defer20 %.1f %% CPU", 100*cpu(by["suspend20"][light]), 100*cpu(d))})
	nb := cpu(by["napibusy"][light])
	// (napibusy reaches fullbusy's 100 % once requests come closer together
	// than its 64 µs busy-poll window: it then never stops polling.)
	e.Checks = append(e.Checks, Check{"at light load napibusy costs more than deferral, at most what fullbusy does", nb > cpu(d) && nb <= cpu(by["fullbusy"][light]),
		fmt.Sprintf("napibusy %.1f %% CPU", 100*nb)})
	var rows []string
	for _, m := range E9Modes {
		p := by[m.ID]
		rows = append(rows, fmt.Sprintf("%s: %.1f µs/%.0f %% at 20 %%, %.0f/s flat out", m.ID, p[light].MeanLatencyUS, 100*cpu(p[light]), p[max].DeliveredPPS))
	}
	e.Checks = append(e.Checks, Check{"every mode serves the offered load below saturation", servesAll(by, fracs),
		strings.Join(rows, "; ")})
	e.finish()
	return e, nil
}

// servesAll reports whether every mode delivered what was offered at every
// throttled load (within 1 %).
func servesAll(by map[string][]Point, fracs []float64) bool {
	for _, pts := range by {
		for i, f := range fracs {
			if f > 0 && pts[i].DeliveredPPS < 0.99*pts[i].OfferedPPS {
				return false
			}
		}
	}
	return true
}
