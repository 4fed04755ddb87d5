package ethtool

// Receive flow classification (ethtool -N/-n flow-type rules; the kernel's
// ETHTOOL_{G,S}RXCLSRL* commands on struct ethtool_rxnfc). Only the IPv4
// and Ethernet flow types vnic's device can steer are modelled.

// Flow types for classification rules beyond the hashed ones (ethtool.h).
const (
	SCTPv4Flow FlowType = 0x03
	AHESPv4    FlowType = 0x04
	AHv4Flow   FlowType = 0x09
	ESPv4Flow  FlowType = 0x0a
	IPUserFlow FlowType = 0x0d // ip_user_spec: addresses, tos, proto, l4_4_bytes
	EtherFlow  FlowType = 0x12 // ethhdr: h_dest, h_source, h_proto

	FlowExt    FlowType = 0x80000000 // h_ext/m_ext (vlan-etype, vlan, user-def) are valid
	FlowMACExt FlowType = 0x40000000 // h_ext.h_dest (dst-mac for IP flows) is valid
	FlowRSS    FlowType = 0x20000000 // the rule selects an RSS context
)

// Rule locations and actions (ethtool.h).
const (
	// RxClsFlowDisc as RingCookie: drop the matching frames (action -1).
	RxClsFlowDisc uint64 = 0xffffffffffffffff
	// RxClsFlowWake as RingCookie: Wake-on-LAN (action -2).
	RxClsFlowWake uint64 = 0xfffffffffffffffe

	// Special locations for InsertRxClsRule: the driver picks one. Any is
	// the low 32 bits' RX_CLS_LOC_ANY; First/Last ask for a place at
	// either end of the table.
	RxClsLocAny   uint32 = 0xffffffff
	RxClsLocFirst uint32 = 0xfffffffe
	RxClsLocLast  uint32 = 0xfffffffd
)

// FlowFields are the header fields one rule compares; a field's mask has a
// 1 in every bit that must match (the kernel's m_u: the ethtool CLI's
// user-facing "m" masks are the inverse and are flipped by the parser).
type FlowFields struct {
	// IPv4 flows (tcp_ip4_spec / usr_ip4_spec): addresses in network
	// order, ports in host order.
	Src, Dst         [4]byte
	SrcPort, DstPort uint16
	TOS              uint8
	Proto            uint8  // IPUserFlow only
	L4Bytes          uint32 // IPUserFlow only: the first four L4 bytes (l4_4_bytes); SPI for AH/ESP
	// EtherFlow (ethhdr).
	DstMAC, SrcMAC [6]byte
	EtherType      uint16
	// h_ext, with FlowExt: the VLAN's EtherType and TCI, and two
	// driver-defined user-def words.
	VLANEtype, VLANTCI uint16
	UserDef            [2]uint32
	// h_ext.h_dest, with FlowMACExt (the dst-mac of an IP flow).
	ExtDstMAC [6]byte
}

// RxClsRule is one classification rule (struct ethtool_rx_flow_spec).
type RxClsRule struct {
	FlowType FlowType // a flow type, ORed with FlowExt/FlowMACExt as used
	Value    FlowFields
	Mask     FlowFields
	// RingCookie is the action: a queue index, RxClsFlowDisc or
	// RxClsFlowWake. (The kernel keeps a VF in bits 32-39; vnic has none.)
	RingCookie uint64
	// Location is the rule's slot; on insert one of the RxClsLoc* values
	// lets the driver choose, and the chosen slot is returned.
	Location uint32
}

// RxClsRules is what ETHTOOL_GRXCLSRLCNT / GRXCLSRLALL report: the table's
// size (data), whether special insert locations are supported
// (RX_CLS_LOC_SPECIAL), and every rule in location order.
type RxClsRules struct {
	TableSize uint32
	Special   bool
	Rules     []RxClsRule
}

// RxClsOps is the optional part of Ops for ntuple filters. A driver that
// does not implement it answers EOPNOTSUPP through the command core, as a
// driver with no get_rxnfc/set_rxnfc for these commands does.
type RxClsOps interface {
	// GetRxRings is ETHTOOL_GRXRINGS: the RX queues rules can steer to.
	GetRxRings() (uint32, error)
	GetRxClsRules() (RxClsRules, error)
	// InsertRxClsRule installs r (EINVAL for a field or flow type the
	// hardware cannot match, EEXIST/ENOSPC as the kernel drivers answer)
	// and returns its location.
	InsertRxClsRule(r RxClsRule) (uint32, error)
	// DeleteRxClsRule removes the rule at loc (ENOENT when empty).
	DeleteRxClsRule(loc uint32) error
}

// The other flow types ethtool's rx-flow-hash and flow-type keywords name
// (ethtool.h); vnic's rules model the IPv4 and Ethernet ones only.
const (
	TCPv6Flow  FlowType = 0x05
	UDPv6Flow  FlowType = 0x06
	SCTPv6Flow FlowType = 0x07
	AHESPv6    FlowType = 0x08
	AHv6Flow   FlowType = 0x0b
	ESPv6Flow  FlowType = 0x0c
	IPv6User   FlowType = 0x0e
	IPv6Flow   FlowType = 0x11
)
