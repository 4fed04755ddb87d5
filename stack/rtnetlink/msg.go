// Package rtnetlink is rtnetlink's uapi and its kernel side: the message
// types, groups and flags of linux/rtnetlink.h, the messages (ifinfomsg,
// ifaddrmsg, rtmsg, ndmsg with their attributes) shared by the kernel side
// and iproute's client, and a host's handler table into which each
// subsystem registers its RTM_* handlers (rtnl_register), with the
// notifications they send to the host's listeners.
package rtnetlink

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/mdlayher/netlink"
)

// rtnetlink message types (linux/rtnetlink.h).
const (
	RTMNewLink  = 16
	RTMDelLink  = 17
	RTMGetLink  = 18
	RTMNewAddr  = 20
	RTMDelAddr  = 21
	RTMGetAddr  = 22
	RTMNewRoute = 24
	RTMDelRoute = 25
	RTMGetRoute = 26
	RTMNewNeigh = 28
	RTMDelNeigh = 29
	RTMGetNeigh = 30
	RTMMax      = 127
)

// rtnetlink multicast groups (RTNLGRP_*).
const (
	GroupLink  = 1
	GroupNeigh = 3
	GroupAddr  = 5 // RTNLGRP_IPV4_IFADDR
	GroupRoute = 7 // RTNLGRP_IPV4_ROUTE
)

// Request flags of NEW messages (NLM_F_*).
const (
	FlagReplace = 0x100
	FlagExcl    = 0x200
	FlagCreate  = 0x400
	FlagAppend  = 0x800
)

const (
	afInet  = 2
	afInet6 = 10
)

// Attribute types.
const (
	iflaAddress   = 1
	iflaBroadcast = 2
	iflaIfname    = 3
	iflaMTU       = 4
	iflaQdisc     = 6
	iflaTxQLen    = 13
	iflaOperstate = 16

	ifaAddress    = 1
	ifaLocal      = 2
	ifaLabel      = 3
	ifaBroadcast  = 4
	ifaFlags      = 8
	ifaRtPriority = 9

	rtaDst       = 1
	rtaSrc       = 2
	rtaIIF       = 3
	rtaOIF       = 4
	rtaGateway   = 5
	rtaPriority  = 6
	rtaPrefsrc   = 7
	rtaMetrics   = 8
	rtaFlow      = 11
	rtaTable     = 15
	rtaMark      = 16
	rtaMultipath = 9
	rtaVia       = 18
	rtaUID       = 25
	rtaIPProto   = 27
	rtaSport     = 28
	rtaDport     = 29
	rtaNhID      = 30

	ndaDst    = 1
	ndaLLAddr = 2
)

// ErrShort is a message shorter than its fixed header.
var ErrShort = errors.New("rtnetlink: message too short")

// AddrMsg is ifaddrmsg with its attributes.
type AddrMsg struct {
	PrefixLen uint8
	// Flags are the IFA_F_* flags: ifa_flags holds eight bits, IFA_FLAGS
	// (sent when a flag needs more, as ip sends it) all of them, and wins.
	Flags uint32
	Scope uint8
	Index uint32
	Local netip.Addr
	// Address is IFA_ADDRESS: the peer of a point-to-point address, else
	// the local address again.
	Address   netip.Addr
	Broadcast netip.Addr
	Label     string
	// Metric is IFA_RT_PRIORITY: the metric of the address's prefix
	// route (0: none sent).
	Metric uint32
}

// Address flags.
const (
	IFAFSecondary     = 0x01
	IFAFPermanent     = 0x80
	IFAFNoPrefixRoute = 0x200 // no prefix route for the address
)

func putAddr(ae *netlink.AttributeEncoder, t uint16, a netip.Addr) {
	if a.IsValid() {
		b := a.As4()
		ae.Bytes(t, b[:])
	}
}

// putVia puts a as struct rtvia: the family (host order), then the
// address.
func putVia(ae *netlink.AttributeEncoder, a netip.Addr) {
	if !a.IsValid() {
		return
	}
	b := make([]byte, 2, 18)
	fam := uint16(afInet)
	if a.Is6() {
		fam = afInet6
	}
	binary.NativeEndian.PutUint16(b, fam)
	ae.Bytes(rtaVia, append(b, a.AsSlice()...))
}

// getVia reads struct rtvia: an invalid address for a family other than
// IPv4 and IPv6 or a length that is not the family's.
func getVia(b []byte) netip.Addr {
	if len(b) < 2 {
		return netip.Addr{}
	}
	a, ok := netip.AddrFromSlice(b[2:])
	fam := binary.NativeEndian.Uint16(b)
	if !ok || fam == afInet && !a.Is4() || fam == afInet6 && !a.Is6() || fam != afInet && fam != afInet6 {
		return netip.Addr{}
	}
	return a
}

func getAddr(b []byte) netip.Addr {
	if len(b) != 4 {
		return netip.Addr{}
	}
	return netip.AddrFrom4([4]byte(b))
}

// Marshal encodes the message body.
func (m AddrMsg) Marshal() []byte {
	b := []byte{afInet, m.PrefixLen, uint8(m.Flags), m.Scope, 0, 0, 0, 0}
	binary.NativeEndian.PutUint32(b[4:], m.Index)
	ae := netlink.NewAttributeEncoder()
	putAddr(ae, ifaAddress, m.Address)
	putAddr(ae, ifaLocal, m.Local)
	putAddr(ae, ifaBroadcast, m.Broadcast)
	if m.Label != "" {
		ae.String(ifaLabel, m.Label)
	}
	if m.Flags > 0xff {
		ae.Uint32(ifaFlags, m.Flags)
	}
	if m.Metric != 0 {
		ae.Uint32(ifaRtPriority, m.Metric)
	}
	a, _ := ae.Encode()
	return append(b, a...)
}

// Unmarshal decodes a message body.
func (m *AddrMsg) Unmarshal(b []byte) error {
	if len(b) < 8 {
		return ErrShort
	}
	if b[0] != afInet && b[0] != 0 {
		return fmt.Errorf("iproute: address family %d: only IPv4 (2)", b[0])
	}
	m.PrefixLen, m.Flags, m.Scope = b[1], uint32(b[2]), b[3]
	m.Index = binary.NativeEndian.Uint32(b[4:])
	ad, err := netlink.NewAttributeDecoder(b[8:])
	if err != nil {
		return err
	}
	for ad.Next() {
		switch ad.Type() {
		case ifaAddress:
			m.Address = getAddr(ad.Bytes())
		case ifaLocal:
			m.Local = getAddr(ad.Bytes())
		case ifaBroadcast:
			m.Broadcast = getAddr(ad.Bytes())
		case ifaLabel:
			m.Label = ad.String()
		case ifaFlags:
			m.Flags = ad.Uint32()
		case ifaRtPriority:
			m.Metric = ad.Uint32()
		}
	}
	return ad.Err()
}

// RouteMsg is rtmsg with its attributes.
type RouteMsg struct {
	DstLen   uint8
	SrcLen   uint8
	TOS      uint8
	Table    uint32
	Protocol uint8
	Scope    uint8
	Type     uint8
	Flags    uint32
	Dst      netip.Addr
	Gateway  netip.Addr
	// Via is RTA_VIA: a gateway of another family than the route's (an
	// IPv6 one for an IPv4 route).
	Via      netip.Addr
	PrefSrc  netip.Addr
	Src      netip.Addr // RTM_GETROUTE: the source to route from
	Oif      uint32
	Iif      uint32
	Priority uint32
	HasPrio  bool
	// Metrics is RTA_METRICS (the route's, or a route get decision's).
	Metrics Metrics
	// UID is RTA_UID: the user a route get's decision was made for.
	UID    uint32
	HasUID bool
	// NhID is RTA_NH_ID: the nexthop object the route names.
	NhID uint32
	// Flow is RTA_FLOW: the route's realms (from<<16 | to), or a route
	// get decision's (its dst's tclassid).
	Flow uint32
	// Multipath is RTA_MULTIPATH: a multipath route's paths.
	Multipath []RtNexthop
	// A route get's flow: RTA_MARK, RTA_IP_PROTO, RTA_SPORT, RTA_DPORT.
	Mark         uint32
	IPProto      uint8
	Sport, Dport uint16
}

// Marshal encodes the message body.
func (m RouteMsg) Marshal() []byte { return m.AppendMarshal(make([]byte, 0, 64)) }

// AppendMarshal appends the message body, as Marshal makes it, to b: no
// allocation when b has room and the message has no multipath or metrics.
func (m RouteMsg) AppendMarshal(b []byte) []byte {
	tb := uint8(m.Table)
	if m.Table > 255 {
		tb = 252 // RT_TABLE_COMPAT
	}
	b = append(b, afInet, m.DstLen, m.SrcLen, m.TOS, tb, m.Protocol, m.Scope, m.Type, 0, 0, 0, 0)
	binary.NativeEndian.PutUint32(b[len(b)-4:], m.Flags)
	b = appendU32Attr(b, rtaTable, m.Table)
	b = appendAddrAttr(b, rtaDst, m.Dst)
	b = appendAddrAttr(b, rtaSrc, m.Src)
	b = appendAddrAttr(b, rtaGateway, m.Gateway)
	if m.Via.IsValid() {
		fam := uint16(afInet)
		if m.Via.Is6() {
			fam = afInet6
		}
		var v [18]byte
		binary.NativeEndian.PutUint16(v[:], fam)
		n := 2 + copy(v[2:], m.Via.AsSlice())
		b = appendAttr(b, rtaVia, v[:n])
	}
	b = appendAddrAttr(b, rtaPrefsrc, m.PrefSrc)
	if m.Oif != 0 {
		b = appendU32Attr(b, rtaOIF, m.Oif)
	}
	if m.Iif != 0 {
		b = appendU32Attr(b, rtaIIF, m.Iif)
	}
	if m.Flow != 0 {
		b = appendU32Attr(b, rtaFlow, m.Flow)
	}
	if m.HasPrio || m.Priority != 0 {
		b = appendU32Attr(b, rtaPriority, m.Priority)
	}
	if m.HasUID {
		b = appendU32Attr(b, rtaUID, m.UID)
	}
	if m.NhID != 0 {
		b = appendU32Attr(b, rtaNhID, m.NhID)
	}
	if m.Mark != 0 {
		b = appendU32Attr(b, rtaMark, m.Mark)
	}
	if len(m.Multipath) > 0 {
		b = appendAttr(b, rtaMultipath, marshalMultipath(m.Multipath))
	}
	if m.IPProto != 0 {
		b = appendAttr(b, rtaIPProto, []byte{m.IPProto})
	}
	if m.Sport != 0 {
		b = appendAttr(b, rtaSport, []byte{byte(m.Sport >> 8), byte(m.Sport)})
	}
	if m.Dport != 0 {
		b = appendAttr(b, rtaDport, []byte{byte(m.Dport >> 8), byte(m.Dport)})
	}
	if !m.Metrics.IsZero() {
		// Nested without NLA_F_NESTED, as the kernel writes it.
		ne := netlink.NewAttributeEncoder()
		m.Metrics.encode(ne)
		mb, _ := ne.Encode()
		b = appendAttr(b, rtaMetrics, mb)
	}
	return b
}

// appendAttr appends a netlink attribute (its length without the
// padding, its type, the data padded to 4 bytes), as
// netlink.AttributeEncoder writes one.
func appendAttr(b []byte, t uint16, data []byte) []byte {
	l := 4 + len(data)
	b = binary.NativeEndian.AppendUint16(b, uint16(l))
	b = binary.NativeEndian.AppendUint16(b, t)
	b = append(b, data...)
	for ; l&3 != 0; l++ {
		b = append(b, 0)
	}
	return b
}

func appendU32Attr(b []byte, t uint16, v uint32) []byte {
	b = binary.NativeEndian.AppendUint16(b, 8)
	b = binary.NativeEndian.AppendUint16(b, t)
	return binary.NativeEndian.AppendUint32(b, v)
}

// appendAddrAttr appends an IPv4 address attribute, nothing for an
// invalid address (putAddr's rule).
func appendAddrAttr(b []byte, t uint16, a netip.Addr) []byte {
	if !a.IsValid() {
		return b
	}
	v := a.As4()
	return appendAttr(b, t, v[:])
}

// Unmarshal decodes a message body.
func (m *RouteMsg) Unmarshal(b []byte) error {
	if len(b) < 12 {
		return ErrShort
	}
	if b[0] != afInet && b[0] != 0 {
		return fmt.Errorf("iproute: address family %d: only IPv4 (2)", b[0])
	}
	m.DstLen, m.SrcLen, m.TOS, m.Protocol, m.Scope, m.Type = b[1], b[2], b[3], b[5], b[6], b[7]
	m.Table = uint32(b[4])
	m.Flags = binary.NativeEndian.Uint32(b[8:])
	ad, err := netlink.NewAttributeDecoder(b[12:])
	if err != nil {
		return err
	}
	for ad.Next() {
		switch ad.Type() {
		case rtaTable:
			m.Table = ad.Uint32()
		case rtaDst:
			m.Dst = getAddr(ad.Bytes())
		case rtaSrc:
			m.Src = getAddr(ad.Bytes())
		case rtaGateway:
			m.Gateway = getAddr(ad.Bytes())
		case rtaVia:
			m.Via = getVia(ad.Bytes())
		case rtaPrefsrc:
			m.PrefSrc = getAddr(ad.Bytes())
		case rtaOIF:
			m.Oif = ad.Uint32()
		case rtaIIF:
			m.Iif = ad.Uint32()
		case rtaFlow:
			m.Flow = ad.Uint32()
		case rtaPriority:
			m.Priority, m.HasPrio = ad.Uint32(), true
		case rtaUID:
			m.UID, m.HasUID = ad.Uint32(), true
		case rtaNhID:
			m.NhID = ad.Uint32()
		case rtaMark:
			m.Mark = ad.Uint32()
		case rtaMultipath:
			mp, err := unmarshalMultipath(ad.Bytes())
			if err != nil {
				return err
			}
			m.Multipath = mp
		case rtaIPProto:
			m.IPProto = ad.Uint8()
		case rtaSport, rtaDport:
			if b := ad.Bytes(); len(b) == 2 {
				v := uint16(b[0])<<8 | uint16(b[1]) // network order
				if ad.Type() == rtaSport {
					m.Sport = v
				} else {
					m.Dport = v
				}
			}
		case rtaMetrics:
			ad.Nested(m.Metrics.decode)
		}
	}
	return ad.Err()
}

// RTAX_* are the route metrics, RTA_METRICS' attribute types
// (linux/rtnetlink.h).
const (
	RTAXLock             = 1 // the locked metrics: bit 1<<RTAX_* each
	RTAXMTU              = 2
	RTAXWindow           = 3
	RTAXRTT              = 4 // in 1/8 ms
	RTAXRTTVar           = 5 // in 1/4 ms
	RTAXSSThresh         = 6
	RTAXCwnd             = 7
	RTAXAdvMSS           = 8
	RTAXReordering       = 9
	RTAXHopLimit         = 10
	RTAXInitCwnd         = 11
	RTAXFeatures         = 12 // RTAX_FEATURE_* bits
	RTAXRTOMin           = 13 // in ms
	RTAXInitRwnd         = 14
	RTAXQuickAck         = 15
	RTAXCCAlgo           = 16 // a congestion control algorithm's name
	RTAXFastopenNoCookie = 17
	RTAXMax              = 17
)

// RTAXFeatureECN is RTAX_FEATURES' ECN bit; RTAXFeatureMask every bit
// Linux 6.18 takes (ECN, SACK, TIMESTAMP, ALLFRAG, TCP_USEC_TS).
const (
	RTAXFeatureECN  = 0x01
	RTAXFeatureMask = 0x1f
)

// Metrics are a route's RTA_METRICS: each RTAX_* value by its number, 0
// for none (Val[RTAXLock] is the lock mask; RTAX_CC_ALGO's slot is
// unused), and the congestion control algorithm's name (RTAX_CC_ALGO).
type Metrics struct {
	Val [RTAXMax + 1]uint32
	CC  string
}

// IsZero reports metrics with nothing set (no RTA_METRICS).
func (x Metrics) IsZero() bool { return x == Metrics{} }

// MTU is RTAX_MTU (0: none).
func (x Metrics) MTU() uint32 { return x.Val[RTAXMTU] }

// Locked reports whether metric t is locked (RTAX_LOCK's bit for it).
func (x Metrics) Locked(t int) bool { return x.Val[RTAXLock]&(1<<t) != 0 }

// encode puts the set metrics in RTAX_* order, as rtnetlink_put_metrics.
func (x Metrics) encode(ae *netlink.AttributeEncoder) {
	for t := RTAXLock; t <= RTAXMax; t++ {
		switch {
		case t == RTAXCCAlgo:
			if x.CC != "" {
				ae.String(uint16(t), x.CC)
			}
		case x.Val[t] != 0:
			ae.Uint32(uint16(t), x.Val[t])
		}
	}
}

// decode reads RTA_METRICS' attributes; types past RTAX_MAX and values
// that are not 4 bytes are skipped.
func (x *Metrics) decode(ad *netlink.AttributeDecoder) error {
	for ad.Next() {
		t := int(ad.Type())
		switch {
		case t == RTAXCCAlgo:
			x.CC = ad.String()
		case t >= RTAXLock && t <= RTAXMax && len(ad.Bytes()) == 4:
			x.Val[t] = ad.Uint32()
		}
	}
	return nil
}

// NeighMsg is ndmsg with its attributes.
type NeighMsg struct {
	Index  int32
	State  uint16
	Flags  uint8
	Type   uint8
	Dst    netip.Addr
	LLAddr net.HardwareAddr
}

// Marshal encodes the message body.
func (m NeighMsg) Marshal() []byte {
	b := make([]byte, 12)
	b[0] = afInet
	binary.NativeEndian.PutUint32(b[4:], uint32(m.Index))
	binary.NativeEndian.PutUint16(b[8:], m.State)
	b[10], b[11] = m.Flags, m.Type
	ae := netlink.NewAttributeEncoder()
	putAddr(ae, ndaDst, m.Dst)
	if m.LLAddr != nil {
		ae.Bytes(ndaLLAddr, m.LLAddr)
	}
	a, _ := ae.Encode()
	return append(b, a...)
}

// Unmarshal decodes a message body.
func (m *NeighMsg) Unmarshal(b []byte) error {
	if len(b) < 12 {
		return ErrShort
	}
	m.Index = int32(binary.NativeEndian.Uint32(b[4:]))
	m.State = binary.NativeEndian.Uint16(b[8:])
	m.Flags, m.Type = b[10], b[11]
	ad, err := netlink.NewAttributeDecoder(b[12:])
	if err != nil {
		return err
	}
	for ad.Next() {
		switch ad.Type() {
		case ndaDst:
			m.Dst = getAddr(ad.Bytes())
		case ndaLLAddr:
			m.LLAddr = net.HardwareAddr(ad.Bytes())
		}
	}
	return ad.Err()
}

// RTMFOnLink is RTNH_F_ONLINK in rtm_flags: the gateway is on the link
// whatever the routes say.
const RTMFOnLink = 4

// RtNexthop is one path of RTA_MULTIPATH (struct rtnexthop and its
// RTA_GATEWAY); Weight is 1..256 (rtnh_hops + 1).
type RtNexthop struct {
	Flags   uint8
	Weight  uint16
	Ifindex int32
	Gateway netip.Addr
	Via     netip.Addr // RTA_VIA: a gateway of another family
	Flow    uint32     // RTA_FLOW: the path's realms
}

func marshalMultipath(hops []RtNexthop) []byte {
	var b []byte
	for _, h := range hops {
		ae := netlink.NewAttributeEncoder()
		putAddr(ae, rtaGateway, h.Gateway)
		putVia(ae, h.Via)
		if h.Flow != 0 {
			ae.Uint32(rtaFlow, h.Flow)
		}
		attrs, _ := ae.Encode()
		hdr := make([]byte, 8)
		binary.NativeEndian.PutUint16(hdr, uint16(8+len(attrs)))
		hdr[2], hdr[3] = h.Flags, byte(h.Weight-1)
		binary.NativeEndian.PutUint32(hdr[4:], uint32(h.Ifindex))
		b = append(b, hdr...)
		b = append(b, attrs...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
	}
	return b
}

func unmarshalMultipath(b []byte) ([]RtNexthop, error) {
	var out []RtNexthop
	for len(b) > 0 {
		if len(b) < 8 {
			return nil, fmt.Errorf("rtnetlink: rtnexthop of %d bytes", len(b))
		}
		n := int(binary.NativeEndian.Uint16(b))
		if n < 8 || n > len(b) {
			return nil, fmt.Errorf("rtnetlink: rtnexthop length %d of %d", n, len(b))
		}
		h := RtNexthop{Flags: b[2], Weight: uint16(b[3]) + 1, Ifindex: int32(binary.NativeEndian.Uint32(b[4:]))}
		if n > 8 {
			ad, err := netlink.NewAttributeDecoder(b[8:n])
			if err != nil {
				return nil, err
			}
			for ad.Next() {
				switch ad.Type() {
				case rtaGateway:
					h.Gateway = getAddr(ad.Bytes())
				case rtaVia:
					h.Via = getVia(ad.Bytes())
				case rtaFlow:
					h.Flow = ad.Uint32()
				}
			}
			if err := ad.Err(); err != nil {
				return nil, err
			}
		}
		out = append(out, h)
		b = b[min(len(b), (n+3)&^3):]
	}
	return out, nil
}
