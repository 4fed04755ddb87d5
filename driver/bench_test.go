package driver_test

import (
	"fmt"
	"testing"
	"time"

	"vnic/cmd/vnic/topo"
	"vnic/hw"
	"vnic/stack"
)

// BenchmarkRxPath: device → driver → NAPI → netif_receive_skb → a null
// handler, real time; one op is one packet.
func BenchmarkRxPath(b *testing.B) {
	for _, size := range []int{64, 1514} {
		for _, q := range []int{1, 2} {
			b.Run(fmt.Sprintf("size=%d/queues=%d", size, q), func(b *testing.B) {
				b.ReportAllocs()
				r, err := topo.BenchRX(size-4, q, uint64(max(b.N, 1000)))
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(r.PPS, "pps")
				b.ReportMetric(0, "ns/op")
			})
		}
	}
}

// BenchmarkTxPath: dev_queue_xmit → qdisc → start_xmit → TX ring → device
// TX engine → a counting port, real time; one op is one packet.
func BenchmarkTxPath(b *testing.B) {
	for _, size := range []int{64, 1514} {
		for _, q := range []int{1, 2} {
			b.Run(fmt.Sprintf("size=%d/queues=%d", size, q), func(b *testing.B) {
				b.ReportAllocs()
				r, err := topo.BenchTX(size-4, q, uint64(max(b.N, 1000)))
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(r.PPS, "pps")
				b.ReportMetric(0, "ns/op")
			})
		}
	}
}

// BenchmarkVirtualTime: two cabled hosts with 4 queues each under a
// 10 Gb/s line-rate stream of 64-byte frames in virtual time; reports
// simulated packets per wall-clock second.
func BenchmarkVirtualTime(b *testing.B) {
	w, err := topo.Build(topo.Config{
		Virtual: true, Seed: 1, Costs: hw.DefaultCosts,
		Hosts: []topo.HostConfig{
			{Name: "h1", CPUs: 4, Devices: []topo.DeviceConfig{{Queues: 4, RxRing: 1024, TxRing: 1024}}},
			{Name: "h2", CPUs: 4, Devices: []topo.DeviceConfig{{Queues: 4, RxRing: 1024, TxRing: 1024}}},
		},
		Cables: []topo.CableConfig{{A: "h1/vnic0", B: "h2/vnic0", SpeedMbps: 10000}},
	})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	w.Run(time.Millisecond)
	a, d := w.Hosts[0].Devices[0], w.Hosts[1].Devices[0]
	sink := stack.NewSink(0)
	d.Host.Stack.AddProtocol(stack.EthPIPv4, sink.Handle)
	for q := 0; q < 4; q++ {
		pg, err := a.Host.Stack.NewPktgen(stack.PktgenConfig{
			Dev: a.Netdev, CPU: q, DstMAC: d.Netdev.Addr(), SrcIP: [4]byte{198, 18, byte(q), 1}, DstIP: [4]byte{198, 19, 0, 1},
			Size: 60, Flows: 64, Rate: 3_000_000, Burst: 32, Queue: q,
		})
		if err != nil {
			b.Fatal(err)
		}
		pg.Start()
	}
	w.Run(time.Millisecond) // warm up
	b.ReportAllocs()
	b.ResetTimer()
	wire := func() uint64 { f, _, _, _ := w.Cables[0].Wire.Stats(); return f }
	start, n0, f0 := time.Now(), sink.Packets(), wire()
	for sink.Packets()-n0 < uint64(b.N) {
		w.Run(100 * time.Microsecond)
	}
	el := time.Since(start)
	// Simulated packets: frames that went through the TX path and over the
	// wire; delivered: those that reached the protocol handler.
	b.ReportMetric(float64(wire()-f0)/el.Seconds(), "sim-pps")
	b.ReportMetric(float64(sink.Packets()-n0)/el.Seconds(), "delivered-pps")
}
