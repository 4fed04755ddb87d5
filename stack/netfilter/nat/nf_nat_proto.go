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
	// End m of the inverse of the other direction's tuple is that
	// tuple's other end: the source its destination, the destination
	// its source (an ICMP identifier its own).
	return manip(skb, 0, ct.Tuple(dir^1), m, m^1)
}

// manipIPv4 is nf_nat_ipv4_manip_pkt on the IPv4 header at iphoff of the
// skb's data: end m gets t's address and port (an ICMP query's identifier
// is t's source port whichever end).
func manipIPv4(skb *stack.SKB, iphoff int, t *conntrack.Tuple, m Manip) bool {
	return manip(skb, iphoff, *t, m, m)
}

// manip is nf_nat_ipv4_manip_pkt: end m of the IPv4 header at iphoff gets
// the address of t's end from, and its transport header that end's port
// (an ICMP query's identifier t's source port whichever end) — the
// transport part first (l4proto_manip_pkt: one NAT knows no ports of
// passes unchanged), then the address with the header's checksum. The
// headers are found once and rewritten in place.
func manip(skb *stack.SKB, iphoff int, t conntrack.Tuple, m, from Manip) bool {
	proto, addr, p := t.Proto, t.Src, t.SrcPort
	if from == ManipDst {
		addr, p = t.Dst, t.DstPort
	}
	if proto == header.ProtoICMP {
		p = t.SrcPort
	}
	iph := skb.Data()
	if len(iph) < iphoff+header.IPv4MinHeaderLen {
		return false
	}
	if iphoff != 0 { // a quoted header; the packet's own is at 0
		iph = iph[iphoff:]
	}
	ihl := int(iph[0]&0xf) * 4
	if ihl < header.IPv4MinHeaderLen || ihl > len(iph) {
		return false
	}
	aoff, poff := ipv4Src, 0
	if m == ManipDst {
		aoff, poff = ipv4Dst, 2
	}
	a := iph[aoff : aoff+4]
	c := change{oldAddr: binary.BigEndian.Uint32(a), newAddr: be32(addr), newPort: p}
	l4 := iph[ihl:]
	switch proto {
	case header.ProtoTCP:
		// tcp_manip_pkt. Only 8 bytes of a TCP header are sure to be
		// there (the quote of an ICMP error has no more): with fewer
		// than 20 the port changes and the checksum, out of reach, is
		// left.
		full := skb.TotalLen() >= iphoff+ihl+header.TCPMinHeaderLen
		if len(l4) < 8 || full && len(l4) < header.TCPMinHeaderLen {
			return false
		}
		pf := l4[poff : poff+2]
		c.oldPort = binary.BigEndian.Uint16(pf)
		binary.BigEndian.PutUint16(pf, p)
		if full {
			f := l4[header.TCPChecksumOffset : header.TCPChecksumOffset+2]
			binary.BigEndian.PutUint16(f, l4Check(skb, binary.BigEndian.Uint16(f), &c, true))
		}
	case header.ProtoUDP:
		// udp_manip_pkt: a zero checksum (none) stays zero; a computed
		// one that comes out zero is sent as 0xffff (CSUM_MANGLED_0).
		if len(l4) < header.UDPHeaderLen {
			return false
		}
		pf := l4[poff : poff+2]
		c.oldPort = binary.BigEndian.Uint16(pf)
		f := l4[header.UDPChecksumOffset : header.UDPChecksumOffset+2]
		if check := binary.BigEndian.Uint16(f); check != 0 {
			if check = l4Check(skb, check, &c, true); check == 0 {
				check = 0xffff
			}
			binary.BigEndian.PutUint16(f, check)
		}
		binary.BigEndian.PutUint16(pf, p)
	case header.ProtoICMP:
		if !icmpManip(skb, l4, p) {
			return false
		}
	}
	cf := iph[ipv4Csum : ipv4Csum+2]
	binary.BigEndian.PutUint16(cf, csumReplace4(binary.BigEndian.Uint16(cf), c.oldAddr, c.newAddr))
	binary.BigEndian.PutUint32(a, c.newAddr)
	return true
}

// Offsets in the IPv4 header.
const (
	ipv4Csum = 10
	ipv4Src  = 12
	ipv4Dst  = 16
)

// icmpQuery is the ICMP types icmp_manip_pkt rewrites the identifier of.
func icmpQuery(typ uint8) bool {
	switch typ {
	case header.ICMPv4Echo, header.ICMPv4EchoReply, header.ICMPv4Timestamp, header.ICMPv4TimestampReply,
		header.ICMPv4InfoRequest, header.ICMPv4InfoReply, header.ICMPv4AddrMask, header.ICMPv4AddrMaskReply:
		return true
	}
	return false
}

// icmpManip is icmp_manip_pkt on the ICMP header l4: a query's or
// reply's identifier becomes id (either end: it names both directions),
// its checksum following (inet_proto_csum_replace2: nothing under
// CHECKSUM_PARTIAL); an error is left.
func icmpManip(skb *stack.SKB, l4 []byte, id uint16) bool {
	if len(l4) < header.ICMPv4HeaderLen {
		return false
	}
	icmp := header.ICMPv4(l4)
	if !icmpQuery(icmp.Type()) {
		return true
	}
	if skb.IPSummed != stack.ChecksumPartial {
		icmp.SetChecksum(csumReplace2(icmp.Checksum(), icmp.Ident(), id))
	}
	icmp.SetIdent(id)
	return true
}
