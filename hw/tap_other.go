//go:build !linux

package hw

import (
	"fmt"
	"syscall"
)

// OpenTAP needs Linux.
func OpenTAP(ifname, netns string, vnet bool) (FrameIO, int, error) {
	return nil, 0, fmt.Errorf("hw: TAP ports need Linux: %w", syscall.EOPNOTSUPP)
}
