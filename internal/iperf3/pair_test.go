package iperf3_test

import (
	"testing"
	"time"

	"vnic/internal/topo"
	"vnic/stack"
)

// realPair is two real-time hosts joined by a 10 Gb/s cable, each with a
// vnic (198.18.0.1 and .2), waited on until the link is up.
func realPair(t *testing.T) (a, b *stack.Host) {
	t.Helper()
	w, err := topo.Build(topo.Config{
		Time: topo.RealTime,
		Hosts: []topo.HostConfig{
			{Name: "a", CPUs: 1, Devices: []topo.DeviceConfig{{Addresses: []string{"198.18.0.1/24"}}}},
			{Name: "b", CPUs: 1, Devices: []topo.DeviceConfig{{Addresses: []string{"198.18.0.2/24"}}}},
		},
		Cables: []topo.CableConfig{{A: "a/vnic0", B: "b/vnic0", SpeedMbps: 10000}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	deadline := time.Now().Add(5 * time.Second)
	for _, h := range w.Hosts {
		for !h.Devices[0].Netdev.CarrierOK() && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
	}
	return w.Host("a").Stack, w.Host("b").Stack
}
