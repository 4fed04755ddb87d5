package hw

import (
	"fmt"
	"strings"
	"syscall"
)

// ValidNetns checks a network namespace name as ip netns does: a name of
// /var/run/netns, not a path (no "/", not "." or ".."), 1..255 bytes
// (NAME_MAX) — so a topology cannot point a TAP at another file.
func ValidNetns(name string) error {
	switch {
	case name == "" || len(name) > 255:
		return fmt.Errorf("want a namespace name of 1..255 bytes: %w", syscall.EINVAL)
	case name == "." || name == ".." || strings.ContainsAny(name, "/\x00"):
		return fmt.Errorf("want a namespace name, not a path: %w", syscall.EINVAL)
	}
	return nil
}
