package stack_test

import (
	"encoding/binary"
	"testing"
	"time"

	"vnic/hw"
	"vnic/internal/stacktest"
	"vnic/stack"
)

// sink is a driver that takes and frees every packet.
type sink struct{ stacktest.NopOps }

func (*sink) Open() error { return nil }

func (s *sink) StartXmit(skb *stack.SKB, q *stack.TxQueue) stack.TxResult {
	skb.Consume()
	return stack.TxOK
}

// netemPath is a host whose device sends through netem cfg into sink,
// and a function that pushes a burst of n packets through it (enqueue,
// the watchdog, dequeue, start_xmit) in virtual time.
func netemPath(tb testing.TB, cfg stack.NetemConfig) func(n int) {
	clk := hw.NewVirtualClock()
	h := stack.NewHost("h", clk, []stack.CPU{hw.NewCPU(0, clk, hw.CostModel{})}, stack.HostConfig{Seed: 1})
	d := stack.NewEtherDevice("vnic%d", &sink{}, 1, 1, 9216)
	if err := h.Register(d); err != nil {
		tb.Fatal(err)
	}
	d.Open()
	d.CarrierOn()
	cfg.Limit = 1000
	q, err := stack.NewNetem(d, 0x80010000, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	d.GraftQdisc(q)
	return func(n int) {
		for range n {
			s := h.Pool().Alloc(100 + stack.NetIPAlign)
			s.Reserve(stack.NetIPAlign)
			f := s.Put(100)
			binary.BigEndian.PutUint16(f[12:], stack.EthPIPv4)
			s.Dev = d
			stack.DevQueueXmit(s)
		}
		clk.RunFor(50 * time.Millisecond)
	}
}

var netemBenchConfigs = []struct {
	name string
	cfg  stack.NetemConfig
}{
	{"delay", stack.NetemConfig{Latency: 10 * time.Millisecond}},
	{"jitter", stack.NetemConfig{Latency: 10 * time.Millisecond, Jitter: 5 * time.Millisecond}},
	{"rate", stack.NetemConfig{Rate: 1 << 30}},
	{"loss-dup-corrupt-reorder", stack.NetemConfig{Latency: time.Millisecond, Loss: 5 * pct, Duplicate: 5 * pct, Corrupt: pct, Reorder: 10 * pct, Gap: 1}},
}

// The packet path through netem allocates nothing once warm: the tfifo's
// slice, the skbs (pooled) and the watchdog are reused.
func TestNetemNoAllocs(t *testing.T) {
	for _, c := range netemBenchConfigs {
		push := netemPath(t, c.cfg)
		push(500) // warm: the pool, the tfifo
		if a := testing.AllocsPerRun(20, func() { push(64) }); a != 0 {
			t.Errorf("%s: %v allocations a burst", c.name, a)
		}
	}
}

func BenchmarkNetem(b *testing.B) {
	for _, c := range netemBenchConfigs {
		b.Run(c.name, func(b *testing.B) {
			push := netemPath(b, c.cfg)
			push(500)
			b.ReportAllocs()
			b.ResetTimer()
			const burst = 64
			for range b.N {
				push(burst)
			}
			b.ReportMetric(float64(b.N*burst)/b.Elapsed().Seconds(), "packets/s")
		})
	}
}
