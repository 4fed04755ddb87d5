// Package ethtool is the ethtool surface of vnic: the feature bitset and
// the names ethtool gives each bit. The ethtool issue adds the Ops interface
// a driver implements, the fix-up rules, the command core with errno-style
// errors, the control protocol and the ethtool-compatible CLI.
//
// It imports nothing from vnic, so that the stack, the driver and the CLI can
// all share its types.
package ethtool
