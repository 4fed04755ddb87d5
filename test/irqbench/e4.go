package irqbench

import (
	"fmt"
	"math"
	"time"
)

// E4AppCost is E4's application work per packet (the spec's c_app).
const E4AppCost = 5 * time.Microsecond

// E4 is Mogul and Ramakrishnan's Fig. 6-4: packets for a user-level
// application (screend) behind a socket queue of 32, with the polling
// thread (quota 5) above it. Without feedback the thread, which outranks
// every user process, keeps taking packets the full queue then drops, and
// once the stack's work alone fills the CPU (λ ≥ 1/(c_rx + c_proto)) the
// application gets no CPU at all; with queue-state
// feedback (input stops at 75 % of the queue and resumes under 25 %) the
// excess is dropped by the NIC at no cost and the application runs at its
// capacity 1/(c_rx + c_proto + c_app).
func E4(preset Preset, seed int64, progress Progress) (Experiment, error) {
	e, c, err := newExperiment("E4", "A user-level application behind the polling thread (Mogul Fig. 6-4)", preset)
	if err != nil {
		return e, err
	}
	capacity := 1 / (c.RxPacket + c.Proto + E4AppCost).Seconds()
	// Multiples of the application's capacity, then of the stack's.
	stack := 1 / (c.RxPacket + c.Proto).Seconds()
	loads := []float64{0.25, 0.5, 0.75, 0.9, 1.1, 1.25, 1.5, 2, 3, 5}
	for _, x := range []float64{1.25, 2, 3} {
		if y := x * stack / capacity; y > loads[len(loads)-1] {
			loads = append(loads, y)
		}
	}
	modes := []Mode{M7(5), M7(5)}
	modes[0].ID = "M7 Q=5 no feedback"
	modes[1].ID, modes[1].Feedback = "M7 Q=5 feedback 75/25", true
	t := &tally{total: len(modes) * len(loads), progress: progress}
	for _, m := range modes {
		s, err := measureSeries(m.ID, loads, t, func(x float64) (Point, error) {
			return Measure(Run{Mode: m, Costs: c, Offered: x * capacity, Warmup: Warmup, Window: Window, Seed: seed,
				App: true, AppCost: E4AppCost})
		})
		if err != nil {
			return e, err
		}
		e.add(s)
	}
	off, on := e.Series[0].Points, e.Series[1].Points
	starve, worst := true, 0.0
	for i, p := range off {
		if loads[i]*capacity >= 1.25*stack {
			worst = math.Max(worst, p.DeliveredPPS)
			if p.DeliveredPPS > 0.05*capacity || p.CPUUser > 0.01 {
				starve = false
			}
		}
	}
	e.Checks = append(e.Checks, Check{"without feedback the application gets nothing once the stack fills the CPU", starve,
		fmt.Sprintf("at most %.0f pps delivered from 1.25× the stack's capacity (%.0f pps); the queue then drops %.0f pps after the stack's work",
			worst, stack, off[len(off)-1].SocketDropPPS)})
	flat, dev := true, 0.0
	for i, p := range on {
		if loads[i] >= 1.25 {
			d := math.Abs(p.DeliveredPPS-capacity) / capacity
			dev = math.Max(dev, d)
			if d > 0.05 || p.SocketDropPPS > 0 {
				flat = false
			}
		}
	}
	e.Checks = append(e.Checks, Check{"with feedback the application runs at its capacity, nothing dropped after the stack's work", flat,
		fmt.Sprintf("within %.2f %% of 1/(c_rx + c_proto + c_app) = %.0f pps from 1.25×", 100*dev, capacity)})
	e.finish()
	return e, nil
}
