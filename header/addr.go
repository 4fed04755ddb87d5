package header

import "encoding/binary"

// IPv4Uint32 returns address a as a host-order word (a[0] the top byte).
func IPv4Uint32(a [4]byte) uint32 { return binary.BigEndian.Uint32(a[:]) }

// IPv4FromUint32 is IPv4Uint32's inverse.
func IPv4FromUint32(v uint32) (a [4]byte) {
	binary.BigEndian.PutUint32(a[:], v)
	return a
}

// IPv4Mask returns the netmask of prefix length l as a host-order word
// (0 for l <= 0).
func IPv4Mask(l int) uint32 {
	if l <= 0 {
		return 0
	}
	return ^uint32(0) << (32 - l)
}
