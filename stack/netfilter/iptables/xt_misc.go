package iptables

import (
	"syscall"

	"vnic/stack"
	"vnic/stack/netfilter/conntrack"
)

// MultiportInfo is the multiport match (struct xt_multiport_v1): up to 15
// ports, Pflags[i] marking Ports[i], Ports[i+1] as a range.
type MultiportInfo struct {
	Flags  uint8 // MultiportSource, MultiportDestination, MultiportEither
	Count  uint8
	Ports  [MultiPorts]uint16
	Pflags [MultiPorts]uint8
	Invert uint8
}

// multiport constants (XT_MULTIPORT_*, XT_MULTI_PORTS).
const (
	MultiportSource      = 0
	MultiportDestination = 1
	MultiportEither      = 2
	MultiPorts           = 15
)

type multiportMatch struct{ MultiportInfo }

// Match is multiport_mt with ports_match_v1.
func (m *multiportMatch) Match(p Param) (bool, bool) {
	if p.FragOff != 0 {
		return false, false
	}
	pp, ok := header4(p, 4)
	if !ok {
		return false, true
	}
	src, dst := uint16(pp[0])<<8|uint16(pp[1]), uint16(pp[2])<<8|uint16(pp[3])
	inv := m.Invert != 0
	in := func(port, lo, hi uint16) bool { return port >= lo && port <= hi }
	for i := 0; i < int(m.Count) && i < MultiPorts; i++ {
		lo, hi := m.Ports[i], m.Ports[i]
		if m.Pflags[i] != 0 && i+1 < MultiPorts {
			i++
			hi = m.Ports[i]
		}
		switch m.Flags {
		case MultiportSource:
			if in(src, lo, hi) {
				return !inv, false
			}
		case MultiportDestination:
			if in(dst, lo, hi) {
				return !inv, false
			}
		case MultiportEither:
			if in(src, lo, hi) || in(dst, lo, hi) {
				return !inv, false
			}
		}
	}
	return inv, false
}

// CommentInfo is the comment match (struct xt_comment_info).
type CommentInfo struct{ Comment [256]byte }

type always struct{}

func (always) Match(Param) (bool, bool) { return true, false }

// LengthInfo is the length match (struct xt_length_info): the IP total
// length in Min..Max.
type LengthInfo struct {
	Min, Max uint16
	Invert   uint8
}

type lengthMatch struct{ LengthInfo }

func (m *lengthMatch) Match(p Param) (bool, bool) {
	n := p.IP.TotalLen()
	return (n >= m.Min && n <= m.Max) != (m.Invert != 0), false
}

// TTLInfo is the ttl match (struct ipt_ttl_info).
type TTLInfo struct {
	Mode uint8 // TTLEq, TTLNe, TTLLt, TTLGt
	TTL  uint8
}

// ttl modes (IPT_TTL_*).
const (
	TTLEq = 0
	TTLNe = 1
	TTLLt = 2
	TTLGt = 3
)

type ttlMatch struct{ TTLInfo }

func (m *ttlMatch) Match(p Param) (bool, bool) {
	ttl := p.IP.TTL()
	switch m.Mode {
	case TTLEq:
		return ttl == m.TTL, false
	case TTLNe:
		return ttl != m.TTL, false
	case TTLLt:
		return ttl < m.TTL, false
	default:
		return ttl > m.TTL, false
	}
}

// TOSInfo is the tos match, revision 1 (struct xt_tos_match_info).
type TOSInfo struct {
	Mask, Value uint8
	Invert      uint8
}

type tosMatch struct{ TOSInfo }

func (m *tosMatch) Match(p Param) (bool, bool) {
	return (p.IP.TOS()&m.Mask == m.Value) != (m.Invert != 0), false
}

// DSCPInfo is the dscp match (struct xt_dscp_info).
type DSCPInfo struct {
	DSCP   uint8
	Invert uint8
}

// DSCPMax is the largest code point (XT_DSCP_MAX).
const DSCPMax = 0x3f

type dscpMatch struct{ DSCPInfo }

func (m *dscpMatch) Match(p Param) (bool, bool) {
	return (p.IP.TOS()>>2 == m.DSCP) != (m.Invert != 0), false
}

// PktTypeInfo is the pkttype match (struct xt_pkttype_info).
type PktTypeInfo struct {
	PktType int32
	Invert  int32
}

// packetLoopback is PACKET_LOOPBACK.
const packetLoopback = 5

type pkttypeMatch struct{ PktTypeInfo }

// Match is pkttype_mt: a looped-back packet is multicast or broadcast by
// its destination.
func (m *pkttypeMatch) Match(p Param) (bool, bool) {
	t := int32(p.SKB.PktType)
	if t == packetLoopback {
		t = stack.PacketBroadcast
		if d := p.IP.Dst(); d[0]&0xf0 == 0xe0 {
			t = stack.PacketMulticast
		}
	}
	return (t == m.PktType) != (m.Invert != 0), false
}

// MACInfo is the mac match (struct xt_mac_info).
type MACInfo struct {
	Src    [6]byte
	Invert int32
}

type macMatch struct{ MACInfo }

// Match is mac_mt: the Ethernet source of a received frame.
func (m *macMatch) Match(p Param) (bool, bool) {
	skb := p.SKB
	if skb.Dev == nil || skb.Dev.IsLoopback() {
		return false, false
	}
	mh := skb.MACHeader()
	if mh == nil || skb.MACHeaderOffset()+14 > skb.DataOffset() || len(mh) < 14 {
		return false, false
	}
	return ([6]byte(mh[6:12]) == m.Src) != (m.Invert != 0), false
}

// IPRangeInfo is the iprange match, revision 1 (struct
// xt_iprange_mtinfo, IPv4).
type IPRangeInfo struct {
	SrcMin, SrcMax [4]byte
	DstMin, DstMax [4]byte
	Flags          uint8
}

// iprange flags (IPRANGE_*).
const (
	IPRangeSrc    = 1 << 0
	IPRangeDst    = 1 << 1
	IPRangeSrcInv = 1 << 4
	IPRangeDstInv = 1 << 5
)

type iprangeMatch struct{ IPRangeInfo }

func (m *iprangeMatch) Match(p Param) (bool, bool) {
	if m.Flags&IPRangeSrc != 0 {
		a := be32(p.IP.Src())
		out := a < be32(m.SrcMin) || a > be32(m.SrcMax)
		if out != (m.Flags&IPRangeSrcInv != 0) {
			return false, false
		}
	}
	if m.Flags&IPRangeDst != 0 {
		a := be32(p.IP.Dst())
		out := a < be32(m.DstMin) || a > be32(m.DstMax)
		if out != (m.Flags&IPRangeDstInv != 0) {
			return false, false
		}
	}
	return true, false
}

// MarkInfo is the mark match, revision 1 (struct xt_mark_mtinfo1), and
// the connmark match (struct xt_connmark_mtinfo1).
type MarkInfo struct {
	Mark, Mask uint32
	Invert     uint8
}

type markMatch struct{ MarkInfo }

func (m *markMatch) Match(p Param) (bool, bool) {
	return (p.SKB.Mark&m.Mask == m.Mark) != (m.Invert != 0), false
}

type connmarkMatch struct {
	MarkInfo
	ctUser
}

// Match is connmark_mt: an untracked packet never matches.
func (m *connmarkMatch) Match(p Param) (bool, bool) {
	ct, _ := conntrack.Get(p.SKB)
	if ct == nil {
		return false, false
	}
	return (ct.Mark()&m.Mask == m.Mark) != (m.Invert != 0), false
}

func init() {
	RegisterMatch(&MatchType{Name: "multiport", Revision: 1, NewInfo: func() any { return new(MultiportInfo) },
		Check: func(c *CheckParam, info any) (Matcher, error) {
			i := info.(*MultiportInfo)
			ip := &c.Rule.IP
			switch ip.Proto {
			case ProtoTCP, ProtoUDP, ProtoUDPLite, ProtoSCTP, ProtoDCCP:
			default:
				return nil, checkErr("x_tables: multiport: only valid for TCP, UDP, UDP-Lite, SCTP and DCCP")
			}
			if ip.InvFlags&InvProto != 0 || i.Flags > MultiportEither || i.Count > MultiPorts {
				return nil, checkErr("x_tables: multiport: bad flags or count")
			}
			return &multiportMatch{*i}, nil
		}})
	RegisterMatch(&MatchType{Name: "comment", NewInfo: func() any { return new(CommentInfo) },
		Check: func(*CheckParam, any) (Matcher, error) { return always{}, nil }})
	RegisterMatch(&MatchType{Name: "length", NewInfo: func() any { return new(LengthInfo) },
		Check: func(c *CheckParam, info any) (Matcher, error) { return &lengthMatch{*info.(*LengthInfo)}, nil }})
	RegisterMatch(&MatchType{Name: "ttl", NewInfo: func() any { return new(TTLInfo) },
		Check: func(c *CheckParam, info any) (Matcher, error) {
			i := info.(*TTLInfo)
			if i.Mode > TTLGt {
				return nil, checkErr("x_tables: ttl: unknown mode %d", i.Mode)
			}
			return &ttlMatch{*i}, nil
		}})
	RegisterMatch(&MatchType{Name: "tos", Revision: 1, NewInfo: func() any { return new(TOSInfo) },
		Check: func(c *CheckParam, info any) (Matcher, error) { return &tosMatch{*info.(*TOSInfo)}, nil }})
	RegisterMatch(&MatchType{Name: "dscp", NewInfo: func() any { return new(DSCPInfo) },
		Check: func(c *CheckParam, info any) (Matcher, error) {
			i := info.(*DSCPInfo)
			if i.DSCP > DSCPMax {
				return nil, errorf(syscall.EDOM, "x_tables: dscp: dscp %x out of range", i.DSCP)
			}
			return &dscpMatch{*i}, nil
		}})
	RegisterMatch(&MatchType{Name: "pkttype", NewInfo: func() any { return new(PktTypeInfo) },
		Check: func(c *CheckParam, info any) (Matcher, error) { return &pkttypeMatch{*info.(*PktTypeInfo)}, nil }})
	RegisterMatch(&MatchType{Name: "mac", Hooks: Hooks(stack.NFPreRouting, stack.NFLocalIn, stack.NFForward),
		NewInfo: func() any { return new(MACInfo) },
		Check:   func(c *CheckParam, info any) (Matcher, error) { return &macMatch{*info.(*MACInfo)}, nil }})
	RegisterMatch(&MatchType{Name: "iprange", Revision: 1, NewInfo: func() any { return new(IPRangeInfo) },
		Check: func(c *CheckParam, info any) (Matcher, error) { return &iprangeMatch{*info.(*IPRangeInfo)}, nil }})
	RegisterMatch(&MatchType{Name: "mark", Revision: 1, NewInfo: func() any { return new(MarkInfo) },
		Check: func(c *CheckParam, info any) (Matcher, error) { return &markMatch{*info.(*MarkInfo)}, nil }})
	RegisterMatch(&MatchType{Name: "connmark", Revision: 1, NewInfo: func() any { return new(MarkInfo) },
		Check: func(c *CheckParam, info any) (Matcher, error) {
			i := info.(*MarkInfo)
			if i.Invert > 1 {
				return nil, checkErr("x_tables: connmark: bad invert")
			}
			u, err := holdConntrack(c, "connmark")
			if err != nil {
				return nil, err
			}
			return &connmarkMatch{MarkInfo: *i, ctUser: u}, nil
		}})
}
