package rtnetlink

import (
	"encoding/binary"
	"net"

	"github.com/mdlayher/netlink"
)

// ifinfomsg attributes beyond those in msg.go (linux/if_link.h).
const (
	iflaLink           = 5
	iflaMaster         = 10
	iflaLinkinfo       = 18
	iflaNetNSPID       = 19
	iflaNetNSFD        = 28
	iflaCarrier        = 33
	iflaCarrierChanges = 35
	iflaLinkNetnsID    = 37

	iflaInfoKind = 1
	iflaInfoData = 2

	vethInfoPeer = 1
	iflaVRFTable = 1 // in a vrf's IFLA_INFO_DATA
)

// LinkMsg is ifinfomsg with its attributes.
type LinkMsg struct {
	Index     int32
	Flags     uint32
	Change    uint32
	Type      uint16 // ARPHRD_*: 1 Ethernet, 772 loopback
	Name      string
	MAC       net.HardwareAddr
	Broadcast net.HardwareAddr
	MTU       uint32
	TxQLen    uint32
	Operstate uint8
	Qdisc     string
	// Link is IFLA_LINK: a veth's peer's ifindex (in LinkNetnsID's
	// namespace when that is set). 0: none.
	Link int32
	// LinkNetnsID is IFLA_LINK_NETNSID, the peer's namespace as an nsid
	// of the namespace the message is about; -1: the same namespace.
	LinkNetnsID int32
	// Kind is IFLA_LINKINFO's IFLA_INFO_KIND: "veth", "dummy" ("" for a
	// device that no ip link add made).
	Kind string
	// Peer is a veth's VETH_INFO_PEER in IFLA_INFO_DATA (ip link add …
	// type veth peer name NAME): the other end's own ifinfomsg.
	Peer *LinkMsg
	// NetnsFD is IFLA_NET_NS_FD, the namespace a device is made in or
	// moved to: in vnic the handle of a host (what opening
	// /run/netns/NAME is on Linux); HasNetns says it is there.
	NetnsFD  uint32
	HasNetns bool
	// VRFTable is a vrf's IFLA_VRF_TABLE (ip link add … type vrf table N).
	VRFTable uint32
	// Master is IFLA_MASTER, the device's L3 master's ifindex (0 with
	// HasMaster: released, ip link set … nomaster).
	Master    uint32
	HasMaster bool
	// Carrier is IFLA_CARRIER (ip link set … carrier on|off); nil: absent.
	Carrier        *bool
	CarrierChanges uint32
}

// Marshal encodes the message body.
func (m LinkMsg) Marshal() []byte {
	b := make([]byte, 16)
	b[0] = 0 // AF_UNSPEC
	binary.NativeEndian.PutUint16(b[2:], m.Type)
	binary.NativeEndian.PutUint32(b[4:], uint32(m.Index))
	binary.NativeEndian.PutUint32(b[8:], m.Flags)
	binary.NativeEndian.PutUint32(b[12:], m.Change)
	ae := netlink.NewAttributeEncoder()
	if m.Name != "" {
		ae.String(iflaIfname, m.Name)
	}
	if m.MAC != nil {
		ae.Bytes(iflaAddress, m.MAC)
	}
	if m.Broadcast != nil {
		ae.Bytes(iflaBroadcast, m.Broadcast)
	}
	if m.MTU != 0 {
		ae.Uint32(iflaMTU, m.MTU)
	}
	if m.TxQLen != 0 {
		ae.Uint32(iflaTxQLen, m.TxQLen)
	}
	if m.Qdisc != "" {
		ae.String(iflaQdisc, m.Qdisc)
	}
	if m.Link != 0 {
		ae.Int32(iflaLink, m.Link)
	}
	if m.Link != 0 && m.LinkNetnsID >= 0 {
		ae.Int32(iflaLinkNetnsID, m.LinkNetnsID)
	}
	if m.HasNetns {
		ae.Uint32(iflaNetNSFD, m.NetnsFD)
	}
	if m.HasMaster {
		ae.Uint32(iflaMaster, m.Master)
	}
	if m.Carrier != nil {
		v := uint8(0)
		if *m.Carrier {
			v = 1
		}
		ae.Uint8(iflaCarrier, v)
	}
	if m.CarrierChanges != 0 {
		ae.Uint32(iflaCarrierChanges, m.CarrierChanges)
	}
	if m.Kind != "" || m.Peer != nil {
		ae.Nested(iflaLinkinfo, func(nae *netlink.AttributeEncoder) error {
			nae.String(iflaInfoKind, m.Kind)
			switch {
			case m.Peer != nil:
				nae.Nested(iflaInfoData, func(dae *netlink.AttributeEncoder) error {
					dae.Bytes(vethInfoPeer, m.Peer.Marshal())
					return nil
				})
			case m.Kind == "vrf":
				nae.Nested(iflaInfoData, func(dae *netlink.AttributeEncoder) error {
					dae.Uint32(iflaVRFTable, m.VRFTable)
					return nil
				})
			}
			return nil
		})
	}
	ae.Uint8(iflaOperstate, m.Operstate)
	a, _ := ae.Encode()
	return append(b, a...)
}

// Unmarshal decodes a message body.
func (m *LinkMsg) Unmarshal(b []byte) error {
	if len(b) < 16 {
		return ErrShort
	}
	m.Type = binary.NativeEndian.Uint16(b[2:])
	m.Index = int32(binary.NativeEndian.Uint32(b[4:]))
	m.Flags = binary.NativeEndian.Uint32(b[8:])
	m.Change = binary.NativeEndian.Uint32(b[12:])
	m.LinkNetnsID = -1
	ad, err := netlink.NewAttributeDecoder(b[16:])
	if err != nil {
		return err
	}
	for ad.Next() {
		switch ad.Type() {
		case iflaIfname:
			m.Name = ad.String()
		case iflaAddress:
			m.MAC = net.HardwareAddr(ad.Bytes())
		case iflaBroadcast:
			m.Broadcast = net.HardwareAddr(ad.Bytes())
		case iflaMTU:
			m.MTU = ad.Uint32()
		case iflaTxQLen:
			m.TxQLen = ad.Uint32()
		case iflaQdisc:
			m.Qdisc = ad.String()
		case iflaOperstate:
			m.Operstate = ad.Uint8()
		case iflaLink:
			m.Link = ad.Int32()
		case iflaLinkNetnsID:
			m.LinkNetnsID = ad.Int32()
		case iflaNetNSFD:
			m.NetnsFD, m.HasNetns = ad.Uint32(), true
		case iflaMaster:
			m.Master, m.HasMaster = ad.Uint32(), true
		case iflaCarrier:
			on := ad.Uint8() != 0
			m.Carrier = &on
		case iflaCarrierChanges:
			m.CarrierChanges = ad.Uint32()
		case iflaLinkinfo:
			ad.Nested(m.unmarshalInfo)
		}
	}
	return ad.Err()
}

// unmarshalInfo reads IFLA_LINKINFO: the kind and its data (a veth's
// peer, a vrf's table), whose attributes mean what the kind before them
// says.
func (m *LinkMsg) unmarshalInfo(ad *netlink.AttributeDecoder) error {
	for ad.Next() {
		switch ad.Type() {
		case iflaInfoKind:
			m.Kind = ad.String()
		case iflaInfoData:
			ad.Nested(func(dd *netlink.AttributeDecoder) error {
				for dd.Next() {
					switch {
					case m.Kind == "vrf" && dd.Type() == iflaVRFTable:
						m.VRFTable = dd.Uint32()
					case m.Kind != "vrf" && dd.Type() == vethInfoPeer:
						var p LinkMsg
						if err := p.Unmarshal(dd.Bytes()); err != nil {
							return err
						}
						m.Peer = &p
					}
				}
				return nil
			})
		}
	}
	return nil
}
