package stack

import (
	"vnic/ethtool"
	"vnic/header"
	"vnic/offload"
)

// Transmit validation (validate_xmit_skb): before start_xmit the stack does
// in software what the device's active features cannot: segment a GSO skb
// when TSO is off (software GSO), and finish a CHECKSUM_PARTIAL checksum
// when transmit checksumming is off (skb_checksum_help).

// OffloadStats counts the software fallbacks and GRO.
type OffloadStats struct {
	GSOPackets   uint64 // super-packets segmented in software
	GSOSegments  uint64 // segments they produced
	CsumHelp     uint64 // checksums finished in software on transmit
	CsumVerified uint64 // receive checksums verified in software
	CsumBad      uint64 // receive checksums found wrong
	GROMerged    uint64 // packets GRO appended to an earlier one
	GROFlushed   uint64 // merged packets GRO passed up
}

type offloadCounters struct {
	gsoPackets, gsoSegments, csumHelp, csumVerified, csumBad, groMerged, groFlushed Counter
}

// OffloadStats returns the host's counters.
func (h *Host) OffloadStats() OffloadStats {
	c := &h.off
	return OffloadStats{c.gsoPackets.Load(), c.gsoSegments.Load(), c.csumHelp.Load(), c.csumVerified.Load(),
		c.csumBad.Load(), c.groMerged.Load(), c.groFlushed.Load()}
}

// validateXmit prepares skb for a device with features f. It returns the
// skbs to hand to start_xmit, in order (skb itself, or its segments), or
// nil when the packet had to be dropped (counted).
func (q *TxQueue) validateXmit(skb *SKB, f ethtool.Features, out []*SKB) []*SKB {
	h := q.dev.host
	if skb.GSOSize > 0 && !(skb.GSOType == GSOTCPv4 && f&ethtool.TSO != 0) {
		return q.gsoSegment(skb, f, out)
	}
	if skb.IPSummed == ChecksumPartial && f&(ethtool.IPCsum|ethtool.HWCsum) == 0 {
		if !checksumHelp(skb) {
			q.dev.txDropped.Add(1)
			skb.Free()
			return out
		}
		h.off.csumHelp.Add(1)
	}
	return append(out, skb)
}

// checksumHelp is skb_checksum_help: finish a CHECKSUM_PARTIAL checksum in
// software.
func checksumHelp(skb *SKB) bool {
	start := skb.CsumStartOffset()
	udp := skb.CsumOffset == header.UDPChecksumOffset
	if !offload.FinishChecksum(skb.Data(), start, int(skb.CsumOffset), udp) {
		return false
	}
	skb.IPSummed = ChecksumNone
	skb.Dev.host.cpus[0].ChargeCopy(skb.Len() - start) // summing costs like reading
	return true
}

// gsoSegment is software GSO for TCP/IPv4 (tcp_gso_segment): the same
// segmentation the device's TSO does. Segments are CHECKSUM_PARTIAL when
// the device checksums, fully checksummed otherwise.
func (q *TxQueue) gsoSegment(skb *SKB, f ethtool.Features, out []*SKB) []*SKB {
	h := q.dev.host
	partial := f&(ethtool.IPCsum|ethtool.HWCsum) != 0
	if q.gsoScratch == nil {
		q.gsoScratch = make([]byte, 65536+512) // per queue: queues run on several CPUs
	}
	segs := 0
	ok := tcpv4Segments(skb, EthHdrLen, partial, q.gsoScratch, func(seg []byte, ipLen int) {
		s := h.pool.Alloc(len(seg) + NetIPAlign)
		s.Reserve(NetIPAlign)
		copy(s.Put(len(seg)), seg)
		s.ResetMACHeader()
		s.Dev, s.Protocol, s.Priority, s.Mark = skb.Dev, skb.Protocol, skb.Priority, skb.Mark
		s.QueueMapping, s.TxQueueSet, s.Hash, s.L4Hash = skb.QueueMapping, skb.TxQueueSet, skb.Hash, skb.L4Hash
		if partial {
			s.SetPartial(EthHdrLen+ipLen, header.TCPChecksumOffset)
		}
		out = append(out, s)
		segs++
	})
	if !ok {
		q.dev.txDropped.Add(1)
		skb.Free()
		return out
	}
	h.cpus[0].ChargeCopy(skb.Len())
	h.off.gsoPackets.Add(1)
	h.off.gsoSegments.Add(uint64(segs))
	skb.Consume()
	return out
}

// SegmentGSO is skb_gso_segment with the GSO features masked off, for
// IPv4 output when a GSO packet's segments are too big for the route's
// MTU (ip_finish_output_gso): skb.Data() starts at its IPv4 header, and
// each segment, fully checksummed, is a new skb with headroom bytes in
// front and skb's metadata (CopyMeta), network and transport headers set,
// handed to emit in order. skb is consumed. It reports false, leaving skb
// untouched, when skb is not a well-formed TCP/IPv4 GSO packet.
func (h *Host) SegmentGSO(skb *SKB, headroom int, emit func(*SKB)) bool {
	scratch := h.pool.Alloc(65536) // the largest class, as scratch: safe on any CPU
	if scratch == nil {
		return false
	}
	defer scratch.Free()
	segs := 0
	ok := tcpv4Segments(skb, 0, false, scratch.buf, func(seg []byte, ipLen int) {
		s := h.pool.Alloc(headroom + len(seg))
		s.Reserve(headroom)
		s.CopyMeta(skb)
		copy(s.Put(len(seg)), seg)
		s.ResetNetworkHeader()
		s.SetTransportHeader(ipLen)
		segs++
		emit(s)
	})
	if !ok {
		return false
	}
	h.cpus[0].ChargeCopy(skb.Len())
	h.off.gsoPackets.Add(1)
	h.off.gsoSegments.Add(uint64(segs))
	skb.Consume()
	return true
}

// tcpv4Segments checks that skb (macLen bytes of link header, then IPv4)
// is a TCP/IPv4 GSO packet, seeds its TCP checksum for segmentation and
// splits it at skb.GSOSize: emit gets each segment's bytes, valid during
// the call, and the IPv4 header length. false: not such a packet, nothing
// emitted.
func tcpv4Segments(skb *SKB, macLen int, partial bool, scratch []byte, emit func(seg []byte, ipLen int)) bool {
	data := skb.Data()
	if skb.GSOType != GSOTCPv4 || len(data) < macLen+40 {
		return false
	}
	ip := header.IPv4(data[macLen:])
	if !ip.IsValid() || ip.Protocol() != header.ProtoTCP {
		return false
	}
	th := header.TCP(ip[ip.HeaderLen():])
	if !th.IsValid() {
		return false
	}
	ipLen, l4Len := ip.HeaderLen(), th.HeaderLen()
	th.SetChecksum(header.Fold(header.PseudoHeaderIPv4(ip.Src(), ip.Dst(), header.ProtoTCP, 0)))
	_, res := offload.SegmentTCPv4(data, macLen, ipLen, l4Len, int(skb.GSOSize), partial, scratch, func(seg []byte) {
		emit(seg, ipLen)
	})
	return res == offload.SegmentOK
}

// ChecksumOK is the receive-side check a protocol makes before trusting a
// TCP/UDP-over-IPv4 packet (skb at the network header): nothing to do when
// the device vouched for it (CHECKSUM_UNNECESSARY); otherwise the IPv4
// header and L4 checksums are verified in software. Counted either way.
//
// CHECKSUM_COMPLETE (the device summed the L4 segment into skb.Csum) is
// checked against the pseudo-header without touching the payload.
func ChecksumOK(skb *SKB) bool {
	if skb.IPSummed == ChecksumUnnecessary {
		return true
	}
	if skb.IPSummed == ChecksumComplete {
		ip := header.IPv4(skb.Data())
		if ip.IsValid() && int(ip.TotalLen()) <= len(ip) && ip.ChecksumValid() {
			l4len := uint16(int(ip.TotalLen()) - ip.HeaderLen())
			if header.Fold(header.PseudoHeaderIPv4(ip.Src(), ip.Dst(), ip.Protocol(), l4len)+uint64(skb.Csum)) == 0xffff {
				skb.IPSummed = ChecksumUnnecessary
				return true
			}
		}
		skb.IPSummed = ChecksumNone // fall back to a full check
	}
	h := skb.Dev.host
	h.off.csumVerified.Add(1)
	ip := header.IPv4(skb.Data())
	if !ip.IsValid() || int(ip.TotalLen()) > len(ip) || !ip.ChecksumValid() {
		h.off.csumBad.Add(1)
		return false
	}
	l4 := ip[ip.HeaderLen():ip.TotalLen()]
	h.cpus[0].ChargeCopy(len(l4))
	if (ip.Protocol() == header.ProtoTCP || ip.Protocol() == header.ProtoUDP) && !ip.IsFragment() && !header.L4ChecksumValid(ip, l4) {
		h.off.csumBad.Add(1)
		return false
	}
	skb.IPSummed = ChecksumUnnecessary
	return true
}
