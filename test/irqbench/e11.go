package irqbench

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// E11Weights is E11's skew: queue 0 gets five times the load of each of the
// other three.
var E11Weights = []float64{5, 1, 1, 1}

// FairShares is the max-min fair split of capacity among queues offering
// these rates: queues asking less than an equal share get what they ask,
// the rest split what is left equally (water filling).
func FairShares(offered []float64, capacity float64) []float64 {
	out := make([]float64, len(offered))
	order := make([]int, len(offered))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case offered[a] < offered[b]:
			return -1
		case offered[a] > offered[b]:
			return 1
		}
		return 0
	})
	left := capacity
	for k, i := range order {
		share := left / float64(len(order)-k)
		out[i] = math.Min(offered[i], share)
		left -= out[i]
	}
	return out
}

// E11 is several NAPI instances on one CPU under a skewed load: four
// queues (one RSS flow each, weights 5:1:1:1) at 0.25 to 5× the CPU's NAPI
// capacity. net_rx_action's round robin (a poll that used its whole weight
// goes to the back of the list; the round stops at netdev_budget or 2 ms)
// gives every queue a max-min fair share: the light queues lose nothing
// while they ask less than a quarter, and the heavy queue cannot starve
// them. Rounds cut short (time_squeeze) appear with overload and grow with
// the load.
func E11(preset Preset, seed int64, progress Progress) (Experiment, error) {
	e, c, err := newExperiment("E11", "Four NAPI instances on one CPU under skewed load", preset)
	if err != nil {
		return e, err
	}
	loads := []float64{0.25, 0.5, 0.7, 0.8, 0.9, 1.5, 3, 5}
	capacity := napiCapacity(c)
	m := Mode{ID: "M1 4 queues 5:1:1:1", RxMode: M1.RxMode}
	s := Series{Mode: m.ID}
	for i, x := range loads {
		p, err := Measure(Run{Mode: m, Costs: c, Offered: x * capacity, Warmup: Warmup, Window: Window, Seed: seed, Weights: E11Weights})
		if err != nil {
			return e, err
		}
		s.Points = append(s.Points, p)
		if progress != nil {
			progress(i+1, len(loads))
		}
	}
	e.Series = []Series{s}
	e.MLFRR[m.ID] = mlfrr(s)

	// Every queue gets its max-min fair share of what was delivered.
	fair, worst, where := true, 0.0, ""
	for _, p := range s.Points {
		shares := FairShares(p.QueueOfferedPPS, p.DeliveredPPS)
		for q, want := range shares {
			d := math.Abs(p.QueueDeliveredPPS[q]-want) / want
			if d > worst {
				worst, where = d, fmt.Sprintf("queue %d at %.0f pps offered: %.0f delivered, fair %.0f", q, p.OfferedPPS, p.QueueDeliveredPPS[q], want)
			}
			if d > 0.05 {
				fair = false
			}
		}
	}
	e.Checks = append(e.Checks, Check{"every queue gets its max-min fair share within 5 %", fair,
		fmt.Sprintf("largest deviation %.2f %% (%s)", 100*worst, where)})
	// The light queues lose nothing while they ask less than a quarter of
	// the capacity (drops counted where they happen: the queue's ring).
	over := s.Points[len(s.Points)-1].DeliveredPPS
	light, detail := true, "no ring drop on queues 1-3 while each asks under a quarter"
	for _, p := range s.Points {
		for q := 1; q < len(p.QueueOfferedPPS); q++ {
			if p.QueueOfferedPPS[q] < 0.95*over/4 && p.QueueRingDropPPS[q] > 0 {
				light = false
				detail = fmt.Sprintf("queue %d at %.0f pps offered: %.0f of %.0f pps dropped", q, p.OfferedPPS, p.QueueRingDropPPS[q], p.QueueOfferedPPS[q])
			}
		}
	}
	e.Checks = append(e.Checks, Check{"the heavy queue does not starve the light ones", light, detail})
	// time_squeeze: no round cut at light load; the share of rounds cut
	// grows with the load until, under overload, nearly every round ends
	// on the budget or the 2 ms limit (the count per second then follows
	// the round length, not the load).
	last := s.Points[len(s.Points)-1]
	grows := s.Points[0].TimeSqueezePerSec == 0 && last.SqueezedRounds >= 0.9
	var sq []string
	for i, p := range s.Points {
		if i > 0 && p.SqueezedRounds < s.Points[i-1].SqueezedRounds {
			grows = false
		}
		sq = append(sq, fmt.Sprintf("%.0f/s (%.1f %% of rounds)", p.TimeSqueezePerSec, 100*p.SqueezedRounds))
	}
	e.Checks = append(e.Checks, Check{"time_squeeze is zero at light load and grows with load", grows, strings.Join(sq, ", ")})
	e.finish()
	return e, nil
}
