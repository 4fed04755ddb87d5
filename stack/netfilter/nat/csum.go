package nat

import (
	"encoding/binary"

	"vnic/header"
	"vnic/stack"
)

// The checksum updates of a rewrite (include/net/checksum.h and
// net/core/utils.c's inet_proto_csum_replace*), computed on the fields
// as big-endian numbers — the one's complement sum does not depend on
// the byte order, so the bytes are the ones Linux writes.

// csumReplace is csum_replace4 (and csum_replace2, which Linux computes
// as it): checksum check after the 16-bit words old became new. The sum
// is never zero (Linux's ~csum_unfold carries 0xffff into it), so the
// result is what the kernel's is bit for bit.
func csumReplace(check uint16, old, new []uint16) uint16 {
	acc := uint64(^check) + 0xffff
	for i := range old {
		acc += uint64(^old[i]) + uint64(new[i])
	}
	return ^header.Fold(acc)
}

// words splits a 32-bit field into its two 16-bit words.
func words(a [4]byte) [2]uint16 {
	return [2]uint16{binary.BigEndian.Uint16(a[0:2]), binary.BigEndian.Uint16(a[2:4])}
}

// protoCsumReplace is inet_proto_csum_replace4 (pseudo: old and new are
// pseudo-header words, the addresses) and inet_proto_csum_replace2
// (a port, in the segment itself) on the transport checksum at field.
// Under CHECKSUM_PARTIAL the field holds the pseudo-header's sum for the
// device to finish: only a pseudo-header change moves it. Under
// CHECKSUM_COMPLETE the sum the device took of the segment (skb.Csum)
// follows a pseudo-header change the field absorbed.
func protoCsumReplace(skb *stack.SKB, field []byte, old, new []uint16, pseudo bool) {
	check := binary.BigEndian.Uint16(field)
	if skb.IPSummed != stack.ChecksumPartial {
		binary.BigEndian.PutUint16(field, csumReplace(check, old, new))
		if skb.IPSummed == stack.ChecksumComplete && pseudo {
			acc := uint64(skb.Csum)
			for i := range old {
				acc += uint64(old[i]) + uint64(^new[i])
			}
			skb.Csum = uint32(header.Fold(acc))
		}
		return
	}
	if pseudo {
		acc := uint64(check)
		for i := range old {
			acc += uint64(^old[i]) + uint64(new[i])
		}
		binary.BigEndian.PutUint16(field, header.Fold(acc))
	}
}

// skbSum is skb_checksum from off to the end of the datagram, the
// frag_list's buffers included (a buffer may end mid-word: the next one's
// first byte is that word's low byte).
func skbSum(skb *stack.SKB, off int) uint64 {
	d := skb.Data()[off:]
	acc := header.Sum(d, 0)
	odd := len(d)&1 != 0
	for f := skb.FragList(); f != nil; f = f.FragList() {
		d := f.Data()
		acc = uint64(header.Fold(acc))
		if odd && len(d) > 0 {
			acc += uint64(d[0])
			d = d[1:]
			odd = false
		}
		acc = header.Sum(d, acc)
		odd = odd != (len(d)&1 != 0)
	}
	return acc
}
