package rtnetlink

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/mdlayher/netlink"
)

// Nexthop object messages (linux/nexthop.h).
const (
	RTMNewNexthop = 104
	RTMDelNexthop = 105
	RTMGetNexthop = 106

	GroupNexthop     = 32      // RTNLGRP_NEXTHOP
	RTMGrpNexthop    = 1 << 31 // its bit in a bind's group mask
	nhaID            = 1
	nhaGroup         = 2
	nhaGroupType     = 3
	nhaBlackhole     = 4
	nhaOIF           = 5
	nhaGateway       = 6
	nhaGroups        = 9
	nhaResGroup      = 12
	nhaResBuckets    = 1
	nhaResIdle       = 2
	nhaResUnbalTimer = 3
	nhaResUnbalTime  = 4

	// NhGrpTypeMpath and NhGrpTypeRes are NHA_GROUP_TYPE's values.
	NhGrpTypeMpath = 0
	NhGrpTypeRes   = 1

	// RTNHFOnLink is the nexthop flag onlink (RTNH_F_ONLINK).
	RTNHFOnLink = 4
)

// NexthopGrp is one entry of NHA_GROUP (struct nexthop_grp): the weight
// on the wire is weight − 1.
type NexthopGrp struct {
	ID     uint32
	Weight uint16 // 1..256
}

// NexthopMsg is nhmsg with its attributes.
type NexthopMsg struct {
	Family    uint8
	Scope     uint8
	Protocol  uint8
	Flags     uint32
	ID        uint32
	Group     []NexthopGrp
	GroupType uint16
	HasType   bool
	Blackhole bool
	Oif       uint32
	Gateway   netip.Addr
	// Groups is NHA_GROUPS: a dump of the groups only.
	Groups bool
	// Resilient group parameters (NHA_RES_GROUP); timers in clock_t
	// (hundredths of a second), as the kernel sends them.
	HasRes                     bool
	Buckets                    uint16
	IdleTimer, UnbalancedTimer uint32
	UnbalancedTime             uint64
}

// Marshal encodes the message body.
func (m NexthopMsg) Marshal() []byte {
	b := []byte{m.Family, m.Scope, m.Protocol, 0, 0, 0, 0, 0}
	binary.NativeEndian.PutUint32(b[4:], m.Flags)
	ae := netlink.NewAttributeEncoder()
	if m.ID != 0 {
		ae.Uint32(nhaID, m.ID)
	}
	if len(m.Group) > 0 {
		g := make([]byte, 8*len(m.Group))
		for i, e := range m.Group {
			binary.NativeEndian.PutUint32(g[8*i:], e.ID)
			g[8*i+4] = byte(e.Weight - 1)
		}
		ae.Bytes(nhaGroup, g)
		if m.HasType {
			ae.Uint16(nhaGroupType, m.GroupType)
		}
	}
	if m.Blackhole {
		ae.Flag(nhaBlackhole, true)
	}
	if m.Oif != 0 {
		ae.Uint32(nhaOIF, m.Oif)
	}
	if m.Gateway.IsValid() {
		a := m.Gateway.As4()
		ae.Bytes(nhaGateway, a[:])
	}
	if m.Groups {
		ae.Flag(nhaGroups, true)
	}
	if m.HasRes {
		ae.Nested(nhaResGroup, func(n *netlink.AttributeEncoder) error {
			n.Uint16(nhaResBuckets, m.Buckets)
			n.Uint32(nhaResIdle, m.IdleTimer)
			n.Uint32(nhaResUnbalTimer, m.UnbalancedTimer)
			n.Uint64(nhaResUnbalTime, m.UnbalancedTime)
			return nil
		})
	}
	a, _ := ae.Encode()
	return append(b, a...)
}

// Unmarshal decodes a message body.
func (m *NexthopMsg) Unmarshal(b []byte) error {
	if len(b) < 8 {
		return ErrShort
	}
	*m = NexthopMsg{Family: b[0], Scope: b[1], Protocol: b[2], Flags: binary.NativeEndian.Uint32(b[4:])}
	if b[3] != 0 {
		return fmt.Errorf("rtnetlink: nhmsg reserved byte %d", b[3])
	}
	ad, err := netlink.NewAttributeDecoder(b[8:])
	if err != nil {
		return err
	}
	for ad.Next() {
		switch ad.Type() {
		case nhaID:
			m.ID = ad.Uint32()
		case nhaGroup:
			g := ad.Bytes()
			if len(g) == 0 || len(g)%8 != 0 {
				return fmt.Errorf("rtnetlink: NHA_GROUP of %d bytes", len(g))
			}
			for i := 0; i < len(g); i += 8 {
				if g[i+5] != 0 || g[i+6] != 0 || g[i+7] != 0 {
					return fmt.Errorf("rtnetlink: nexthop_grp reserved fields set")
				}
				m.Group = append(m.Group, NexthopGrp{ID: binary.NativeEndian.Uint32(g[i:]), Weight: uint16(g[i+4]) + 1})
			}
		case nhaGroupType:
			m.GroupType, m.HasType = ad.Uint16(), true
		case nhaBlackhole:
			m.Blackhole = true
		case nhaOIF:
			m.Oif = ad.Uint32()
		case nhaGateway:
			if g := ad.Bytes(); len(g) == 4 {
				m.Gateway = netip.AddrFrom4([4]byte(g))
			} else {
				return fmt.Errorf("rtnetlink: NHA_GATEWAY of %d bytes", len(g))
			}
		case nhaGroups:
			m.Groups = true
		case nhaResGroup:
			m.HasRes = true
			ad.Nested(func(n *netlink.AttributeDecoder) error {
				for n.Next() {
					switch n.Type() {
					case nhaResBuckets:
						m.Buckets = n.Uint16()
					case nhaResIdle:
						m.IdleTimer = n.Uint32()
					case nhaResUnbalTimer:
						m.UnbalancedTimer = n.Uint32()
					case nhaResUnbalTime:
						m.UnbalancedTime = n.Uint64()
					}
				}
				return n.Err()
			})
		}
	}
	return ad.Err()
}
