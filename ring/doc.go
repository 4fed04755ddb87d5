// Package ring holds the datasheet contract that the device model (hw) and
// the driver share: the 16-byte advanced descriptor formats of an 82576-class
// NIC and the ring index arithmetic.
//
// Each descriptor format is a byte-slice type with accessors over a 16-byte
// window of DMA memory, little-endian as on the wire to the device. The
// device stores the status dword of a write-back (DD) atomically and the
// driver loads it atomically, so that "data first, then descriptor, then DD"
// holds between them when they run on different goroutines (real time); what
// the driver writes is published by the tail doorbell, a register write.
//
// Ring arithmetic follows the 82576: a ring of N descriptors is owned by the
// device over [head, tail); it is empty when head == tail and the driver keeps
// one slot free, so at most N-1 descriptors are ever owned by the device.
package ring
