package tcp

import (
	"math"
	"sort"
	"time"
)

// Congestion is a congestion-control algorithm (struct
// tcp_congestion_ops): how the window grows on an ACK, the slow-start
// threshold after a loss, and state changes.
type Congestion interface {
	Name() string
	// CongAvoid grows sk's cwnd for an ACK of acked segments.
	CongAvoid(sk *Sock, ack, acked uint32)
	// Ssthresh is the threshold after a loss.
	Ssthresh(sk *Sock) uint32
	// Cwnd is told of congestion-state changes (cwnd_event/set_state).
	Cwnd(sk *Sock, s caState)
	// UndoCwnd is the window a needless reduction is undone to
	// (undo_cwnd).
	UndoCwnd(sk *Sock) uint32
}

// renoUndoCwnd is tcp_reno_undo_cwnd, which CUBIC uses too: the window
// before the reduction, unless it has grown past it since.
func renoUndoCwnd(sk *Sock) uint32 { return max(sk.cwnd, sk.priorCwnd) }

var congs = map[string]func() Congestion{
	"reno":  func() Congestion { return reno{} },
	"cubic": func() Congestion { return &cubic{} },
}

// newCong returns the algorithm named (nil: not built in).
func newCong(name string) Congestion {
	if f := congs[name]; f != nil {
		return f()
	}
	return nil
}

// Congestions lists the algorithms built in
// (tcp_available_congestion_control).
func Congestions() []string {
	var out []string
	for k := range congs {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// slowStart is tcp_slow_start: cwnd grows by each acked segment up to
// ssthresh; it returns what is left over.
func slowStart(sk *Sock, acked uint32) uint32 {
	cwnd := min(sk.cwnd+acked, sk.ssthresh)
	acked -= cwnd - sk.cwnd
	sk.cwnd = min(cwnd, sk.winClampCwnd())
	return acked
}

// congAvoidAI is tcp_cong_avoid_ai: one segment per w acked.
func congAvoidAI(sk *Sock, w, acked uint32) {
	if sk.cwndCnt >= w {
		sk.cwndCnt = 0
		sk.cwnd++
	}
	sk.cwndCnt += acked
	if sk.cwndCnt >= w {
		delta := sk.cwndCnt / w
		sk.cwndCnt -= delta * w
		sk.cwnd += delta
	}
	sk.cwnd = min(sk.cwnd, sk.winClampCwnd())
}

// winClampCwnd is snd_cwnd_clamp.
func (sk *Sock) winClampCwnd() uint32 { return 1<<31 - 1 }

// reno is NewReno (tcp_reno_*).
type reno struct{}

func (reno) Name() string { return "reno" }

func (reno) CongAvoid(sk *Sock, ack, acked uint32) {
	if sk.cwnd < sk.ssthresh {
		acked = slowStart(sk, acked)
		if acked == 0 {
			return
		}
	}
	congAvoidAI(sk, sk.cwnd, acked)
}

func (reno) Ssthresh(sk *Sock) uint32 { return max(sk.cwnd/2, 2) }

func (reno) Cwnd(*Sock, caState) {}

func (reno) UndoCwnd(sk *Sock) uint32 { return renoUndoCwnd(sk) }

// cubic is CUBIC (RFC 9438) as tcp_cubic.c runs it, with HyStart's
// delay-increase exit from slow start.
type cubic struct {
	cnt         uint32
	lastMaxCwnd uint32
	lastCwnd    uint32
	lastTime    time.Duration
	originPoint uint32
	k           float64 // seconds
	epochStart  time.Duration
	ackCnt      uint32
	tcpCwnd     uint32

	// HyStart.
	roundStart time.Duration
	endSeq     uint32
	currRTT    time.Duration
	delayMin   time.Duration
	sampleCnt  int
	found      bool
}

const (
	cubicBeta     = 717.0 / 1024 // beta (0.7)
	cubicC        = 0.4          // bic_scale 41 / 1024 × 10
	hystartLowWnd = 16
	hystartMinSmp = 8
)

func (*cubic) Name() string { return "cubic" }

func (c *cubic) reset() {
	*c = cubic{delayMin: c.delayMin}
}

func (c *cubic) CongAvoid(sk *Sock, ack, acked uint32) {
	if sk.cwnd < sk.ssthresh {
		c.hystart(sk, ack)
		acked = slowStart(sk, acked)
		if acked == 0 {
			return
		}
	}
	c.update(sk, acked)
	congAvoidAI(sk, c.cnt, acked)
}

// update is bictcp_update: the cubic function's target a round from now
// sets how many ACKs earn one more segment.
func (c *cubic) update(sk *Sock, acked uint32) {
	now := sk.now()
	c.ackCnt += acked
	cwnd := sk.cwnd
	if c.lastCwnd == cwnd && now-c.lastTime <= 4*time.Millisecond {
		return
	}
	c.lastCwnd, c.lastTime = cwnd, now
	if c.epochStart == 0 {
		c.epochStart = now
		c.ackCnt = acked
		c.tcpCwnd = cwnd
		if c.lastMaxCwnd <= cwnd {
			c.k = 0
			c.originPoint = cwnd
		} else {
			c.k = math.Cbrt(float64(c.lastMaxCwnd-cwnd) / cubicC)
			c.originPoint = c.lastMaxCwnd
		}
	}
	t := (now - c.epochStart + sk.minRTT).Seconds()
	d := t - c.k
	target := float64(c.originPoint) + cubicC*d*d*d
	if target > float64(cwnd) {
		c.cnt = uint32(float64(cwnd) / (target - float64(cwnd)))
	} else {
		c.cnt = 100 * cwnd
	}
	if c.lastMaxCwnd == 0 && c.cnt > 20 {
		c.cnt = 20
	}
	// TCP-friendly region (bictcp_update's tcp_friendliness).
	// beta_scale = 8(1024+717)/3/(1024−717) = 15: Reno's rate under
	// CUBIC's beta.
	delta := max(cwnd*15>>3, 1)
	for c.ackCnt > delta {
		c.ackCnt -= delta
		c.tcpCwnd++
	}
	if c.tcpCwnd > cwnd {
		maxCnt := cwnd / (c.tcpCwnd - cwnd)
		if c.cnt > maxCnt {
			c.cnt = maxCnt
		}
	}
	c.cnt = max(c.cnt, 2)
}

// Ssthresh is bictcp_recalc_ssthresh with fast convergence.
func (c *cubic) Ssthresh(sk *Sock) uint32 {
	c.epochStart = 0
	if sk.cwnd < c.lastMaxCwnd {
		c.lastMaxCwnd = uint32(float64(sk.cwnd) * (1 + cubicBeta) / 2)
	} else {
		c.lastMaxCwnd = sk.cwnd
	}
	return max(uint32(float64(sk.cwnd)*cubicBeta), 2)
}

func (*cubic) UndoCwnd(sk *Sock) uint32 { return renoUndoCwnd(sk) }

func (c *cubic) Cwnd(sk *Sock, s caState) {
	if s == caLoss {
		c.reset()
	}
}

// hystart is hystart_update's delay detection: in each round, once the
// window is at least 16, an RTT rising above the round's minimum by an
// eighth of it (bounded 4–16 ms) ends slow start.
func (c *cubic) hystart(sk *Sock, ack uint32) {
	if c.found {
		return
	}
	now := sk.now()
	if !before(ack, c.endSeq) || c.roundStart == 0 {
		c.roundStart, c.endSeq = now, sk.sndNxt
		c.currRTT, c.sampleCnt = 0, 0
	}
	rtt := sk.rack.rtt
	if rtt == 0 {
		rtt = sk.srtt
	}
	if rtt == 0 {
		return
	}
	if c.delayMin == 0 || rtt < c.delayMin {
		c.delayMin = rtt
	}
	if sk.cwnd < hystartLowWnd {
		return
	}
	if c.sampleCnt < hystartMinSmp {
		if c.currRTT == 0 || rtt < c.currRTT {
			c.currRTT = rtt
		}
		c.sampleCnt++
		return
	}
	thresh := min(max(c.delayMin/8, 4*time.Millisecond), 16*time.Millisecond)
	if c.currRTT > c.delayMin+thresh {
		c.found = true
		sk.p.Stats.ExtTCPHystartDelayDetect.Add(1)
		sk.ssthresh = sk.cwnd
	}
}
