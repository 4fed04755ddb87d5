package irqbench

import (
	"bytes"
	"encoding/csv"
	"math"
	"testing"
	"time"
)

// TestMeasureSeeds: a Poisson point over three seeds is their mean, field
// by field, with the range of the delivered rate and p99, and its CSV has
// a row per seed and one for the mean.
func TestMeasureSeeds(t *testing.T) {
	r := Run{Mode: M1, Costs: Presets["teaching"], Offered: 60e3, Arrivals: ArrivalsPoisson, Warmup: Warmup, Window: 20 * time.Millisecond, Seed: 5}
	p, err := MeasureSeeds(r)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Seeds) != Seeds {
		t.Fatalf("%d runs, want %d", len(p.Seeds), Seeds)
	}
	var sum, p99 float64
	var irqs uint64
	distinct := map[float64]bool{}
	for i, s := range p.Seeds {
		if s.Seed != r.Seed+int64(i) {
			t.Errorf("run %d has seed %d", i, s.Seed)
		}
		sum += s.DeliveredPPS
		p99 += s.P99LatencyUS
		irqs += s.Interrupts
		distinct[s.OfferedPPS] = true
	}
	if len(distinct) != Seeds {
		t.Errorf("the seeds' offered rates %v are not all different", distinct)
	}
	if math.Abs(p.DeliveredPPS-sum/Seeds) > 1e-9 || math.Abs(p.P99LatencyUS-p99/Seeds) > 1e-9 || p.Interrupts != uint64(math.Round(float64(irqs)/Seeds)) {
		t.Errorf("mean delivered %v p99 %v interrupts %d; runs sum %v, %v, %d", p.DeliveredPPS, p.P99LatencyUS, p.Interrupts, sum, p99, irqs)
	}
	// Histograms: the rounded mean per bucket.
	for j := range p.PollHistogram {
		var sum float64
		for _, s := range p.Seeds {
			if j < len(s.PollHistogram) {
				sum += float64(s.PollHistogram[j])
			}
		}
		if p.PollHistogram[j] != uint64(math.Round(sum/Seeds)) {
			t.Errorf("poll histogram bucket %d: %d, runs sum %v", j, p.PollHistogram[j], sum)
		}
	}
	if len(p.PollHistogram) < 2 {
		t.Errorf("poll histogram %v", p.PollHistogram)
	}
	sp := p.Spread
	if sp == nil || !(sp.DeliveredMin <= p.DeliveredPPS && p.DeliveredPPS <= sp.DeliveredMax && sp.DeliveredMin < sp.DeliveredMax) || !(sp.P99Min <= p.P99LatencyUS && p.P99LatencyUS <= sp.P99Max) {
		t.Errorf("spread %+v around delivered %v, p99 %v", sp, p.DeliveredPPS, p.P99LatencyUS)
	}
	if len(p.Quantiles) != len(CDFLevels) || p.Mode != M1.ID || p.Seed != r.Seed {
		t.Errorf("mean point: %d quantiles, mode %q, seed %d", len(p.Quantiles), p.Mode, p.Seed)
	}
	var b bytes.Buffer
	if err := WriteCSV(&b, Experiment{ID: "T", Series: []Series{{Mode: M1.ID, Points: []Point{p}}}}); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var seeds []string
	for _, row := range rows[1:] {
		seeds = append(seeds, row[2])
	}
	if len(rows[0]) != len(CSVHeader) || rows[0][2] != "seed" || len(seeds) != 4 || seeds[0] != "5" || seeds[2] != "7" || seeds[3] != "mean" {
		t.Errorf("CSV seed column %v", seeds)
	}
}
