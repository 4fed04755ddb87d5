package main

import (
	"testing"
	"time"

	"vnic/internal/topo"
)

// BenchmarkDemo is `vnic demo` on the embedded default topology
// (configs/default.yaml: its UDP streams, its TCP bulk and rr flows, the
// contract checker on every device) in virtual time, one simulated
// millisecond an iteration; it reports the frames the devices sent per
// wall second (sim-pps) and simulated milliseconds per wall second. The
// driver's BenchmarkVirtualTime is the device path alone, without the
// checker; this one is what `make run` costs.
func BenchmarkDemo(b *testing.B) {
	v, err := loadConfig("")
	if err != nil {
		b.Fatal(err)
	}
	cfg, err := decodeConfig(v)
	if err != nil {
		b.Fatal(err)
	}
	if cfg.Time != topo.VirtualTime || !cfg.Checker {
		b.Fatalf("the default topology runs in %q time, checker %v: this benchmark assumes virtual time with the checker", cfg.Time, cfg.Checker)
	}
	w, err := topo.Build(*cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { w.Close() })
	w.Run(time.Millisecond) // the links come up
	streams, err := topo.StartTraffic(w, cfg.Traffic, cfg.Seed)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := topo.StartBulk(w, cfg.Bulk, streams); err != nil {
		b.Fatal(err)
	}
	flows, err := topo.StartTCP(w, cfg.TCP, 0)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(flows.Close)
	sent := func() (n uint64) {
		for _, h := range w.Hosts {
			for _, d := range h.Devices {
				n += d.Netdev.Stats64().TxPackets
			}
		}
		return n
	}
	w.Run(2 * time.Millisecond) // past the TCP handshakes
	f0 := sent()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		w.Run(time.Millisecond)
	}
	b.StopTimer()
	s := b.Elapsed().Seconds()
	if f := sent() - f0; f == 0 {
		b.Fatal("no frames sent")
	} else {
		b.ReportMetric(float64(f)/s, "sim-pps")
	}
	b.ReportMetric(float64(b.N)/s, "sim-ms/s")
	for _, h := range w.Hosts {
		for _, d := range h.Devices {
			if c := d.HW.Checker(); c != nil && c.Count() != 0 {
				b.Fatalf("%s: %d contract violations: %v", d.Netdev.Name(), c.Count(), c.Violations()[0])
			}
		}
	}
}
