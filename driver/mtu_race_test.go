package driver_test

import (
	"testing"
	"time"

	"vnic/internal/topo"
	"vnic/stack"
)

// TestMTUChangeUnderTrafficRealTime changes h1's MTU back and forth while
// pktgen sends through it on real-time CPUs: start_xmit reads the MTU on
// every packet while SetMTU stores it, which -race must find clean. Bounded
// in changes, packets and time; it asserts delivery, never durations.
func TestMTUChangeUnderTrafficRealTime(t *testing.T) {
	e := newEnv(t, func(c *topo.Config) {
		queues(2)(c)
		c.Time = topo.RealTime
	})
	h1, h2 := e.w.Host("h1"), e.w.Host("h2")
	a, b := e.a, e.b
	deadline := time.Now().Add(10 * time.Second)
	for !(a.Netdev.Carrier() && b.Netdev.Carrier()) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	sink := stack.NewSink(8)
	h2.Stack.AddProtocol(stack.EthPIPv4, sink.Handle)
	const n, changes = 20000, 20
	pg, err := h1.Stack.NewPktgen(stack.PktgenConfig{
		Dev: a.Netdev, DstMAC: b.Netdev.Addr(), SrcIP: [4]byte{198, 18, 0, 1}, DstIP: [4]byte{198, 19, 0, 1},
		Size: 128, Flows: 8, Rate: 0, Count: n, Queue: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	pg.Start()
	mtus := [2]int{1500, 3000}
	done := 0
	for i := 0; i < changes && !pg.Done() && time.Now().Before(deadline); i++ {
		if err := a.Netdev.SetMTU(mtus[(i+1)%2]); err != nil {
			t.Fatalf("change %d: %v", i, err)
		}
		done++
		time.Sleep(100 * time.Microsecond)
	}
	for !pg.Done() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if !pg.Done() {
		t.Fatalf("pktgen sent %d of %d", pg.Sent()+pg.Failed(), n)
	}
	for sink.Packets()+drops(b) < pg.Sent() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if done == 0 {
		t.Fatal("no MTU change ran under traffic")
	}
	if got := sink.Packets() + drops(b); got != pg.Sent() {
		t.Fatalf("sent %d, received %d + missed %d", pg.Sent(), sink.Packets(), drops(b))
	}
	t.Logf("%d MTU changes; sent %d failed %d received %d missed %d", done, pg.Sent(), pg.Failed(), sink.Packets(), drops(b))
}
