package topo

import (
	"testing"
	"time"

	"vnic/stack"
)

// Started builds cfg for a test, closes it when the test ends, and runs it
// for warm (links up, queues ready) before handing it over.
func Started(tb testing.TB, cfg Config, warm time.Duration) *World {
	tb.Helper()
	w, err := Build(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { w.Close() })
	w.Run(warm)
	return w
}

// RealPair is two real-time hosts, a (198.18.0.1) and b (198.18.0.2), each
// with one vnic, joined by a 10 Gb/s cable and waited on until both links
// are up; the world closes when the test ends.
func RealPair(tb testing.TB) (a, b *stack.Host) {
	tb.Helper()
	w, err := realPair()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { w.Close() })
	return w.Host("a").Stack, w.Host("b").Stack
}

// realPair builds RealPair's world and waits for its links.
func realPair() (*World, error) {
	w, err := Build(Config{
		Time: RealTime,
		Hosts: []HostConfig{
			{Name: "a", CPUs: 1, Devices: []DeviceConfig{{Addresses: []string{"198.18.0.1/24"}}}},
			{Name: "b", CPUs: 1, Devices: []DeviceConfig{{Addresses: []string{"198.18.0.2/24"}}}},
		},
		Cables: []CableConfig{{A: "a/vnic0", B: "b/vnic0", SpeedMbps: 10000}},
	})
	if err != nil {
		return nil, err
	}
	w.waitCarrier(5 * time.Second)
	return w, nil
}

// waitCarrier waits, up to limit, until every host's first device has
// carrier (a real-time world's links come up after autonegotiation).
func (w *World) waitCarrier(limit time.Duration) {
	deadline := time.Now().Add(limit)
	for _, h := range w.Hosts {
		for len(h.Devices) > 0 && !h.Devices[0].Netdev.CarrierOK() && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
	}
}
