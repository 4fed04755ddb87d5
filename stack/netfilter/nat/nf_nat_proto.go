package nat

import (
	"encoding/binary"

	"vnic/header"
	"vnic/stack"
	"vnic/stack/netfilter/conntrack"
)

// Rewriting packets (nf_nat_proto.c): the addresses and ports of end m
// made the target tuple's, every checksum updated incrementally.

// ManipPacket is nf_nat_manip_pkt: the packet, of direction dir of ct,
// gets end m of the inverse of the other direction's tuple — what the
// other end expects to see. It reports false (the packet is to be
// dropped) when the headers are too short to rewrite.
func ManipPacket(skb *stack.SKB, ct *conntrack.Conn, m Manip, dir conntrack.Dir) bool {
	target, _ := ct.Tuple(1 - dir).Invert()
	return manipIPv4(skb, 0, &target, m)
}

// manipIPv4 is nf_nat_ipv4_manip_pkt on the IPv4 header at iphoff of the
// skb's data: the transport part first, then the address with the
// header's checksum.
func manipIPv4(skb *stack.SKB, iphoff int, t *conntrack.Tuple, m Manip) bool {
	d := skb.Data()
	if len(d) < iphoff+header.IPv4MinHeaderLen {
		return false
	}
	iph := header.IPv4(d[iphoff:])
	ihl := iph.HeaderLen()
	if ihl < header.IPv4MinHeaderLen || iphoff+ihl > len(d) {
		return false
	}
	if !manipL4(skb, iphoff, iphoff+ihl, t, m) {
		return false
	}
	old, new := iph.Src(), t.Src
	if m == ManipDst {
		old, new = iph.Dst(), t.Dst
	}
	o, w := words(old), words(new)
	iph.SetChecksum(csumReplace(iph.Checksum(), o[:], w[:]))
	if m == ManipSrc {
		iph.SetSrc(new)
	} else {
		iph.SetDst(new)
	}
	return true
}

// manipL4 is l4proto_manip_pkt: the transport header at hdroff, by the
// tuple's protocol; one NAT knows no ports of passes unchanged.
func manipL4(skb *stack.SKB, iphoff, hdroff int, t *conntrack.Tuple, m Manip) bool {
	switch t.Proto {
	case header.ProtoTCP:
		return tcpManip(skb, iphoff, hdroff, t, m)
	case header.ProtoUDP:
		return udpManip(skb, iphoff, hdroff, t, m)
	case header.ProtoICMP:
		return icmpManip(skb, hdroff, t)
	}
	return true
}

// portPtr is the port end m rewrites and the one it gets.
func portPtr(l4 []byte, t *conntrack.Tuple, m Manip) ([]byte, uint16) {
	if m == ManipSrc {
		return l4[0:2], t.SrcPort
	}
	return l4[2:4], t.DstPort
}

// csumUpdate is nf_nat_ipv4_csum_update: the transport checksum at field
// follows end m's address change (a pseudo-header word pair).
func csumUpdate(skb *stack.SKB, iphoff int, field []byte, t *conntrack.Tuple, m Manip) {
	iph := header.IPv4(skb.Data()[iphoff:])
	old, new := iph.Src(), t.Src
	if m == ManipDst {
		old, new = iph.Dst(), t.Dst
	}
	o, w := words(old), words(new)
	protoCsumReplace(skb, field, o[:], w[:], true)
}

// tcpManip is tcp_manip_pkt. Only 8 bytes of a TCP header are sure to be
// there (the quote of an ICMP error has no more): with fewer than 20 the
// port changes and the checksum, out of reach, is left.
func tcpManip(skb *stack.SKB, iphoff, hdroff int, t *conntrack.Tuple, m Manip) bool {
	hdrsize := 8
	if skb.TotalLen() >= hdroff+header.TCPMinHeaderLen {
		hdrsize = header.TCPMinHeaderLen
	}
	d := skb.Data()
	if len(d) < hdroff+hdrsize {
		return false
	}
	l4 := d[hdroff:]
	pp, newport := portPtr(l4, t, m)
	oldport := binary.BigEndian.Uint16(pp)
	binary.BigEndian.PutUint16(pp, newport)
	if hdrsize < header.TCPMinHeaderLen {
		return true
	}
	field := l4[header.TCPChecksumOffset : header.TCPChecksumOffset+2]
	csumUpdate(skb, iphoff, field, t, m)
	protoCsumReplace(skb, field, []uint16{oldport}, []uint16{newport}, false)
	return true
}

// udpManip is udp_manip_pkt: a zero checksum (none) stays zero; a
// computed one that comes out zero is sent as 0xffff (CSUM_MANGLED_0).
func udpManip(skb *stack.SKB, iphoff, hdroff int, t *conntrack.Tuple, m Manip) bool {
	d := skb.Data()
	if len(d) < hdroff+header.UDPHeaderLen {
		return false
	}
	l4 := d[hdroff:]
	pp, newport := portPtr(l4, t, m)
	field := l4[header.UDPChecksumOffset : header.UDPChecksumOffset+2]
	if binary.BigEndian.Uint16(field) != 0 {
		oldport := binary.BigEndian.Uint16(pp)
		csumUpdate(skb, iphoff, field, t, m)
		protoCsumReplace(skb, field, []uint16{oldport}, []uint16{newport}, false)
		if binary.BigEndian.Uint16(field) == 0 {
			binary.BigEndian.PutUint16(field, 0xffff)
		}
	}
	binary.BigEndian.PutUint16(pp, newport)
	return true
}

// icmpQuery is the ICMP types icmp_manip_pkt rewrites the identifier of.
func icmpQuery(typ uint8) bool {
	switch typ {
	case header.ICMPv4Echo, header.ICMPv4EchoReply, header.ICMPv4Timestamp, header.ICMPv4TimestampReply,
		header.ICMPv4InfoRequest, header.ICMPv4InfoReply, header.ICMPv4AddrMask, header.ICMPv4AddrMaskReply:
		return true
	}
	return false
}

// icmpManip is icmp_manip_pkt: a query's or reply's identifier becomes
// the tuple's (either end: it names both directions); an error is left.
func icmpManip(skb *stack.SKB, hdroff int, t *conntrack.Tuple) bool {
	d := skb.Data()
	if len(d) < hdroff+header.ICMPv4HeaderLen {
		return false
	}
	icmp := header.ICMPv4(d[hdroff:])
	if !icmpQuery(icmp.Type()) {
		return true
	}
	field := icmp[2:4]
	protoCsumReplace(skb, field, []uint16{icmp.Ident()}, []uint16{t.SrcPort}, false)
	icmp.SetIdent(t.SrcPort)
	return true
}
