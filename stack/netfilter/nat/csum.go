package nat

import (
	"vnic/header"
	"vnic/stack"
)

// The checksum updates of a rewrite (include/net/checksum.h and
// net/core/utils.c's inet_proto_csum_replace*), computed on the fields
// as big-endian numbers — the one's complement sum does not depend on
// the byte order, so the bytes are the ones Linux writes.

// change is one end's rewrite: its address (two pseudo-header words)
// and its port or identifier (a word of the segment).
type change struct {
	oldAddr, newAddr uint32
	oldPort, newPort uint16
}

// csumReplace4 is csum_replace4 (and csum_replace2, which Linux computes
// through it): checksum check after the 32-bit field old became new. The
// sum is never zero (Linux's ~csum_unfold carries 0xffff into it), so the
// result is the kernel's bit for bit.
func csumReplace4(check uint16, old, new uint32) uint16 {
	return ^fold(uint32(^check) + 0xffff + ^old>>16 + ^old&0xffff + new>>16 + new&0xffff)
}

// csumReplace2 is csum_replace2.
func csumReplace2(check, old, new uint16) uint16 {
	return ^fold(uint32(^check) + 0xffff + uint32(^old) + uint32(new))
}

// fold is header.Fold for a sum of at most 65537 16-bit words (it fits
// in 32 bits; two end-around carries bring it to 16): the same value.
func fold(acc uint32) uint16 {
	acc = acc>>16 + acc&0xffff
	return uint16(acc>>16 + acc&0xffff)
}

// l4Check is nf_csum_update then inet_proto_csum_replace2 on check, a
// TCP or UDP checksum: the address is a pseudo-header change, the port
// (when withPort) the segment's own. It returns the new checksum. Under
// CHECKSUM_PARTIAL the field holds the pseudo-header's sum for the device
// to finish: only the address moves it. Under CHECKSUM_COMPLETE the sum
// the device took of the segment (skb.Csum) follows the pseudo-header
// change the field absorbed. Done in one sum, the bits are those of
// Linux's two steps (both keep the canonical non-zero representative).
func l4Check(skb *stack.SKB, check uint16, c *change, withPort bool) uint16 {
	oa, na := c.oldAddr, c.newAddr
	addr := ^oa>>16 + ^oa&0xffff + na>>16 + na&0xffff
	if skb.IPSummed == stack.ChecksumPartial {
		return fold(uint32(check) + addr)
	}
	acc := uint32(^check) + 0xffff + addr
	if withPort {
		acc += uint32(^c.oldPort) + uint32(c.newPort)
	}
	if skb.IPSummed == stack.ChecksumComplete {
		acc := uint64(skb.Csum) + uint64(oa>>16) + uint64(oa&0xffff) + uint64(^na>>16) + uint64(^na&0xffff)
		skb.Csum = uint32(header.Fold(acc))
	}
	return ^fold(acc)
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
