package driver_test

import (
	"fmt"
	"testing"
	"vnic/internal/topo"
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

// BenchmarkVirtualTime: two cabled hosts with 4 queues each under 12 Mpps
// of offered 64-byte frames in virtual time; one op is one frame on the
// wire; sim-pps is simulated frames per wall-clock second.
func BenchmarkVirtualTime(b *testing.B) {
	b.ReportAllocs()
	r, err := topo.BenchVirtual(uint64(max(b.N, 1000)))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(r.PPS, "sim-pps")
	b.ReportMetric(float64(r.Packets-r.Drops)/r.Seconds, "delivered-pps")
	b.ReportMetric(0, "ns/op")
}
