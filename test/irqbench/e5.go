package irqbench

import (
	"fmt"
	"math"
	"strings"
)

// M1NoKsoftirqd is NAPI whose softirq work never goes to ksoftirqd.
var M1NoKsoftirqd = Mode{ID: "M1 no ksoftirqd", RxMode: M1.RxMode, NoKsoftirqd: true}

// E5 is Mogul's user-level progress under receive overload (Fig. 7-1) on
// Linux's terms: NAPI with a CPU-bound user task beside it, with and
// without the hand-off of softirq work to ksoftirqd. Softirq context
// preempts every thread, so without the hand-off the receive path takes
// the whole CPU under overload and the user task stops; with it, once a
// run of NET_RX passes lasts 2 ms (or 10 restarts) ksoftirqd takes over
// and the scheduler shares the CPU between it and the user task. Mogul's
// own answer is the last four series: his polling thread (M7, quota 5,
// forwarding as in E3) outranks user processes, so without a limit the
// task stops; a cycle limit f leaves it about 1 − f.
func E5(preset Preset, seed int64, progress Progress) (Experiment, error) {
	e, c, err := newExperiment("E5", "User progress under overload: ksoftirqd hand-off and the cycle limit (Mogul Fig. 7-1)", preset)
	if err != nil {
		return e, err
	}
	loads := []float64{0.25, 0.5, 0.75, 1.25, 1.5, 2, 3, 5}
	capacity := napiCapacity(c)
	modes := []Mode{M1, M1NoKsoftirqd}
	t := &tally{total: (len(modes) + 4) * len(loads), progress: progress}
	for _, m := range modes {
		s, err := measureSeries(m.ID, loads, t, func(x float64) (Point, error) {
			return Measure(Run{Mode: m, Costs: c, Offered: x * capacity, Warmup: Warmup, Window: Window, Seed: seed, UserTask: true})
		})
		if err != nil {
			return e, err
		}
		e.add(s)
	}
	// Mogul's answer: the polling thread forwarding (quota 5, E3's
	// setup) under a cycle limit, the user task beside it.
	fwd := 1 / (c.RxPacket + c.Proto + c.TxPacket).Seconds()
	limits := []float64{0.25, 0.5, 0.75, 1}
	byLimit := map[float64][]Point{}
	for _, f := range limits {
		m := M7(5)
		m.ID = fmt.Sprintf("M7 Q=5 cycle limit %.0f%%", 100*f)
		if f < 1 {
			m.CycleLimit = f
		}
		s, err := measureSeries(m.ID, loads, t, func(x float64) (Point, error) {
			return Measure(Run{Mode: m, Costs: c, Offered: x * fwd, Warmup: Warmup, Window: Window, Seed: seed,
				UserTask: true, Forward: true, TxQueueLen: E3TxQueue})
		})
		if err != nil {
			return e, err
		}
		e.add(s)
		byLimit[f] = s.Points
	}
	on, off := e.Series[0].Points, e.Series[1].Points
	over := func(i int) bool { return loads[i] >= 1.5 }

	// Without the hand-off the user task starves under overload.
	starve, worst := true, 0.0
	for i, p := range off {
		if over(i) {
			worst = math.Max(worst, p.CPUUser)
			if p.CPUUser > 0.01 {
				starve = false
			}
		}
	}
	e.Checks = append(e.Checks, Check{"without ksoftirqd the user task gets nothing under overload", starve,
		fmt.Sprintf("user share at most %.2f %% from 1.5× capacity", 100*worst)})
	// With it, the user task and ksoftirqd share the CPU about equally.
	fair, detail := true, ""
	for i, p := range on {
		if over(i) {
			if math.Abs(p.CPUUser-p.CPUKsoftirqd) > 0.05 || p.CPUUser < 0.4 {
				fair = false
			}
			detail = fmt.Sprintf("user %.1f %%, ksoftirqd %.1f %%, hard IRQ %.1f %% at %.0f× capacity", 100*p.CPUUser, 100*p.CPUKsoftirqd, 100*p.CPUHardirq, loads[i])
		}
	}
	e.Checks = append(e.Checks, Check{"with ksoftirqd the user task gets about a fair share", fair, detail})
	// The receive path then delivers its share of the capacity.
	share, sd := true, ""
	for i, p := range on {
		if over(i) {
			want := (p.CPUKsoftirqd + p.CPUSoftirq) * off[len(off)-1].DeliveredPPS
			if math.Abs(p.DeliveredPPS-want)/want > 0.05 {
				share = false
			}
			sd = fmt.Sprintf("%.0f pps delivered with %.1f %% of the CPU (%.0f pps at 100 %%)", p.DeliveredPPS, 100*(p.CPUKsoftirqd+p.CPUSoftirq), off[len(off)-1].DeliveredPPS)
		}
	}
	e.Checks = append(e.Checks, Check{"delivered rate follows the receive path's CPU share", share, sd})
	// Below capacity the hand-off never happens: both are the same.
	same := true
	for i := range loads {
		if loads[i] < 1 && (on[i].CPUKsoftirqd != 0 || on[i].DeliveredPPS != off[i].DeliveredPPS || on[i].CPUUser != off[i].CPUUser) {
			same = false
		}
	}
	e.Checks = append(e.Checks, Check{"below capacity the hand-off changes nothing", same,
		fmt.Sprintf("user share %.1f %% at %.2f× capacity either way", 100*on[1].CPUUser, loads[1])})
	// The cycle limit leaves the user task 1 − f (a little less: the
	// thread finishes the call that crosses its limit).
	cyc, parts := true, []string{}
	for _, f := range limits {
		for i, p := range byLimit[f] {
			if !over(i) {
				continue
			}
			if p.CPUUser > 1-f+0.005 || p.CPUUser < 1-f-0.06 {
				cyc = false
			}
		}
		last := byLimit[f][len(loads)-1]
		parts = append(parts, fmt.Sprintf("limit %.0f %%: user %.1f %%, %.0f pps forwarded", 100*f, 100*last.CPUUser, last.DeliveredPPS))
	}
	e.Checks = append(e.Checks, Check{"with Mogul's cycle limit f the user task keeps about 1 − f (none without a limit)", cyc, strings.Join(parts, "; ")})
	e.finish()
	return e, nil
}
