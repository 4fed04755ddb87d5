// Package driver is the Linux-style driver for the vnic device, shaped like
// igb: Probe resets the device, reads and verifies the EEPROM through EERD
// and registers a net_device; Open allocates rings and buffers in DMA
// memory, programs the registers (RX/TX rings, RSS key and RETA, IVAR, EITR,
// GPIE with auto-clear and auto-mask) and unmasks the vectors; the ring
// vectors' interrupt handlers schedule NAPI, whose poll cleans TX, receives up
// to its budget and re-enables the vector only when it completes. ethtool -N
// classification rules program the device's EtherType and 5-tuple queue
// filters (nfc.go).
//
// The driver touches the device only through 32-bit register reads and
// writes and through DMA memory (hw.Function); it never calls into the
// device model.
package driver
