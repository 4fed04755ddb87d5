package irqbench

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// The generators of spec §2.4.
const (
	ArrivalsCBR     = "cbr"     // a fixed gap, pktgen-like
	ArrivalsPoisson = "poisson" // exponential gaps
	ArrivalsOnOff   = "onoff"   // geometric bursts at line rate, exponential silences
	ArrivalsReplay  = "replay"  // a capture's timing and sizes (Run.Trace)
)

// linkMbps is the speed of the measurement's link.
const linkMbps = 10000

// arrivals returns the generator of r: each call gives the next packet's
// time since the start. Times are kept in float64 seconds and rounded to
// the clock's nanoseconds, so rounding never accumulates; random streams
// come from r.Seed, so a seed gives the same arrivals on every run.
func arrivals(r Run, mbps, size int) (func() time.Duration, error) {
	if !(r.Offered > 0) || math.IsInf(r.Offered, 0) {
		return nil, fmt.Errorf("irqbench: offered rate %v: want a positive number of packets per second", r.Offered)
	}
	rng := rand.New(rand.NewPCG(uint64(r.Seed), 0x766e6963))
	at := func(t float64) time.Duration { return time.Duration(math.Round(t * 1e9)) }
	switch r.Arrivals {
	case "", ArrivalsCBR:
		n := 0.0
		return func() time.Duration { n++; return at(n / r.Offered) }, nil
	case ArrivalsPoisson:
		t := 0.0
		return func() time.Duration { t += rng.ExpFloat64() / r.Offered; return at(t) }, nil
	case ArrivalsOnOff:
		mean := r.BurstMean
		if mean == 0 {
			mean = 32
		}
		if mean < 1 {
			return nil, fmt.Errorf("irqbench: mean burst %v: want at least 1 packet", mean)
		}
		// Wire time: the frame, FCS, preamble and inter-frame gap.
		line := float64((size+4+20)*8) / (float64(mbps) * 1e6)
		// A burst of mean B packets (B − 1 line-rate gaps) and the
		// silence before it last B/λ on average.
		silence := mean/r.Offered - (mean-1)*line
		if silence <= 0 {
			return nil, fmt.Errorf("irqbench: %.0f pps is at or over the line rate of %d-byte frames", r.Offered, size)
		}
		t, left := 0.0, 0
		p := 1 / mean // a burst ends after each packet with this probability
		return func() time.Duration {
			if left == 0 {
				t += rng.ExpFloat64() * silence
				left = 1
				for rng.Float64() >= p {
					left++
				}
			} else {
				t += line
			}
			left--
			return at(t)
		}, nil
	}
	return nil, fmt.Errorf("irqbench: arrivals %q: want %s, %s or %s", r.Arrivals, ArrivalsCBR, ArrivalsPoisson, ArrivalsOnOff)
}

// replay is ArrivalsReplay: the trace's packets at its gaps scaled to the
// offered rate (the gap from the last packet back to the first is the
// mean gap), sizes clamped to 60..1514 bytes.
func replay(r Run) (func() (time.Duration, int), error) {
	tr := r.Trace
	if len(tr) < 2 {
		return nil, fmt.Errorf("irqbench: a replay needs a capture of at least 2 packets, not %d", len(tr))
	}
	if !(r.Offered > 0) || math.IsInf(r.Offered, 0) {
		return nil, fmt.Errorf("irqbench: offered rate %v: want a positive number of packets per second", r.Offered)
	}
	span := tr[len(tr)-1].At - tr[0].At
	if span <= 0 {
		return nil, fmt.Errorf("irqbench: the capture's %d packets all have the same time", len(tr))
	}
	// Scale: the trace's own rate is (n−1)/span; a lap is n gaps long.
	n := float64(len(tr))
	scale := (n - 1) / span.Seconds() / r.Offered
	lap := (span.Seconds() + span.Seconds()/(n-1)) * scale
	i, laps := 0, 0
	return func() (time.Duration, int) {
		at := float64(laps)*lap + (tr[i].At-tr[0].At).Seconds()*scale
		size := min(max(tr[i].Len, 60), 1514)
		if i++; i == len(tr) {
			i, laps = 0, laps+1
		}
		return time.Duration(math.Round(at * 1e9)), size
	}, nil
}
