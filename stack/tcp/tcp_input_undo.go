package tcp

// The Loss state after an RTO with F-RTO (RFC 5682's SACK-enhanced
// version, tcp_frto), and the undo of a reduction shown needless
// (tcp_input.c's tcp_try_undo_*): by D-SACKs that account for every
// retransmission (undo_retrans reaching 0), or by an echoed timestamp
// older than the first retransmission (tcp_packet_delayed).

// enterLoss is tcp_enter_loss after an RTO: every unSACKed segment is
// lost; ssthresh is reduced unless this window already was (and the old
// one kept to undo to); cwnd is what is still in flight plus one; F-RTO
// starts unless a recovery was under way (a repeated timeout of the same
// segment keeps it).
func (sk *Sock) enterLoss() {
	newRecovery := sk.caState < caRecovery
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
	sk.frto = sk.p.conf().FRTO != 0 && (newRecovery || sk.retransmits > 0)
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

// processLoss is tcp_process_loss: an ACK in the Loss state. An undo
// when the timestamps or D-SACKs say the RTO was needless; F-RTO's steps
// (a never-retransmitted segment (S)ACKed: spurious; new data after the
// first ACK, then duplicates or SACKs: the loss was real); recovery ends
// when high_seq is acked.
func (sk *Sock) processLoss(flag, numDupack int, rexmit *int) {
	recovered := !before(sk.sndUna, sk.highSeq)
	if flag&flagSndUnaAdvanced != 0 && sk.tryUndoLoss(false) {
		return
	}
	if sk.frto {
		// Step 3.b: spurious if not everything was lost.
		if flag&flagOrigSackAcked != 0 && sk.tryUndoLoss(true) {
			return
		}
		if after(sk.sndNxt, sk.highSeq) {
			if flag&flagDataSacked != 0 || numDupack > 0 {
				sk.frto = false // step 3.a: the loss was real
			}
		} else if flag&flagSndUnaAdvanced != 0 && !recovered {
			sk.highSeq = sk.sndNxt
			// Step 2.b: new data, if any can go; else conventional
			// recovery.
			if sk.sendHead < len(sk.wq) && after(sk.sndWndEnd(), sk.sndNxt) {
				*rexmit = rexmitNew
				return
			}
			sk.frto = false
		}
	}
	if recovered {
		// Step 2.a, and the first part of 3.a.
		sk.tryUndoRecovery()
		return
	}
	if !sk.sackOK {
		// A duplicate ACK means F-RTO's new data arrived: in flight
		// is lower.
		if after(sk.sndNxt, sk.highSeq) && numDupack > 0 {
			sk.addRenoSack(numDupack, flag&flagECE != 0)
		} else if flag&flagSndUnaAdvanced != 0 {
			sk.renoSacked = 0
		}
	}
	*rexmit = rexmitLost
}

// initUndo is tcp_init_undo: the reduction from here may be undone once
// every retransmission still out (or made from now) is D-SACKed.
func (sk *Sock) initUndo() {
	sk.undoMarker = sk.sndUna
	sk.undoRetrans = sk.retransOut
	if sk.undoRetrans == 0 {
		sk.undoRetrans = -1 // 0 would mean "undo now"
	}
}

// mayUndo is tcp_may_undo.
func (sk *Sock) mayUndo() bool {
	return sk.undoMarker != 0 && (sk.undoRetrans == 0 || sk.packetDelayed())
}

// packetDelayed is tcp_packet_delayed: the ACK echoes a timestamp from
// before the first retransmission, so an original arrived, late.
func (sk *Sock) packetDelayed() bool {
	return sk.retransStamp != 0 && sk.sawTS && sk.rcvTSEcr != 0 &&
		int32(sk.rcvTSEcr-uint32(sk.retransStamp.Milliseconds())) < 0
}

// undoCwndReduction is tcp_undo_cwnd_reduction: the window and ssthresh
// from before (a CWR not yet sent is withdrawn), optionally the lost
// marks.
func (sk *Sock) undoCwndReduction(unmarkLoss bool) {
	if unmarkLoss {
		for i := 0; i < sk.sendHead; i++ {
			sk.unmark(&sk.wq[i], sackLost)
		}
	}
	if sk.priorSsth != 0 {
		sk.cwnd = sk.cong.UndoCwnd(sk)
		if sk.priorSsth > sk.ssthresh {
			sk.ssthresh = sk.priorSsth
			sk.ecnWithdrawCWR()
		}
	}
	sk.undoMarker = 0
	sk.rack.advance = true
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

// tryUndoRecovery is tcp_try_undo_recovery at the end of Recovery or
// Loss: undone when nothing needed retransmitting (TCPFullUndo, or
// TCPLossUndo after an RTO); Open either way, except as
// nonSackPreventingReopen holds it. It reports whether the state held.
func (sk *Sock) tryUndoRecovery() bool {
	if sk.mayUndo() {
		sk.undoCwndReduction(false)
		if sk.caState == caLoss {
			sk.p.Stats.ExtTCPLossUndo.Add(1)
		} else {
			sk.p.Stats.ExtTCPFullUndo.Add(1)
		}
	}
	if sk.nonSackPreventingReopen() {
		return true
	}
	sk.setCAState(caOpen)
	return false
}

// tryUndoDSACK is tcp_try_undo_dsack: every retransmission D-SACKed.
func (sk *Sock) tryUndoDSACK() bool {
	if sk.undoMarker != 0 && sk.undoRetrans == 0 {
		sk.undoCwndReduction(false)
		sk.p.Stats.ExtTCPDSACKUndo.Add(1)
		return true
	}
	return false
}

// tryUndoLoss is tcp_try_undo_loss: an RTO undone, by F-RTO (frtoUndo:
// TCPSpuriousRTOs too) or as mayUndo says.
func (sk *Sock) tryUndoLoss(frtoUndo bool) bool {
	if !frtoUndo && !sk.mayUndo() {
		return false
	}
	sk.undoCwndReduction(true)
	sk.p.Stats.ExtTCPLossUndo.Add(1)
	if frtoUndo {
		sk.p.Stats.ExtTCPSpuriousRTOs.Add(1)
	}
	sk.retransmits = 0
	if sk.nonSackPreventingReopen() {
		return true
	}
	if frtoUndo || sk.sackOK {
		sk.setCAState(caOpen)
	}
	return true
}

// tryUndoPartial is tcp_try_undo_partial, for a partial ACK in Recovery:
// when the timestamps show the hole was filled by a delayed original,
// the reordering degree grows and — with no retransmission out — the
// reduction is undone (TCPPartialUndo); otherwise the next hole is
// retransmitted (doLost). It reports whether to stop here.
func (sk *Sock) tryUndoPartial(priorUna uint32, doLost *bool) bool {
	if sk.undoMarker == 0 || !sk.packetDelayed() {
		*doLost = sk.forceFastRetransmit()
		return false
	}
	sk.checkSackReordering(priorUna, true)
	if sk.retransOut > 0 {
		return true
	}
	if !sk.anyRetransDone() {
		sk.retransStamp = 0
	}
	sk.undoCwndReduction(true)
	sk.p.Stats.ExtTCPPartialUndo.Add(1)
	sk.tryKeepOpen()
	return false
}

// checkSackReordering is tcp_check_sack_reordering: data SACKed beyond
// low is reordering of that many segments (up to tcp_max_reordering);
// TCPTSReorder when timestamps found it, TCPSACKReorder when SACKs did.
func (sk *Sock) checkSackReordering(low uint32, ts bool) {
	fack := sk.highestSackSeq()
	if !before(low, fack) {
		return
	}
	mss := sk.mssCache
	if metric := fack - low; mss > 0 && metric > uint32(sk.reordering)*mss {
		sk.reordering = min(int((metric+mss-1)/mss), sk.p.conf().MaxReordering)
	}
	if ts {
		sk.p.Stats.ExtTCPTSReorder.Add(1)
	} else {
		sk.p.Stats.ExtTCPSACKReorder.Add(1)
	}
}
