package driver_test

import (
	"testing"
	"time"

	"vnic/hw"
	"vnic/internal/topo"
	"vnic/stack"
)

// queues sets every device's queue count and the default cost model.
func queues(n int) func(*topo.Config) {
	return func(c *topo.Config) {
		c.Costs = topo.Costs(hw.DefaultCosts)
		for i := range c.Hosts {
			c.Hosts[i].Devices[0].Queues = n
		}
	}
}

func TestFramesFlow(t *testing.T) {
	e := newEnv(t, queues(2))
	h1, h2 := e.w.Host("h1"), e.w.Host("h2")
	a, b := e.a, e.b
	if !a.Netdev.Carrier() || !b.Netdev.Carrier() {
		t.Fatalf("carrier: %v %v", a.Netdev.Carrier(), b.Netdev.Carrier())
	}
	sink := stack.NewSink(16)
	h2.Stack.AddProtocol(stack.EthPIPv4, sink.Handle)
	pg, err := h1.Stack.NewPktgen(stack.PktgenConfig{
		Dev: a.Netdev, DstMAC: b.Netdev.Addr(), SrcIP: [4]byte{198, 18, 0, 1}, DstIP: [4]byte{198, 19, 0, 1},
		Size: 60, Flows: 16, Rate: 100000, Count: 1000, Queue: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	pg.Start()
	e.w.Run(20 * time.Millisecond)
	if pg.Sent() != 1000 || sink.Packets() != 1000 {
		t.Fatalf("sent %d failed %d received %d", pg.Sent(), pg.Failed(), sink.Packets())
	}
	for i := 0; i < 16; i++ {
		if sink.Flow(i) != 1000/16 && sink.Flow(i) != 1000/16+1 {
			t.Errorf("flow %d: %d packets", i, sink.Flow(i))
		}
	}
	q0, _, _ := b.Netdev.RxQueueStats(0).Snapshot()
	q1, _, _ := b.Netdev.RxQueueStats(1).Snapshot()
	t.Logf("rx q0 %d q1 %d", q0, q1)
	if q0+q1 != 1000 || q0 == 0 || q1 == 0 {
		t.Fatalf("RSS spread q0 %d q1 %d", q0, q1)
	}
}
