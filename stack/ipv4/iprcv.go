package ipv4

import (
	"encoding/binary"
	"errors"
	"vnic/header"
	"vnic/stack"
)

// IPStats are a host's IPv4 SNMP counters (the Ip: and IpExt: lines of
// /proc/net/snmp and netstat -s), as Linux counts them.
type IPStats struct {
	InReceives, InHdrErrors, InAddrErrors, InCsumErrors, InTruncatedPkts, InDiscards, InDelivers, InUnknownProtos stack.Counter
	ForwDatagrams, OutRequests, OutNoRoutes, OutDiscards                                                          stack.Counter
	FragOKs, FragFails, FragCreates, ReasmReqds, ReasmOKs, ReasmFails, ReasmTimeout                               stack.Counter
	// IpExt: no route for a received packet, broadcasts and multicasts
	// received, reassembly queues dropped for an overlap.
	InNoRoutes, InBcastPkts, InMcastPkts, ReasmOverlaps stack.Counter
	// InRPFilter is TcpExt IPReversePathFilter: dropped by rp_filter.
	InRPFilter stack.Counter
}

// IPStatsSnapshot is IPStats read at one time.
type IPStatsSnapshot struct {
	InReceives, InHdrErrors, InAddrErrors, InCsumErrors, InTruncatedPkts, InDiscards, InDelivers, InUnknownProtos uint64
	ForwDatagrams, OutRequests, OutNoRoutes, OutDiscards                                                          uint64
	FragOKs, FragFails, FragCreates, ReasmReqds, ReasmOKs, ReasmFails, ReasmTimeout                               uint64
	InNoRoutes, InBcastPkts, InMcastPkts, ReasmOverlaps                                                           uint64
	InRPFilter                                                                                                    uint64
}

// Snapshot reads the counters.
func (s *IPStats) Snapshot() IPStatsSnapshot {
	return IPStatsSnapshot{
		InReceives: s.InReceives.Load(), InHdrErrors: s.InHdrErrors.Load(), InAddrErrors: s.InAddrErrors.Load(),
		InCsumErrors: s.InCsumErrors.Load(), InTruncatedPkts: s.InTruncatedPkts.Load(), InDiscards: s.InDiscards.Load(),
		InDelivers: s.InDelivers.Load(), InUnknownProtos: s.InUnknownProtos.Load(),
		ForwDatagrams: s.ForwDatagrams.Load(), OutRequests: s.OutRequests.Load(), OutNoRoutes: s.OutNoRoutes.Load(), OutDiscards: s.OutDiscards.Load(),
		FragOKs: s.FragOKs.Load(), FragFails: s.FragFails.Load(), FragCreates: s.FragCreates.Load(),
		ReasmReqds: s.ReasmReqds.Load(), ReasmOKs: s.ReasmOKs.Load(), ReasmFails: s.ReasmFails.Load(), ReasmTimeout: s.ReasmTimeout.Load(),
		InNoRoutes: s.InNoRoutes.Load(), InBcastPkts: s.InBcastPkts.Load(), InMcastPkts: s.InMcastPkts.Load(), ReasmOverlaps: s.ReasmOverlaps.Load(),
		InRPFilter: s.InRPFilter.Load(),
	}
}

// Reasons IPRcvCore drops a packet.
var (
	ErrIPOtherHost = errors.New("stack: IPv4 frame for another host")
	ErrIPHeader    = errors.New("stack: bad IPv4 header")
	ErrIPChecksum  = errors.New("stack: bad IPv4 header checksum")
	ErrIPTruncated = errors.New("stack: IPv4 packet shorter than its total length")
)

// IPv4HdrLen is the header without options.
const IPv4HdrLen = 20

// IPRcvCore is ip_rcv_core's checks, in Linux's order, on pkt (the
// frame from the network header on) and the frame's packet type, counted
// in s: a frame for another host is dropped silently; everything else
// counts in InReceives; then a header shorter than 20 bytes, a version
// other than 4, IHL under 5 or past the data → InHdrErrors; a header
// checksum that does not verify → InCsumErrors and InHdrErrors (skipped
// when the NIC verified it: hwChecked); fewer bytes than the total length
// → InTruncatedPkts; a total length under the header's → InHdrErrors. It
// returns the header length and the total length: the caller trims the
// data to it (Ethernet padding).
func (s *IPStats) RcvCore(pkt []byte, pktType uint8, hwChecked bool) (hdrLen, totLen int, err error) {
	if pktType == stack.PacketOtherHost {
		return 0, 0, ErrIPOtherHost
	}
	s.InReceives.Add(1)
	if len(pkt) < IPv4HdrLen || pkt[0]>>4 != 4 || pkt[0]&0x0f < 5 {
		s.InHdrErrors.Add(1)
		return 0, 0, ErrIPHeader
	}
	hdrLen = int(pkt[0]&0x0f) * 4
	if len(pkt) < hdrLen {
		s.InHdrErrors.Add(1)
		return 0, 0, ErrIPHeader
	}
	if !hwChecked && header.Checksum(pkt[:hdrLen]) != 0 {
		s.InCsumErrors.Add(1)
		s.InHdrErrors.Add(1)
		return 0, 0, ErrIPChecksum
	}
	totLen = int(binary.BigEndian.Uint16(pkt[2:4]))
	if len(pkt) < totLen {
		s.InTruncatedPkts.Add(1)
		return 0, 0, ErrIPTruncated
	}
	if totLen < hdrLen {
		s.InHdrErrors.Add(1)
		return 0, 0, ErrIPHeader
	}
	return hdrLen, totLen, nil
}
