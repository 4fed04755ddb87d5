package driver

import (
	"vnic/hw"
	"vnic/stack"
)

// The quota receive mode (RxModeQuota): Mogul and Ramakrishnan's
// polling-thread driver. The interrupt (auto-masked by EIAM) schedules
// the vector's two callbacks on its CPU's polling thread: receive, which
// takes at most the quota per turn and hands each packet up the whole
// stack at once (no backlog, no softirq), and transmit, which sends what
// the qdisc holds (the interface output queue; a forwarder enqueues with
// XmitMore so that sending is the transmit callback's work) and cleans
// completions. When both are done the vector is unmasked.

// setupQuota registers the vector's callbacks.
func (qv *qVector) setupQuota(quota int) {
	qv.poller = qv.a.host.PollThread(qv.cpu.ID())
	name := qv.a.netdev.Name()
	qv.rxCB = &stack.PollCallback{Name: name + "-rx", Quota: quota, Input: true, Poll: qv.quotaRx}
	qv.txCB = &stack.PollCallback{Name: name + "-tx", Poll: qv.quotaTx}
	qv.rxCB.Idle = func() { qv.quotaIdle(qv.txCB) }
	qv.txCB.Idle = func() { qv.quotaIdle(qv.rxCB) }
	qv.poller.Register(qv.rxCB)
	qv.poller.Register(qv.txCB)
}

// quotaIRQ is the interrupt handler: schedule both callbacks.
func (qv *qVector) quotaIRQ() {
	qv.poller.Schedule(qv.rxCB)
	qv.poller.Schedule(qv.txCB)
}

// quotaRx is the receive callback: at most quota packets, each through the
// whole stack.
func (qv *qVector) quotaRx(quota int) int {
	work := qv.cleanRx(quota)
	qv.flushStats()
	if work > 0 {
		qv.poller.Schedule(qv.txCB) // what it received may be waiting to go out
	}
	return work
}

// quotaTx is the transmit callback: send what the output queue holds, then
// clean completions.
func (qv *qVector) quotaTx(int) int {
	sent := qv.tx.txq.Len()
	qv.a.netdev.KickTx()
	before := qv.tx.ntc.Load()
	qv.cleanTx()
	cleaned := int((qv.tx.ntc.Load() - before + qv.tx.count) % qv.tx.count)
	return sent + cleaned
}

// quotaIdle is a callback finding nothing: once the other has no work
// either, the vector is unmasked (a cause that came meanwhile interrupts
// at once).
func (qv *qVector) quotaIdle(other *stack.PollCallback) {
	if !qv.poller.Active(other) {
		qv.a.wr32(hw.EIMS, qv.eims)
	}
}

// startTick arms the tick of the tick receive mode: every TickPeriod a
// timer interrupt on each queue's CPU schedules its poll (hardclock's
// ether_poll). It stops when the device goes down.
func (a *Adapter) startTick() {
	if a.tickTimer == nil {
		a.tickTimer = a.host.Clock().NewTimer(a.tick)
	}
	a.tickTimer.Reset(TickPeriod)
}

// scheduleNAPI is what the tick's timer interrupt runs on each queue's CPU.
func (qv *qVector) scheduleNAPI() { qv.napi.Schedule() }

// tick is one clock tick.
func (a *Adapter) tick() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.running || a.cfg.RxMode != RxModeTick {
		return
	}
	for _, qv := range a.qv {
		qv.cpu.RaiseTimer(qv.schedule) // bound once: a closure here would allocate every tick
	}
	a.tickTimer.Reset(TickPeriod)
}
