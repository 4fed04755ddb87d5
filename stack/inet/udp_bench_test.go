package inet_test

import (
	"testing"

	"vnic/internal/topo"
)

// BenchmarkUDPSocketToSocket: 64-byte datagrams from a connected socket
// on host a to one on host b (topo.BenchUDP: real time, one CPU each, a
// 10 Gb/s cable), through both stacks, drivers and devices; the sender
// waits on its send buffer, the reader takes them with ReadFrom. One op
// is one datagram sent (ns/op, B/op and allocs/op are the timed window's, the
// hosts' setup and warm-up left out); received/s is what b's reader got
// per second, lost/op the share that did not arrive (dropped at the
// receiver: UDP has no flow control). `vnic bench udp` prints the same
// measurement; test/anchors/udp runs it beside gVisor's netstack.
func BenchmarkUDPSocketToSocket(b *testing.B) {
	b.ReportAllocs()
	r, err := topo.BenchUDP(64, uint64(b.N), 0)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(r.Seconds*1e9/float64(r.Sent), "ns/op")
	b.ReportMetric(r.BytesPerDatagram, "B/op")
	b.ReportMetric(r.AllocsPerDatagram, "allocs/op")
	b.ReportMetric(r.ReceivedPerS, "received/s")
	b.ReportMetric(float64(r.Lost)/float64(r.Sent), "lost/op")
}
