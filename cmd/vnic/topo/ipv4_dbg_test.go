package topo

import (
	"net/netip"
	"testing"
	"time"

	"vnic/stack"
)

func TestDbgRouter(t *testing.T) {
	cfg := Config{Virtual: true, Seed: 1, Hosts: []HostConfig{
		{Name: "h1", CPUs: 1, Devices: []DeviceConfig{{Queues: 1, Addresses: []string{"198.18.5.2/24"}}}, Routes: []string{"default via 198.18.5.1"}},
		{Name: "r", CPUs: 1, Forwarding: true, Devices: []DeviceConfig{{Queues: 1, Addresses: []string{"198.18.5.1/24"}}, {Queues: 1, Addresses: []string{"198.18.6.1/24"}}}},
		{Name: "h2", CPUs: 1, Devices: []DeviceConfig{{Queues: 1, Addresses: []string{"198.18.6.2/24"}}}, Routes: []string{"default via 198.18.6.1"}},
	}, Cables: []CableConfig{{A: "h1/vnic0", B: "r/vnic0"}, {A: "r/vnic1", B: "h2/vnic0"}}}
	w, err := Build(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.Run(10 * time.Millisecond)
	pc, _ := w.Host("h1").Stack.Inet().OpenPing()
	if err := pc.SendEcho(netip.MustParseAddr("198.18.6.2"), 1, make([]byte, 56), stack.PingOptions{}); err != nil {
		t.Fatal(err)
	}
	w.Run(50 * time.Millisecond)
	m, ok := pc.Recv()
	for _, h := range w.Hosts {
		t.Logf("%s ip %+v", h.Name, h.Stack.Inet().Stats.Snapshot())
		for _, d := range h.Devices {
			t.Logf("  %s %+v", d.Netdev.Name(), d.Netdev.Stats64())
			rx, tx, nh := d.Netdev.CoreStats()
			t.Logf("  core rxdrop %d txdrop %d nohandler %d", rx, tx, nh)
		}
	}
	t.Logf("%+v %v", m, ok)
}
