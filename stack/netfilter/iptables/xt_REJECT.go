package iptables

import (
	"encoding/binary"

	"vnic/header"
	"vnic/stack"
	"vnic/stack/ipv4"
	"vnic/stack/ipv4/fib"
	"vnic/stack/netfilter/conntrack"
)

// RejectInfo is the REJECT target (struct ipt_reject_info).
type RejectInfo struct{ With uint32 }

// What REJECT answers with (enum ipt_reject_with).
const (
	RejectNetUnreachable   = 0
	RejectHostUnreachable  = 1
	RejectProtoUnreachable = 2
	RejectPortUnreachable  = 3
	RejectEchoReply        = 4 // no longer supported
	RejectNetProhibited    = 5
	RejectHostProhibited   = 6
	RejectTCPReset         = 7
	RejectAdminProhibited  = 8
)

// ICMP destination unreachable codes.
const (
	icmpDestUnreach  = 3
	icmpNetUnreach   = 0
	icmpHostUnreach  = 1
	icmpProtUnreach  = 2
	icmpPortUnreach  = 3
	icmpNetAno       = 9
	icmpHostAno      = 10
	icmpPktFiltered  = 13
	tcpFlagFIN       = 0x01
	tcpFlagSYN       = 0x02
	tcpFlagRST       = 0x04
	tcpFlagACK       = 0x10
	ipProtoTCP       = 6
	ipProtoUDP       = 17
	rejectRouteFlags = ipv4.RTCFBroadcast | ipv4.RTCFMulticast
)

type rejectTarget struct {
	RejectInfo
	host *stack.Host
}

// Target is reject_tg: the answer sent, the packet dropped.
func (t *rejectTarget) Target(p Param) Verdict {
	in := ipv4.Of(t.host)
	if in == nil {
		return Drop
	}
	code := -1
	switch t.With {
	case RejectNetUnreachable:
		code = icmpNetUnreach
	case RejectHostUnreachable:
		code = icmpHostUnreach
	case RejectProtoUnreachable:
		code = icmpProtUnreach
	case RejectPortUnreachable:
		code = icmpPortUnreach
	case RejectNetProhibited:
		code = icmpNetAno
	case RejectHostProhibited:
		code = icmpHostAno
	case RejectAdminProhibited:
		code = icmpPktFiltered
	case RejectTCPReset:
		sendReset(in, p)
	}
	if code >= 0 {
		sendUnreach(in, p, uint8(code))
	}
	return Drop
}

// fillDst is nf_reject_fill_skb_dst: a packet before routing is given the
// route back to its source.
func fillDst(in *ipv4.Inet, p Param) bool {
	if p.State.Hook != stack.NFPreRouting && p.SKB.Dst() != nil {
		return true
	}
	rt, err := in.RouteOutput(&fib.FlowKey{Dst: p.IP.Src()})
	if err != nil {
		return false
	}
	p.SKB.SetDst(&rt.Dst)
	return true
}

// checksumOK is what nf_send_unreach and nf_reject_ip_tcphdr_get ask
// before answering: a checksum the device or the sender vouches for, or
// one that verifies (for TCP and for UDP with a checksum).
func checksumOK(p Param, proto uint8) bool {
	switch p.SKB.IPSummed {
	case stack.ChecksumUnnecessary, stack.ChecksumPartial:
		return true
	}
	l4 := p.IP[p.THOff:]
	if tl := int(p.IP.TotalLen()); tl >= p.THOff && tl <= len(p.IP) {
		l4 = p.IP[p.THOff:tl]
	}
	switch proto {
	case ipProtoTCP:
		return header.L4ChecksumValid(p.IP, l4)
	case ipProtoUDP:
		return len(l4) < 8 || binary.BigEndian.Uint16(l4[6:8]) == 0 || header.L4ChecksumValid(p.IP, l4)
	}
	return true
}

// sendUnreach is nf_send_unreach: an ICMP destination unreachable about
// the packet, unless it is a non-first fragment or its checksum fails.
func sendUnreach(in *ipv4.Inet, p Param, code uint8) {
	if p.FragOff != 0 {
		return
	}
	if p.State.Hook == stack.NFPreRouting && !fillDst(in, p) {
		return
	}
	if !checksumOK(p, p.IP.Protocol()) {
		return
	}
	in.ICMPSend(p.SKB, icmpDestUnreach, code, 0)
}

// sendReset is nf_send_reset: a TCP RST to the packet's source, its
// sequence numbers as RFC 793 asks (the ACK's number for a segment with
// ACK, else an ACK of everything the segment occupied), routed and sent
// as a local packet.
func sendReset(in *ipv4.Inet, p Param) {
	if p.FragOff != 0 || p.IP.Protocol() != ipProtoTCP {
		return
	}
	if !fillDst(in, p) {
		return
	}
	if rt := ipv4.SkbRtable(p.SKB); rt != nil && rt.Flags&rejectRouteFlags != 0 {
		return
	}
	th, ok := header4(p, 20)
	if !ok {
		return
	}
	oth := header.TCP(th)
	if oth.Flags()&tcpFlagRST != 0 || !checksumOK(p, ipProtoTCP) {
		return
	}
	saddr, daddr := p.IP.Dst(), p.IP.Src()
	fl := fib.FlowKey{Dst: daddr, Proto: ipProtoTCP}
	if in.IsLocalAddr(saddr) {
		fl.Src = saddr
	}
	rt, err := in.RouteOutput(&fl)
	if err != nil {
		return
	}
	var b [20]byte
	nth := header.TCP(b[:])
	nth.SetSrcPort(oth.DstPort())
	nth.SetDstPort(oth.SrcPort())
	nth.SetHeaderLen(20)
	flags := uint8(tcpFlagRST)
	if oth.Flags()&tcpFlagACK != 0 {
		nth.SetSeq(oth.Ack())
	} else {
		olen := int(p.IP.TotalLen()) - p.THOff
		seg := uint32(olen - oth.HeaderLen())
		if oth.Flags()&tcpFlagSYN != 0 {
			seg++
		}
		if oth.Flags()&tcpFlagFIN != 0 {
			seg++
		}
		nth.SetAck(oth.Seq() + seg)
		flags |= tcpFlagACK
	}
	nth.SetFlags(flags)
	acc := header.PseudoHeaderIPv4(saddr, daddr, ipProtoTCP, 20)
	nth.SetChecksum(^header.Fold(header.Sum(b[:], acc)))
	ttl := in.Config().DefaultTTL
	h := ipv4.IPHeader{Src: saddr, Dst: daddr, Proto: ipProtoTCP, TTL: ttl, DF: true}
	// nf_send_reset's nf_ct_attach: the reset belongs to the connection
	// of the segment it answers, in the other direction, so that NAT
	// treats it as that connection's (a reset for a connection not yet
	// through POSTROUTING runs the nat table there, as Linux's does).
	if ct, info := conntrack.Get(p.SKB); ct != nil {
		h.CT, h.CTInfo = ct, uint8(conntrack.Related)
		if info.Dir() == conntrack.Original {
			h.CTInfo = uint8(conntrack.RelatedReply)
		}
	}
	in.SendDatagram(rt, h, b[:], nil, 0)
}

func init() {
	RegisterTarget(&TargetType{Name: "REJECT", Table: "filter", Hooks: Hooks(stack.NFLocalIn, stack.NFForward, stack.NFLocalOut),
		NewInfo: func() any { return new(RejectInfo) },
		Check: func(c *CheckParam, info any) (Targeter, error) {
			i := info.(*RejectInfo)
			switch {
			case i.With == RejectEchoReply:
				return nil, checkErr("x_tables: REJECT: ECHOREPLY no longer supported.")
			case i.With > RejectAdminProhibited:
				return nil, checkErr("x_tables: REJECT: unknown reject type %d", i.With)
			case i.With == RejectTCPReset && (c.Rule.IP.Proto != ipProtoTCP || c.Rule.IP.InvFlags&InvProto != 0):
				return nil, checkErr("x_tables: REJECT: TCP_RESET invalid for non-tcp")
			}
			return &rejectTarget{RejectInfo: *i, host: c.Host}, nil
		}})
}
