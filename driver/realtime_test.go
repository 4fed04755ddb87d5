package driver_test

import (
	"testing"
	"time"

	"vnic/internal/topo"
	"vnic/stack"
)

// TestFramesFlowRealTime runs the same driver and stack code on real-time
// CPUs (one goroutine each). It asserts delivery, never durations: the
// deadline only bounds the wait.
func TestFramesFlowRealTime(t *testing.T) {
	const n = 20000
	e, pg, sink, deadline := realTimeLoad(t, n)
	b := e.b
	for !pg.Done() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	for sink.Packets()+drops(b) < pg.Sent() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if !pg.Done() {
		t.Fatalf("pktgen sent %d of %d", pg.Sent()+pg.Failed(), n)
	}
	// Back to back, the receiver may run out of descriptors: every packet is
	// either received or counted as a drop somewhere.
	hs := b.Adapter.HWStats()
	if got := sink.Packets() + hs.MPC; got != pg.Sent() {
		t.Fatalf("sent %d, received %d + missed %d", pg.Sent(), sink.Packets(), hs.MPC)
	}
	t.Logf("sent %d failed %d received %d missed %d", pg.Sent(), pg.Failed(), sink.Packets(), hs.MPC)
}

func drops(d *topo.Device) uint64 { return d.Adapter.HWStats().MPC }

// realTimeLoad starts n 128-byte frames h1 → h2 (2 queues each) on
// real-time CPUs once both links are up, into a sink on h2; the deadline
// (60 s: a loaded machine under the race detector has taken over 10 s for
// 20,000 frames) bounds every wait of the caller.
func realTimeLoad(t *testing.T, n uint64) (*env, *stack.Pktgen, *stack.Sink, time.Time) {
	t.Helper()
	e := newEnv(t, func(c *topo.Config) {
		queues(2)(c)
		c.Time = topo.RealTime
	})
	h1, h2 := e.w.Host("h1"), e.w.Host("h2")
	a, b := e.a, e.b
	deadline := time.Now().Add(60 * time.Second)
	for !(a.Netdev.Carrier() && b.Netdev.Carrier()) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	sink := stack.NewSink(8)
	h2.Stack.AddProtocol(stack.EthPIPv4, sink.Handle)
	pg, err := h1.Stack.NewPktgen(stack.PktgenConfig{
		Dev: a.Netdev, DstMAC: b.Netdev.Addr(), SrcIP: [4]byte{198, 18, 0, 1}, DstIP: [4]byte{198, 19, 0, 1},
		Size: 128, Flows: 8, Rate: 0, Count: n, Queue: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	pg.Start()
	return e, pg, sink, deadline
}
