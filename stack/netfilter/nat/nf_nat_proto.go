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
	target := inverse(ct.Tuple(1 - dir))
	return manipIPv4(skb, 0, &target, m)
}

// inverse is nf_ct_invert_tuple for what a rewrite reads of the target:
// the addresses and ports swapped, an ICMP identifier kept (the type,
// which Invert maps to its reply's, is not rewritten).
func inverse(o conntrack.Tuple) conntrack.Tuple {
	t := conntrack.Tuple{Src: o.Dst, Dst: o.Src, SrcPort: o.DstPort, DstPort: o.SrcPort, Proto: o.Proto}
	if o.Proto == header.ProtoICMP {
		t.SrcPort, t.DstPort = o.SrcPort, o.DstPort
	}
	return t
}

// manipIPv4 is nf_nat_ipv4_manip_pkt on the IPv4 header at iphoff of the
// skb's data: the transport part first, then the address with the
// header's checksum.
func manipIPv4(skb *stack.SKB, iphoff int, t *conntrack.Tuple, m Manip) bool {
	d := skb.Data()
	if len(d) < iphoff+header.IPv4MinHeaderLen {
		return false
	}
	iph := d[iphoff:]
	ihl := int(iph[0]&0xf) * 4
	if ihl < header.IPv4MinHeaderLen || iphoff+ihl > len(d) {
		return false
	}
	aoff, addr := ipv4Src, t.Src
	if m == ManipDst {
		aoff, addr = ipv4Dst, t.Dst
	}
	c := change{oldAddr: binary.BigEndian.Uint32(iph[aoff:]), newAddr: be32(addr)}
	if !manipL4(skb, iphoff+ihl, t, m, &c) {
		return false
	}
	binary.BigEndian.PutUint16(iph[ipv4Csum:], csumReplace4(binary.BigEndian.Uint16(iph[ipv4Csum:]), c.oldAddr, c.newAddr))
	binary.BigEndian.PutUint32(iph[aoff:], c.newAddr)
	return true
}

// Offsets in the IPv4 header.
const (
	ipv4Csum = 10
	ipv4Src  = 12
	ipv4Dst  = 16
)

// manipL4 is l4proto_manip_pkt: the transport header at hdroff, by the
// tuple's protocol; one NAT knows no ports of passes unchanged. c holds
// the address change the transport checksum follows.
func manipL4(skb *stack.SKB, hdroff int, t *conntrack.Tuple, m Manip, c *change) bool {
	switch t.Proto {
	case header.ProtoTCP:
		return tcpManip(skb, hdroff, t, m, c)
	case header.ProtoUDP:
		return udpManip(skb, hdroff, t, m, c)
	case header.ProtoICMP:
		return icmpManip(skb, hdroff, t)
	}
	return true
}

// port is the offset of the port end m rewrites and the one it gets.
func port(t *conntrack.Tuple, m Manip) (off int, p uint16) {
	if m == ManipSrc {
		return 0, t.SrcPort
	}
	return 2, t.DstPort
}

// tcpManip is tcp_manip_pkt. Only 8 bytes of a TCP header are sure to be
// there (the quote of an ICMP error has no more): with fewer than 20 the
// port changes and the checksum, out of reach, is left.
func tcpManip(skb *stack.SKB, hdroff int, t *conntrack.Tuple, m Manip, c *change) bool {
	hdrsize := 8
	if skb.TotalLen() >= hdroff+header.TCPMinHeaderLen {
		hdrsize = header.TCPMinHeaderLen
	}
	d := skb.Data()
	if len(d) < hdroff+hdrsize {
		return false
	}
	l4 := d[hdroff:]
	off, p := port(t, m)
	c.oldPort, c.newPort = binary.BigEndian.Uint16(l4[off:]), p
	binary.BigEndian.PutUint16(l4[off:], p)
	if hdrsize < header.TCPMinHeaderLen {
		return true
	}
	l4Update(skb, l4[header.TCPChecksumOffset:header.TCPChecksumOffset+2], c, true)
	return true
}

// udpManip is udp_manip_pkt: a zero checksum (none) stays zero; a
// computed one that comes out zero is sent as 0xffff (CSUM_MANGLED_0).
func udpManip(skb *stack.SKB, hdroff int, t *conntrack.Tuple, m Manip, c *change) bool {
	d := skb.Data()
	if len(d) < hdroff+header.UDPHeaderLen {
		return false
	}
	l4 := d[hdroff:]
	off, p := port(t, m)
	c.oldPort, c.newPort = binary.BigEndian.Uint16(l4[off:]), p
	field := l4[header.UDPChecksumOffset : header.UDPChecksumOffset+2]
	if binary.BigEndian.Uint16(field) != 0 {
		l4Update(skb, field, c, true)
		if binary.BigEndian.Uint16(field) == 0 {
			binary.BigEndian.PutUint16(field, 0xffff)
		}
	}
	binary.BigEndian.PutUint16(l4[off:], p)
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
// the tuple's (either end: it names both directions), its checksum
// following (inet_proto_csum_replace2: nothing under CHECKSUM_PARTIAL);
// an error is left.
func icmpManip(skb *stack.SKB, hdroff int, t *conntrack.Tuple) bool {
	d := skb.Data()
	if len(d) < hdroff+header.ICMPv4HeaderLen {
		return false
	}
	icmp := header.ICMPv4(d[hdroff:])
	if !icmpQuery(icmp.Type()) {
		return true
	}
	if skb.IPSummed != stack.ChecksumPartial {
		icmp.SetChecksum(csumReplace2(icmp.Checksum(), icmp.Ident(), t.SrcPort))
	}
	icmp.SetIdent(t.SrcPort)
	return true
}
