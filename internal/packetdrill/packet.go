package packetdrill

import (
	"net/netip"
	"strings"
)

// Direction is a packet's way: injected into the stack or expected from it.
type Direction uint8

const (
	// Inbound ("<") packets are injected into the stack under test.
	Inbound Direction = iota + 1
	// Outbound (">") packets are expected from the stack under test.
	Outbound
)

func (d Direction) String() string {
	if d == Inbound {
		return "<"
	}
	return ">"
}

// Packet is a packet event:
//
//	< [encapsulation:] [ip info] [sport>dport] flags seq:end(len) [ack N] [win N] [urg N] [<options>]
//	> [ip info] udp [sport>dport] (len)
//	< [ip info] icmp type [code] [mtu N] [id N] [[echoed]]
//
// Exactly one of TCP, UDP and ICMP is set.
type Packet struct {
	Pos       Pos // the direction
	Direction Direction
	// Encaps are the outer headers of an encapsulated packet, outermost
	// first (ipv4 2.2.2.2 > 1.1.1.1: gre: …); nil for a plain packet.
	Encaps []Encap
	// IP is the IP header's fields the script gives for the packet
	// itself ([ect0], (tos 0x10), [ttl 64]).
	IP IPInfo
	// Ports are the TCP or UDP ports when written (1234>80); nil leaves
	// them to the runner (the connection's own).
	Ports *Ports
	TCP   *TCP
	UDP   *UDP
	ICMP  *ICMP
}

// Ports are a segment's or datagram's source and destination ports.
type Ports struct{ Src, Dst uint16 }

// ECN is an IP ECN codepoint as the script names it. The first four are
// the field's values on the wire.
type ECN uint8

const (
	NoECN ECN = 0 // noecn: Not-ECT
	ECT1  ECN = 1 // ect1
	ECT0  ECN = 2 // ect0
	CE    ECN = 3 // ce
	ECT01 ECN = 4 // ect01: ECT(0) or ECT(1); outbound packets only
)

var ecnNames = map[string]ECN{"noecn": NoECN, "ect1": ECT1, "ect0": ECT0, "ce": CE, "ect01": ECT01}

func (e ECN) String() string {
	if int(e) < len(ecnStrings) {
		return ecnStrings[e]
	}
	return "ecn?"
}

var ecnStrings = [...]string{"noecn", "ect1", "ect0", "ce", "ect01"}

// TOSCheck says what a packet's IP info gives of the TOS byte.
type TOSCheck uint8

const (
	// TOSUnchecked: nothing given; an outbound packet's TOS is not checked.
	TOSUnchecked TOSCheck = iota
	// TOSCheckECN ([ect0], (ce), …): the ECN bits are given.
	TOSCheckECN
	// TOSCheckValue ([tos 0x10]): the whole byte is given.
	TOSCheckValue
)

// IPInfo is the "(…)" or "[…]" after a direction or an ipv4/ipv6 prefix
// (the two brackets mean the same). The grammar allows one of: an ECN
// name or tos 0xNN; flowlabel 0xNNNNN; ttl N; or the first then ", " and
// the second.
type IPInfo struct {
	Check        TOSCheck
	ECN          ECN   // when Check is TOSCheckECN
	TOS          uint8 // when Check is TOSCheckValue
	HasFlowLabel bool
	FlowLabel    uint32 // 20 bits
	HasTTL       bool
	TTL          uint8
}

// IsZero reports whether nothing is given.
func (ip IPInfo) IsZero() bool { return ip == IPInfo{} }

// EncapKind is the kind of an outer header.
type EncapKind uint8

const (
	EncapIPv4 EncapKind = iota + 1 // ipv4 SRC > DST:
	EncapIPv6                      // ipv6 SRC > DST:
	EncapGRE                       // gre: or gre flags …, sum …, off …, key …, seq …:
	EncapMPLS                      // mpls (label …, tc …, [S], ttl …) …:
)

// Encap is one outer header of an encapsulated packet.
type Encap struct {
	Kind     EncapKind
	IP       IPInfo     // ipv4, ipv6
	Src, Dst netip.Addr // ipv4, ipv6
	GRE      *GREHeader // gre with its fields written; nil for "gre:"
	MPLS     []MPLSEntry
}

// TCP is a TCP segment's header as the script gives it.
type TCP struct {
	// Flags are the flag letters as written ("S.", "FP.", "." for a bare
	// ACK, "" for "-"): F S R P . (ACK) U E (ECE) W (CWR), and for
	// AccECN A (AE) or a single digit 0-7 giving AE, CWR and ECE as one
	// number (never both a digit and one of E W A).
	Flags string
	// Seq is the first sequence number, Len the payload's length and End
	// Seq+Len (seq:end(len); packetdrill wants end to equal seq+len).
	// For a script's relative sequence numbers these are offsets from
	// the connection's initial sequence numbers, as packetdrill reads
	// them; the runner maps them.
	Seq, End uint32
	Len      uint16
	HasAck   bool
	Ack      uint32
	// HasWin is false when no window is given: allowed for outbound
	// packets only, whose window is then not checked.
	HasWin bool
	Win    uint16
	HasUrg bool
	Urg    uint16
	// AnyOptions is "<...>": an outbound packet's options are not
	// checked. Otherwise Options are the options in order; none written
	// means none (an outbound packet must carry none).
	AnyOptions bool
	Options    []TCPOption
}

// Has reports whether flag (one of the letters in Flags) is set.
func (t *TCP) Has(flag byte) bool { return strings.IndexByte(t.Flags, flag) >= 0 }

// UDP is a UDP datagram: udp (len).
type UDP struct {
	Len uint16
}

// ICMP is an ICMP message: icmp type [code] [mtu N] [id N] [[echoed]].
// Type and Code are the names as written (echo_reply, unreachable
// frag_needed, type_3 code_4); TypeNum and CodeNum what they mean on the
// wire for the script's IP version (ICMPv4 unless --ip_version=ipv6).
type ICMP struct {
	Type, Code       string
	TypeNum, CodeNum uint8
	HasMTU           bool
	MTU              uint32 // unreachable frag_needed (ICMPv6 packet_too_big)
	HasID            bool
	ID               uint16 // an echo's identifier
	// Echoed is the quoted packet the message carries; nil is TCP with
	// sequence 0 and no payload, as packetdrill takes it.
	Echoed *ICMPEchoed
}

// EchoedProto is the protocol of the packet an ICMP message quotes.
type EchoedProto uint8

const (
	EchoedTCP EchoedProto = iota + 1 // [seq:end(len)]
	EchoedUDP                        // [udp (len)]
	EchoedRaw                        // [raw (len)]: Len bytes of zeroes make the whole message
)

// ICMPEchoed is the packet an ICMP error quotes: for TCP its sequence
// range, for UDP its payload length, for raw the message's length.
type ICMPEchoed struct {
	Proto    EchoedProto
	Seq, End uint32
	Len      uint16
}
