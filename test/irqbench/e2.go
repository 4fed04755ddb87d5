package irqbench

import (
	"fmt"
	"math"
)

// E2 is the legacy driver with and without a batching interrupt handler
// (Mogul's §"batching"): the handler that loops while descriptors are
// ready pays c_irq once per batch instead of once per packet, which moves
// the load where delivery collapses from 1/(c_irq + c_rx) toward 1/c_rx,
// but the handler still outranks the protocol and the curve still falls.
//
// Batches need packets that arrive together: the load is on/off bursts
// (mean 32 packets at line rate), as Mogul's traffic was. Under constant-
// rate input a draining handler amortises c_irq only over the packets
// that arrive while it runs — a batch of b = λc_irq/(1 − λc_rx) packets —
// so hard-IRQ time fills the CPU from λ(c_irq + c_rx) = 1 just as without
// batching (the finding that kept E2 out of the first version).
func E2(preset Preset, seed int64, progress Progress) (Experiment, error) {
	e, c, err := newExperiment("E2", "The legacy driver with a batching interrupt handler (bursty input)", preset)
	if err != nil {
		return e, err
	}
	mlfrr0 := 1 / (c.IRQ + c.RxPacket + c.Proto).Seconds()
	// From a quarter of M0's MLFRR to 96 % of 1/c_rx (or of the line
	// rate, if lower), geometrically.
	rxMax := 1 / c.RxPacket.Seconds()
	line := float64(linkMbps) * 1e6 / float64((60+4+20)*8)
	top := 0.96 * math.Min(rxMax, line)
	const n = 14
	var loads []float64
	for i := 0; i < n; i++ {
		loads = append(loads, 0.25*math.Pow(top/(0.25*mlfrr0), float64(i)/(n-1)))
	}
	modes := []Mode{M0, M0B}
	t := &tally{total: len(modes) * len(loads), progress: progress}
	by := map[string][]Point{}
	for _, m := range modes {
		s, err := measureSeries(m.ID, loads, t, func(x float64) (Point, error) {
			return MeasureSeeds(Run{Mode: m, Costs: c, Offered: x * mlfrr0, Arrivals: ArrivalsOnOff, Warmup: Warmup, Window: Window, Seed: seed})
		})
		if err != nil {
			return e, err
		}
		e.add(s)
		by[m.ID] = s.Points
	}
	peakOf := func(ps []Point) (float64, int) {
		best, at := 0.0, 0
		for i, p := range ps {
			if p.DeliveredPPS > best {
				best, at = p.DeliveredPPS, i
			}
		}
		return best, at
	}
	// The load where delivery first falls under 10 % of the peak.
	collapse := func(ps []Point) float64 {
		peak, at := peakOf(ps)
		for _, p := range ps[at:] {
			if p.DeliveredPPS < 0.1*peak {
				return p.OfferedPPS
			}
		}
		return math.Inf(1)
	}
	c0, cb := collapse(by["M0"]), collapse(by["M0-batch"])
	where := func(v float64) string {
		if math.IsInf(v, 1) {
			return fmt.Sprintf("not within the sweep (to %.0f pps)", top)
		}
		return fmt.Sprintf("from %.0f pps", v)
	}
	e.Checks = append(e.Checks, Check{"batching moves the collapse to a higher load", cb > 1.5*c0,
		fmt.Sprintf("under 10 %% of the peak %s without batching (1/(c_irq+c_rx) = %.0f), %s with it (1/c_rx = %.0f)",
			where(c0), 1/(c.IRQ+c.RxPacket).Seconds(), where(cb), rxMax)})
	peak, at := peakOf(by["M0-batch"])
	falls := true
	ps := by["M0-batch"]
	for i := at + 1; i < len(ps); i++ {
		if ps[i].DeliveredPPS > ps[i-1].DeliveredPPS*1.01 {
			falls = false
		}
	}
	last := ps[len(ps)-1]
	e.Checks = append(e.Checks, Check{"with batching the curve still falls after its peak", falls && last.DeliveredPPS < 0.25*peak,
		fmt.Sprintf("peak %.0f pps, %.0f pps at %.0f offered (%.2g interrupts per packet)", peak, last.DeliveredPPS, last.OfferedPPS, last.InterruptsPerPacket)})
	e.finish()
	return e, nil
}
