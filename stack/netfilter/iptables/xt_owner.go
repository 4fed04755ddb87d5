package iptables

import (
	"vnic/stack"
	"vnic/stack/ipv4"
)

// OwnerInfo is the owner match, revision 1 (struct xt_owner_match_info).
type OwnerInfo struct {
	UIDMin, UIDMax uint32
	GIDMin, GIDMax uint32
	Match, Invert  uint8 // OwnerUID, OwnerGID, OwnerSocket
}

// owner bits (XT_OWNER_*).
const (
	OwnerUID         = 1 << 0
	OwnerGID         = 1 << 1
	OwnerSocket      = 1 << 2
	OwnerSupplGroups = 1 << 3
	ownerMask        = 0x0f
)

type ownerMatch struct{ i OwnerInfo }

// Match is owner_mt: the credentials of the socket that sent the packet
// (skb.Owner). vnic's sockets carry no supplementary groups: a GID test
// looks at the primary group alone.
func (m *ownerMatch) Match(p Param) (bool, bool) {
	i := &m.i
	o := p.SKB.Owner
	if o == nil {
		return (i.Match ^ i.Invert) == 0, false
	}
	if i.Match&i.Invert&OwnerSocket != 0 {
		return false, false
	}
	if i.Match&OwnerUID != 0 && (o.UID >= i.UIDMin && o.UID <= i.UIDMax) == (i.Invert&OwnerUID != 0) {
		return false, false
	}
	if i.Match&OwnerGID != 0 && (o.GID >= i.GIDMin && o.GID <= i.GIDMax) == (i.Invert&OwnerGID != 0) {
		return false, false
	}
	return true, false
}

// AddrTypeInfo is the addrtype match, revision 1 (struct
// xt_addrtype_info_v1): type masks (1 << RTN_*) for each end.
type AddrTypeInfo struct {
	Source, Dest uint16
	Flags        uint32
}

// addrtype flags (XT_ADDRTYPE_*).
const (
	AddrTypeInvertSource = 0x1
	AddrTypeInvertDest   = 0x2
	AddrTypeLimitIn      = 0x4
	AddrTypeLimitOut     = 0x8
)

type addrtypeMatch struct {
	AddrTypeInfo
	host *stack.Host
}

// Match is addrtype_mt_v1: the type of each address as the host's local
// table says (inet_dev_addr_type), limited to a device's routes with
// --limit-iface-in/out.
func (m *addrtypeMatch) Match(p Param) (bool, bool) {
	in := ipv4.Of(m.host)
	if in == nil {
		return false, false
	}
	var dev *stack.NetDevice
	if m.Flags&AddrTypeLimitIn != 0 {
		dev = p.State.In
	} else if m.Flags&AddrTypeLimitOut != 0 {
		dev = p.State.Out
	}
	is := func(a [4]byte, mask uint16) bool { return mask&(1<<uint16(in.AddrType(dev, a))) != 0 }
	if m.Source != 0 && is(p.IP.Src(), m.Source) == (m.Flags&AddrTypeInvertSource != 0) {
		return false, false
	}
	if m.Dest != 0 && is(p.IP.Dst(), m.Dest) == (m.Flags&AddrTypeInvertDest != 0) {
		return false, false
	}
	return true, false
}

func init() {
	RegisterMatch(&MatchType{Name: "owner", Revision: 1, Hooks: Hooks(stack.NFLocalOut, stack.NFPostRouting),
		NewInfo: func() any { return new(OwnerInfo) },
		Check: func(c *CheckParam, info any) (Matcher, error) {
			i := info.(*OwnerInfo)
			if i.Match&^ownerMask != 0 || i.Invert&^ownerMask != 0 {
				return nil, checkErr("x_tables: owner: unknown flags")
			}
			return &ownerMatch{*i}, nil
		}})
	RegisterMatch(&MatchType{Name: "addrtype", Revision: 1, NewInfo: func() any { return new(AddrTypeInfo) },
		Check: func(c *CheckParam, info any) (Matcher, error) {
			i := info.(*AddrTypeInfo)
			if i.Flags&AddrTypeLimitIn != 0 && i.Flags&AddrTypeLimitOut != 0 {
				return nil, checkErr("x_tables: addrtype: both incoming and outgoing interface limitation cannot be selected")
			}
			if i.Flags&AddrTypeLimitIn != 0 && c.Hooks&Hooks(stack.NFPostRouting, stack.NFLocalOut) != 0 {
				return nil, checkErr("x_tables: addrtype: input interface limitation not valid in POSTROUTING and OUTPUT")
			}
			if i.Flags&AddrTypeLimitOut != 0 && c.Hooks&Hooks(stack.NFPreRouting, stack.NFLocalIn) != 0 {
				return nil, checkErr("x_tables: addrtype: output interface limitation not valid in PREROUTING and INPUT")
			}
			return &addrtypeMatch{AddrTypeInfo: *i, host: c.Host}, nil
		}})
}
