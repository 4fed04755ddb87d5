package tcp

import (
	"syscall"
	"time"

	"vnic/header"
	"vnic/stack/ipv4/fib"
)

// rcv handles a segment for a connected socket (tcp_v4_do_rcv). It
// reports false when the socket left the tables before it got the lock:
// the caller looks up again.
func (sk *Sock) rcv(seg *segment) bool {
	sk.mu.Lock()
	defer sk.mu.Unlock()
	if !sk.hashed {
		return false
	}
	if sk.mstampRefresh() {
		defer sk.mstampEnd()
	}
	sk.segsIn++
	switch sk.state {
	case TimeWait:
		sk.timeWaitProcess(seg)
	case SynSent:
		sk.rcvSynSent(seg)
	default:
		sk.rcvStateProcess(seg)
	}
	return true
}

// validateIncoming is tcp_validate_incoming: PAWS, the sequence window,
// RFC 5961's checks of RST and SYN. It reports whether the segment goes
// on.
func (sk *Sock) validateIncoming(seg *segment) bool {
	st := &sk.p.Stats
	if sk.tsOK && seg.opt.TS && sk.pawsReject(seg) {
		if !seg.has(header.TCPRst) {
			st.ExtPAWSEstab.Add(1)
			sk.sendDupAck(seg)
			return false
		}
	}
	if !sk.sequenceOK(seg) {
		if !seg.has(header.TCPRst) {
			if seg.has(header.TCPSyn) {
				sk.challengeAck()
				return false
			}
			sk.sendDupAck(seg)
		}
		return false
	}
	if seg.has(header.TCPRst) {
		// RFC 5961 3.2: only a reset at rcv_nxt resets (or, with
		// nothing outstanding, at the last ack seen: Linux also takes
		// rcv_nxt only); one elsewhere in the window asks for a
		// challenge ACK.
		if seg.seq == sk.rcvNxt {
			sk.reset()
			return false
		}
		sk.challengeAck()
		return false
	}
	if seg.has(header.TCPSyn) {
		// The peer's SYN-ACK in a simultaneous open's SYN-RECV: its
		// SYN is the one already taken, its ACK ours (tcp_validate_incoming
		// lets it pass).
		if sk.state == SynRecv && seg.has(header.TCPAck) && seg.seq+1 == seg.end && seg.seq+1 == sk.rcvNxt && seg.ack == sk.sndNxt {
			return true
		}
		// RFC 5961 4.2: a SYN in a synchronised state.
		st.ExtTCPSYNChallenge.Add(1)
		sk.challengeAck()
		return false
	}
	return true
}

// pawsReject is tcp_paws_discard: a timestamp older than the last one
// taken, within 24 days of it.
func (sk *Sock) pawsReject(seg *segment) bool {
	if int32(seg.opt.TSVal-sk.tsRecent) >= 0 {
		return false
	}
	if sk.now()-sk.tsRecentAt > 24*24*3600e9 {
		return false // tcp_paws_check: ts_recent too old to trust
	}
	// A reset passes (tcp_disordered_ack is not modelled).
	return !seg.has(header.TCPRst)
}

// sequenceOK is tcp_sequence: the segment overlaps the receive window.
func (sk *Sock) sequenceOK(seg *segment) bool {
	if before(seg.end, sk.rcvWup) {
		return false
	}
	return !after(seg.seq, sk.rcvNxt+sk.receiveWindow())
}

// sendDupAck is tcp_send_dupack: an ACK for a segment out of the window
// or already seen; a duplicate also makes a D-SACK.
func (sk *Sock) sendDupAck(seg *segment) {
	if seg.end != seg.seq && !after(seg.end, sk.rcvNxt) {
		sk.p.Stats.ExtDelayedACKLost.Add(1)
		sk.enterQuickack(maxQuickacks)
		if sk.sackOK && sk.p.conf().DSACK {
			sk.dsack, sk.dupSACK = true, [2]uint32{seg.seq, seg.end}
		}
	}
	sk.sendAck()
}

// challengeAck is tcp_send_challenge_ack (the per-host limit of
// tcp_challenge_ack_limit a second is not modelled: each is sent).
func (sk *Sock) challengeAck() {
	sk.p.Stats.ExtTCPChallengeACK.Add(1)
	sk.sendAck()
}

// reset is tcp_reset: the peer reset the connection.
func (sk *Sock) reset() {
	var err error
	switch sk.state {
	case SynSent:
		err = errf(syscall.ECONNREFUSED, "connect")
	case CloseWait:
		err = errf(syscall.EPIPE, "connection reset")
	case Closed:
		return
	default:
		err = errf(syscall.ECONNRESET, "connection reset by peer")
	}
	sk.doneLocked(err)
}

// rcvStateProcess is tcp_rcv_state_process (and tcp_rcv_established's
// slow path) for every synchronised state.
func (sk *Sock) rcvStateProcess(seg *segment) {
	if !sk.validateIncoming(seg) {
		return
	}
	if !seg.has(header.TCPAck) {
		return
	}
	sk.lastRcv = sk.now()
	ackOK := sk.processAck(seg)
	if !ackOK {
		if sk.state == SynRecv {
			sk.p.sendReset(seg)
		}
		return
	}
	if sk.tsOK && seg.opt.TS && !before(sk.rcvWup, seg.seq) || sk.tsOK && seg.opt.TS && seg.seq == sk.rcvNxt {
		sk.tsRecent, sk.tsRecentAt = seg.opt.TSVal, sk.now()
	}
	switch sk.state {
	case SynRecv:
		sk.setState(Established)
		sk.sndWl1 = seg.seq
		sk.initTransfer()
	case FinWait1:
		if sk.finAcked() {
			sk.setState(FinWait2)
			sk.wakeUp()
			if sk.orphan || sk.userClosed {
				if sk.linger2 < 0 {
					// TCP_LINGER2 < 0: no FIN_WAIT2 at all.
					sk.p.Stats.ExtTCPAbortOnData.Add(1)
					sk.p.sendReset(seg)
					sk.doneLocked(nil)
					return
				}
				if after(seg.end-finBit(seg), sk.rcvNxt) {
					sk.p.Stats.ExtTCPAbortOnData.Add(1)
					sk.sendActiveReset()
					sk.doneLocked(nil)
					return
				}
				sk.armFinWait2()
			}
		}
	case Closing:
		if sk.finAcked() {
			sk.timeWait()
			return
		}
	case LastAck:
		if sk.finAcked() {
			sk.doneLocked(nil)
			return
		}
	}
	sk.urg(seg) // step 6: the URG bit
	// Data and FIN (tcp_data_queue) in the states that still receive.
	switch sk.state {
	case CloseWait, Closing, LastAck:
		if !before(seg.seq, sk.rcvNxt) {
			break // after the peer's FIN: ignored
		}
		fallthrough
	case Established, FinWait1, FinWait2:
		if len(seg.payload) > 0 && sk.rdShut && sk.userClosed {
			// Data for a socket the user closed (tcp_rcv_state_process):
			// reset, and nothing more.
			if after(seg.end-finBit(seg), sk.rcvNxt) {
				sk.p.Stats.ExtTCPAbortOnData.Add(1)
				sk.sendActiveReset()
				sk.doneLocked(nil)
				return
			}
		}
		sk.dataQueue(seg)
	}
	if sk.state == Closed {
		return
	}
	sk.pushPending(false)
	sk.ackSndCheck()
}

func finBit(seg *segment) uint32 {
	if seg.has(header.TCPFin) {
		return 1
	}
	return 0
}

// finAcked: our FIN is acked (snd_una past the write queue).
func (sk *Sock) finAcked() bool { return sk.finQueued && sk.sndUna == sk.writeSeq }

// processAck is tcp_ack: the window update, the SACK scoreboard, ECN's
// echo, the acked segments off the retransmit queue with their RTT, then
// — for an ACK that is a duplicate, brings news or comes outside Open —
// the congestion state machine (tcp_fastretrans_alert), the window
// (PRR during a reduction, the congestion control otherwise) and the
// retransmissions that follow. It reports false for an ACK of data never
// sent.
func (sk *Sock) processAck(seg *segment) bool {
	ack := seg.ack
	priorUna := sk.sndUna
	sk.sawTS = sk.tsOK && seg.opt.TS
	sk.rcvTSEcr = 0
	if sk.sawTS && seg.opt.TSEcr != 0 {
		sk.rcvTSEcr = seg.opt.TSEcr - sk.tsOffset
	}
	rexmit := rexmitNone
	if before(ack, priorUna) {
		// An old ACK: challenged when too old (RFC 5961 5.2); its SACK
		// blocks are still news, a D-SACK may still undo (old_ack).
		if before(ack, priorUna-sk.maxWindow) {
			sk.challengeAck()
			return true
		}
		if seg.opt.NumSACK > 0 && sk.sackOK && sk.packetsOut() > 0 {
			priorDelivered := sk.delivered
			flag, delivered := sk.sackUpdate(seg, priorUna)
			sk.countDelivered(delivered, false)
			sk.fastretransAlert(priorUna, 0, &flag, &rexmit)
			sk.newlyDelivered(priorDelivered, flag)
			sk.xmitRecovery(rexmit)
		}
		return true
	}
	if after(ack, sk.sndNxt) {
		sk.challengeAck()
		return false
	}
	flag := 0
	priorPackets := sk.packetsOut()
	priorDelivered := sk.delivered
	priorLost := sk.lost
	if after(ack, priorUna) {
		flag |= flagSndUnaAdvanced
		sk.retransmits = 0
	}
	if seg.seq != seg.end {
		flag |= flagData
	}
	flag |= sk.updateWindow(seg)
	if seg.opt.NumSACK > 0 && sk.sackOK {
		f, delivered := sk.sackUpdate(seg, priorUna)
		flag |= f
		if sk.ecnEcho(seg) {
			flag |= flagECE
		}
		sk.countDelivered(delivered, flag&flagECE != 0)
	} else if sk.ecnEcho(seg) {
		flag |= flagECE
	}
	sk.ecnAcceptCWR(seg)
	sk.lastAckRcv = sk.now()
	sk.probesOut = 0
	if priorPackets == 0 {
		// Nothing was out (no_queue): a D-SACK may still undo.
		if flag&flagDSACKingAck != 0 {
			sk.fastretransAlert(priorUna, 0, &flag, &rexmit)
			sk.newlyDelivered(priorDelivered, flag)
		}
		return true
	}
	ackedSegs, rtt, cflag := sk.cleanRtxQueue(ack, seg, flag&flagECE != 0)
	flag |= cflag
	sk.sndUna = ack
	sk.urgAcked(priorUna)
	sk.bytesAcked += uint64(ack - priorUna)
	if rtt > 0 {
		sk.rttEstimator(rtt)
		sk.setRTO()
	}
	if flag&flagAcked != 0 {
		sk.backoff = 0
		sk.rearmRTO()
	}
	if sk.ackIsDubious(flag) {
		numDupack := 0
		if flag&(flagSndUnaAdvanced|flagNotDup|flagDSACKingAck) == 0 {
			numDupack = 1
		}
		sk.fastretransAlert(priorUna, numDupack, &flag, &rexmit)
	}
	if sk.tlpHighSeq != 0 && flag&flagSndUnaAdvanced != 0 && !before(ack, sk.tlpHighSeq) {
		sk.tlpHighSeq = 0
	}
	delivered := sk.newlyDelivered(priorDelivered, flag)
	cwnd := sk.cwnd
	sk.congControl(ack, delivered, flag, int(sk.lost-priorLost))
	if sk.cwnd > cwnd {
		sk.sndbufExpand() // tcp_new_space: the buffer follows the window
	}
	sk.xmitRecovery(rexmit)
	if ackedSegs > 0 && (sk.sendHead < len(sk.wq) || sk.sndbuf-sk.sendQueueBytes() > 0) {
		sk.wakeUp() // sk_write_space
	}
	return true
}

// newlyDelivered is tcp_newly_delivered: the segments this ACK
// delivered (acked or SACKed), counted in TCPDelivered and, with ECE,
// TCPDeliveredCE.
func (sk *Sock) newlyDelivered(prior uint32, flag int) int {
	d := sk.delivered - prior
	sk.p.Stats.ExtTCPDelivered.Add(uint64(d))
	if flag&flagECE != 0 {
		sk.p.Stats.ExtTCPDeliveredCE.Add(uint64(d))
	}
	return int(d)
}

// updateWindow is tcp_ack_update_window: the peer's window taken from
// a segment no older than the last one that set it (FLAG_WIN_UPDATE).
func (sk *Sock) updateWindow(seg *segment) int {
	nwin := seg.wnd
	if !seg.has(header.TCPSyn) {
		nwin <<= sk.sndWscale
	}
	if after(seg.ack, sk.sndUna) || after(seg.seq, sk.sndWl1) || seg.seq == sk.sndWl1 && (nwin > sk.sndWnd || nwin == 0) {
		sk.sndWl1 = seg.seq
		if sk.sndWnd != nwin {
			sk.sndWnd = nwin
			if nwin > sk.maxWindow {
				sk.maxWindow = nwin
				sk.syncMSS(sk.pmtu)
			}
		}
		return flagWinUpdate
	}
	return 0
}

// cleanRtxQueue is tcp_clean_rtx_queue: segments the ACK covers leave
// the queue (a partly covered one is trimmed, tcp_trim_head); their
// bytes leave the send buffer. It returns the segments acked, an RTT
// sample — from the timestamp echo, else from a segment never
// retransmitted (Karn) — and the ACK's flags: data or a SYN acked, some
// of it retransmitted, some never retransmitted nor SACKed
// (FLAG_ORIG_SACK_ACKED). What was not SACKed before is delivered now.
func (sk *Sock) cleanRtxQueue(ack uint32, seg *segment, ece bool) (int, int64, int) {
	now := sk.now()
	n, flag, delivered := 0, 0, 0
	var seqRTT int64 = -1
	gone := 0 // segments off the front, removed at the end in one copy
	for gone < len(sk.wq) && sk.sendHead > 0 {
		s := &sk.wq[gone]
		acked := s.pc
		partial := after(s.end, ack)
		if partial {
			if !after(ack, s.seq) {
				break
			}
			// Partly acked (tcp_trim_head): the acked part goes.
			if s.flags&header.TCPSyn != 0 {
				s.flags &^= header.TCPSyn
				flag |= flagSynAcked
			}
			s.seq = ack
			sk.repc(s, sk.segPcount(s.dataLen()))
			acked -= s.pc
		}
		flag |= sk.ackedFlags(s)
		if s.sacked&sackAcked == 0 {
			delivered += acked
		}
		n += acked
		if partial {
			break
		}
		if s.retrans == 0 && seqRTT < 0 {
			seqRTT = (now - s.firstTx).Microseconds()
		}
		sk.forget(s)
		gone++
		sk.sendHead--
	}
	sk.wq = sk.wq[:copy(sk.wq, sk.wq[gone:])]
	if !sk.sackOK {
		sk.removeRenoSacks(n, ece)
	} else {
		sk.countDelivered(delivered, ece)
	}
	// The acked data bytes leave the send buffer.
	dataEnd := sk.sndBufSeq + uint32(sk.sndData.Len())
	upto := seqMin(ack, dataEnd)
	if after(upto, sk.sndBufSeq) {
		sk.sndData.Discard(int(upto - sk.sndBufSeq))
		sk.sndBufSeq = upto
	}
	if sk.tsOK && seg.opt.TS && seg.opt.TSEcr != 0 {
		if d := int64(sk.tsNow()-seg.opt.TSEcr) * 1000; d >= 0 && d < int64(rtoMax/1000) {
			// tcp_ack_update_rtt prefers the sequence sample; the echo
			// (in ms) stands in when a retransmission hid it.
			if seqRTT < 0 {
				seqRTT = max(d, 1)
			}
		}
	}
	return n, seqRTT, flag
}

// ackedFlags are what acking segment s says (tcp_clean_rtx_queue).
func (sk *Sock) ackedFlags(s *txSeg) int {
	flag := flagDataAcked
	if s.flags&header.TCPSyn != 0 {
		flag = flagSynAcked
	}
	if s.sacked&(sackRetrans|everRetrans) != 0 {
		flag |= flagRetransDataAcked
	} else if s.sacked&sackAcked == 0 && !after(s.end, sk.highSeq) {
		flag |= flagOrigSackAcked
	}
	return flag
}

// rtoMin is tcp_rto_min: TCP_RTO_MIN, or the route's rto_min when it is
// locked (ip route … rto_min always locks it), in milliseconds.
func (sk *Sock) rtoMin() time.Duration {
	if rtMetricLocked(sk.dst, fib.RtaxRTOMin) {
		if v := rtMetric(sk.dst, fib.RtaxRTOMin); v != 0 {
			return time.Duration(v) * time.Millisecond
		}
	}
	return rtoMin
}

// rttEstimator is tcp_rtt_estimator (RFC 6298 in Linux's fixed point,
// with its mdev_max damping).
func (sk *Sock) rttEstimator(mrtt int64) {
	if mrtt <= 0 {
		mrtt = 1
	}
	rtoMinUs := sk.rtoMin().Microseconds()
	m := mrtt
	srtt := sk.srtt8
	if srtt != 0 {
		m -= srtt >> 3
		srtt += m
		if m < 0 {
			m = -m
			m -= sk.mdev4 >> 2
			if m > 0 {
				m >>= 3
			}
		} else {
			m -= sk.mdev4 >> 2
		}
		sk.mdev4 += m
		if sk.mdev4 > sk.mdevMax {
			sk.mdevMax = sk.mdev4
			if sk.mdevMax > sk.rttvar {
				sk.rttvar = sk.mdevMax
			}
		}
		if after(sk.sndUna, sk.rttSeq) {
			if sk.mdevMax < sk.rttvar {
				sk.rttvar -= (sk.rttvar - sk.mdevMax) >> 2
			}
			sk.rttSeq = sk.sndNxt
			sk.mdevMax = rtoMinUs
		}
	} else {
		srtt = m << 3
		sk.mdev4 = m << 1
		sk.rttvar = max(sk.mdev4, rtoMinUs)
		sk.mdevMax = sk.rttvar
		sk.rttSeq = sk.sndNxt
	}
	sk.srtt8 = max(1, srtt)
	sk.srtt = usec(sk.srtt8 >> 3)
	if sk.minRTT == 0 || usec(mrtt) < sk.minRTT {
		sk.minRTT = usec(mrtt)
	}
}

// setRTO is tcp_set_rto: srtt + rttvar (the variance term at least
// TCP_RTO_MIN), at most TCP_RTO_MAX.
func (sk *Sock) setRTO() {
	sk.rto = min(usec(sk.srtt8>>3+sk.rttvar), rtoMax)
	// Linux's jiffies round up: RTOs are whole milliseconds at HZ=1000.
	sk.rto = (sk.rto + 999_999) / 1_000_000 * 1_000_000
}

// dataQueue is tcp_data_queue: in-order data for the reader (and what
// it makes in order from the out-of-order queue), a duplicate answered
// with a D-SACK, data beyond rcv_nxt held out of order.
func (sk *Sock) dataQueue(seg *segment) {
	if seg.seq == seg.end {
		return
	}
	payload := seg.payload
	seq := seg.seq
	fin := seg.has(header.TCPFin)
	if !after(seg.end, sk.rcvNxt) {
		// All of it seen before: a D-SACK and an ACK at once.
		sk.p.Stats.ExtDelayedACKLost.Add(1)
		if sk.sackOK && sk.p.conf().DSACK {
			sk.dsack, sk.dupSACK = true, [2]uint32{seg.seq, seg.end}
		}
		sk.enterQuickack(maxQuickacks)
		sk.sendAck()
		return
	}
	if sk.receiveWindow() == 0 && seq == sk.rcvNxt && len(payload) > 0 {
		sk.p.Stats.ExtTCPZeroWindowDrop.Add(1)
		sk.enterQuickack(maxQuickacks)
		sk.sendAck()
		return
	}
	if before(seq, sk.rcvNxt) {
		// Partly old: the old part is a duplicate.
		cut := sk.rcvNxt - seq
		if sk.sackOK && sk.p.conf().DSACK {
			sk.dsack, sk.dupSACK = true, [2]uint32{seq, sk.rcvNxt}
		}
		payload = payload[cut:]
		seq = sk.rcvNxt
	}
	if after(seq, sk.rcvNxt) {
		sk.ecnCheckCE(seg) // tcp_data_queue_ofo
		sk.oooQueue(seq, payload, fin)
		return
	}
	// In order. The window bounds what is taken.
	if w := sk.receiveWindow(); uint32(len(payload)) > w {
		payload = payload[:w]
		fin = false
	}
	if len(payload) > 0 {
		sk.eventDataRecv(seg, len(payload)) // tcp_event_data_recv runs for data only
	}
	sk.rq.Write(payload)
	sk.rcvNxt += uint32(len(payload))
	sk.bytesReceived += uint64(len(payload))
	if len(payload) > 0 {
		sk.dataSegsIn++
	}
	if fin {
		sk.rcvNxt++
		sk.fin()
	}
	if len(sk.ooo) > 0 {
		sk.oooDrain()
		sk.ackPending = true
		sk.ackNow = true
	}
	if len(sk.selAcks) > 0 {
		sk.sackPrune()
	}
	if len(payload) > 0 || fin {
		sk.wakeUp()
	}
}

// fin is tcp_fin: the peer is done sending.
func (sk *Sock) fin() {
	sk.finRcvd = true
	sk.ackPending = true
	switch sk.state {
	case SynRecv, Established:
		sk.setState(CloseWait)
		sk.pingpong = 1 // inet_csk_enter_pingpong_mode
	case FinWait1:
		sk.sendAck()
		sk.setState(Closing)
	case FinWait2:
		sk.sendAck()
		sk.timeWait()
	}
	sk.ooo = nil
	sk.selAcks = nil
	sk.wakeUp()
}

// eventDataRecv is tcp_event_data_recv: the delayed-ACK engine learns
// the inter-arrival time; the first data starts quick-ACK mode; ECN's
// CE mark is looked at.
func (sk *Sock) eventDataRecv(seg *segment, n int) {
	sk.ackPending = true
	sk.measureRatio(n)
	if uint32(n) > sk.rcvMSS {
		sk.rcvMSS = min(uint32(n), sk.advMSS)
	}
	now := sk.now()
	if sk.ato == 0 {
		sk.incrQuickack(maxQuickacks)
		sk.ato = atoMin
	} else {
		m := now - sk.lastRcvData
		switch {
		case m <= atoMin/2:
			sk.ato = sk.ato/2 + atoMin/2
		case m < sk.ato:
			sk.ato = min(sk.ato/2+m, sk.rto)
		case m > sk.rto:
			sk.incrQuickack(maxQuickacks)
		}
	}
	sk.lastRcvData = now
	sk.ecnCheckCE(seg)
	if n >= 128 {
		sk.growWindow(n)
	}
}

// growWindow is tcp_grow_window: rcv_ssthresh opens towards the window
// the buffer allows.
func (sk *Sock) growWindow(n int) {
	room := uint32(min(sk.fullSpace(), int(sk.winClamp)))
	if sk.rcvSsthr < room {
		sk.rcvSsthr = min(sk.rcvSsthr+2*sk.rcvMSS, room)
	}
}

// incrQuickack is tcp_incr_quickack.
func (sk *Sock) incrQuickack(maxq int) {
	q := int(sk.rcvWnd) / max(2*int(sk.rcvMSS), 1)
	if q == 0 {
		q = 2
	}
	q = min(q, maxq)
	if q > sk.quick {
		sk.quick = q
	}
}

// enterQuickack is tcp_enter_quickack_mode.
func (sk *Sock) enterQuickack(maxq int) {
	sk.incrQuickack(maxq)
	sk.pingpong = 0
	sk.ato = atoMin
}

// inQuickack is tcp_in_quickack_mode.
func (sk *Sock) inQuickack() bool {
	return sk.quick > 0 && sk.pingpong == 0 || rtMetric(sk.dst, fib.RtaxQuickAck) != 0
}

// ackSndCheck is tcp_ack_snd_check: an ACK now (more than a full segment
// unacked and the window moved, quick-ACK mode, out-of-order data, a
// protocol reason), or a delayed one.
func (sk *Sock) ackSndCheck() {
	if !sk.ackPending {
		return
	}
	if sk.rcvNxt-sk.rcvWup > sk.rcvMSS && sk.computeWindow() >= sk.rcvWnd ||
		sk.inQuickack() || sk.ackNow || len(sk.ooo) > 0 || sk.dsack {
		sk.ackNow = false
		sk.sendAck()
		return
	}
	sk.sendDelayedAck()
}

// cleanupRbuf is tcp_cleanup_rbuf after a read: an ACK when the reader
// opened the window a lot, or a delayed one is due and pushed.
func (sk *Sock) cleanupRbuf(copied int) {
	if sk.state == Closed || sk.state == Listen {
		return
	}
	send := false
	if sk.ackPending {
		if sk.rcvNxt-sk.rcvWup > sk.rcvMSS && sk.rcvNxt-sk.rcvWup > 0 && (sk.inQuickack() || sk.rq.Len() == 0 && sk.pingpong == 0) {
			send = true
		}
	}
	if copied > 0 && !send && !sk.finRcvd {
		// The window may have grown enough to say so (twice the
		// window last advertised, and at least that much again).
		rcvWnd := sk.receiveWindow()
		if 2*rcvWnd <= sk.winClamp {
			nw := sk.computeWindow()
			if nw != 0 && nw >= 2*rcvWnd {
				send = true
			}
		}
	}
	if send {
		sk.sendAck()
	}
}

// oooQueue is tcp_data_queue_ofo: data beyond rcv_nxt is held, merged
// with what overlaps it, and reported in SACK blocks (the newest first).
func (sk *Sock) oooQueue(seq uint32, data []byte, fin bool) {
	sk.p.Stats.ExtTCPOFOQueue.Add(1)
	end := seq + uint32(len(data))
	if fin {
		end++
	}
	o := oooSeg{seq: seq, end: end, fin: fin, data: append([]byte(nil), data...)}
	// Insert sorted; an exact duplicate is a D-SACK.
	i := 0
	for i < len(sk.ooo) && before(sk.ooo[i].seq, seq) {
		i++
	}
	for _, x := range sk.ooo {
		if !before(seq, x.seq) && !after(end, x.end) {
			if sk.sackOK && sk.p.conf().DSACK {
				sk.dsack, sk.dupSACK = true, [2]uint32{seq, end}
			}
			sk.ackNow = true
			sk.ackPending = true
			return
		}
	}
	sk.ooo = append(sk.ooo, oooSeg{})
	copy(sk.ooo[i+1:], sk.ooo[i:])
	sk.ooo[i] = o
	if sk.sackOK {
		sk.sackNewOfo(seq, end)
	}
	sk.ackPending = true
	sk.ackNow = true
}

// oooDrain moves what the out-of-order queue now has in order to the
// reader (tcp_ofo_queue).
func (sk *Sock) oooDrain() {
	for len(sk.ooo) > 0 {
		o := sk.ooo[0]
		if after(o.seq, sk.rcvNxt) {
			break
		}
		sk.ooo = sk.ooo[1:]
		if !after(o.end, sk.rcvNxt) {
			continue
		}
		data := o.data
		if cut := sk.rcvNxt - o.seq; cut > 0 {
			if int(cut) >= len(data) {
				data = nil
			} else {
				data = data[cut:]
			}
		}
		sk.rq.Write(data)
		sk.rcvNxt += uint32(len(data))
		sk.bytesReceived += uint64(len(data))
		if o.fin {
			sk.rcvNxt++
			sk.fin()
			return
		}
	}
	if len(sk.ooo) == 0 {
		sk.ooo = nil
	}
}

// sackNewOfo is tcp_sack_new_ofo_skb: the block holding the new data
// goes first, merged with any it touches; at most four are kept.
func (sk *Sock) sackNewOfo(seq, end uint32) {
	nb := header.SACKBlock{Start: seq, End: end}
	out := []header.SACKBlock{nb}
	for _, b := range sk.selAcks {
		if !after(b.Start, out[0].End) && !after(out[0].Start, b.End) {
			out[0].Start = seqMin(out[0].Start, b.Start)
			out[0].End = seqMax(out[0].End, b.End)
			continue
		}
		out = append(out, b)
	}
	if len(out) > 4 {
		out = out[:4]
	}
	sk.selAcks = out
}

// sackPrune drops the blocks rcv_nxt passed (tcp_sack_remove).
func (sk *Sock) sackPrune() {
	out := sk.selAcks[:0]
	for _, b := range sk.selAcks {
		if after(b.End, sk.rcvNxt) {
			if before(b.Start, sk.rcvNxt) {
				b.Start = sk.rcvNxt
			}
			out = append(out, b)
		}
	}
	sk.selAcks = out
	if len(out) == 0 {
		sk.selAcks = nil
	}
}
