package offload

import "vnic/header"

// GROResult is what TCP GRO does with a packet given the one it holds for
// the same flow.
type GROResult int

const (
	// GROHold: nothing held; hold the packet (a new train starts).
	GROHold GROResult = iota
	// GROMerge: append the packet to the held one and keep holding.
	GROMerge
	// GROMergeFlush: append, then flush the merged packet: the new one
	// ended the train (PSH, FIN, or shorter than the MSS).
	GROMergeFlush
	// GROFlushHold: flush the held packet unmerged, hold the new one.
	GROFlushHold
	// GROFlushPass: flush the held packet, pass the new one up alone.
	GROFlushPass
	// GROPass: pass the packet up alone (not TCP/IPv4 GRO can merge, or a
	// packet that must not wait), nothing held.
	GROPass
)

func (r GROResult) String() string {
	return [...]string{"hold", "merge", "merge+flush", "flush+hold", "flush+pass", "pass"}[r]
}

// GRO limits: a merged packet stays within 64 KiB (GRO_LEGACY_MAX_SIZE) and
// 64 segments.
const (
	GROMaxSize = 65536
	GROMaxSegs = 64
)

// GROHeld is the packet GRO holds for a flow: its IPv4 and TCP headers (of
// the first segment, with the merged total length), the number of segments
// merged and the MSS (the first segment's payload length).
type GROHeld struct {
	IP    header.IPv4
	TCP   header.TCP
	Segs  int
	MSS   int
	Len   int // merged IP total length
	Flags uint8
}

// GROFlowKey returns the 4-tuple of a TCP/IPv4 packet as one comparable
// value.
func GROFlowKey(ip header.IPv4, th header.TCP) [12]byte {
	var k [12]byte
	*(*[4]byte)(k[0:4]) = ip.Src()
	*(*[4]byte)(k[4:8]) = ip.Dst()
	copy(k[8:12], th[0:4]) // both ports as they are on the wire
	return k
}

// groFlushFlags end a train after the packet is merged; groNoMerge flags
// forbid merging it at all (Linux tcp_gro_receive).
const (
	groFlushFlags = header.TCPUrg | header.TCPPsh | header.TCPRst | header.TCPSyn | header.TCPFin
	groNoMerge    = header.TCPCwr
)

// Eligible reports whether GRO handles a TCP/IPv4 packet at all: IHL 5 (no
// options), not a fragment, valid lengths. Others pass up alone.
func GROEligible(ip header.IPv4, th header.TCP) bool {
	return ip.IsValidNoOptions() && !ip.IsFragment() && ip.Protocol() == header.ProtoTCP &&
		int(ip.TotalLen()) <= len(ip) && th.IsValid()
}

// TCPGRO decides what happens to a TCP/IPv4 packet (ip, th, with payload
// bytes of payload) given held, the packet GRO holds for its flow (nil if
// none). The rules are Linux's inet_gro_receive and tcp_gro_receive:
// merging needs the same TTL and TOS, an IP ID that follows the held
// train's (incrementing, or fixed with DF), the same ACK number, identical
// options, flags equal but for CWR/FIN/PSH, no CWR, a payload no larger than
// the MSS, a contiguous sequence number and room under 64 KiB and 64
// segments. A merged train ends (is flushed) when the new packet is shorter
// than the MSS or carries PSH, URG, RST, SYN or FIN.
func TCPGRO(held *GROHeld, ip header.IPv4, th header.TCP, payload int) GROResult {
	flags := th.Flags()
	ends := flags&groFlushFlags != 0
	if held == nil {
		if payload == 0 || ends {
			return GROPass
		}
		return GROHold
	}
	if !groCanMerge(held, ip, th, payload) {
		if payload == 0 || ends {
			return GROFlushPass
		}
		return GROFlushHold
	}
	if payload < held.MSS || ends {
		return GROMergeFlush
	}
	return GROMerge
}

func groCanMerge(h *GROHeld, ip header.IPv4, th header.TCP, payload int) bool {
	if payload == 0 || payload > h.MSS || th.Flags()&groNoMerge != 0 {
		return false
	}
	if ip.TTL() != h.IP.TTL() || ip.TOS() != h.IP.TOS() {
		return false
	}
	// IP ID: incrementing per segment, or fixed with DF (flush_id).
	id0, id := h.IP.ID(), ip.ID()
	df := ip.FlagsFrag()&header.IPv4DF != 0 && h.IP.FlagsFrag()&header.IPv4DF != 0
	if id != id0+uint16(h.Segs) && !(df && id == id0) {
		return false
	}
	if (th.Flags()^h.Flags)&^(header.TCPCwr|header.TCPFin|header.TCPPsh) != 0 {
		return false
	}
	if th.Ack() != h.TCP.Ack() || th.HeaderLen() != h.TCP.HeaderLen() {
		return false
	}
	ho, no := h.TCP.Options(), th.Options()
	for i := range no {
		if no[i] != ho[i] {
			return false
		}
	}
	hdr := h.IP.HeaderLen() + h.TCP.HeaderLen()
	if th.Seq() != h.TCP.Seq()+uint32(h.Len-hdr) {
		return false
	}
	if h.Len+payload >= GROMaxSize || h.Segs >= GROMaxSegs {
		return false
	}
	return true
}
