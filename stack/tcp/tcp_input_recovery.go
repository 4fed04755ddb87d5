package tcp

import "vnic/header"

// The congestion state machine of tcp_input.c, run for every ACK that
// tcp_ack finds dubious (tcp_fastretrans_alert): Open, Disorder, CWR
// (an ECN-signalled reduction), Recovery (fast recovery with PRR, RFC
// 6937) and Loss (after an RTO, with F-RTO, RFC 5682), and the undo of
// a reduction that proves needless — by D-SACKs of every retransmission
// (RFC 3708) or by timestamps echoing the originals (Eifel, RFC 3522).

// An ACK's facts, as tcp_ack gathers them (FLAG_*).
const (
	flagData             = 0x01  // the segment carried data (or FIN)
	flagWinUpdate        = 0x02  // it updated the send window
	flagDataAcked        = 0x04  // it acked new data
	flagRetransDataAcked = 0x08  // some of which had been retransmitted
	flagSynAcked         = 0x10  // it acked a SYN
	flagDataSacked       = 0x20  // it SACKed new data
	flagECE              = 0x40  // it carried ECE
	flagLostRetrans      = 0x80  // a retransmission was found lost
	flagOrigSackAcked    = 0x200 // it (S)ACKed data never retransmitted
	flagSndUnaAdvanced   = 0x400 // snd_una moved
	flagDSACKingAck      = 0x800 // it carried a D-SACK
	flagAcked            = flagDataAcked | flagSynAcked
	flagNotDup           = flagData | flagWinUpdate | flagAcked
	flagCAAlert          = flagDataSacked | flagECE | flagDSACKingAck
	flagForwardProgress  = flagAcked | flagDataSacked
)

// What tcp_xmit_recovery sends after an ACK (REXMIT_*).
const (
	rexmitNone = iota
	rexmitLost // the segments marked lost
	rexmitNew  // new data (F-RTO's step 2b)
)

// setCAState is tcp_set_ca_state: the congestion control hears of it.
func (sk *Sock) setCAState(s caState) {
	sk.cong.Cwnd(sk, s)
	sk.caState = s
}

// inCwndReduction is tcp_in_cwnd_reduction: CWR or Recovery.
func (sk *Sock) inCwndReduction() bool { return sk.caState == caCWR || sk.caState == caRecovery }

// ackIsDubious is tcp_ack_is_dubious: a duplicate, news of the
// scoreboard or ECE, or any ACK outside Open.
func (sk *Sock) ackIsDubious(flag int) bool {
	return flag&flagNotDup == 0 || flag&flagCAAlert != 0 || sk.caState != caOpen
}

// fastretransAlert is tcp_fastretrans_alert.
func (sk *Sock) fastretransAlert(priorUna uint32, numDupack int, flag *int, rexmit *int) {
	f := *flag
	eceAck := f&flagECE != 0
	doLost := numDupack > 0 || f&flagDataSacked != 0 && sk.forceFastRetransmit()
	if eceAck {
		sk.priorSsth = 0 // ECE: the reduction must not be undone
	}
	// D. State exits: at high_seq.
	if sk.caState == caOpen {
		sk.retransStamp = 0
	} else if !before(sk.sndUna, sk.highSeq) {
		switch sk.caState {
		case caCWR:
			// Held until something above high_seq is acked, so that
			// the CWR bit has reached the receiver.
			if sk.sndUna != sk.highSeq {
				sk.endCwndReduction()
				sk.setCAState(caOpen)
			}
		case caRecovery:
			if !sk.sackOK {
				sk.renoSacked = 0
			}
			if sk.tryUndoRecovery() {
				return
			}
			sk.endCwndReduction()
		}
	}
	// E. The state's own work.
	fastRexmit := false
	switch sk.caState {
	case caRecovery:
		if f&flagSndUnaAdvanced == 0 {
			if !sk.sackOK {
				sk.addRenoSack(numDupack, eceAck)
			}
		} else if sk.tryUndoPartial(priorUna, &doLost) {
			return
		}
		if sk.tryUndoDSACK() {
			sk.tryToOpen(f)
		}
		sk.identifyPacketLoss(flag)
		if sk.caState != caRecovery {
			if !sk.timeToRecover() {
				return
			}
			// An undo ended it, but the loss is real: recovery again.
			sk.enterRecovery(eceAck)
		}
	case caLoss:
		sk.processLoss(f, numDupack, rexmit)
		sk.identifyPacketLoss(flag)
		if sk.caState != caOpen && *flag&flagLostRetrans == 0 {
			return
		}
		fallthrough
	default:
		if !sk.sackOK {
			if f&flagSndUnaAdvanced != 0 {
				sk.renoSacked = 0
			}
			sk.addRenoSack(numDupack, eceAck)
		}
		if sk.caState <= caDisorder {
			sk.tryUndoDSACK()
		}
		sk.identifyPacketLoss(flag)
		if !sk.timeToRecover() {
			sk.tryToOpen(f)
			return
		}
		sk.enterRecovery(eceAck)
		fastRexmit = true
	}
	if !sk.rackOn() && doLost {
		sk.updateScoreboard(fastRexmit)
	}
	*rexmit = rexmitLost
}

// rackOn is tcp_is_rack: RACK's loss detection (tcp_recovery bit 1).
func (sk *Sock) rackOn() bool { return sk.p.conf().Recovery&1 != 0 }

// forceFastRetransmit is tcp_force_fast_retransmit: SACKed data more
// than tcp_reordering segments above snd_una.
func (sk *Sock) forceFastRetransmit() bool {
	return after(sk.highestSackSeq(), sk.sndUna+uint32(sk.reordering)*sk.mssCache)
}

// timeToRecover is tcp_time_to_recover: a segment is marked lost, or
// (without RACK) the duplicate ACKs passed tcp_reordering.
func (sk *Sock) timeToRecover() bool {
	if sk.lostOut > 0 {
		return true
	}
	return !sk.rackOn() && sk.sackedOut+sk.renoSacked+1 > sk.reordering
}

// identifyPacketLoss is tcp_identify_packet_loss: NewReno marks the head
// lost; RACK marks by time. A retransmission found lost is
// FLAG_LOST_RETRANS.
func (sk *Sock) identifyPacketLoss(flag *int) {
	if sk.sendHead == 0 {
		return
	}
	if !sk.sackOK {
		sk.newrenoMarkLost(*flag&flagSndUnaAdvanced != 0)
	} else if sk.rackOn() {
		prior := sk.retransOut
		sk.rackDetectLoss()
		if prior > sk.retransOut {
			*flag |= flagLostRetrans
		}
	}
}

// newrenoMarkLost is tcp_newreno_mark_lost: the head is lost at the
// duplicate-ACK threshold, and again at each partial ACK in recovery.
func (sk *Sock) newrenoMarkLost(unaAdvanced bool) {
	if sk.caState < caRecovery && sk.renoSacked >= sk.reordering || sk.caState == caRecovery && unaAdvanced {
		sk.markHeadLost()
	}
}

// markHeadLost marks the first unacked segment lost, cut to one MSS.
func (sk *Sock) markHeadLost() {
	s := &sk.wq[0]
	if s.sacked&sackLost != 0 {
		return
	}
	if s.dataLen() > sk.mssCache && s.flags&header.TCPSyn == 0 {
		sk.fragment(0, sk.mssCache)
		sk.sendHead++
		s = &sk.wq[0]
	}
	sk.markLost(s)
}

// updateScoreboard is tcp_update_scoreboard without RACK: the head is
// lost when the heuristics say a segment is.
func (sk *Sock) updateScoreboard(fastRexmit bool) {
	if sk.sendHead > 0 && (fastRexmit || sk.lostOut == 0) && sk.wq[0].sacked&sackAcked == 0 {
		sk.markHeadLost()
	}
}

// addRenoSack is tcp_add_reno_sack: without SACK, each duplicate ACK
// counts as one segment delivered, bounded by what is out.
func (sk *Sock) addRenoSack(numDupack int, ece bool) {
	if numDupack == 0 {
		return
	}
	prior := sk.renoSacked
	sk.renoSacked += numDupack
	sk.limitRenoSacked()
	if d := sk.renoSacked - prior; d > 0 {
		sk.countDelivered(d, ece)
	}
}

// removeRenoSacks is tcp_remove_reno_sacks: a cumulative ACK of acked
// segments fills the hole and eats the duplicate ACKs that stood for the
// rest.
func (sk *Sock) removeRenoSacks(acked int, ece bool) {
	if acked > 0 {
		sk.countDelivered(max(acked-sk.renoSacked, 1), ece)
		if acked-1 >= sk.renoSacked {
			sk.renoSacked = 0
		} else {
			sk.renoSacked -= acked - 1
		}
	}
	sk.limitRenoSacked()
}

// limitRenoSacked is tcp_limit_reno_sacked: at least one hole stays.
func (sk *Sock) limitRenoSacked() {
	holes := min(max(sk.lostOut, 1), sk.packetsOut())
	if sk.renoSacked+holes > sk.packetsOut() {
		sk.renoSacked = max(sk.packetsOut()-holes, 0)
	}
}

// countDelivered is tcp_count_delivered.
func (sk *Sock) countDelivered(n int, ece bool) {
	sk.delivered += uint32(n)
	if ece {
		sk.deliveredCE += uint32(n)
	}
}

// tryToOpen is tcp_try_to_open: ECE starts a reduction; otherwise the
// state is Open, or Disorder while segments are SACKed, lost or
// retransmitted.
func (sk *Sock) tryToOpen(flag int) {
	if !sk.anyRetransDone() {
		sk.retransStamp = 0
	}
	if flag&flagECE != 0 {
		sk.enterCWR()
	}
	if sk.caState != caCWR {
		sk.tryKeepOpen()
	}
}

// tryKeepOpen is tcp_try_keep_open.
func (sk *Sock) tryKeepOpen() {
	s := caOpen
	if sk.leftOut() > 0 || sk.anyRetransDone() {
		s = caDisorder
	}
	if sk.caState != s {
		sk.setCAState(s)
		sk.highSeq = sk.sndNxt
	}
}

// enterCWR is tcp_enter_cwr: an ECE (or a local congestion signal)
// reduces the window once, by PRR, without retransmitting; nothing to
// undo.
func (sk *Sock) enterCWR() {
	sk.priorSsth = 0
	if sk.caState < caCWR {
		sk.undoMarker = 0
		sk.initCwndReduction()
		sk.setCAState(caCWR)
	}
}

// enterRecovery is tcp_enter_recovery: fast recovery starts, its
// reduction undoable unless ECE asked for it.
func (sk *Sock) enterRecovery(eceAck bool) {
	if sk.sackOK {
		sk.p.Stats.ExtTCPSackRecovery.Add(1)
	} else {
		sk.p.Stats.ExtTCPRenoRecovery.Add(1)
	}
	sk.priorSsth = 0
	sk.initUndo()
	if !sk.inCwndReduction() {
		if !eceAck {
			sk.priorSsth = sk.currentSsthresh()
		}
		sk.initCwndReduction()
	}
	sk.setCAState(caRecovery)
}

// initCwndReduction is tcp_init_cwnd_reduction: ssthresh from the
// congestion control, PRR from nothing, and CWR queued for ECN.
func (sk *Sock) initCwndReduction() {
	sk.highSeq = sk.sndNxt
	sk.tlpHighSeq = 0
	sk.cwndCnt = 0
	sk.priorCwnd = sk.cwnd
	sk.prr = prr{}
	sk.ssthresh = sk.cong.Ssthresh(sk)
	sk.ecnQueueCWR()
}

// cwndReduction is tcp_cwnd_reduction (PRR, RFC 6937): while more is in
// flight than ssthresh, send delivered × ssthresh / prior_cwnd; below
// it, slow-start back up, one more per ACK that moved snd_una without
// new losses; at least the fast retransmission.
func (sk *Sock) cwndReduction(ackedSacked, newlyLost, flag int) {
	if ackedSacked <= 0 || sk.priorCwnd == 0 {
		return
	}
	inFlight := sk.inFlight()
	delta := int(sk.ssthresh) - inFlight
	sk.prr.delivered += ackedSacked
	var sndcnt int
	if delta < 0 {
		sndcnt = (int(sk.ssthresh)*sk.prr.delivered+int(sk.priorCwnd)-1)/int(sk.priorCwnd) - sk.prr.out
	} else {
		sndcnt = max(sk.prr.delivered-sk.prr.out, ackedSacked)
		if flag&flagSndUnaAdvanced != 0 && newlyLost == 0 {
			sndcnt++
		}
		sndcnt = min(delta, sndcnt)
	}
	if sk.prr.out == 0 {
		sndcnt = max(sndcnt, 1) // the fast retransmission itself
	}
	sk.cwnd = uint32(inFlight + max(sndcnt, 0))
}

// endCwndReduction is tcp_end_cwnd_reduction: the window is ssthresh
// once the reduction is over (unless it was undone).
func (sk *Sock) endCwndReduction() {
	if sk.ssthresh < infiniteSsthresh && (sk.caState == caCWR || sk.undoMarker != 0) {
		sk.cwnd = sk.ssthresh
	}
}

// currentSsthresh is tcp_current_ssthresh: what ssthresh an undo returns
// to — during a reduction ssthresh itself, else at least ¾ of cwnd.
func (sk *Sock) currentSsthresh() uint32 {
	if sk.inCwndReduction() {
		return sk.ssthresh
	}
	return max(sk.ssthresh, sk.cwnd>>1+sk.cwnd>>2)
}

// congControl is tcp_cong_control: PRR during a reduction, else the
// congestion control's growth when the ACK delivered in order (or with
// a high reordering degree, anything).
func (sk *Sock) congControl(ack uint32, ackedSacked, flag, newlyLost int) {
	if sk.inCwndReduction() {
		sk.cwndReduction(ackedSacked, newlyLost, flag)
		return
	}
	raise := flag&flagDataAcked != 0
	if sk.reordering > sk.p.conf().Reordering {
		raise = flag&flagForwardProgress != 0
	}
	if raise {
		sk.growCwnd(ack, uint32(ackedSacked))
	}
}

// growCwnd is tcp_cong_avoid when the window was in use.
func (sk *Sock) growCwnd(ack uint32, acked uint32) {
	if !sk.isCwndLimited() {
		return
	}
	sk.cong.CongAvoid(sk, ack, acked)
}

// isCwndLimited is tcp_is_cwnd_limited: in slow start while under twice
// the flight that was in use, else when the window was filled.
func (sk *Sock) isCwndLimited() bool {
	if sk.cwnd < sk.ssthresh {
		return sk.cwnd < 2*uint32(sk.maxPktsOut)
	}
	return sk.cwndLimitedFlag
}

// xmitRecovery is tcp_xmit_recovery: new data for F-RTO's step 2b (and
// if none can go, F-RTO ends), the lost segments otherwise.
func (sk *Sock) xmitRecovery(rexmit int) {
	if rexmit == rexmitNone || sk.state == SynSent {
		return
	}
	if rexmit == rexmitNew {
		sk.writeXmit(true)
		if after(sk.sndNxt, sk.highSeq) {
			return
		}
		sk.frto = false
	}
	sk.xmitRetransmitQueue()
}

// xmitRetransmitQueue is tcp_xmit_retransmit_queue: the segments marked
// lost and not yet retransmitted go again as the window allows, each at
// most the TSO size; the RTO restarts when the head went.
func (sk *Sock) xmitRetransmitQueue() {
	if sk.packetsOut() == 0 {
		return
	}
	mss := sk.mssCache
	maxSegs := uint32(1)
	if sk.canGSO() {
		maxSegs = sk.tsoSegs()
	}
	rearm := false
	for i := 0; i < sk.sendHead; i++ {
		segs := int(sk.cwnd) - sk.inFlight()
		if segs <= 0 || sk.retransOut >= sk.lostOut {
			break
		}
		s := &sk.wq[i]
		if s.sacked&sackLost == 0 || s.sacked&(sackAcked|sackRetrans) != 0 {
			continue
		}
		if limit := min(uint32(segs), maxSegs) * mss; s.dataLen() > limit && s.flags&header.TCPSyn == 0 {
			sk.fragment(i, limit) // both parts stay marked lost
			sk.sendHead++
			s = &sk.wq[i]
		}
		sk.retransmitSkb(i)
		if sk.caState != caLoss {
			sk.p.Stats.ExtTCPFastRetrans.Add(uint64(s.pc))
		} else {
			sk.p.Stats.ExtTCPSlowStartRetrans.Add(uint64(s.pc))
		}
		if sk.inCwndReduction() {
			sk.prr.out += s.pc
		}
		if i == 0 {
			rearm = true
		}
	}
	if rearm {
		sk.resetRetrans(timerRetrans, sk.rto)
	}
}

// retransmitSkb is tcp_retransmit_skb: segment i again, counted on the
// scoreboard; the first retransmission of an episode stamps
// retrans_stamp, and each one may have to be proven needless before an
// undo (undo_retrans).
func (sk *Sock) retransmitSkb(i int) {
	sk.ecnClearSYN(&sk.wq[i])
	sk.transmit(i, true)
	s := &sk.wq[i]
	sk.mark(s, sackRetrans)
	if sk.retransStamp == 0 {
		sk.retransStamp = sk.now()
	}
	if sk.undoRetrans < 0 {
		sk.undoRetrans = 0
	}
	sk.undoRetrans += s.pc
}
