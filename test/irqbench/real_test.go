package irqbench

import (
	"math"
	"testing"
	"time"
)

// TestMeasureReal runs M0 and M1 on goroutines (with -race in CI). What
// real time allows asserting is structure, not speed: everything offered
// at a light rate is delivered; M0 takes one interrupt per packet; M1 never
// more interrupts than packets, and every interrupt leads to a softirq run.
func TestMeasureReal(t *testing.T) {
	for _, m := range []Mode{M0, M1} {
		p, err := MeasureReal(m, 2000, 300*time.Millisecond) // long enough that the window's edges do not skew the rates on a busy machine
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%+v", p)
		if p.OfferedPPS < 1000 || math.Abs(p.DeliveredPPS-p.OfferedPPS) > 0.05*p.OfferedPPS+20 {
			t.Errorf("%s: offered %.0f, delivered %.0f pps", m.ID, p.OfferedPPS, p.DeliveredPPS)
		}
		switch m.ID {
		case "M0":
			if math.Abs(p.Interrupts-p.DeliveredPPS) > 0.05*p.DeliveredPPS+20 {
				t.Errorf("M0: %.0f interrupts/s for %.0f packets/s", p.Interrupts, p.DeliveredPPS)
			}
		case "M1":
			if p.Interrupts > p.DeliveredPPS*1.05+20 || p.Softirqs < p.Interrupts*0.95-20 {
				t.Errorf("M1: %.0f interrupts/s, %.0f softirqs/s for %.0f packets/s", p.Interrupts, p.Softirqs, p.DeliveredPPS)
			}
		}
		if p.PredictedDeliveredPPS != 2000 || p.PredictedIntrPerPacket != 1 {
			t.Errorf("%s: the model predicts %.0f pps, %.2f interrupts per packet", m.ID, p.PredictedDeliveredPPS, p.PredictedIntrPerPacket)
		}
	}
	if _, err := MeasureReal(M1, 0, time.Millisecond); err == nil {
		t.Error("rate 0 accepted")
	}
}
