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

	RTMNewNexthopBucket = 116
	RTMDelNexthopBucket = 117
	RTMGetNexthopBucket = 118

	GroupNexthop     = 32      // RTNLGRP_NEXTHOP
	RTMGrpNexthop    = 1 << 31 // its bit in a bind's group mask
	nhaID            = 1
	nhaGroup         = 2
	nhaGroupType     = 3
	nhaBlackhole     = 4
	nhaOIF           = 5
	nhaGateway       = 6
	nhaGroups        = 9
	nhaMaster        = 10
	nhaResGroup      = 12
	nhaResBucket     = 13
	nhaResBuckets    = 1
	nhaResIdle       = 2
	nhaResUnbalTimer = 3
	nhaResUnbalTime  = 4

	nhaResBucketIndex    = 1
	nhaResBucketIdleTime = 2
	nhaResBucketNhID     = 3

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
	// Master is NHA_MASTER: a dump of the nexthops whose device is
	// enslaved to that one.
	Master uint32
	// Resilient group parameters (NHA_RES_GROUP, present when HasRes,
	// perhaps empty): ResAttrs says which of them it carries; timers in
	// clock_t (hundredths of a second), as the kernel carries them.
	HasRes                     bool
	ResAttrs                   uint8
	Buckets                    uint16
	IdleTimer, UnbalancedTimer uint32
	UnbalancedTime             uint64
}

// The bits of NexthopMsg.ResAttrs: which NHA_RES_GROUP_* are there.
const (
	ResBuckets uint8 = 1 << iota
	ResIdleTimer
	ResUnbalancedTimer
	ResUnbalancedTime
	ResAll = ResBuckets | ResIdleTimer | ResUnbalancedTimer | ResUnbalancedTime
)

// Marshal encodes the message body.
func (m NexthopMsg) Marshal() []byte {
	b := nhmsgHeader(m.Family, m.Scope, m.Protocol, m.Flags)
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
	if m.Master != 0 {
		ae.Uint32(nhaMaster, m.Master)
	}
	if m.HasRes {
		ae.Nested(nhaResGroup, func(n *netlink.AttributeEncoder) error {
			if m.ResAttrs&ResBuckets != 0 {
				n.Uint16(nhaResBuckets, m.Buckets)
			}
			if m.ResAttrs&ResIdleTimer != 0 {
				n.Uint32(nhaResIdle, m.IdleTimer)
			}
			if m.ResAttrs&ResUnbalancedTimer != 0 {
				n.Uint32(nhaResUnbalTimer, m.UnbalancedTimer)
			}
			if m.ResAttrs&ResUnbalancedTime != 0 {
				n.Uint64(nhaResUnbalTime, m.UnbalancedTime)
			}
			return nil
		})
	}
	a, _ := ae.Encode()
	return append(b, a...)
}

// nhmsgHeader is struct nhmsg: family, scope, protocol, a reserved
// byte, flags.
func nhmsgHeader(family, scope, protocol uint8, flags uint32) []byte {
	b := []byte{family, scope, protocol, 0, 0, 0, 0, 0}
	binary.NativeEndian.PutUint32(b[4:], flags)
	return b
}

// parseNhmsg reads struct nhmsg (b is at least its 8 bytes) into the
// fields and returns a decoder of the attributes after it.
func parseNhmsg(b []byte, family, scope, protocol *uint8, flags *uint32) (*netlink.AttributeDecoder, error) {
	*family, *scope, *protocol, *flags = b[0], b[1], b[2], binary.NativeEndian.Uint32(b[4:])
	if b[3] != 0 {
		return nil, fmt.Errorf("rtnetlink: nhmsg reserved byte %d", b[3])
	}
	return netlink.NewAttributeDecoder(b[8:])
}

// Unmarshal decodes a message body.
func (m *NexthopMsg) Unmarshal(b []byte) error {
	if len(b) < 8 {
		return ErrShort
	}
	*m = NexthopMsg{}
	ad, err := parseNhmsg(b, &m.Family, &m.Scope, &m.Protocol, &m.Flags)
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
		case nhaMaster:
			m.Master = ad.Uint32()
		case nhaResGroup:
			m.HasRes = true
			ad.Nested(func(n *netlink.AttributeDecoder) error {
				for n.Next() {
					switch n.Type() {
					case nhaResBuckets:
						m.Buckets = n.Uint16()
						m.ResAttrs |= ResBuckets
					case nhaResIdle:
						m.IdleTimer = n.Uint32()
						m.ResAttrs |= ResIdleTimer
					case nhaResUnbalTimer:
						m.UnbalancedTimer = n.Uint32()
						m.ResAttrs |= ResUnbalancedTimer
					case nhaResUnbalTime:
						m.UnbalancedTime = n.Uint64()
						m.ResAttrs |= ResUnbalancedTime
					}
				}
				return n.Err()
			})
		}
	}
	return ad.Err()
}

// NexthopBucketMsg is an RTM_*NEXTHOPBUCKET message: nhmsg, the group's
// NHA_ID and its NHA_RES_BUCKET (index, idle time in clock_t, the
// member's id). A dump request may carry the filters NHA_OIF and
// NHA_MASTER and, in NHA_RES_BUCKET, NHA_RES_BUCKET_NH_ID; a get names
// NHA_RES_BUCKET_INDEX.
type NexthopBucketMsg struct {
	Family   uint8
	Scope    uint8
	Protocol uint8
	Flags    uint32
	ID       uint32
	Oif      uint32
	Master   uint32
	// HasBucket: NHA_RES_BUCKET is there; BucketAttrs says which of its
	// attributes.
	HasBucket   bool
	BucketAttrs uint8
	Index       uint16
	IdleTime    uint64
	NhID        uint32
}

// The bits of NexthopBucketMsg.BucketAttrs.
const (
	BucketIndex uint8 = 1 << iota
	BucketIdleTime
	BucketNhID
	BucketAll = BucketIndex | BucketIdleTime | BucketNhID
)

// Marshal encodes the message body.
func (m NexthopBucketMsg) Marshal() []byte {
	b := nhmsgHeader(m.Family, m.Scope, m.Protocol, m.Flags)
	ae := netlink.NewAttributeEncoder()
	if m.ID != 0 {
		ae.Uint32(nhaID, m.ID)
	}
	if m.Oif != 0 {
		ae.Uint32(nhaOIF, m.Oif)
	}
	if m.Master != 0 {
		ae.Uint32(nhaMaster, m.Master)
	}
	if m.HasBucket {
		ae.Nested(nhaResBucket, func(n *netlink.AttributeEncoder) error {
			if m.BucketAttrs&BucketIndex != 0 {
				n.Uint16(nhaResBucketIndex, m.Index)
			}
			if m.BucketAttrs&BucketNhID != 0 {
				n.Uint32(nhaResBucketNhID, m.NhID)
			}
			if m.BucketAttrs&BucketIdleTime != 0 {
				n.Uint64(nhaResBucketIdleTime, m.IdleTime)
			}
			return nil
		})
	}
	a, _ := ae.Encode()
	return append(b, a...)
}

// Unmarshal decodes a message body.
func (m *NexthopBucketMsg) Unmarshal(b []byte) error {
	if len(b) < 8 {
		return ErrShort
	}
	*m = NexthopBucketMsg{}
	ad, err := parseNhmsg(b, &m.Family, &m.Scope, &m.Protocol, &m.Flags)
	if err != nil {
		return err
	}
	for ad.Next() {
		switch ad.Type() {
		case nhaID:
			m.ID = ad.Uint32()
		case nhaOIF:
			m.Oif = ad.Uint32()
		case nhaMaster:
			m.Master = ad.Uint32()
		case nhaResBucket:
			m.HasBucket = true
			ad.Nested(func(n *netlink.AttributeDecoder) error {
				for n.Next() {
					switch n.Type() {
					case nhaResBucketIndex:
						m.Index = n.Uint16()
						m.BucketAttrs |= BucketIndex
					case nhaResBucketIdleTime:
						m.IdleTime = n.Uint64()
						m.BucketAttrs |= BucketIdleTime
					case nhaResBucketNhID:
						m.NhID = n.Uint32()
						m.BucketAttrs |= BucketNhID
					}
				}
				return n.Err()
			})
		}
	}
	return ad.Err()
}
