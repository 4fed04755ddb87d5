package nat

import (
	"testing"

	"vnic/header"
	"vnic/stack"
	"vnic/stack/netfilter/conntrack"
)

// sound reports whether b is an IPv4 datagram whose header checksum is
// right, and whether its transport checksum (TCP, UDP with one, an ICMP
// message) is.
func sound(b []byte) (ip, l4 bool) {
	h := header.IPv4(b)
	if len(b) < header.IPv4MinHeaderLen || !h.IsValid() || int(h.TotalLen()) != len(b) || h.HeaderLen() < 20 || h.HeaderLen() > len(b) || !h.ChecksumValid() {
		return false, false
	}
	seg := b[h.HeaderLen():]
	switch h.Protocol() {
	case header.ProtoTCP:
		return true, len(seg) >= header.TCPMinHeaderLen && header.L4ChecksumValid(h, seg)
	case header.ProtoUDP:
		return true, len(seg) >= header.UDPHeaderLen && header.UDP(seg).Checksum() != 0 && header.L4ChecksumValid(h, seg)
	case header.ProtoICMP:
		return true, len(seg) >= header.ICMPv4HeaderLen && header.Checksum(seg) == 0
	}
	return true, false
}

// FuzzManip rewrites arbitrary packets, as packets and as the quote of an
// ICMP error, and translates them as errors about a NATed connection:
// nothing panics, and a packet whose checksums were right has them right
// after a rewrite that succeeded.
func FuzzManip(f *testing.F) {
	r := newRig(f, 1)
	ct, _ := r.bind(udpFlow(addrA, addrD, 5353, 53), single(addrN), ManipSrc)
	for _, p := range []pkt{
		tcpFlow(addrA, addrD, 40000, 80),
		udpFlow(addrA, addrD, 5353, 53),
		{src: addrA, dst: addrD, proto: header.ProtoICMP, icmpType: header.ICMPv4Echo, sport: 9, payload: 8},
		{src: addrA, dst: addrD, proto: 47, payload: 8},
	} {
		f.Add(p.bytes(), uint8(0), uint32(0xc6130001), uint32(0xc6130064), uint16(1), uint16(2))
	}
	quoted := udpFlow(addrN, addrD, 5353, 53).bytes()
	f.Add(icmpError(addrD, addrN, header.ICMPv4DstUnreachable, 3, quoted, 48), uint8(1), uint32(1), uint32(2), uint16(3), uint16(4))
	f.Fuzz(func(t *testing.T, b []byte, mode uint8, src, dst uint32, sport, dport uint16) {
		if len(b) > 4096 {
			return
		}
		proto := uint8(header.ProtoTCP)
		if len(b) > 9 {
			proto = b[9]
		}
		tu := conntrack.Tuple{Src: addr4(src), Dst: addr4(dst), SrcPort: sport, DstPort: dport, Proto: proto}
		m := Manip(mode & 1)
		summed := []uint8{stack.ChecksumNone, stack.ChecksumUnnecessary, stack.ChecksumPartial, stack.ChecksumComplete}[mode>>1&3]
		ipOK, l4OK := sound(b)

		skb := r.skb(b, r.lan)
		skb.IPSummed = summed
		if manipIPv4(skb, 0, &tu, m) && ipOK {
			ip2, l42 := sound(skb.Data())
			if !ip2 {
				t.Fatalf("header checksum broken: %x → %x", b, skb.Data())
			}
			if l4OK && summed != stack.ChecksumPartial && !l42 {
				t.Fatalf("transport checksum broken: %x → %x", b, skb.Data())
			}
		}
		skb.Free()

		// As the quote of an error, and as an error.
		for _, off := range []int{header.IPv4MinHeaderLen + header.ICMPv4HeaderLen, 0} {
			skb := r.skb(b, r.lan)
			skb.IPSummed = summed
			if off != 0 {
				manipIPv4(skb, off, &tu, m)
			} else if len(b) >= header.IPv4MinHeaderLen && header.IPv4(b).HeaderLen() >= 20 {
				info := conntrack.Info(conntrack.RelatedReply)
				if mode&8 != 0 {
					info = conntrack.Related
				}
				hook := []stack.NFHook{stack.NFPreRouting, stack.NFPostRouting, stack.NFLocalIn, stack.NFLocalOut}[mode>>4&3]
				if r.n.icmpReplyTranslation(skb, ct, info, hook) && ipOK && summed != stack.ChecksumPartial {
					if ip2, l42 := sound(skb.Data()); !ip2 || (l4OK && !l42) {
						t.Fatalf("translated error's checksums broken: %x → %x", b, skb.Data())
					}
				}
			}
			skb.Free()
		}
	})
}
