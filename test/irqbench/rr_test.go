package irqbench

import (
	"math"
	"testing"
	"time"
)

// TestRoundTrip: one client at a light rate sees exactly the model's round
// trip: the request's interrupt, poll, driver and protocol work, the
// application's work, the reply's transmit work, and the reply's wire
// time (84 bytes at 10 Gb/s; requests are put straight into the device) —
// the reply leaves when the application's work has run, not when its work
// item began.
func TestRoundTrip(t *testing.T) {
	c := Presets["teaching"]
	p, err := Measure(Run{Mode: M1, Costs: c, Offered: 1000, Warmup: Warmup, Window: Window, Seed: 1, Clients: 1, AppCost: E8AppCost})
	if err != nil {
		t.Fatal(err)
	}
	wire := 84 * 8 * time.Second / (linkMbps * 1e6)
	want := c.IRQ + c.Poll + c.RxPacket + c.Proto + E8AppCost + c.TxPacket + wire
	if math.Abs(p.MeanLatencyUS-float64(want)/1e3) > 0.002 || // the wire time rounds to whole ns
		p.P99LatencyUS != p.P50LatencyUS {
		t.Fatalf("round trip mean %.4f µs (p50 %.4f, p99 %.4f), want %.4f µs", p.MeanLatencyUS, p.P50LatencyUS, p.P99LatencyUS, float64(want)/1e3)
	}
}
