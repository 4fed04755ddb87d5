package irqbench

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"

	"vnic/internal/topo"
	"vnic/stack"
)

// RealPoint is one real-time measurement beside the virtual-time
// prediction for the same mode and offered rate.
type RealPoint struct {
	Mode       string  `json:"mode"`
	OfferedPPS float64 `json:"offered_pps"`
	// What the goroutines did, per second of wall time.
	DeliveredPPS float64 `json:"delivered_pps"`
	DropPPS      float64 `json:"drop_pps"`
	Interrupts   float64 `json:"interrupts_per_sec"`
	Softirqs     float64 `json:"softirqs_per_sec"`
	Wakeups      float64 `json:"wakeups_per_sec"` // the CPU goroutine woke from idle
	// The virtual-time model (modern preset) at the same rate.
	PredictedDeliveredPPS  float64 `json:"predicted_delivered_pps"`
	PredictedInterrupts    float64 `json:"predicted_interrupts_per_sec"`
	PredictedIntrPerPacket float64 `json:"predicted_interrupts_per_packet"`
}

// MeasureReal runs mode at rate packets per second on the real clock: the
// device, its CPU and the generator are goroutines, the work costs what it
// costs, and what is counted is what happened — interrupts delivered,
// softirq runs, and the CPU goroutine's wake-ups from idle. Beside it is
// the virtual-time model's prediction with the modern preset. Real-time
// figures depend on this machine and its load: they are for looking at,
// not for asserting.
func MeasureReal(mode Mode, rate float64, window time.Duration) (RealPoint, error) {
	if !(rate > 0) {
		return RealPoint{}, fmt.Errorf("irqbench: offered rate %v: want a positive number of packets per second", rate)
	}
	cfg := topo.Pair(topo.DeviceConfig{Queues: 1, RxMode: mode.RxMode.String(), LegacyBatch: mode.LegacyBatch, ITRUsecs: usecs(mode.ITR)}, 1, linkMbps)
	cfg.Time = topo.RealTime
	cfg.Hosts[0].Devices[0] = topo.DeviceConfig{Queues: 1}
	w, err := topo.Build(cfg)
	if err != nil {
		return RealPoint{}, err
	}
	defer w.Close()
	time.Sleep(5 * time.Millisecond) // link up
	dut := w.Hosts[1].Devices[0]
	cpu := dut.Host.CPUs[0]
	var delivered atomic.Uint64
	dut.Host.Stack.AddProtocol(stack.EthPIPv4, func(skb *stack.SKB) {
		delivered.Add(1)
		skb.Free()
	})
	frame := make([]byte, 60)
	stack.BuildUDPFrame(frame, dut.Netdev.Addr(), stack.MAC{0x02, 0, 0, 0, 0x09, 0}, [4]byte{198, 18, 0, 1}, [4]byte{198, 19, 0, 1}, 1000, 9)

	// The generator paces itself against the wall clock, sending what it
	// owes every 50 µs or so.
	var sent atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		start := time.Now()
		for {
			select {
			case <-stop:
				return
			default:
			}
			owed := uint64(time.Since(start).Seconds() * rate)
			for n := sent.Load(); n < owed; n++ {
				binary.BigEndian.PutUint64(frame[42:50], uint64(n))
				dut.HW.Receive(frame)
				sent.Add(1)
			}
			time.Sleep(50 * time.Microsecond)
		}
	}()
	snap := func() (s, d, irq, soft, wake uint64) {
		st := cpu.Stats()
		return sent.Load(), delivered.Load(), dut.Adapter.QueueStats(0).Interrupts, st.Softirqs, st.Wakeups
	}
	time.Sleep(20 * time.Millisecond) // warm-up
	s0, d0, i0, so0, w0 := snap()
	t0 := time.Now()
	time.Sleep(window)
	s1, d1, i1, so1, w1 := snap()
	secs := time.Since(t0).Seconds()
	close(stop)
	<-done
	time.Sleep(10 * time.Millisecond) // let the packets in flight finish before the world closes
	runtime.Gosched()
	p := RealPoint{Mode: mode.ID, OfferedPPS: float64(s1-s0) / secs, DeliveredPPS: float64(d1-d0) / secs,
		Interrupts: float64(i1-i0) / secs, Softirqs: float64(so1-so0) / secs, Wakeups: float64(w1-w0) / secs}
	p.DropPPS = max(0, p.OfferedPPS-p.DeliveredPPS)
	pred, err := Measure(Run{Mode: mode, Costs: Presets["modern"], Offered: rate, Warmup: Warmup, Window: Window, Seed: 1})
	if err != nil {
		return p, err
	}
	p.PredictedDeliveredPPS, p.PredictedInterrupts, p.PredictedIntrPerPacket = pred.DeliveredPPS, pred.InterruptsPerSec, pred.InterruptsPerPacket
	return p, nil
}

// RealSweep runs M0 and M1 at each rate on the real clock.
func RealSweep(rates []float64, window time.Duration, progress Progress) ([]RealPoint, error) {
	var out []RealPoint
	modes := []Mode{M0, M1}
	for _, m := range modes {
		for _, r := range rates {
			p, err := MeasureReal(m, r, window)
			if err != nil {
				return out, err
			}
			out = append(out, p)
			if progress != nil {
				progress(len(out), len(modes)*len(rates))
			}
		}
	}
	return out, nil
}
