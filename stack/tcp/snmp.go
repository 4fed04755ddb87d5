package tcp

import "vnic/stack"

// Stats are the Tcp counters of /proc/net/snmp and the TCP ones of
// /proc/net/netstat's TcpExt, with Linux's names (without the Ext
// prefix the Go names carry to tell the two apart).
type Stats struct {
	ActiveOpens, PassiveOpens, AttemptFails, EstabResets, CurrEstab stack.Counter
	InSegs, OutSegs, RetransSegs, InErrs, OutRsts, InCsumErrors     stack.Counter

	ExtSyncookiesSent, ExtSyncookiesRecv, ExtSyncookiesFailed   stack.Counter
	ExtPAWSEstab, ExtDelayedACKs, ExtDelayedACKLost             stack.Counter
	ExtListenOverflows, ExtListenDrops                          stack.Counter
	ExtTCPRenoRecovery, ExtTCPSackRecovery, ExtTCPFastRetrans   stack.Counter
	ExtTCPTimeouts, ExtTCPLossProbes, ExtTCPDSACKRecv           stack.Counter
	ExtTCPAbortOnData, ExtTCPAbortOnClose, ExtTCPAbortOnTimeout stack.Counter
	ExtTCPSYNChallenge, ExtTCPChallengeACK, ExtTCPOFOQueue      stack.Counter
	ExtTCPSynRetrans, ExtTCPDeferAcceptDrop, ExtTWRecycled      stack.Counter
	ExtTCPToZeroWindowAdv, ExtTCPZeroWindowDrop                 stack.Counter
	ExtTCPReqQFullDoCookies, ExtTCPHystartDelayDetect           stack.Counter
	ExtTCPDelivered, ExtTCPDeliveredCE                          stack.Counter

	// Undo and F-RTO.
	ExtTCPSACKReorder, ExtTCPTSReorder                                  stack.Counter
	ExtTCPFullUndo, ExtTCPPartialUndo, ExtTCPDSACKUndo, ExtTCPLossUndo  stack.Counter
	ExtTCPLostRetransmit, ExtTCPSlowStartRetrans                        stack.Counter
	ExtTCPRenoFailures, ExtTCPSackFailures, ExtTCPLossFailures          stack.Counter
	ExtTCPDSACKOfoRecv, ExtTCPDSACKIgnoredOld, ExtTCPDSACKIgnoredNoUndo stack.Counter
	ExtTCPSpuriousRTOs, ExtTCPDSACKRecvSegs, ExtTCPDSACKIgnoredDubious  stack.Counter
}

// Counter is one named counter as netstat -s and nstat show it.
type Counter struct {
	Name  string
	Value uint64
}

// Tcp is the Tcp line of /proc/net/snmp, in its order (RtoAlgorithm 1,
// RtoMin 200, RtoMax 120000, MaxConn -1 as Linux prints them).
func (s *Stats) Tcp() []Counter {
	return []Counter{
		{"RtoAlgorithm", 1}, {"RtoMin", 200}, {"RtoMax", 120000}, {"MaxConn", ^uint64(0)},
		{"ActiveOpens", s.ActiveOpens.Load()}, {"PassiveOpens", s.PassiveOpens.Load()},
		{"AttemptFails", s.AttemptFails.Load()}, {"EstabResets", s.EstabResets.Load()},
		{"CurrEstab", s.CurrEstab.Load()}, {"InSegs", s.InSegs.Load()}, {"OutSegs", s.OutSegs.Load()},
		{"RetransSegs", s.RetransSegs.Load()}, {"InErrs", s.InErrs.Load()}, {"OutRsts", s.OutRsts.Load()},
		{"InCsumErrors", s.InCsumErrors.Load()},
	}
}

// TcpExt is the TCP part of /proc/net/netstat's TcpExt line, in the
// kernel's order among the counters vnic keeps. IPv4's
// IPReversePathFilter sits in that line between TCPDeferAcceptDrop and
// TCPReqQFullDoCookies; whoever prints the line puts it there.
func (s *Stats) TcpExt() []Counter {
	return []Counter{
		{"SyncookiesSent", s.ExtSyncookiesSent.Load()}, {"SyncookiesRecv", s.ExtSyncookiesRecv.Load()},
		{"SyncookiesFailed", s.ExtSyncookiesFailed.Load()}, {"TWRecycled", s.ExtTWRecycled.Load()},
		{"PAWSEstab", s.ExtPAWSEstab.Load()}, {"DelayedACKs", s.ExtDelayedACKs.Load()},
		{"DelayedACKLost", s.ExtDelayedACKLost.Load()}, {"ListenOverflows", s.ExtListenOverflows.Load()},
		{"ListenDrops", s.ExtListenDrops.Load()}, {"TCPRenoRecovery", s.ExtTCPRenoRecovery.Load()},
		{"TCPSackRecovery", s.ExtTCPSackRecovery.Load()}, {"TCPSACKReorder", s.ExtTCPSACKReorder.Load()},
		{"TCPTSReorder", s.ExtTCPTSReorder.Load()}, {"TCPFullUndo", s.ExtTCPFullUndo.Load()},
		{"TCPPartialUndo", s.ExtTCPPartialUndo.Load()}, {"TCPDSACKUndo", s.ExtTCPDSACKUndo.Load()},
		{"TCPLossUndo", s.ExtTCPLossUndo.Load()}, {"TCPLostRetransmit", s.ExtTCPLostRetransmit.Load()},
		{"TCPRenoFailures", s.ExtTCPRenoFailures.Load()}, {"TCPSackFailures", s.ExtTCPSackFailures.Load()},
		{"TCPLossFailures", s.ExtTCPLossFailures.Load()}, {"TCPFastRetrans", s.ExtTCPFastRetrans.Load()},
		{"TCPSlowStartRetrans", s.ExtTCPSlowStartRetrans.Load()},
		{"TCPTimeouts", s.ExtTCPTimeouts.Load()}, {"TCPLossProbes", s.ExtTCPLossProbes.Load()},
		{"TCPDSACKRecv", s.ExtTCPDSACKRecv.Load()}, {"TCPDSACKOfoRecv", s.ExtTCPDSACKOfoRecv.Load()},
		{"TCPAbortOnData", s.ExtTCPAbortOnData.Load()},
		{"TCPAbortOnClose", s.ExtTCPAbortOnClose.Load()}, {"TCPAbortOnTimeout", s.ExtTCPAbortOnTimeout.Load()},
		{"TCPDSACKIgnoredOld", s.ExtTCPDSACKIgnoredOld.Load()}, {"TCPDSACKIgnoredNoUndo", s.ExtTCPDSACKIgnoredNoUndo.Load()},
		{"TCPSpuriousRTOs", s.ExtTCPSpuriousRTOs.Load()},
		{"TCPDeferAcceptDrop", s.ExtTCPDeferAcceptDrop.Load()}, {"TCPReqQFullDoCookies", s.ExtTCPReqQFullDoCookies.Load()},
		{"TCPOFOQueue", s.ExtTCPOFOQueue.Load()}, {"TCPChallengeACK", s.ExtTCPChallengeACK.Load()},
		{"TCPSYNChallenge", s.ExtTCPSYNChallenge.Load()}, {"TCPToZeroWindowAdv", s.ExtTCPToZeroWindowAdv.Load()},
		{"TCPSynRetrans", s.ExtTCPSynRetrans.Load()}, {"TCPHystartDelayDetect", s.ExtTCPHystartDelayDetect.Load()},
		{"TCPDelivered", s.ExtTCPDelivered.Load()}, {"TCPDeliveredCE", s.ExtTCPDeliveredCE.Load()},
		{"TCPZeroWindowDrop", s.ExtTCPZeroWindowDrop.Load()},
		{"TCPDSACKRecvSegs", s.ExtTCPDSACKRecvSegs.Load()}, {"TCPDSACKIgnoredDubious", s.ExtTCPDSACKIgnoredDubious.Load()},
	}
}
