package tcp

// The Loss state after an RTO, and what ends a reduction
// (tcp_input.c's tcp_enter_loss, tcp_process_loss, tcp_try_undo_*).

// enterLoss is tcp_enter_loss after an RTO: every unSACKed segment is
// lost; ssthresh is reduced unless this window already was; cwnd is
// what is still in flight plus one.
func (sk *Sock) enterLoss() {
	sk.timeoutMarkLost()
	if sk.caState <= caDisorder || !after(sk.highSeq, sk.sndUna) || sk.caState == caLoss && sk.retransmits == 0 {
		sk.priorSsth = sk.currentSsthresh()
		sk.priorCwnd = sk.cwnd
		sk.ssthresh = sk.cong.Ssthresh(sk)
		sk.initUndo()
	}
	sk.cwnd = uint32(sk.inFlight() + 1)
	sk.cwndCnt = 0
	// A timeout after many duplicate ACKs: the reordering degree was
	// overestimated.
	if r := sk.p.conf().Reordering; sk.caState <= caDisorder && sk.sackedOut >= r {
		sk.reordering = min(sk.reordering, r)
	}
	sk.setCAState(caLoss)
	sk.highSeq = sk.sndNxt
	sk.tlpHighSeq = 0
	sk.ecnQueueCWR()
}

// timeoutMarkLost is tcp_timeout_mark_lost: every segment not SACKed is
// lost (a retransmission of one lost already, lost again); without SACK
// the duplicate ACKs are forgotten.
func (sk *Sock) timeoutMarkLost() {
	if !sk.sackOK {
		sk.renoSacked = 0
	}
	for i := 0; i < sk.sendHead; i++ {
		sk.markLost(&sk.wq[i])
	}
}

// processLoss is tcp_process_loss: an ACK in the Loss state; recovery
// ends when high_seq is acked.
func (sk *Sock) processLoss(flag, numDupack int, rexmit *int) {
	if !before(sk.sndUna, sk.highSeq) {
		sk.tryUndoRecovery()
		return
	}
	if !sk.sackOK && flag&flagSndUnaAdvanced != 0 {
		sk.renoSacked = 0
	}
	*rexmit = rexmitLost
}

// initUndo is tcp_init_undo: where a reduction starts.
func (sk *Sock) initUndo() {
	sk.undoMarker = sk.sndUna
	sk.undoRetrans = sk.retransOut
	if sk.undoRetrans == 0 {
		sk.undoRetrans = -1
	}
}

// nonSackPreventingReopen is tcp_is_non_sack_preventing_reopen: without
// SACK the state holds until something above high_seq is acked (RFC
// 6582), against false fast retransmits.
func (sk *Sock) nonSackPreventingReopen() bool {
	if sk.sndUna == sk.highSeq && !sk.sackOK {
		if !sk.anyRetransDone() {
			sk.retransStamp = 0
		}
		return true
	}
	return false
}

// tryUndoRecovery ends Recovery or Loss (the undo is not built yet):
// Open, except as nonSackPreventingReopen holds it. It reports whether
// the state held.
func (sk *Sock) tryUndoRecovery() bool {
	if sk.nonSackPreventingReopen() {
		return true
	}
	sk.setCAState(caOpen)
	return false
}

// tryUndoDSACK: not built yet.
func (sk *Sock) tryUndoDSACK() bool { return false }

// tryUndoPartial, for a partial ACK in Recovery: the next hole is
// retransmitted (doLost).
func (sk *Sock) tryUndoPartial(_ uint32, doLost *bool) bool {
	*doLost = sk.forceFastRetransmit()
	return false
}
