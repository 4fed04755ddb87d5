package main

import (
	"testing"

	"vnic/internal/topo"
)

// TestNICTargets: each row is held to its target — per core on one queue
// by size, two queues against 1.7 times the same path and size on one,
// virtual time by its wall-clock rate.
func TestNICTargets(t *testing.T) {
	in := []topo.BenchResult{
		{Path: "rx", Size: 64, Queues: 1, PPS: 4e6, PPSPerCore: 5e6},
		{Path: "rx", Size: 64, Queues: 2, PPS: 6.8e6, PPSPerCore: 3.4e6},
		{Path: "rx", Size: 1514, Queues: 1, PPS: 2e6, PPSPerCore: 2.5e6},
		{Path: "rx", Size: 1514, Queues: 2, PPS: 1.7e6, PPSPerCore: 1e6},
		{Path: "tx", Size: 64, Queues: 1, PPS: 1e7, PPSPerCore: 1.2e7},
		{Path: "virtual", Size: 64, Queues: 4, PPS: 2.5e6, PPSPerCore: 5e6},
	}
	want := []struct{ target, vs float64 }{
		{10e6, 0.5}, {6.8e6, 1}, {5e6, 0.5}, {3.4e6, 0.5}, {10e6, 1.2}, {10e6, 0.25},
	}
	for i, r := range nicTargets(in) {
		if r.TargetPPS != want[i].target || r.VsTarget < want[i].vs-1e-9 || r.VsTarget > want[i].vs+1e-9 {
			t.Errorf("%s %d B %d queues: target %.0f, vs %.3f; want %.0f, %.3f", r.Path, r.Size, r.Queues, r.TargetPPS, r.VsTarget, want[i].target, want[i].vs)
		}
	}
}
