// Package topo assembles a running topology from a description: hosts with
// CPUs and DMA memory, vnic devices probed by the driver and registered in
// each host's stack, and cables between them. The demo, `vnic up`, the
// benchmarks and the cross-package tests all build their machines here, so
// the wiring of hw, driver and stack exists once. The description, Config,
// is also a vnic config file's schema: viper decodes a file into it,
// SetDefaults fills its list items and Validate names each bad key.
package topo
