package tcp

import (
	"syscall"
	"time"

	"vnic/header"
	"vnic/stack"
)

func usec(us int64) time.Duration { return time.Duration(us) * time.Microsecond }

// timers are a socket's (inet_connection_sock's retransmit, delayed-ACK
// and keepalive timers, the last also FIN_WAIT2's and, for a socket in
// TIME_WAIT, the timewait timer).
type timers struct {
	retrans   stack.Timer
	retransAt time.Duration
	pending   timerKind
	delack    stack.Timer
	delackAt  time.Duration
	keep      stack.Timer
	keepKind  timerKind
	keepAt    time.Duration
}

// timerKind is what the retransmit timer is set for (icsk_pending).
type timerKind uint8

const (
	timerNone timerKind = iota
	timerRetrans
	timerProbe // zero-window probe
	timerLossProbe
	timerKeepalive
	timerFinWait2
	timerTimeWait
)

func (sk *Sock) initTimers() {
	clk := sk.host().Clock()
	sk.timers.retrans = clk.NewTimer(sk.retransTimer)
	sk.timers.delack = clk.NewTimer(sk.delackTimer)
	sk.timers.keep = clk.NewTimer(sk.keepTimer)
}

func (sk *Sock) stopTimers() {
	sk.timers.retrans.Stop()
	sk.timers.delack.Stop()
	sk.timers.keep.Stop()
	sk.timers.pending = timerNone
	sk.timers.keepKind = timerNone
	sk.ackTimer = false
}

// resetRetrans arms the retransmit timer for kind, d from now
// (inet_csk_reset_xmit_timer: at most TCP_RTO_MAX).
func (sk *Sock) resetRetrans(kind timerKind, d time.Duration) {
	d = min(d, rtoMax)
	sk.timers.pending = kind
	sk.timers.retransAt = sk.now() + d
	sk.timers.retrans.Reset(d)
}

func (sk *Sock) clearRetrans() {
	sk.timers.pending = timerNone
	sk.timers.retrans.Stop()
}

// armRetransmitIfIdle is tcp_event_new_data_sent's timer part: the RTO
// starts when the first segment of a flight goes out; with RACK-TLP a
// loss probe is scheduled instead (tcp_schedule_loss_probe).
func (sk *Sock) armRetransmitIfIdle() {
	if sk.timers.pending == timerRetrans || sk.timers.pending == timerLossProbe {
		if sk.scheduleLossProbe(true) {
			return
		}
		return
	}
	if !sk.scheduleLossProbe(false) {
		sk.resetRetrans(timerRetrans, sk.rto)
	}
}

// rearmRTO is tcp_rearm_rto after an ACK: off when nothing is
// outstanding, else one RTO from now (a TLP when one may be sent).
func (sk *Sock) rearmRTO() {
	if sk.packetsOut() == 0 {
		sk.clearRetrans()
		if sk.sendHead < len(sk.wq) && sk.sndWnd == 0 {
			sk.armProbe()
		}
		return
	}
	if sk.scheduleLossProbe(false) {
		return
	}
	sk.resetRetrans(timerRetrans, sk.rto)
}

// retransTimer is tcp_write_timer: whichever job the timer had.
func (sk *Sock) retransTimer() {
	sk.mu.Lock()
	defer sk.mu.Unlock()
	kind := sk.timers.pending
	sk.timers.pending = timerNone
	switch kind {
	case timerRetrans:
		sk.retransmitTimeout()
	case timerLossProbe:
		sk.sendLossProbe()
	case timerProbe:
		sk.probeTimer()
	}
}

// retransmitTimeout is tcp_retransmit_timer: the connection gives up
// after its retries, else the head is sent again, the congestion state
// becomes Loss and the RTO doubles.
func (sk *Sock) retransmitTimeout() {
	if sk.state == Closed || sk.packetsOut() == 0 {
		return
	}
	if sk.writeTimeout() {
		return
	}
	sk.p.Stats.ExtTCPTimeouts.Add(1)
	if sk.retransmits == 0 {
		// The first timeout of an episode: what failed before it.
		st := &sk.p.Stats
		switch {
		case sk.caState == caLoss:
			st.ExtTCPLossFailures.Add(1)
		case sk.caState == caRecovery || sk.caState == caDisorder || sk.sackedOut+sk.renoSacked > 0:
			if sk.sackOK {
				st.ExtTCPSackFailures.Add(1)
			} else {
				st.ExtTCPRenoFailures.Add(1)
			}
		}
	}
	sk.enterLoss()
	sk.retransmitHead()
	sk.backoff++
	sk.retransmits++
	sk.rto = min(sk.rto*2, rtoMax)
	if sk.state == SynSent {
		sk.rto = min(sk.rto, rtoMax)
	}
	sk.resetRetrans(timerRetrans, sk.rto)
}

// retransmitHead sends the first unacked segment again (at most one
// MSS, as tcp_retransmit_skb cuts a TSO segment).
func (sk *Sock) retransmitHead() {
	if sk.sendHead == 0 {
		return
	}
	s := &sk.wq[0]
	if s.dataLen() > sk.mssCache && s.flags&header.TCPSyn == 0 {
		sk.fragment(0, sk.mssCache)
		sk.sendHead++
	}
	sk.retransmitSkb(0)
}

// writeTimeout is tcp_write_timeout: whether the connection has given
// up (then it is closed with ETIMEDOUT, or the pending soft error).
func (sk *Sock) writeTimeout() bool {
	cfg := sk.p.conf()
	var limit int
	switch sk.state {
	case SynSent, SynRecv:
		limit = cfg.SynRetries
		if sk.userSynRetries > 0 {
			limit = sk.userSynRetries
		}
		if sk.retransmits >= limit {
			sk.abortTimeout()
			return true
		}
		return false
	}
	limit = cfg.Retries2
	if sk.orphan {
		limit = sk.orphanRetries()
	}
	expired := sk.retransmits >= limit
	if sk.userTimeout > 0 && sk.retransStamp != 0 {
		expired = sk.now()-sk.retransStamp >= sk.userTimeout
	} else if !sk.orphan {
		expired = sk.retransmitsTimedOut(limit)
	}
	if expired {
		sk.abortTimeout()
		return true
	}
	return false
}

// retransmitsTimedOut is retransmits_timed_out: the time the boundary
// of backed-off RTOs from TCP_RTO_MIN takes has passed since the first
// retransmission.
func (sk *Sock) retransmitsTimedOut(boundary int) bool {
	if sk.retransmits == 0 || sk.retransStamp == 0 {
		return false
	}
	base := rtoMin
	linearBackoffThresh := 0
	for b := base; b < rtoMax; b *= 2 {
		linearBackoffThresh++
	}
	var timeout time.Duration
	if boundary <= linearBackoffThresh {
		timeout = (1<<uint(boundary) - 1) * base
	} else {
		timeout = (1<<uint(linearBackoffThresh)-1)*base + time.Duration(boundary-linearBackoffThresh)*rtoMax
	}
	return sk.now()-sk.retransStamp >= timeout
}

// orphanRetries is tcp_orphan_retries: 8 when the sysctl is 0.
func (sk *Sock) orphanRetries() int {
	r := sk.p.conf().OrphanRetries
	if r == 0 {
		r = 8
	}
	return r
}

// abortTimeout is tcp_write_err: the connection fails with the soft
// error it had, or ETIMEDOUT.
func (sk *Sock) abortTimeout() {
	err := sk.softErr
	if err == nil {
		err = errf(syscall.ETIMEDOUT, "connection timed out")
	}
	sk.p.Stats.ExtTCPAbortOnTimeout.Add(1)
	sk.doneLocked(err)
}

// armProbe is tcp_check_probe_timer: a zero window holds data back; the
// probe timer asks the peer for a window.
func (sk *Sock) armProbe() {
	if sk.timers.pending != timerNone || sk.packetsOut() > 0 {
		return
	}
	sk.resetRetrans(timerProbe, min(sk.rto<<uint(min(sk.backoff, 16)), rtoMax))
}

// probeTimer is tcp_probe_timer: a zero-window probe (the byte before
// snd_una, tcp_write_wakeup's tcp_xmit_probe_skb), backed off, until the
// retries run out.
func (sk *Sock) probeTimer() {
	if sk.packetsOut() > 0 || sk.sendHead >= len(sk.wq) {
		sk.probesOut = 0
		return
	}
	max := sk.p.conf().Retries2
	if sk.orphan {
		max = sk.orphanRetries()
	}
	if sk.probesOut >= max {
		sk.abortTimeout()
		return
	}
	if !sk.writeWakeup() {
		sk.sendProbe()
	}
	sk.probesOut++
	sk.backoff++
	sk.resetRetrans(timerProbe, min(sk.rto<<uint(min(sk.backoff, 16)), rtoMax))
}

// sendProbe is tcp_xmit_probe_skb: an empty ACK at snd_una - 1, which the
// peer answers with its window (a zero-window or keepalive probe).
func (sk *Sock) sendProbe() {
	var ob [40]byte
	sk.sendSegment(sk.sndUna-1, header.TCPAck, nil, nil, sk.estOptions(ob[:]), 1)
}

// writeWakeup is tcp_write_wakeup: when the window opened a little, a
// segment of what fits is sent instead of a bare probe.
func (sk *Sock) writeWakeup() bool {
	if sk.sendHead >= len(sk.wq) {
		return false
	}
	s := &sk.wq[sk.sendHead]
	w := sk.sndWndEnd() - s.seq
	if int32(w) <= 0 || after(s.seq, sk.sndWndEnd()) {
		return false
	}
	if s.dataLen() > w {
		sk.fragment(sk.sendHead, min(w, sk.mssCache))
	}
	sk.transmit(sk.sendHead, false)
	sk.sndNxt = sk.wq[sk.sendHead].end
	sk.sendHead++
	return true
}

// sendDelayedAck is tcp_send_delayed_ack: the ACK waits up to ato
// (bounded by the RTT and 200 ms, 500 ms when interactive).
func (sk *Sock) sendDelayedAck() {
	ato := sk.ato
	if ato > delackMin {
		maxATO := 500 * time.Millisecond
		if sk.pingpong > 0 {
			maxATO = delackMax
		}
		if sk.srtt8 != 0 {
			rtt := max(sk.srtt, delackMin)
			maxATO = min(maxATO, rtt)
		}
		ato = min(ato, maxATO)
	}
	ato = min(ato, delackMax)
	now := sk.now()
	at := now + ato
	if sk.ackTimer {
		if sk.timers.delackAt <= now+ato/4 {
			sk.sendAck()
			return
		}
		if at >= sk.timers.delackAt {
			at = sk.timers.delackAt
		}
	}
	sk.ackPending = true
	sk.ackTimer = true
	sk.timers.delackAt = at
	sk.timers.delack.Reset(at - now)
}

// delackTimer is tcp_delack_timer: the held ACK goes; a timer that fired
// with the ACK still wanted leaves interactive mode and grows ato.
func (sk *Sock) delackTimer() {
	sk.mu.Lock()
	defer sk.mu.Unlock()
	if !sk.ackTimer || sk.state == Closed || sk.state == Listen {
		return
	}
	sk.ackTimer = false
	if !sk.ackPending {
		return
	}
	if sk.pingpong == 0 {
		sk.ato = min(sk.ato*2, sk.rto)
	} else {
		sk.pingpong = 0
		sk.ato = atoMin
	}
	sk.p.Stats.ExtDelayedACKs.Add(1)
	sk.sendAck()
}

// keepTimer is tcp_keepalive_timer: FIN_WAIT2's timeout, TIME_WAIT's end,
// or a keepalive probe.
func (sk *Sock) keepTimer() {
	sk.mu.Lock()
	defer sk.mu.Unlock()
	kind := sk.timers.keepKind
	sk.timers.keepKind = timerNone
	switch kind {
	case timerFinWait2:
		if sk.state == FinWait2 {
			// The orphan's FIN_WAIT2 ends quietly when the timeout runs
			// out (Linux keeps it as a timewait sock in its FIN_WAIT2
			// substate, which dies without a word); a later segment
			// finds no socket and is reset.
			sk.doneLocked(nil)
		}
	case timerTimeWait:
		if sk.state == TimeWait {
			sk.setState(Closed)
		}
	case timerKeepalive:
		sk.keepaliveProbe()
	}
}

// armFinWait2 starts FIN_WAIT2's timer for an orphan (tcp_fin_timeout).
func (sk *Sock) armFinWait2() { sk.resetKeep(timerFinWait2, sk.finTimeout()) }

// resetKeep arms the keepalive timer for kind, d from now.
func (sk *Sock) resetKeep(kind timerKind, d time.Duration) {
	sk.timers.keepKind = kind
	sk.timers.keepAt = sk.now() + d
	sk.timers.keep.Reset(d)
}

func (sk *Sock) finTimeout() time.Duration {
	if sk.linger2 > 0 {
		return sk.linger2
	}
	return time.Duration(sk.p.conf().FinTimeout) * time.Second
}

// timeWait is tcp_time_wait: the socket waits out TIME_WAIT (60 s) to
// absorb the peer's retransmissions.
func (sk *Sock) timeWait() {
	sk.clearRetrans()
	sk.timers.delack.Stop()
	sk.ackTimer = false
	sk.setState(TimeWait)
	sk.resetKeep(timerTimeWait, timeWaitLen)
	sk.p.mu.Lock()
	sk.tw = twState{at: sk.now(), ts: sk.tsOK, sndNxt: sk.sndNxt, tsRecent: sk.tsRecent}
	sk.p.mu.Unlock()
}

// keepalive timing.
func (sk *Sock) keepIdleTime() time.Duration {
	if sk.keepIdle > 0 {
		return sk.keepIdle
	}
	return time.Duration(sk.p.conf().KeepaliveTime) * time.Second
}

func (sk *Sock) keepIntvlTime() time.Duration {
	if sk.keepIntvl > 0 {
		return sk.keepIntvl
	}
	return time.Duration(sk.p.conf().KeepaliveIntvl) * time.Second
}

func (sk *Sock) keepProbes() int {
	if sk.keepCnt > 0 {
		return sk.keepCnt
	}
	return sk.p.conf().KeepaliveProbes
}

// armKeepalive starts the keepalive timer (SO_KEEPALIVE on an open
// connection).
func (sk *Sock) armKeepalive(d time.Duration) {
	if sk.timers.keepKind == timerFinWait2 || sk.timers.keepKind == timerTimeWait {
		return
	}
	sk.resetKeep(timerKeepalive, d)
}

// keepaliveProbe is the keepalive half of tcp_keepalive_timer: after
// the idle time a probe (a segment at snd_una-1), every interval, until
// the probes run out (then ETIMEDOUT).
func (sk *Sock) keepaliveProbe() {
	if !sk.keepOpen || sk.state != Established && sk.state != CloseWait && sk.state != FinWait1 && sk.state != FinWait2 {
		return
	}
	if sk.packetsOut() > 0 || sk.sendHead < len(sk.wq) {
		sk.armKeepalive(sk.keepIdleTime())
		return
	}
	idle := sk.now() - sk.lastRcv
	if idle < sk.keepIdleTime() {
		sk.armKeepalive(sk.keepIdleTime() - idle)
		return
	}
	if sk.userTimeout > 0 && idle >= sk.userTimeout && sk.probesOut > 0 || sk.userTimeout == 0 && sk.probesOut >= sk.keepProbes() {
		// The peer is gone: a reset, and ETIMEDOUT for the user
		// (tcp_keepalive_timer's tcp_send_active_reset and tcp_write_err).
		sk.sendActiveReset()
		sk.abortTimeout()
		return
	}
	sk.sendProbe()
	sk.probesOut++
	sk.armKeepalive(sk.keepIntvlTime())
}
