package tcp

// The scoreboard's counters (packets_out, sacked_out, lost_out,
// retrans_out) count segments in MSS units, each write-queue segment
// weighing its pc, the segments its last transmission made. They change
// only through these helpers, so that they always equal what the queue's
// marks add up to.

// packetsOut is packets_out: sent and not cumulatively acked.
func (sk *Sock) packetsOut() int { return sk.pktsOut }

func (sk *Sock) counterOf(f uint8) *int {
	switch f {
	case sackAcked:
		return &sk.sackedOut
	case sackLost:
		return &sk.lostOut
	case sackRetrans:
		return &sk.retransOut
	}
	return nil
}

// mark sets f (sackAcked, sackLost or sackRetrans) on a sent segment.
func (sk *Sock) mark(s *txSeg, f uint8) {
	if s.sacked&f != 0 {
		return
	}
	s.sacked |= f
	*sk.counterOf(f) += s.pc
}

// unmark clears f.
func (sk *Sock) unmark(s *txSeg, f uint8) {
	if s.sacked&f == 0 {
		return
	}
	s.sacked &^= f
	*sk.counterOf(f) -= s.pc
}

// sentNew counts a segment's first transmission.
func (sk *Sock) sentNew(s *txSeg, pc int) {
	s.pc = pc
	sk.pktsOut += pc
}

// repc changes a sent segment's weight (it was cut, or partly acked).
func (sk *Sock) repc(s *txSeg, pc int) {
	d := pc - s.pc
	if d == 0 {
		return
	}
	s.pc = pc
	sk.pktsOut += d
	for _, f := range [...]uint8{sackAcked, sackLost, sackRetrans} {
		if s.sacked&f != 0 {
			*sk.counterOf(f) += d
		}
	}
}

// forget takes an acked segment off the counters.
func (sk *Sock) forget(s *txSeg) {
	sk.repc(s, 0)
}

// segPcount is tcp_skb_pcount for a segment of n payload bytes at the
// current MSS.
func (sk *Sock) segPcount(n uint32) int {
	mss := sk.mssCache
	if n <= mss || mss == 0 {
		return 1
	}
	return int((n + mss - 1) / mss)
}

// markLost is tcp_mark_skb_lost: a segment not SACKed is marked lost;
// one lost already whose retransmission is out loses the retransmission
// too (TCPLostRetransmit). lost counts both, as tp->lost does.
func (sk *Sock) markLost(s *txSeg) {
	if s.sacked&sackAcked != 0 {
		return
	}
	if s.sacked&sackLost != 0 {
		if s.sacked&sackRetrans != 0 {
			sk.unmark(s, sackRetrans)
			sk.p.Stats.ExtTCPLostRetransmit.Add(uint64(s.pc))
			sk.lost += uint32(s.pc)
		}
		return
	}
	sk.mark(s, sackLost)
	sk.lost += uint32(s.pc)
}

// anyRetransDone is tcp_any_retrans_done: a retransmission is out, or
// the head was retransmitted once.
func (sk *Sock) anyRetransDone() bool {
	return sk.retransOut > 0 || sk.sendHead > 0 && sk.wq[0].sacked&everRetrans != 0
}

// highestSackSeq is tcp_highest_sack_seq: the end of the highest SACKed
// segment, or snd_una when none is.
func (sk *Sock) highestSackSeq() uint32 {
	if sk.sackedOut == 0 {
		return sk.sndUna
	}
	for i := sk.sendHead - 1; i >= 0; i-- {
		if sk.wq[i].sacked&sackAcked != 0 {
			return sk.wq[i].end
		}
	}
	return sk.sndUna
}
