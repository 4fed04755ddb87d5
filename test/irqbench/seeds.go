package irqbench

import (
	"math"
	"reflect"
)

// Seeds is how many seeds each point of random input (Poisson, on/off
// bursts) is measured with (spec §2.5).
const Seeds = 3

// MeasureSeeds measures r with Seeds seeds, r.Seed and the next ones, and
// returns their mean: every number of the Point averaged (counts rounded,
// per-queue figures and latency quantiles element by element), Seeds the
// runs themselves, and the min–max of the delivered rate and the p99
// latency in Spread.
func MeasureSeeds(r Run) (Point, error) {
	runs := make([]Point, 0, Seeds)
	for i := int64(0); i < Seeds; i++ {
		rr := r
		rr.Seed = r.Seed + i
		p, err := Measure(rr)
		if err != nil {
			return Point{}, err
		}
		runs = append(runs, p)
	}
	m := meanPoint(runs)
	m.Seeds = runs
	sp := &Spread{DeliveredMin: math.Inf(1), P99Min: math.Inf(1)}
	for _, p := range runs {
		sp.DeliveredMin, sp.DeliveredMax = math.Min(sp.DeliveredMin, p.DeliveredPPS), math.Max(sp.DeliveredMax, p.DeliveredPPS)
		sp.P99Min, sp.P99Max = math.Min(sp.P99Min, p.P99LatencyUS), math.Max(sp.P99Max, p.P99LatencyUS)
	}
	m.Spread = sp
	return m, nil
}

// Spread is the range over a point's seeds.
type Spread struct {
	DeliveredMin float64 `json:"delivered_pps_min"`
	DeliveredMax float64 `json:"delivered_pps_max"`
	P99Min       float64 `json:"p99_latency_us_min"`
	P99Max       float64 `json:"p99_latency_us_max"`
}

// meanPoint averages points field by field; strings and the seed are the
// first point's.
func meanPoint(ps []Point) Point {
	out := ps[0]
	ov := reflect.ValueOf(&out).Elem()
	n := float64(len(ps))
	for i := 0; i < ov.NumField(); i++ {
		f := ov.Field(i)
		name := ov.Type().Field(i).Name
		if name == "Seed" || name == "SizeBytes" {
			continue
		}
		switch f.Kind() {
		case reflect.Float64:
			sum := 0.0
			for _, p := range ps {
				sum += reflect.ValueOf(p).Field(i).Float()
			}
			f.SetFloat(sum / n)
		case reflect.Uint64:
			sum := 0.0
			for _, p := range ps {
				sum += float64(reflect.ValueOf(p).Field(i).Uint())
			}
			f.SetUint(uint64(math.Round(sum / n)))
		case reflect.Int64:
			sum := 0.0
			for _, p := range ps {
				sum += float64(reflect.ValueOf(p).Field(i).Int())
			}
			f.SetInt(int64(math.Round(sum / n)))
		case reflect.Slice:
			if f.Type().Elem().Kind() == reflect.Uint64 {
				// Counts (a histogram): the rounded mean, as long as the
				// longest.
				var sum []float64
				for _, p := range ps {
					v := reflect.ValueOf(p).Field(i)
					for j := 0; j < v.Len(); j++ {
						if j == len(sum) {
							sum = append(sum, 0)
						}
						sum[j] += float64(v.Index(j).Uint())
					}
				}
				if sum == nil {
					continue
				}
				avg := make([]uint64, len(sum))
				for j, v := range sum {
					avg[j] = uint64(math.Round(v / n))
				}
				f.Set(reflect.ValueOf(avg))
				continue
			}
			if f.Type().Elem().Kind() != reflect.Float64 || f.Len() == 0 {
				continue
			}
			avg := make([]float64, f.Len())
			for _, p := range ps {
				v := reflect.ValueOf(p).Field(i)
				for j := range avg {
					if j < v.Len() {
						avg[j] += v.Index(j).Float() / n
					}
				}
			}
			f.Set(reflect.ValueOf(avg))
		}
	}
	return out
}
