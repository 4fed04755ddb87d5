//go:build !linux

package kernel

import (
	"syscall"

	"vnic/ethtool"
)

// Backend returns the kernel backend; it needs Linux.
func Backend() (ethtool.Backend, func(), error) {
	return nil, func() {}, ethtool.Errorf("kernel backend", syscall.EOPNOTSUPP, "the kernel backend needs Linux")
}
