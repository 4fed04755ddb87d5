package irqbench

import (
	"fmt"
	"math"
	"time"
)

// The MLFRR search of spec §2.5, after RFC 2544 §26.1: trials of a fixed
// number of packets at one offered rate; a trial passes when at most the
// given fraction of the offered packets is lost (anywhere: ring, backlog,
// socket or output queue) and the path kept up; the rate doubles (or
// halves) until a pass and a failure bracket it, and the bracket is then
// halved until it is narrower than SearchPrecision of its upper end.
//
// "Kept up": a trial just over capacity fills the buffers (256 ring
// descriptors, 1000 backlog packets) without losing anything before it
// ends — over 10⁴ packets the legacy path hides 6 % of overload that way.
// RFC 2544 answers with 60 s trials; here a trial also fails when what the
// path holds grew by more than half the precision's worth of the trial's
// packets (Point.InFlightGrowth), which overload does linearly and a
// path that keeps up does not (its occupancy only fluctuates, by up to a
// poll's or a tick's worth of packets).
const (
	// TrialPackets is a trial's length in offered packets: long enough
	// that half the precision (250 packets) is above the fluctuation of
	// the occupancy (64 for a NAPI poll, 150 for a tick's burst).
	TrialPackets = 100000
	// SearchPrecision is the bracket's final width relative to its top.
	SearchPrecision = 0.005
	// maxTrials bounds one search.
	maxTrials = 60
	// Trial windows are kept between these whatever the rate.
	minTrialWindow = 100 * time.Millisecond
	maxTrialWindow = 2 * time.Second
)

// SearchResult is one search's outcome.
type SearchResult struct {
	Mode string `json:"mode"`
	// Rate is the highest offered rate that passed (0 when none did).
	Rate float64 `json:"rate_pps"`
	// Failed is the lowest rate that failed above it: the true limit lies
	// in [Rate, Failed).
	Failed float64 `json:"failed_pps"`
	Loss   float64 `json:"loss"` // the loss fraction allowed
	Trials int     `json:"trials"`
}

// lossFraction is the share of the offered packets a point lost.
func lossFraction(p Point) float64 {
	if p.OfferedPPS == 0 {
		return 0
	}
	return (p.RingDropPPS + p.BacklogDropPPS + p.TxDropPPS + p.SocketDropPPS) / p.OfferedPPS
}

// trial measures r at rate for TrialPackets packets and says whether it
// lost at most loss of them.
func trial(r Run, rate, loss float64) (bool, error) {
	r.Offered = rate
	w := time.Duration(float64(TrialPackets) / rate * float64(time.Second))
	r.Window = min(max(w, minTrialWindow), maxTrialWindow)
	if r.Warmup == 0 {
		r.Warmup = Warmup
	}
	p, err := Measure(r)
	if err != nil {
		return false, err
	}
	if float64(p.InFlightGrowth) > SearchPrecision/2*p.OfferedPPS*r.Window.Seconds() {
		return false, nil
	}
	if loss == 0 {
		return p.RingDropPPS == 0 && p.BacklogDropPPS == 0 && p.TxDropPPS == 0 && p.SocketDropPPS == 0, nil
	}
	return lossFraction(p) <= loss, nil
}

// FindMLFRR searches the highest rate r's setup receives with a loss of at
// most loss (0: none), starting from hint packets per second. It is
// deterministic for a given Run (its Seed included).
func FindMLFRR(r Run, loss, hint float64) (SearchResult, error) {
	res := SearchResult{Loss: loss}
	if !(hint > 0) || math.IsInf(hint, 0) {
		return res, fmt.Errorf("irqbench: MLFRR search from %v pps: want a positive rate", hint)
	}
	if loss < 0 || loss >= 1 {
		return res, fmt.Errorf("irqbench: MLFRR search with loss %v: want 0 ≤ loss < 1", loss)
	}
	try := func(rate float64) (bool, error) {
		if res.Trials >= maxTrials {
			return false, fmt.Errorf("irqbench: MLFRR search for %s did not converge in %d trials (bracket %.0f-%.0f pps)", r.Mode.ID, maxTrials, res.Rate, res.Failed)
		}
		res.Trials++
		return trial(r, rate, loss)
	}
	// Bracket: a passing rate below a failing one. A rate that fails
	// at a few packets per second is a setup that loses everything.
	const floor = 1.0
	ok, err := try(hint)
	if err != nil {
		return res, err
	}
	if ok {
		res.Rate, res.Failed = hint, 2*hint
		for {
			if ok, err = try(res.Failed); err != nil {
				return res, err
			}
			if !ok {
				break
			}
			res.Rate, res.Failed = res.Failed, 2*res.Failed
		}
	} else {
		res.Failed = hint
		for {
			rate := res.Failed / 2
			if rate < floor {
				return res, nil // Rate 0: nothing passes
			}
			if ok, err = try(rate); err != nil {
				return res, err
			}
			if ok {
				res.Rate = rate
				break
			}
			res.Failed = rate
		}
	}
	// Bisect.
	for (res.Failed-res.Rate)/res.Failed > SearchPrecision {
		mid := (res.Rate + res.Failed) / 2
		if ok, err = try(mid); err != nil {
			return res, err
		}
		if ok {
			res.Rate = mid
		} else {
			res.Failed = mid
		}
	}
	return res, nil
}
