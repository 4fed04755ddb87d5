package rtnetlink

import (
	"encoding/binary"
	"fmt"

	"net/netip"

	"github.com/mdlayher/netlink"
)

// Policy rule messages (linux/fib_rules.h).
const (
	RTMNewRule = 32
	RTMDelRule = 33
	RTMGetRule = 34

	GroupRule      = 8 // RTNLGRP_IPV4_RULE
	RTMGrpIPv4Rule = 0x80
)

// fib_rule_hdr flags (FIB_RULE_*).
const (
	RuleFlagPermanent   = 0x01
	RuleFlagInvert      = 0x02
	RuleFlagUnresolved  = 0x04
	RuleFlagIifDetached = 0x08
	RuleFlagOifDetached = 0x10
)

// FRA_* attributes.
const (
	fraDst               = 1
	fraSrc               = 2
	fraIifname           = 3
	fraGoto              = 4
	fraPriority          = 6
	fraFwmark            = 10
	fraFlow              = 11
	fraTunID             = 12
	fraSuppressIfgroup   = 13
	fraSuppressPrefixlen = 14
	fraTable             = 15
	fraFwmask            = 16
	fraOifname           = 17
	fraL3mdev            = 19
	fraUIDRange          = 20
	fraProtocol          = 21
	fraIPProto           = 22
	fraSportRange        = 23
	fraDportRange        = 24
)

// RuleMsg is fib_rule_hdr with its attributes. The Has* fields say which
// optional attributes the message carries (the kernel tells "absent" from
// zero for these).
type RuleMsg struct {
	Family         uint8
	DstLen, SrcLen uint8
	TOS            uint8
	Table          uint32
	Action         uint8
	Flags          uint32
	Dst, Src       netip.Addr
	Iifname        string
	Oifname        string
	Priority       uint32
	HasPriority    bool
	Goto           uint32
	HasGoto        bool
	Mark, Mask     uint32
	HasMark        bool
	HasMask        bool
	Flow           uint32
	TunID          uint64
	// SuppressPrefixlen and SuppressIfgroup are -1 when unset, as the
	// kernel keeps them (and reports the prefix length always).
	SuppressPrefixlen    int32
	HasSuppressPrefixlen bool
	SuppressIfgroup      int32
	HasSuppressIfgroup   bool
	L3mdev               uint8
	UIDStart, UIDEnd     uint32
	HasUIDRange          bool
	Protocol             uint8
	HasProtocol          bool
	IPProto              uint8
	SportStart, SportEnd uint16
	HasSport             bool
	DportStart, DportEnd uint16
	HasDport             bool
}

// Marshal encodes the message body.
func (m RuleMsg) Marshal() []byte {
	tb := uint8(m.Table)
	if m.Table > 255 {
		tb = 252 // RT_TABLE_COMPAT
	}
	fam := m.Family
	if fam == 0 {
		fam = afInet
	}
	b := []byte{fam, m.DstLen, m.SrcLen, m.TOS, tb, 0, 0, m.Action, 0, 0, 0, 0}
	binary.NativeEndian.PutUint32(b[8:], m.Flags)
	ae := netlink.NewAttributeEncoder()
	ae.Uint32(fraTable, m.Table)
	if m.HasSuppressPrefixlen {
		ae.Uint32(fraSuppressPrefixlen, uint32(m.SuppressPrefixlen))
	}
	if m.Iifname != "" {
		ae.String(fraIifname, m.Iifname)
	}
	if m.Oifname != "" {
		ae.String(fraOifname, m.Oifname)
	}
	if m.HasPriority {
		ae.Uint32(fraPriority, m.Priority)
	}
	if m.HasMark {
		ae.Uint32(fraFwmark, m.Mark)
	}
	if m.HasMask {
		ae.Uint32(fraFwmask, m.Mask)
	}
	if m.HasGoto {
		ae.Uint32(fraGoto, m.Goto)
	}
	if m.TunID != 0 {
		ae.Uint64(fraTunID, m.TunID)
	}
	if m.L3mdev != 0 {
		ae.Uint8(fraL3mdev, m.L3mdev)
	}
	if m.HasUIDRange {
		u := make([]byte, 8)
		binary.NativeEndian.PutUint32(u, m.UIDStart)
		binary.NativeEndian.PutUint32(u[4:], m.UIDEnd)
		ae.Bytes(fraUIDRange, u)
	}
	if m.IPProto != 0 {
		ae.Uint8(fraIPProto, m.IPProto)
	}
	putRange := func(t uint16, lo, hi uint16) {
		p := make([]byte, 4)
		binary.NativeEndian.PutUint16(p, lo)
		binary.NativeEndian.PutUint16(p[2:], hi)
		ae.Bytes(t, p)
	}
	if m.HasSport {
		putRange(fraSportRange, m.SportStart, m.SportEnd)
	}
	if m.HasDport {
		putRange(fraDportRange, m.DportStart, m.DportEnd)
	}
	if m.HasProtocol {
		ae.Uint8(fraProtocol, m.Protocol)
	}
	if m.HasSuppressIfgroup {
		ae.Uint32(fraSuppressIfgroup, uint32(m.SuppressIfgroup))
	}
	if m.DstLen != 0 {
		putAddr(ae, fraDst, m.Dst)
	}
	if m.SrcLen != 0 {
		putAddr(ae, fraSrc, m.Src)
	}
	if m.Flow != 0 {
		ae.Uint32(fraFlow, m.Flow)
	}
	a, _ := ae.Encode()
	return append(b, a...)
}

// Unmarshal decodes a message body.
func (m *RuleMsg) Unmarshal(b []byte) error {
	if len(b) < 12 {
		return ErrShort
	}
	*m = RuleMsg{Family: b[0], DstLen: b[1], SrcLen: b[2], TOS: b[3], Table: uint32(b[4]), Action: b[7],
		Flags: binary.NativeEndian.Uint32(b[8:]), SuppressPrefixlen: -1, SuppressIfgroup: -1}
	ad, err := netlink.NewAttributeDecoder(b[12:])
	if err != nil {
		return err
	}
	for ad.Next() {
		switch ad.Type() {
		case fraTable:
			m.Table = ad.Uint32()
		case fraDst:
			m.Dst = getAddr(ad.Bytes())
		case fraSrc:
			m.Src = getAddr(ad.Bytes())
		case fraIifname:
			m.Iifname = ad.String()
		case fraOifname:
			m.Oifname = ad.String()
		case fraPriority:
			m.Priority, m.HasPriority = ad.Uint32(), true
		case fraGoto:
			m.Goto, m.HasGoto = ad.Uint32(), true
		case fraFwmark:
			m.Mark, m.HasMark = ad.Uint32(), true
		case fraFwmask:
			m.Mask, m.HasMask = ad.Uint32(), true
		case fraFlow:
			m.Flow = ad.Uint32()
		case fraTunID:
			m.TunID = ad.Uint64()
		case fraSuppressPrefixlen:
			m.SuppressPrefixlen, m.HasSuppressPrefixlen = int32(ad.Uint32()), true
		case fraSuppressIfgroup:
			m.SuppressIfgroup, m.HasSuppressIfgroup = int32(ad.Uint32()), true
		case fraL3mdev:
			m.L3mdev = ad.Uint8()
		case fraProtocol:
			m.Protocol, m.HasProtocol = ad.Uint8(), true
		case fraIPProto:
			m.IPProto = ad.Uint8()
		case fraUIDRange:
			u := ad.Bytes()
			if len(u) != 8 {
				return fmt.Errorf("rtnetlink: FRA_UID_RANGE of %d bytes", len(u))
			}
			m.UIDStart, m.UIDEnd, m.HasUIDRange = binary.NativeEndian.Uint32(u), binary.NativeEndian.Uint32(u[4:]), true
		case fraSportRange, fraDportRange:
			p := ad.Bytes()
			if len(p) != 4 {
				return fmt.Errorf("rtnetlink: port range of %d bytes", len(p))
			}
			lo, hi := binary.NativeEndian.Uint16(p), binary.NativeEndian.Uint16(p[2:])
			if ad.Type() == fraSportRange {
				m.SportStart, m.SportEnd, m.HasSport = lo, hi, true
			} else {
				m.DportStart, m.DportEnd, m.HasDport = lo, hi, true
			}
		}
	}
	return ad.Err()
}
