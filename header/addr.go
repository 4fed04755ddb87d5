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

// IPv4IsMulticast reports a class D address (224.0.0.0/4).
func IPv4IsMulticast(a [4]byte) bool { return a[0]&0xf0 == 0xe0 }

// IPv4IsLbcast reports the limited broadcast address 255.255.255.255.
func IPv4IsLbcast(a [4]byte) bool { return a == [4]byte{255, 255, 255, 255} }

// IPv4IsZeronet is ipv4_is_zeronet as Linux 6.x has it: the
// address 0.0.0.0 only (the rest of 0.0.0.0/8 became unicast, RFC 1122's
// "this network" notwithstanding); older kernels took the whole /8.
func IPv4IsZeronet(a [4]byte) bool { return a == [4]byte{} }

// IPv4IsLoopback reports an address in 127.0.0.0/8.
func IPv4IsLoopback(a [4]byte) bool { return a[0] == 127 }
