package irqbench

import (
	"math"
	"testing"
	"time"

	"vnic/hw"
)

// TestArrivals: each generator's mean rate, the spread of its gaps, and
// (on/off) the mean burst length, over 200,000 packets.
func TestArrivals(t *testing.T) {
	const n = 200000
	line := time.Duration((60 + 4 + 20) * 8 * 1000 / 10000) // ns at 10 Gb/s: 67
	for _, tc := range []struct {
		kind      string
		cv        float64 // coefficient of variation of the gaps
		burstMean float64 // mean run of line-rate gaps (+1), on/off only
		rateTol   float64 // the rate's tolerance: a few standard errors
	}{
		{ArrivalsCBR, 0, 0, 0.001},
		{ArrivalsPoisson, 1, 0, 0.01}, // 1/√n = 0.2 %
		{ArrivalsOnOff, -1, 32, 0.03}, // ≈ 6,250 bursts: about 1.3 % per σ
	} {
		t.Run(tc.kind, func(t *testing.T) {
			next, err := arrivals(Run{Offered: 50000, Arrivals: tc.kind, Seed: 7}, 10000, 60)
			if err != nil {
				t.Fatal(err)
			}
			var prev time.Duration
			var sum, sum2 float64
			bursts := 0
			for i := 0; i < n; i++ {
				at := next()
				if at < prev {
					t.Fatalf("packet %d at %v before %v", i, at, prev)
				}
				g := float64(at - prev)
				sum += g
				sum2 += g * g
				short := at-prev <= line+1 && i > 0
				if !short {
					bursts++
				}
				prev = at
			}
			rate := n / prev.Seconds()
			if math.Abs(rate-50000)/50000 > tc.rateTol {
				t.Errorf("rate %.0f pps, want 50000 within %.1f %%", rate, 100*tc.rateTol)
			}
			mean := sum / n
			cv := math.Sqrt(sum2/n-mean*mean) / mean
			if tc.cv >= 0 && math.Abs(cv-tc.cv) > 0.02 {
				t.Errorf("gap CV %.3f, want %.1f", cv, tc.cv)
			}
			if tc.burstMean > 0 {
				if got := float64(n) / float64(bursts); math.Abs(got-tc.burstMean)/tc.burstMean > 0.05 {
					t.Errorf("mean burst %.1f packets, want %.0f within 5 %%", got, tc.burstMean)
				}
			}
		})
	}
}

// TestArrivalsErrors: bad settings are refused with a message.
func TestArrivalsErrors(t *testing.T) {
	for _, r := range []Run{
		{Offered: 0},
		{Offered: -5},
		{Offered: math.Inf(1)},
		{Offered: 1000, Arrivals: "gaussian"},
		{Offered: 1000, Arrivals: ArrivalsOnOff, BurstMean: 0.5},
		{Offered: 20e6, Arrivals: ArrivalsOnOff}, // over 14.88 Mpps line rate
	} {
		if _, err := arrivals(r, 10000, 60); err == nil {
			t.Errorf("%+v: no error", r)
		} else {
			t.Log(err)
		}
	}
}

// TestPoissonInterruptsPerPacket checks the M/G/1 rule of spec §2.3 on
// the model: with Poisson arrivals each busy period of the receive path
// starts with exactly one interrupt and packets arriving during it are
// taken by the running poll, so interrupts per packet = 1 − ρ, ρ counting
// the interrupts' own cost: with c_pkt = c_rx + c_proto and c_int = c_irq
// + c_poll, ipp = (1 − λ c_pkt) / (1 + λ c_int).
//
// The device adds interrupts the rule has not: a packet that arrives
// while the vector is masked leaves its cause set in EICR, the poll takes
// the packet, and the unmask at completion fires the stale cause into a
// poll that finds nothing (igb does the same). Those are counted apart
// (EmptyPolls). Such a short period does not hold the next arrival (its
// poll has looked already), so for the rule it counts as idle time.
func TestPoissonInterruptsPerPacket(t *testing.T) {
	c := Presets["teaching"]
	cpkt := (c.RxPacket + c.Proto).Seconds()
	cint := (c.IRQ + c.Poll).Seconds()
	for _, lambda := range []float64{10000, 30000, 55000} {
		p, err := Measure(Run{Mode: M1, Costs: c, Offered: lambda, Arrivals: ArrivalsPoisson, Warmup: Warmup, Window: time.Second, Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		starts := p.InterruptsPerPacket * (1 - float64(p.EmptyPolls)/float64(p.Interrupts))
		want := (1 - lambda*cpkt) / (1 + lambda*cint)
		t.Logf("%.0f pps: %.3f interrupts per packet, %.3f that found work (rule %.3f), %d empty polls",
			lambda, p.InterruptsPerPacket, starts, want, p.EmptyPolls)
		if math.Abs(starts-want) > 0.01 {
			t.Errorf("%.0f pps: %.3f interrupts that found work per packet, the 1 − ρ rule gives %.3f", lambda, starts, want)
		}
		if p.EmptyPolls == 0 || p.EmptyPolls >= p.Interrupts {
			t.Errorf("%.0f pps: %d empty polls of %d interrupts", lambda, p.EmptyPolls, p.Interrupts)
		}
	}
}

// TestReplay: a capture's gaps, scaled to the offered rate, and its sizes,
// lap after lap; too short or timeless captures are refused.
func TestReplay(t *testing.T) {
	// Bursts of three 1000-byte frames 1 µs apart, every 100 µs: 30,000
	// pps in the capture, replayed at 60,000 (gaps halved).
	var tr []hw.PcapRecord
	for b := 0; b < 4; b++ {
		for k := 0; k < 3; k++ {
			tr = append(tr, hw.PcapRecord{At: time.Duration(b)*100*time.Microsecond + time.Duration(k)*time.Microsecond, Len: 1000})
		}
	}
	next, err := replay(Run{Offered: 60000, Trace: tr})
	if err != nil {
		t.Fatal(err)
	}
	var at []time.Duration
	for i := 0; i < 14; i++ {
		a, size := next()
		if size != 1000 {
			t.Fatalf("size %d", size)
		}
		at = append(at, a)
	}
	// Scale: 11 gaps over 302 µs → 36,424 pps in the capture; ×0.607.
	scale := 11 / 302e-6 / 60000
	if d := at[1] - at[0]; math.Abs(float64(d)-1000*scale) > 1 {
		t.Errorf("gap in a burst %v, want %.1f ns", d, 1000*scale)
	}
	if d := at[3] - at[2]; math.Abs(float64(d)-98000*scale) > 1 {
		t.Errorf("gap between bursts %v, want %.1f ns", d, 98000*scale)
	}
	// The lap closes with the capture's mean gap.
	if d := at[12] - at[11]; math.Abs(float64(d)-302000.0/11*scale) > 1 {
		t.Errorf("gap to the next lap %v, want %.1f ns", d, 302000.0/11*scale)
	}
	for _, bad := range []Run{{Offered: 1000, Trace: tr[:1]}, {Offered: 1000, Trace: []hw.PcapRecord{{At: 0, Len: 60}, {At: 0, Len: 60}}}, {Offered: 0, Trace: tr}} {
		if _, err := replay(bad); err == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
	p, err := Measure(Run{Mode: M1, Costs: Presets["teaching"], Offered: 40000, Arrivals: ArrivalsReplay, Trace: tr, Warmup: Warmup, Window: Window, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(p.OfferedPPS-40000) > 400 {
		t.Errorf("replayed at %.0f pps, want 40000", p.OfferedPPS)
	}
}
