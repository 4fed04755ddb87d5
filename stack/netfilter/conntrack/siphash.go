package conntrack

import "math/bits"

// sipRound is one SipRound of the SipHash state.
func sipRound(v0, v1, v2, v3 uint64) (uint64, uint64, uint64, uint64) {
	v0 += v1
	v1 = bits.RotateLeft64(v1, 13)
	v1 ^= v0
	v0 = bits.RotateLeft64(v0, 32)
	v2 += v3
	v3 = bits.RotateLeft64(v3, 16)
	v3 ^= v2
	v0 += v3
	v3 = bits.RotateLeft64(v3, 21)
	v3 ^= v0
	v2 += v1
	v1 = bits.RotateLeft64(v1, 17)
	v1 ^= v2
	v2 = bits.RotateLeft64(v2, 32)
	return v0, v1, v2, v3
}

// hsiphash is SipHash-1-3 (one compression round a block, three
// finalization rounds: what Linux's hsiphash is on 64-bit machines) under
// the key (k0, k1) of the tuple's 13 bytes — the addresses, the ports in
// network order, the protocol — as its two little-endian blocks: the
// addresses, then the rest with the length in the top byte, as SipHash
// pads its last block. The blocks are read here, not by a caller: a
// function that calls none needs no frame.
func hsiphash(k0, k1 uint64, t *Tuple) uint64 {
	m0 := uint64(le32(t.Src)) | uint64(le32(t.Dst))<<32
	m1 := uint64(bits.ReverseBytes16(t.SrcPort)) | uint64(bits.ReverseBytes16(t.DstPort))<<16 |
		uint64(t.Proto)<<32 | tupleHashLen<<56
	v0 := k0 ^ 0x736f6d6570736575
	v1 := k1 ^ 0x646f72616e646f6d
	v2 := k0 ^ 0x6c7967656e657261
	v3 := k1 ^ 0x7465646279746573
	v3 ^= m0
	v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
	v0 ^= m0
	v3 ^= m1
	v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
	v0 ^= m1
	v2 ^= 0xff
	v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
	v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
	v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
	return v0 ^ v1 ^ v2 ^ v3
}

// tupleHashLen is how many bytes of a tuple the hash reads.
const tupleHashLen = 13

// le32 is the four bytes as a little-endian word (SipHash's byte order).
func le32(b [4]byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}
