package offload

import "vnic/header"

// SegmentResult says why SegmentTCPv4 refused a packet.
type SegmentResult int

const (
	// SegmentOK: the packet was split.
	SegmentOK SegmentResult = iota
	// SegmentBadHeaders: the header lengths do not describe IPv4/TCP headers
	// inside the frame.
	SegmentBadHeaders
	// SegmentBadMSS: MSS is 0, or headers plus MSS exceed the scratch
	// buffer or 64 KiB.
	SegmentBadMSS
)

func (r SegmentResult) String() string {
	return [...]string{"ok", "bad headers", "bad MSS"}[r]
}

// SeedRemoveLength takes an L4 length out of a folded pseudo-header seed:
// the stack seeds a CHECKSUM_PARTIAL super-packet with its whole length,
// and segmentation wants the seed without it (igb_tso does the same before
// handing the packet to the NIC).
func SeedRemoveLength(seed, l4len uint16) uint16 {
	return header.Fold(uint64(seed) + uint64(^l4len))
}

// SegmentTCPv4 is TCP segmentation, the one function behind the device's
// TSO and the stack's software GSO. frame is macLen bytes of link header,
// ipLen of IPv4 header, l4Len of TCP header, then the payload. The TCP
// checksum field must hold the folded pseudo-header sum without the length
// (SeedRemoveLength), as a TSO context expects.
//
// Each segment is a copy of the headers and the next min(mss, rest) bytes
// of payload, with: IPv4 total length for that payload, ID = ID₀+k and a
// fresh header checksum; TCP seq = seq₀ + k·mss; FIN and PSH only on the
// last segment and CWR only on the first; and the TCP checksum of the seed
// plus the segment's L4 length plus its bytes. emit is called with each
// segment built in scratch, valid during the call only. It returns the
// number of segments; nothing allocates.
//
// With partial set (software GSO for a device that checksums), the TCP
// checksum field of each segment is left holding the folded pseudo-header
// sum with the segment's length, ready for the device: CHECKSUM_PARTIAL.
func SegmentTCPv4(frame []byte, macLen, ipLen, l4Len, mss int, partial bool, scratch []byte, emit func(seg []byte)) (int, SegmentResult) {
	hdr := macLen + ipLen + l4Len
	if macLen < 0 || ipLen < 20 || l4Len < 20 || hdr > len(frame) {
		return 0, SegmentBadHeaders
	}
	ip := header.IPv4(frame[macLen : macLen+ipLen])
	th := header.TCP(frame[macLen+ipLen : hdr])
	if !ip.IsValid() || ip.HeaderLen() != ipLen || ip.Protocol() != header.ProtoTCP || !th.IsValid() || th.HeaderLen() != l4Len {
		return 0, SegmentBadHeaders
	}
	if mss <= 0 || hdr+mss > len(scratch) || hdr+mss > 65535+macLen {
		return 0, SegmentBadMSS
	}
	payload := frame[hdr:]
	id0, seq0, flags := ip.ID(), th.Seq(), th.Flags()
	n := 0
	for off := 0; off < len(payload) || (off == 0 && len(payload) == 0); off += mss {
		end := min(off+mss, len(payload))
		seg := scratch[:hdr+end-off]
		copy(seg, frame[:hdr])
		copy(seg[hdr:], payload[off:end])
		sip := header.IPv4(seg[macLen : macLen+ipLen])
		sip.SetTotalLen(uint16(ipLen + l4Len + end - off))
		sip.SetID(id0 + uint16(n))
		sip.UpdateChecksum()
		st := header.TCP(seg[macLen+ipLen : hdr])
		st.SetSeq(seq0 + uint32(off))
		f := flags
		if end < len(payload) {
			f &^= header.TCPFin | header.TCPPsh
		}
		if n > 0 {
			f &^= header.TCPCwr
		}
		st.SetFlags(f)
		l4 := seg[macLen+ipLen:]
		if partial {
			st.SetChecksum(header.Fold(uint64(st.Checksum()) + uint64(len(l4))))
		} else {
			st.SetChecksum(^header.Fold(header.Sum(l4, uint64(len(l4)))))
		}
		emit(seg)
		n++
		if len(payload) == 0 {
			break
		}
	}
	return n, SegmentOK
}

// FinishChecksum completes a CHECKSUM_PARTIAL packet as a NIC does: the
// ones'-complement sum of frame[start:] (whose checksum field at
// start+offset holds the pseudo-header seed), complemented, is written at
// start+offset. For UDP a result of 0 is written as 0xFFFF. It reports
// false, changing nothing, if the offsets fall outside the frame.
func FinishChecksum(frame []byte, start, offset int, udp bool) bool {
	if start < 0 || offset < 0 || start+offset+2 > len(frame) {
		return false
	}
	c := ^header.Fold(header.Sum(frame[start:], 0))
	if c == 0 && udp {
		c = 0xFFFF
	}
	frame[start+offset] = byte(c >> 8)
	frame[start+offset+1] = byte(c)
	return true
}
