// Package kernel drives a Linux interface through the kernel's ethtool
// ioctls, using github.com/safchain/ethtool, as an ethtool.Device: the same
// CLI and conformance suite then run against real drivers.
//
// What the backend does, given the library's traps (spec/ecosystem.md §1):
// sets are read-modify-write of the whole ioctl struct (a zero means zero),
// and every set is read back; feature names are the kernel's string set,
// fetched per call; link settings come from the legacy GSET call (the
// library's GLINKSETTINGS path is broken on current kernels and writes to
// stdout). Operations the library has no call for (EEPROM, register dump,
// self-test, autonegotiation restart, rx-flow-hash, link changes, RSS key)
// are EOPNOTSUPP. Statistics come back as a map, so -S lists them by name
// rather than in the driver's order.
package kernel
