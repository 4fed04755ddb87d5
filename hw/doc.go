// Package hw is the machine: DMA memory with IOMMU-style bounds checks, the
// two clocks (virtual and real), CPUs with hardirq/softirq/task contexts and a
// cost model, the MSI-X interrupt controller, the vnic device (an 82576-class
// NIC modelled at register level: registers, EEPROM, PHY, RX and TX engines,
// RSS, interrupt moderation, statistics) and the ports its cable plugs into
// (peer cable, PHY loopback, pcap tee).
//
// A driver reaches a Device only through Read32/Write32 at register offsets
// (see docs/registers.md), through DMA memory, and through the interrupt
// vectors it requested; nothing else in this package is meant for it.
//
// Virtual time: everything runs on one goroutine, driven by VirtualClock,
// and is bit-for-bit deterministic. Real time: one goroutine per CPU, timers
// from the runtime, and the device guarded by a mutex.
package hw
