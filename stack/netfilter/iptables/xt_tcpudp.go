package iptables

// Protocol numbers the extensions name.
const (
	ProtoICMP    = 1
	ProtoTCP     = 6
	ProtoUDP     = 17
	ProtoDCCP    = 33
	ProtoSCTP    = 132
	ProtoUDPLite = 136
)

// TCPInfo is the tcp match (struct xt_tcp): port ranges, flags under a
// mask, an option's presence.
type TCPInfo struct {
	SrcPorts [2]uint16
	DstPorts [2]uint16
	Option   uint8
	FlagMask uint8
	FlagCmp  uint8
	InvFlags uint8
}

// TCPInfo inversions (XT_TCP_INV_*).
const (
	TCPInvSrcPort = 0x01
	TCPInvDstPort = 0x02
	TCPInvFlags   = 0x04
	TCPInvOption  = 0x08
	tcpInvMask    = 0x0f
)

// UDPInfo is the udp match (struct xt_udp).
type UDPInfo struct {
	SrcPorts [2]uint16
	DstPorts [2]uint16
	InvFlags uint8
}

// UDPInfo inversions (XT_UDP_INV_*).
const (
	UDPInvSrcPort = 0x01
	UDPInvDstPort = 0x02
	udpInvMask    = 0x03
)

// ICMPInfo is the icmp match (struct ipt_icmp): a type (0xff any) and a
// code range.
type ICMPInfo struct {
	Type     uint8
	Code     [2]uint8
	InvFlags uint8
}

// ICMPInv inverts the icmp match (IPT_ICMP_INV).
const ICMPInv = 0x01

func portMatch(min, max, port uint16, invert bool) bool {
	return (port >= min && port <= max) != invert
}

// header4 reads the transport header's first n bytes; ok is false when
// the packet is too short (the match then drops it, as a
// skb_header_pointer failure does).
func header4(p Param, n int) ([]byte, bool) {
	t := p.IP[p.THOff:]
	if len(t) < n {
		return nil, false
	}
	return t, true
}

type tcpMatch struct{ TCPInfo }

// Match is tcp_mt: a non-first fragment never matches (one at offset 1 is
// dropped: it could overwrite the flags).
func (m *tcpMatch) Match(p Param) (bool, bool) {
	if p.FragOff != 0 {
		return false, p.FragOff == 1
	}
	th, ok := header4(p, 20)
	if !ok {
		return false, true
	}
	if !portMatch(m.SrcPorts[0], m.SrcPorts[1], uint16(th[0])<<8|uint16(th[1]), m.InvFlags&TCPInvSrcPort != 0) ||
		!portMatch(m.DstPorts[0], m.DstPorts[1], uint16(th[2])<<8|uint16(th[3]), m.InvFlags&TCPInvDstPort != 0) {
		return false, false
	}
	if (th[13]&m.FlagMask == m.FlagCmp) == (m.InvFlags&TCPInvFlags != 0) {
		return false, false
	}
	if m.Option != 0 {
		doff := int(th[12]>>4) * 4
		if doff < 20 || len(th) < doff {
			return false, true
		}
		return tcpFindOption(m.Option, th[20:doff], m.InvFlags&TCPInvOption != 0), false
	}
	return true, false
}

// tcpFindOption is tcp_find_option: whether the options hold kind opt.
func tcpFindOption(opt uint8, op []byte, invert bool) bool {
	for i := 0; i < len(op); {
		if op[i] == opt {
			return !invert
		}
		if op[i] < 2 || i+1 >= len(op) {
			i++
		} else if op[i+1] == 0 {
			i++
		} else {
			i += int(op[i+1])
		}
	}
	return invert
}

type udpMatch struct{ UDPInfo }

// Match is udp_mt.
func (m *udpMatch) Match(p Param) (bool, bool) {
	if p.FragOff != 0 {
		return false, false
	}
	uh, ok := header4(p, 8)
	if !ok {
		return false, true
	}
	return portMatch(m.SrcPorts[0], m.SrcPorts[1], uint16(uh[0])<<8|uint16(uh[1]), m.InvFlags&UDPInvSrcPort != 0) &&
		portMatch(m.DstPorts[0], m.DstPorts[1], uint16(uh[2])<<8|uint16(uh[3]), m.InvFlags&UDPInvDstPort != 0), false
}

type icmpMatch struct{ ICMPInfo }

// Match is icmp_match: type 0xff is any type.
func (m *icmpMatch) Match(p Param) (bool, bool) {
	if p.FragOff != 0 {
		return false, false
	}
	ic, ok := header4(p, 8)
	if !ok {
		return false, true
	}
	hit := m.Type == 0xff || (ic[0] == m.Type && ic[1] >= m.Code[0] && ic[1] <= m.Code[1])
	return hit != (m.InvFlags&ICMPInv != 0), false
}

func init() {
	RegisterMatch(&MatchType{Name: "tcp", Proto: ProtoTCP, NewInfo: func() any { return new(TCPInfo) },
		Check: func(c *CheckParam, info any) (Matcher, error) {
			i := info.(*TCPInfo)
			if i.InvFlags&^tcpInvMask != 0 {
				return nil, checkErr("x_tables: tcp: unknown flags %#x", i.InvFlags)
			}
			return &tcpMatch{*i}, nil
		}})
	RegisterMatch(&MatchType{Name: "udp", NewInfo: func() any { return new(UDPInfo) },
		Check: func(c *CheckParam, info any) (Matcher, error) {
			i := info.(*UDPInfo)
			ip := &c.Rule.IP
			if (ip.Proto != ProtoUDP && ip.Proto != ProtoUDPLite) || ip.InvFlags&InvProto != 0 {
				return nil, checkErr("x_tables: ip_tables: udp match: only valid for protocol %d", ProtoUDP)
			}
			if i.InvFlags&^udpInvMask != 0 {
				return nil, checkErr("x_tables: udp: unknown flags %#x", i.InvFlags)
			}
			return &udpMatch{*i}, nil
		}})
	RegisterMatch(&MatchType{Name: "icmp", Proto: ProtoICMP, NewInfo: func() any { return new(ICMPInfo) },
		Check: func(c *CheckParam, info any) (Matcher, error) {
			i := info.(*ICMPInfo)
			if i.InvFlags&^ICMPInv != 0 {
				return nil, checkErr("x_tables: icmp: unknown flags %#x", i.InvFlags)
			}
			return &icmpMatch{*i}, nil
		}})
}
