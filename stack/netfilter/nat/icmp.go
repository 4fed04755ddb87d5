package nat

import (
	"vnic/header"
	"vnic/stack"
	"vnic/stack/netfilter/conntrack"
)

// icmpReplyTranslation is nf_nat_icmp_reply_translation: an ICMP error
// RELATED to ct quotes a packet of ct as it was on the wire on the far
// side; where the error crosses the NAT the quote is rewritten back (its
// addresses, ports and checksums, by the other direction's tuple and the
// opposite end) and the outer header is made to look like the reply to
// the packet the NAT saw. The ICMP checksum is then summed again. It
// reports false when the error is to be dropped: too short, a bad
// checksum, or a redirect about a connection NAT rewrites.
func (n *Net) icmpReplyTranslation(skb *stack.SKB, ct *conntrack.Conn, info conntrack.Info, hook stack.NFHook) bool {
	d := skb.Data()
	hdrlen := header.IPv4(d).HeaderLen()
	if len(d) < hdrlen+header.ICMPv4HeaderLen+header.IPv4MinHeaderLen {
		return false
	}
	if !icmpChecksumOK(skb, hook, hdrlen) {
		return false
	}
	if d[hdrlen] == header.ICMPv4Redirect {
		st := ct.Status()
		if st&natDoneMask != natDoneMask || st&natMask != 0 {
			return false
		}
	}
	m, dir := HookManip(hook), info.Dir()
	statusbit := natBit(m)
	if dir == conntrack.Reply {
		statusbit ^= natMask
	}
	if ct.Status()&statusbit == 0 {
		return true
	}
	other := ct.Tuple(1 - dir)
	if !manipIPv4(skb, hdrlen+header.ICMPv4HeaderLen, &other, m.other()) {
		return false
	}
	if skb.IPSummed != stack.ChecksumPartial {
		icmp := header.ICMPv4(skb.Data()[hdrlen:])
		icmp.SetChecksum(0)
		icmp.SetChecksum(^header.Fold(skbSum(skb, hdrlen)))
	}
	target, ok := other.Invert()
	if !ok {
		return false
	}
	target.Proto = header.ProtoICMP
	return manipIPv4(skb, 0, &target, m)
}

// icmpChecksumOK is nf_ip_checksum for ICMP: a packet nobody verified is
// summed in full (at any hook); one whose device summed it
// (CHECKSUM_COMPLETE) is checked by that sum at PRE_ROUTING and
// LOCAL_IN; a verified or locally made one passes.
func icmpChecksumOK(skb *stack.SKB, hook stack.NFHook, off int) bool {
	switch skb.IPSummed {
	case stack.ChecksumComplete:
		if hook != stack.NFPreRouting && hook != stack.NFLocalIn {
			return true
		}
		if header.Fold(uint64(skb.Csum)) == 0xffff {
			skb.IPSummed = stack.ChecksumUnnecessary
			return true
		}
		fallthrough
	case stack.ChecksumNone:
		return header.Fold(skbSum(skb, off)) == 0xffff
	}
	return true
}
