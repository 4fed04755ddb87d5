package inet_test

import (
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"vnic/internal/topo"
	"vnic/stack/inet"
)

// BenchmarkUDPSocketToSocket: 64-byte datagrams from a connected socket
// on host a to one on host b (topo.RealPair: real time, one CPU each, a
// 10 Gb/s cable), through both stacks, drivers and devices; the sender
// waits on its send buffer, the reader takes them with ReadFrom. One op
// is one datagram sent; received/s is what b's reader got per second,
// lost/op the share that did not arrive (dropped at the receiver: UDP has
// no flow control).
func BenchmarkUDPSocketToSocket(b *testing.B) {
	ha, hb := topo.RealPair(b)
	rx, err := inet.ListenPacket(hb, "udp4", "198.18.0.2:9")
	if err != nil {
		b.Fatal(err)
	}
	defer rx.Close()
	tx, err := inet.ListenPacket(ha, "udp4", "198.18.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Close()
	if err := tx.Conn().Connect(netip.MustParseAddrPort("198.18.0.2:9")); err != nil {
		b.Fatal(err)
	}
	var got atomic.Uint64
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 2048)
		for {
			if _, _, err := rx.ReadFrom(buf); err != nil {
				return // closed, or the deadline below
			}
			got.Add(1)
		}
	}()
	msg := make([]byte, 64)
	send := func(n int) {
		for i := 0; i < n; i++ {
			if _, err := tx.Conn().Send(msg); err != nil {
				b.Fatal(err)
			}
		}
	}
	// Warm up (ARP, pools, rings), then let the queues drain.
	send(10000)
	time.Sleep(50 * time.Millisecond)
	g0 := got.Load()
	b.ReportAllocs()
	b.ResetTimer()
	send(b.N)
	// Wait for the tail: until nothing has arrived for 20 ms.
	for last := got.Load(); ; {
		time.Sleep(20 * time.Millisecond)
		if n := got.Load(); n == last {
			break
		} else {
			last = n
		}
	}
	b.StopTimer()
	_ = rx.SetReadDeadline(time.Now())
	<-done
	n := got.Load() - g0
	b.ReportMetric(float64(n)/(b.Elapsed()-20*time.Millisecond).Seconds(), "received/s")
	b.ReportMetric(1-float64(n)/float64(b.N), "lost/op")
}
