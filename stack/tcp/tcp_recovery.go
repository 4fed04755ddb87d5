package tcp

import (
	"time"

	"vnic/header"
)

// Loss detection: the SACK scoreboard's tagging (tcp_sacktag_write_queue
// with its D-SACK checks), RACK's time-based marking (RFC 8985,
// tcp_recovery.c) and tail loss probes (tcp_output.c). What the marks
// make of the congestion state is tcp_input_recovery.go's.

// rack is RACK's state (struct tcp_rack).
type rack struct {
	mstamp  time.Duration // the latest delivered segment's send time
	rtt     time.Duration
	endSeq  uint32
	advance bool
}

// prr is proportional rate reduction's state (RFC 6937): what was
// delivered and sent since the reduction began; RecoverFS is prior_cwnd.
type prr struct {
	delivered int
	out       int
}

// sackUpdate is tcp_sacktag_write_queue: segments a SACK block covers
// whole are marked SACKed; the newest send time among them advances
// RACK. A first block below the ACK, or within the second, is a D-SACK
// (tcp_check_dsack): it is counted, and the retransmissions it proves
// needless are taken off undo_retrans. It returns the ACK's FLAG_* bits
// and the segments newly delivered (SACKed, or D-SACKed).
func (sk *Sock) sackUpdate(seg *segment, priorUna uint32) (flag, delivered int) {
	n := seg.opt.NumSACK
	dup, flag, delivered := sk.checkDSACK(seg, priorUna)
	una := seg.ack // snd_una as tcp_ack has updated it
	for k := 0; k < n; k++ {
		b := seg.opt.SACK[k]
		isDup := k == 0 && dup
		if !sk.sackBlockValid(isDup, b.Start, b.End, una) {
			if isDup {
				if sk.undoMarker == 0 {
					sk.p.Stats.ExtTCPDSACKIgnoredNoUndo.Add(1)
				} else {
					sk.p.Stats.ExtTCPDSACKIgnoredOld.Add(1)
				}
			}
			continue
		}
		if !after(b.End, priorUna) {
			continue // very old: already handled as a D-SACK of forgotten data
		}
		for i := 0; i < sk.sendHead; i++ {
			s := &sk.wq[i]
			if !after(s.end, b.Start) || !before(s.seq, b.End) {
				continue
			}
			if isDup {
				// A D-SACK of data still queued: a retransmission it
				// covers was needless (tcp_sacktag_one's dup_sack).
				if !before(s.seq, b.Start) && !after(s.end, b.End) && s.sacked&(sackRetrans|everRetrans) != 0 &&
					sk.undoMarker != 0 && sk.undoRetrans > 0 && after(s.end, sk.undoMarker) {
					sk.undoRetrans = max(sk.undoRetrans-s.pc, 0)
				}
				if !after(s.end, una) {
					continue // acked by this ACK anyway
				}
			}
			if s.sacked&sackAcked != 0 {
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
			flag |= sk.sackTagOne(s)
			delivered += s.pc
		}
	}
	return flag, delivered
}

// sackTagOne is tcp_sacktag_one for a segment newly SACKed: a lost
// retransmission stops being lost and retransmitted (one not lost is
// believed still in flight); a segment never retransmitted, SACKed at or
// below high_seq, is FLAG_ORIG_SACK_ACKED — F-RTO's proof that not all
// was lost.
func (sk *Sock) sackTagOne(s *txSeg) int {
	flag := flagDataSacked
	sk.rackAdvance(s)
	if s.sacked&sackRetrans != 0 {
		if s.sacked&sackLost != 0 {
			sk.unmark(s, sackLost)
			sk.unmark(s, sackRetrans)
		}
	} else {
		if s.sacked&everRetrans == 0 && !after(s.end, sk.highSeq) {
			flag |= flagOrigSackAcked
		}
		sk.unmark(s, sackLost)
	}
	sk.mark(s, sackAcked)
	return flag
}

// checkDSACK is tcp_check_dsack: whether the first SACK block is a
// D-SACK — below the ACK (TCPDSACKRecv), or within the second block
// (TCPDSACKOfoRecv) — and, if it reports retransmitted data, the
// FLAG_DSACKING_ACK and the duplicate segments delivered. A D-SACK of
// data acked before this ACK takes its segments off undo_retrans here.
func (sk *Sock) checkDSACK(seg *segment, priorUna uint32) (dup bool, flag, delivered int) {
	o := &seg.opt
	if o.NumSACK == 0 {
		return false, 0, 0
	}
	s0 := o.SACK[0]
	st := &sk.p.Stats
	switch {
	case before(s0.Start, seg.ack):
		st.ExtTCPDSACKRecv.Add(1)
	case o.NumSACK > 1:
		s1 := o.SACK[1]
		if after(s0.End, s1.End) || before(s0.Start, s1.Start) {
			return false, 0, 0
		}
		st.ExtTCPDSACKOfoRecv.Add(1)
	default:
		return false, 0, 0
	}
	segs := sk.dsackSeen(s0.Start, s0.End)
	if segs == 0 {
		st.ExtTCPDSACKIgnoredDubious.Add(1)
		return false, 0, 0
	}
	st.ExtTCPDSACKRecvSegs.Add(uint64(segs))
	if sk.undoMarker != 0 && sk.undoRetrans > 0 && !after(s0.End, priorUna) && after(s0.End, sk.undoMarker) {
		sk.undoRetrans = max(sk.undoRetrans-segs, 0)
	}
	return true, flagDSACKingAck, segs
}

// dsackSeen is tcp_dsack_seen: the segments a D-SACK block reports, 0
// for a dubious one (longer than the largest window, or more duplicates
// than were ever retransmitted).
func (sk *Sock) dsackSeen(start, end uint32) int {
	if !before(start, end) {
		return 0
	}
	n := end - start
	if n > sk.maxWindow {
		return 0
	}
	segs := 1
	if mss := sk.mssCache; n > mss && mss > 0 {
		segs = int((n + mss - 1) / mss)
	}
	sk.dsackDups += uint32(segs)
	if int(sk.dsackDups) > sk.totalRetx {
		return 0
	}
	return segs
}

// sackBlockValid is tcp_is_sackblock_valid: a block within what was
// sent, above snd_una — or a D-SACK below it but not older than the
// undo marker (give or take a window).
func (sk *Sock) sackBlockValid(dsack bool, start, end, una uint32) bool {
	if after(end, sk.sndNxt) || !before(start, end) || !before(start, sk.sndNxt) {
		return false
	}
	if after(start, una) {
		return true
	}
	if !dsack || sk.undoMarker == 0 {
		return false
	}
	if after(end, una) {
		return false
	}
	if !before(start, sk.undoMarker) {
		return true
	}
	if !after(end, sk.undoMarker) {
		return false
	}
	return !before(start, end-sk.maxWindow)
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

// rackReoWnd is tcp_rack_reo_wnd: no reordering window once in recovery
// or with tcp_reordering segments SACKed (RACK's duplicate-ACK
// threshold, unless tcp_recovery's bit 4 turns it off), else a quarter
// of the minimum RTT.
func (sk *Sock) rackReoWnd() time.Duration {
	if sk.caState >= caRecovery {
		return 0
	}
	if sk.sackedOut >= sk.reordering && sk.p.conf().Recovery&4 == 0 {
		return 0
	}
	return min(sk.minRTT/4, sk.srtt)
}

// rackDetectLoss is tcp_rack_detect_loss: a segment sent before the
// newest delivered one, and longer ago than RACK's RTT plus the
// reordering window, is lost — a retransmission too. It returns how many
// were newly marked.
func (sk *Sock) rackDetectLoss() int {
	if sk.rack.mstamp == 0 {
		return 0
	}
	reo := sk.rackReoWnd()
	n := 0
	for i := 0; i < sk.sendHead; i++ {
		s := &sk.wq[i]
		if s.sacked&sackAcked != 0 || s.sacked&sackLost != 0 && s.sacked&sackRetrans == 0 {
			continue
		}
		if s.sentAt > sk.rack.mstamp || s.sentAt == sk.rack.mstamp && !before(s.end, sk.rack.endSeq) {
			continue
		}
		if s.sentAt+sk.rack.rtt+reo <= sk.now() {
			sk.markLost(s)
			n++
		}
	}
	return n
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
// one go, else the last sent one again (not counted as a retransmission
// of the scoreboard's); then the RTO.
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
