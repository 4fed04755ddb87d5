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
	data := skb.Data()
	drop := func() []*SKB {
		q.dev.txDropped.Add(1)
		skb.Free()
		return out
	}
	if skb.GSOType != GSOTCPv4 || len(data) < EthHdrLen+40 {
		return drop()
	}
	ip := header.IPv4(data[EthHdrLen:])
	if !ip.IsValid() || ip.Protocol() != header.ProtoTCP {
		return drop()
	}
	th := header.TCP(ip[ip.HeaderLen():])
	if !th.IsValid() {
		return drop()
	}
	ipLen, l4Len := ip.HeaderLen(), th.HeaderLen()
	th.SetChecksum(header.Fold(header.PseudoHeaderIPv4(ip.Src(), ip.Dst(), header.ProtoTCP, 0)))
	partial := f&(ethtool.IPCsum|ethtool.HWCsum) != 0
	if q.gsoScratch == nil {
		q.gsoScratch = make([]byte, 65536+512) // per queue: queues run on several CPUs
	}
	segs := 0
	_, res := offload.SegmentTCPv4(data, EthHdrLen, ipLen, l4Len, int(skb.GSOSize), partial, q.gsoScratch, func(seg []byte) {
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
	if res != offload.SegmentOK {
		return drop()
	}
	h.cpus[0].ChargeCopy(len(data))
	h.off.gsoPackets.Add(1)
	h.off.gsoSegments.Add(uint64(segs))
	skb.Consume()
	return out
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
