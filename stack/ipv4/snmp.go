package ipv4

import (
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
