package header

import (
	"encoding/binary"
	"math/bits"
)

// Sum adds b to the running ones-complement sum acc (RFC 1071) and
// returns the unfolded result. An odd trailing byte is padded with zero,
// so Sum must be called on even-length pieces except the last.
//
// Whole 64-byte blocks are summed as little-endian 64-bit words in one
// carry chain and the folded sum byte-swapped (RFC 1071's byte-order
// independence: a sum of byte-swapped words is the byte-swapped sum), which
// spares a byte swap a word; the rest, and shorter pieces (headers), as
// big-endian words directly, which costs no fold.
func Sum(b []byte, acc uint64) uint64 {
	var carry uint64
	if len(b) >= 64 {
		var le uint64
		n := len(b) &^ 63
		for i := 0; i < n; i += 64 {
			x := b[i : i+64 : i+64]
			le, carry = bits.Add64(le, binary.LittleEndian.Uint64(x[0:8]), carry)
			le, carry = bits.Add64(le, binary.LittleEndian.Uint64(x[8:16]), carry)
			le, carry = bits.Add64(le, binary.LittleEndian.Uint64(x[16:24]), carry)
			le, carry = bits.Add64(le, binary.LittleEndian.Uint64(x[24:32]), carry)
			le, carry = bits.Add64(le, binary.LittleEndian.Uint64(x[32:40]), carry)
			le, carry = bits.Add64(le, binary.LittleEndian.Uint64(x[40:48]), carry)
			le, carry = bits.Add64(le, binary.LittleEndian.Uint64(x[48:56]), carry)
			le, carry = bits.Add64(le, binary.LittleEndian.Uint64(x[56:64]), carry)
		}
		b = b[n:]
		le += carry
		if le < carry {
			le++
		}
		acc, carry = bits.Add64(acc, uint64(bits.ReverseBytes16(Fold(le))), 0)
	}
	for len(b) >= 8 {
		// Big-endian 64-bit words: the folded result equals the sum of
		// big-endian 16-bit words.
		acc, carry = bits.Add64(acc, binary.BigEndian.Uint64(b), carry)
		b = b[8:]
	}
	acc += carry
	if acc < carry {
		acc++
	}
	if len(b) >= 4 {
		acc, carry = bits.Add64(acc, uint64(binary.BigEndian.Uint32(b)), 0)
		acc += carry
		b = b[4:]
	}
	if len(b) >= 2 {
		acc, carry = bits.Add64(acc, uint64(binary.BigEndian.Uint16(b)), 0)
		acc += carry
		b = b[2:]
	}
	if len(b) == 1 {
		acc, carry = bits.Add64(acc, uint64(b[0])<<8, 0)
		acc += carry
	}
	return acc
}

// Fold folds a running sum to 16 bits (not complemented).
func Fold(acc uint64) uint16 {
	acc = (acc >> 32) + (acc & 0xffffffff)
	acc = (acc >> 32) + (acc & 0xffffffff)
	acc = (acc >> 16) + (acc & 0xffff)
	acc = (acc >> 16) + (acc & 0xffff)
	acc = (acc >> 16) + (acc & 0xffff)
	return uint16(acc)
}

// Checksum returns the Internet checksum of b: the complement of the folded sum.
// A header whose checksum field is correct gives 0.
func Checksum(b []byte) uint16 { return ^Fold(Sum(b, 0)) }

// PseudoHeaderIPv4 returns the unfolded sum of the IPv4 pseudo-header for
// an L4 segment of length l4len with protocol proto.
func PseudoHeaderIPv4(src, dst [4]byte, proto uint8, l4len uint16) uint64 {
	return uint64(binary.BigEndian.Uint16(src[0:2])) + uint64(binary.BigEndian.Uint16(src[2:4])) +
		uint64(binary.BigEndian.Uint16(dst[0:2])) + uint64(binary.BigEndian.Uint16(dst[2:4])) +
		uint64(proto) + uint64(l4len)
}

// Update16 returns checksum check updated for a 16-bit field changing from
// old to new (RFC 1624, eqn. 3: HC' = ~(~HC + ~m + m')).
func Update16(check, old, new uint16) uint16 {
	acc := uint64(^check) + uint64(^old) + uint64(new)
	return ^Fold(acc)
}

// L4ChecksumValid verifies the TCP or UDP checksum of segment l4 (header
// and payload) carried in IPv4 packet ip. A UDP checksum of 0 means none
// and is valid.
func L4ChecksumValid(ip IPv4, l4 []byte) bool {
	if ip.Protocol() == ProtoUDP && len(l4) >= UDPHeaderLen && UDP(l4).Checksum() == 0 {
		return true
	}
	acc := PseudoHeaderIPv4(ip.Src(), ip.Dst(), ip.Protocol(), uint16(len(l4)))
	return ^Fold(Sum(l4, acc)) == 0
}

// L4Checksum computes the TCP or UDP checksum of l4 (whose checksum field
// must be zero) in IPv4 packet ip; a UDP result of 0 is returned as 0xFFFF.
func L4Checksum(ip IPv4, l4 []byte) uint16 {
	acc := PseudoHeaderIPv4(ip.Src(), ip.Dst(), ip.Protocol(), uint16(len(l4)))
	c := ^Fold(Sum(l4, acc))
	if c == 0 && ip.Protocol() == ProtoUDP {
		c = 0xFFFF
	}
	return c
}
