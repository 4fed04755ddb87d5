// Package ethtool is the ethtool surface of vnic: what a driver implements
// (Ops, mirroring ethtool_ops), the command core that validates every set
// before the driver sees it and changes nothing when it fails (SetRing,
// SetCoalesce, SetChannels, SetRxfh, SetEEPROM), errors that match both a
// sentinel and an errno, the feature bits with the kernel's fix rules and
// string set, and Device/Backend, the view the CLI (ethtool/cli), the
// netlink families (ethtool/nl), the kernel backend (ethtool/kernel) and the
// conformance suite (test/conformance) share. NewLocal is the in-process
// Device over a driver's Ops and the stack's features.
//
// Value types. DrvInfo, Ring, Channels, Pause and the link settings have
// the fields of github.com/safchain/ethtool's DrvInfo, Ring, Channels,
// Pause and EthtoolCmd, under the kernel's names; Coalesce keeps the same
// parameters as an array indexed by ETHTOOL_COALESCE_* bit, with the
// supported-parameter mask the ioctl struct lacks (netlink has it: it is
// what prints n/a). They are vnic's own rather than the library's because
// the library builds only on Linux (its types sit beside the ioctl code),
// carries ioctl framing (Cmd fields, fixed-size arrays such as Indir's
// 256-entry RingIndex), and has no place for what netlink adds (optional
// set fields, extended-ack errors, the CQE and push options). The kernel
// backend converts field by field.
//
// It imports nothing from vnic, so that the stack, the driver and the CLI
// can all share its types.
package ethtool
