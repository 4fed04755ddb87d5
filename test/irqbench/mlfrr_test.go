package irqbench

import (
	"math"
	"testing"
)

// TestFindMLFRR: the search finds the closed forms' loss-free limits
// under constant-rate load: M0's 1/(a + b) (where (1 − λa)/b = λ) and
// NAPI's capacity, each within the search's precision, from a hint below
// and one above. (E1 searches M0, M1 and M8 on both presets.)
func TestFindMLFRR(t *testing.T) {
	c := Presets["teaching"]
	a := c.IRQ.Seconds() + c.RxPacket.Seconds()
	b := c.Proto.Seconds() + c.Poll.Seconds()/64
	for _, tc := range []struct {
		mode  Mode
		want  float64
		hint  float64
		lossy bool // also search with 1e-4 loss allowed
	}{
		{M0, 1 / (a + b), 10e3, true},
		{M1, napiCapacity(c), 500e3, false},
	} {
		r := Run{Mode: tc.mode, Costs: c, Seed: 1}
		res, err := FindMLFRR(r, 0, tc.hint)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s from %.0f: %.0f (failed %.0f) in %d trials, closed form %.0f", tc.mode.ID, tc.hint, res.Rate, res.Failed, res.Trials, tc.want)
		if res.Rate > tc.want*(1+SearchPrecision) || res.Rate < tc.want*(1-2*SearchPrecision) || res.Failed <= res.Rate {
			t.Errorf("%s from %.0f pps: MLFRR %.0f (failed at %.0f), want %.0f within %.1f %%", tc.mode.ID, tc.hint, res.Rate, res.Failed, tc.want, 100*SearchPrecision)
		}
		if !tc.lossy {
			continue
		}
		lossy, err := FindMLFRR(r, 1e-4, tc.hint)
		if err != nil {
			t.Fatal(err)
		}
		if lossy.Rate < res.Rate*(1-SearchPrecision) {
			t.Errorf("%s: allowing 1e-4 loss lowers the MLFRR: %.0f < %.0f", tc.mode.ID, lossy.Rate, res.Rate)
		}
	}
	for _, bad := range []struct{ loss, hint float64 }{{0, 0}, {0, -1}, {0, math.Inf(1)}, {-0.1, 1e3}, {1, 1e3}} {
		if _, err := FindMLFRR(Run{Mode: M1, Costs: c}, bad.loss, bad.hint); err == nil {
			t.Errorf("loss %v hint %v: no error", bad.loss, bad.hint)
		}
	}
}
