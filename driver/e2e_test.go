package driver_test

import (
	"testing"
	"time"

	"vnic/cmd/vnic/topo"
	"vnic/hw"
	"vnic/stack"
)

func twoHosts(t *testing.T, queues int, mutate func(*topo.Config)) *topo.World {
	t.Helper()
	cfg := topo.Config{
		Virtual: true, Seed: 1, Costs: hw.DefaultCosts, Checker: true,
		Hosts: []topo.HostConfig{
			{Name: "h1", CPUs: 2, Devices: []topo.DeviceConfig{{Queues: queues}}},
			{Name: "h2", CPUs: 2, Devices: []topo.DeviceConfig{{Queues: queues}}},
		},
		Cables: []topo.CableConfig{{A: "h1/vnic0", B: "h2/vnic0", SpeedMbps: 10000}},
	}
	if mutate != nil {
		mutate(&cfg)
	}
	w, err := topo.Build(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

func TestFramesFlow(t *testing.T) {
	w := twoHosts(t, 2, nil)
	w.Run(time.Millisecond) // link up
	h1, h2 := w.Host("h1"), w.Host("h2")
	a, b := h1.Devices[0], h2.Devices[0]
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
	w.Run(20 * time.Millisecond)
	if pg.Sent() != 1000 || sink.Packets() != 1000 {
		t.Fatalf("sent %d failed %d received %d", pg.Sent(), pg.Failed(), sink.Packets())
	}
	for i := 0; i < 16; i++ {
		if sink.Flow(i) != 1000/16 && sink.Flow(i) != 1000/16+1 {
			t.Errorf("flow %d: %d packets", i, sink.Flow(i))
		}
	}
	if v := a.HW.Checker().Violations(); len(v) != 0 {
		t.Fatalf("violations: %v", v)
	}
	if v := b.HW.Checker().Violations(); len(v) != 0 {
		t.Fatalf("violations: %v", v)
	}
	q0, _, _ := b.Netdev.RxQueueStats(0).Snapshot()
	q1, _, _ := b.Netdev.RxQueueStats(1).Snapshot()
	t.Logf("rx q0 %d q1 %d", q0, q1)
	if q0+q1 != 1000 || q0 == 0 || q1 == 0 {
		t.Fatalf("RSS spread q0 %d q1 %d", q0, q1)
	}
}
