package irqbench

import (
	"fmt"
	"math"
	"strings"

	"vnic/driver"
	"vnic/hw"
)

// E3TxQueue is E3's output queue (Mogul's T).
const E3TxQueue = 32

// M7 is the quota mode (Mogul's polling thread) with quota q (0: ∞).
func M7(q int) Mode {
	id := fmt.Sprintf("M7 Q=%d", q)
	if q == 0 {
		id = "M7 Q=inf"
	}
	return Mode{ID: id, RxMode: driver.RxModeQuota, PollQuota: q}
}

// M7ClosedForm is the quota mode's forwarding rate under overload with an
// output queue of t packets: each turn the receive callback does q packets
// at c_rx + c_proto, of which min(q, t) fit the output queue and cost c_tx
// to send: min(q, t) / (q(c_rx + c_proto) + min(q, t) c_tx). q = 0 (no
// quota) gives 0: the receive callback never yields.
func M7ClosedForm(c hw.CostModel, q, t int) float64 {
	if q == 0 {
		return 0
	}
	sent := float64(min(q, t))
	return sent / (float64(q)*(c.RxPacket+c.Proto).Seconds() + sent*c.TxPacket.Seconds())
}

// E3 is Mogul and Ramakrishnan's Fig. 6-3: the polling thread forwarding
// packets (receive to completion, then out through an output queue of 32)
// with receive quotas 5, 10, 20, 100 and none, from a quarter to five
// times the forwarding capacity 1/(c_rx + c_proto + c_tx). A quota at or
// under the queue's size keeps the transmit callback fed and the curve
// flat; a larger one receives packets the full queue then drops, after
// paying for them; without a quota the receive callback never yields and
// nothing goes out.
func E3(preset Preset, seed int64, progress Progress) (Experiment, error) {
	e, c, err := newExperiment("E3", "Polling with a quota, forwarding (Mogul Fig. 6-3)", preset)
	if err != nil {
		return e, err
	}
	quotas := []int{5, 10, 20, 100, 0}
	loads := []float64{0.25, 0.5, 0.75, 0.9, 1, 1.1, 1.25, 1.5, 2, 3, 5}
	capacity := 1 / (c.RxPacket + c.Proto + c.TxPacket).Seconds()
	t := &tally{total: len(quotas) * len(loads), progress: progress}
	byQ := map[int][]Point{}
	for _, q := range quotas {
		m := M7(q)
		s, err := measureSeries(m.ID, loads, t, func(x float64) (Point, error) {
			return Measure(Run{Mode: m, Costs: c, Offered: x * capacity, Warmup: Warmup, Window: Window, Seed: seed,
				Forward: true, TxQueueLen: E3TxQueue})
		})
		if err != nil {
			return e, err
		}
		e.add(s)
		byQ[q] = s.Points
	}
	overload := func(i int) bool { return loads[i] >= 2 }
	// Every quota against the closed form under overload.
	cfOK, parts := true, []string{}
	for _, q := range quotas {
		cf := M7ClosedForm(c, q, E3TxQueue)
		worst := 0.0
		for i, p := range byQ[q] {
			if !overload(i) {
				continue
			}
			d := math.Abs(p.DeliveredPPS - cf)
			worst = math.Max(worst, d)
			if d > math.Max(0.03*cf, 0.005*capacity) {
				cfOK = false
			}
		}
		parts = append(parts, fmt.Sprintf("%s: %.0f pps (closed form %.0f, off by at most %.0f)", M7(q).ID, byQ[q][len(loads)-1].DeliveredPPS, cf, worst))
	}
	e.Checks = append(e.Checks, Check{"each quota's overload rate matches min(Q,T)/(Q(c_rx+c_proto)+min(Q,T)c_tx) within 3 %", cfOK, strings.Join(parts, "; ")})
	// Small quotas flat from capacity on.
	flat, dev := true, 0.0
	for _, q := range []int{5, 10, 20} {
		for i, p := range byQ[q] {
			if loads[i] >= 1.25 {
				d := math.Abs(p.DeliveredPPS-capacity) / capacity
				dev = math.Max(dev, d)
				if d > 0.05 {
					flat = false
				}
			}
		}
	}
	e.Checks = append(e.Checks, Check{"quotas 5, 10 and 20 stay flat at capacity under overload", flat,
		fmt.Sprintf("within %.2f %% of %.0f pps from 1.25× to 5×", 100*dev, capacity)})
	// Q = 100 declines; no quota falls to nothing just past capacity.
	q100 := byQ[100][len(loads)-1].DeliveredPPS
	e.Checks = append(e.Checks, Check{"Q = 100 declines under overload", q100 < 0.5*capacity,
		fmt.Sprintf("%.0f pps at 5×, %.0f %% of capacity", q100, 100*q100/capacity)})
	inf, at := true, ""
	for i, p := range byQ[0] {
		if loads[i] >= 1.5 && p.DeliveredPPS > 0.05*capacity {
			inf = false
		}
		if loads[i] == 1.5 {
			at = fmt.Sprintf("%.0f pps at 1.5×", p.DeliveredPPS)
		}
	}
	e.Checks = append(e.Checks, Check{"no quota drops to almost nothing past capacity", inf, at + ", under 5 % of capacity from there"})
	e.finish()
	return e, nil
}
