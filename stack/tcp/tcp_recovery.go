package tcp

import (
	"time"

	"vnic/header"
)

// Loss detection and recovery: the SACK scoreboard, duplicate ACKs and
// fast retransmit entering Recovery (tcp_fastretrans_alert), RACK's
// time-based marking (RFC 8985), tail loss probes, the RTO's Loss state
// (tcp_enter_loss), and proportional rate reduction (RFC 6937) while
// in Recovery.

// rack is RACK's state (struct tcp_rack).
type rack struct {
	mstamp  time.Duration // the latest delivered segment's send time
	rtt     time.Duration
	endSeq  uint32
	advance bool
}

// prr is proportional rate reduction's state (RFC 6937).
type prr struct {
	delivered int
	out       int
	recoverFS int // segments in flight when recovery began
}

// sackUpdate is tcp_sacktag_write_queue: segments a SACK block covers
// whole are marked SACKed; the newest send time among them advances
// RACK. A block at or below snd_una (or within the first block) is a
// D-SACK and only counted.
func (sk *Sock) sackUpdate(seg *segment) int {
	newly := 0
	for k := 0; k < seg.opt.NumSACK; k++ {
		b := seg.opt.SACK[k]
		if !after(b.End, b.Start) {
			continue
		}
		if !after(b.End, seg.ack) || k == 1 && !before(b.Start, seg.opt.SACK[0].Start) && !after(b.End, seg.opt.SACK[0].End) {
			sk.p.Stats.ExtTCPDSACKRecv.Add(1)
			continue
		}
		if after(b.End, sk.sndNxt) {
			continue // beyond what was sent: ignored
		}
		for i := 0; i < sk.sendHead; i++ {
			s := &sk.wq[i]
			if s.sacked&sackAcked != 0 || !after(s.end, b.Start) || !before(s.seq, b.End) {
				continue
			}
			// A block covering part of a segment (one TSO packet) cuts
			// it at whole MSS, as tcp_match_skb_to_sack does, so that
			// the covered part can be marked.
			if before(s.seq, b.Start) {
				if cut := sk.sackCut(s, b.Start-s.seq, false); cut > 0 {
					sk.fragment(i, cut)
					sk.sendHead++
				}
				continue // the next segment starts at the cut
			}
			if after(s.end, b.End) {
				cut := sk.sackCut(s, b.End-s.seq, true)
				if cut == 0 {
					continue
				}
				sk.fragment(i, cut)
				sk.sendHead++
				s = &sk.wq[i]
			}
			pc := s.pc
			sk.unmark(s, sackLost)
			sk.unmark(s, sackRetrans)
			sk.mark(s, sackAcked)
			sk.delivered += uint32(pc)
			newly += pc
			sk.rackAdvance(s)
		}
	}
	return newly
}

// sackCut is where tcp_match_skb_to_sack cuts segment s for a block edge
// off bytes into it: at a whole number of MSS — rounded down for the
// block's end (the part up to it is SACKed), up for its start — and 0
// when no cut falls inside the segment.
func (sk *Sock) sackCut(s *txSeg, off uint32, end bool) uint32 {
	mss := sk.mssCache
	if s.flags&(header.TCPSyn|header.TCPFin) != 0 || mss == 0 { // never cut
		return 0
	}
	n := off / mss * mss
	if !end && n < off {
		n += mss
	}
	if n == 0 || n >= s.dataLen() {
		return 0
	}
	return n
}

// rackAdvance is tcp_rack_advance: the newest delivered transmission.
func (sk *Sock) rackAdvance(s *txSeg) {
	if s.retrans > 0 && sk.now()-s.sentAt < sk.minRTT {
		return // an ACK for the original, not this retransmission
	}
	if s.sentAt > sk.rack.mstamp || s.sentAt == sk.rack.mstamp && after(s.end, sk.rack.endSeq) {
		sk.rack.mstamp, sk.rack.endSeq = s.sentAt, s.end
		sk.rack.rtt = sk.now() - s.sentAt
		sk.rack.advance = true
	}
}

// dupAck counts a duplicate ACK; at the reordering threshold (or with
// SACK once enough is SACKed above the hole) fast retransmit starts.
func (sk *Sock) dupAck(seg *segment) {
	sk.dupAcks++
	if sk.caState == caRecovery || sk.caState == caLoss {
		sk.recoveryStep()
		return
	}
	lost := sk.dupAcks >= sk.reordering
	if sk.sackOK && sk.p.conf().Recovery&1 != 0 {
		lost = sk.rackDetectLoss() > 0 || sk.sackedOut >= sk.reordering
	}
	if lost {
		sk.enterRecovery()
	} else if sk.caState == caOpen && (sk.sackedOut > 0 || sk.dupAcks > 0) {
		sk.caState = caDisorder
	}
}

// rackDetectLoss is tcp_rack_detect_loss: a sent segment older than the
// newest delivered one by more than RTT + reo_wnd is lost. It returns
// how many were newly marked.
func (sk *Sock) rackDetectLoss() int {
	if sk.rack.mstamp == 0 {
		return 0
	}
	reo := sk.minRTT / 4
	n := 0
	for i := 0; i < sk.sendHead; i++ {
		s := &sk.wq[i]
		if s.sacked&(sackAcked|sackLost) != 0 {
			continue
		}
		if s.sentAt > sk.rack.mstamp || s.sentAt == sk.rack.mstamp && !before(s.end, sk.rack.endSeq) {
			continue
		}
		if s.sentAt+sk.rack.rtt+reo <= sk.now() {
			sk.unmark(s, sackRetrans)
			sk.mark(s, sackLost)
			n++
		}
	}
	return n
}

// enterRecovery is tcp_enter_recovery: ssthresh from the congestion
// control, PRR starts, and the head (or the segments marked lost) is
// retransmitted at once.
func (sk *Sock) enterRecovery() {
	st := &sk.p.Stats
	if sk.sackOK {
		st.ExtTCPSackRecovery.Add(1)
	} else {
		st.ExtTCPRenoRecovery.Add(1)
	}
	sk.undoMarker = sk.sndUna
	sk.priorCwnd, sk.priorSsth = sk.cwnd, sk.ssthresh
	sk.ssthresh = sk.cong.Ssthresh(sk)
	sk.highSeq = sk.sndNxt
	sk.caState = caRecovery
	sk.prr = prr{recoverFS: sk.inFlight()}
	if sk.lostOut == 0 && sk.sendHead > 0 && sk.wq[0].sacked&sackAcked == 0 {
		sk.mark(&sk.wq[0], sackLost)
	}
	sk.recoveryStep()
}

// recoveryStep is PRR and the retransmission of lost segments
// (tcp_xmit_retransmit_queue) while in Recovery or Loss.
func (sk *Sock) recoveryStep() {
	if sk.caState == caRecovery {
		inFlight := sk.inFlight()
		sndcnt := 0
		delta := int(sk.ssthresh) - inFlight
		if inFlight > int(sk.ssthresh) {
			// Proportional: delivered × ssthresh / RecoverFS.
			d := sk.prr.delivered
			if sk.prr.recoverFS > 0 {
				sndcnt = (d*int(sk.ssthresh)+sk.prr.recoverFS-1)/sk.prr.recoverFS - sk.prr.out
			}
		} else {
			// Slow-start reduction bound.
			sndcnt = min(delta, max(sk.prr.delivered-sk.prr.out, 0)+1)
		}
		sndcnt = max(sndcnt, 0)
		if sk.prr.out == 0 && sndcnt == 0 {
			sndcnt = 1 // the fast retransmit itself
		}
		sk.cwnd = uint32(inFlight + sndcnt)
	}
	for i := 0; i < sk.sendHead; i++ {
		s := &sk.wq[i]
		if s.sacked&sackLost == 0 || s.sacked&sackRetrans != 0 {
			continue
		}
		if sk.inFlight() >= int(sk.cwnd) {
			break
		}
		if s.dataLen() > sk.mssCache && s.flags&header.TCPSyn == 0 {
			sk.fragment(i, sk.mssCache) // both parts stay marked lost
			sk.sendHead++
		}
		sk.transmit(i, true)
		sk.prr.out++
		if sk.caState == caRecovery {
			sk.p.Stats.ExtTCPFastRetrans.Add(1)
		}
	}
	sk.writeXmit(false)
}

// enterLoss is tcp_enter_loss after an RTO: every unSACKed segment is
// lost, cwnd is one segment, ssthresh from the congestion control.
func (sk *Sock) enterLoss() {
	if sk.caState != caLoss || sk.retransmits == 0 {
		sk.undoMarker = sk.sndUna
		if sk.caState <= caDisorder || sk.sndUna == sk.highSeq {
			sk.priorSsth = sk.ssthresh
			sk.ssthresh = sk.cong.Ssthresh(sk)
		}
	}
	sk.cwnd = 1
	sk.cwndCnt = 0
	for i := 0; i < sk.sendHead; i++ {
		s := &sk.wq[i]
		sk.unmark(s, sackRetrans)
		if s.sacked&sackAcked == 0 {
			sk.mark(s, sackLost)
		}
	}
	sk.caState = caLoss
	sk.highSeq = sk.sndNxt
	sk.dupAcks = 0
	sk.tlpHighSeq = 0
}

// ackedCongestion runs after an ACK that advanced snd_una: recovery
// ends once high_seq is acked; otherwise the window grows.
func (sk *Sock) ackedCongestion(ack uint32, acked uint32) {
	sk.dupAcks = 0
	switch sk.caState {
	case caRecovery:
		sk.prr.delivered += int(acked)
		if !before(ack, sk.highSeq) {
			sk.cwnd = max(sk.ssthresh, 2) // tcp_end_cwnd_reduction
			sk.caState = caOpen
			sk.cong.Cwnd(sk, caOpen)
			return
		}
		// A partial ACK: the next hole is lost (NewReno) or RACK says.
		if sk.sackOK {
			sk.rackDetectLoss()
		} else if sk.sendHead > 0 && sk.wq[0].sacked&(sackLost|sackRetrans) == 0 {
			sk.mark(&sk.wq[0], sackLost)
		}
		sk.recoveryStep()
		return
	case caLoss:
		if !before(ack, sk.highSeq) {
			sk.caState = caOpen
			sk.rtoStamp = 0
		} else {
			sk.growCwnd(ack, acked)
			sk.recoveryStep()
			return
		}
	case caDisorder:
		if sk.sackedOut == 0 {
			sk.caState = caOpen
		}
	}
	sk.rtoStamp = 0
	if sk.tlpHighSeq != 0 && !before(ack, sk.tlpHighSeq) {
		sk.tlpHighSeq = 0
	}
	sk.growCwnd(ack, acked)
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

// scheduleLossProbe is tcp_schedule_loss_probe: with RACK-TLP, SACK and
// the Open state, the retransmit timer is set for a probe two RTTs out
// (plus 200 ms with a single segment in flight, 2 ms otherwise), never
// after the RTO would fire.
func (sk *Sock) scheduleLossProbe(advancing bool) bool {
	er := sk.p.conf().EarlyRetrans
	if er != 3 && er != 4 || sk.packetsOut() == 0 || !sk.sackOK || sk.caState != caOpen && sk.caState != caCWR {
		return false
	}
	if sk.state != Established && sk.state != CloseWait && sk.state != FinWait1 && sk.state != LastAck && sk.state != Closing {
		return false
	}
	var timeout time.Duration
	if sk.srtt8 != 0 {
		timeout = usec(sk.srtt8 >> 2)
		if sk.packetsOut() == 1 {
			timeout += rtoMin
		} else {
			timeout += 2 * time.Millisecond // TCP_TIMEOUT_MIN
		}
	} else {
		timeout = timeoutInit
	}
	timeout = (timeout + 999_999) / 1_000_000 * 1_000_000 // whole jiffies
	rtoDelta := sk.rto
	if !advancing && sk.timers.pending == timerRetrans {
		rtoDelta = sk.timers.retransAt - sk.now()
	}
	if rtoDelta > 0 && rtoDelta < timeout {
		timeout = rtoDelta
	}
	sk.resetRetrans(timerLossProbe, timeout)
	return true
}

// sendLossProbe is tcp_send_loss_probe: a new segment if the windows let
// one go, else the last sent one again; then the RTO.
func (sk *Sock) sendLossProbe() {
	sk.p.Stats.ExtTCPLossProbes.Add(1)
	sent := false
	if sk.sendHead < len(sk.wq) {
		s := &sk.wq[sk.sendHead]
		if !after(s.seq+min(s.dataLen(), sk.mssCache), sk.sndWndEnd()) {
			if s.dataLen() > sk.mssCache {
				sk.fragment(sk.sendHead, sk.mssCache)
			}
			sk.transmit(sk.sendHead, false)
			sk.sndNxt = sk.wq[sk.sendHead].end
			sk.sendHead++
			sent = true
		}
	}
	if !sent && sk.tlpHighSeq == 0 && sk.sendHead > 0 {
		i := sk.sendHead - 1
		s := &sk.wq[i]
		if s.dataLen() > sk.mssCache && s.flags&header.TCPSyn == 0 {
			// The probe is the last MSS of it.
			sk.fragment(i, s.dataLen()-sk.mssCache)
			sk.sendHead++
			i++
		}
		sk.transmit(i, true)
	}
	sk.tlpHighSeq = sk.sndNxt
	sk.resetRetrans(timerRetrans, sk.rto)
}
