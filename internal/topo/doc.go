// Package topo assembles a running topology from a description: hosts with
// CPUs and DMA memory, vnic devices probed by the driver and registered in
// each host's stack, and cables between them. The demo, `vnic up`, the
// benchmarks and the cross-package tests all build their machines here, so
// the wiring of hw, driver and stack exists once.
package topo
