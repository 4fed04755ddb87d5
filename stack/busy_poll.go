package stack

import (
	"time"
)

// BusyPoll is one iteration of napi_busy_loop (busy polling from process
// context): if the NAPI is idle, busy polling takes it — the interrupt
// that finds it scheduled leaves its vector masked — and polls up to
// budget; ok is false when NET_RX or the NAPI thread owns it. The cost of
// the iteration (c_poll) is charged to the caller.
//
// With prefer (SO_PREFER_BUSY_POLL) a poller that finds NET_RX polling
// asks it to let go: the next NET_RX poll that would go on releases the
// NAPI to the deferral timer (or the suspension timer) instead, the
// interrupt still masked, so the poller can take it.
func (n *NAPI) BusyPoll(budget int, prefer bool, suspend time.Duration) (work int, ok bool) {
	s := n.sn
	s.mu.Lock()
	if n.disabled || (n.sched && !n.inBusyPoll) {
		if prefer && !n.disabled {
			n.preferBusy, n.suspendFor = true, suspend
		}
		s.mu.Unlock()
		return 0, false
	}
	n.preferBusy = false
	n.sched, n.inBusyPoll, n.polling = true, true, true
	s.mu.Unlock()
	s.cpu.Charge(max(s.host.cfg.Costs.Poll, BusyPollSpin))
	work = n.poll(n, budget)
	n.groFlushAll()
	s.processed.Add(uint64(work))
	n.busyPolls.Add(1)
	if work > budget {
		n.overBudget.Add(1)
	}
	n.packets.Add(uint64(work))
	n.sizes[PollSizeBucket(work)].Add(1)
	s.mu.Lock()
	n.polling, n.cont = false, false
	s.mu.Unlock()
	return work, true
}

// BusyPollSpin is the least one busy-poll iteration costs (a loop that
// finds nothing still spins).
const BusyPollSpin = 100 * time.Nanosecond

// BusyPollStop is busy_poll_stop: busy polling gives the NAPI back. With
// suspend (IRQ suspension: the application found events and will be back)
// the timer is armed with it and the interrupt stays masked; else with
// prefer (SO_PREFER_BUSY_POLL) and deferral set, the deferral timer takes
// over, the interrupt still masked; otherwise NET_RX (or the NAPI thread)
// polls it once more, completes it and the driver unmasks.
func (n *NAPI) BusyPollStop(prefer bool, suspend time.Duration) {
	s := n.sn
	s.mu.Lock()
	if !n.inBusyPoll {
		s.mu.Unlock()
		return
	}
	n.inBusyPoll, n.missed = false, false
	var deferN int
	var timeout time.Duration
	if n.dev != nil {
		deferN, timeout = n.dev.NAPIDefer()
	}
	// busy_poll_stop: the suspension's timeout replaces gro_flush_timeout,
	// but either holds the interrupt off only with napi_defer_hard_irqs
	// set: IRQ suspension rides on deferral (the cover letter's suspend0,
	// without it, performs as no deferral at all).
	if prefer && suspend > 0 {
		timeout = suspend
	}
	if prefer && deferN > 0 && timeout > 0 {
		n.deferCount = deferN
		n.sched = false
		s.mu.Unlock()
		n.armDefer(timeout)
		return
	}
	n.sched = false
	s.mu.Unlock()
	n.Schedule()
}

// SuspendIRQs is napi_suspend_irqs: the application's wait returned
// events, so it will poll again: until ResumeIRQs the NAPI's completions
// keep the interrupt masked, and the timer, armed now with timeout,
// stands by in case it does not.
func (n *NAPI) SuspendIRQs(timeout time.Duration) {
	s := n.sn
	s.mu.Lock()
	n.suspended, n.suspend = true, timeout
	idle := !n.sched
	s.mu.Unlock()
	if idle {
		n.armDefer(timeout)
	}
}

// ResumeIRQs is napi_resume_irqs: the application's wait found nothing;
// the usual deferral (or the interrupt) takes over again.
func (n *NAPI) ResumeIRQs() {
	s := n.sn
	s.mu.Lock()
	was := n.suspended
	n.suspended = false
	idle := !n.sched
	var gro time.Duration
	if n.dev != nil {
		_, gro = n.dev.NAPIDefer()
	}
	s.mu.Unlock()
	if was && idle {
		if gro > 0 {
			n.armDefer(gro)
		} else {
			n.Schedule() // a poll that completes and gives the interrupt back
		}
	}
}

// releaseToBusyPoll gives a NAPI a preferring busy poller waits for to the
// timer (the suspension's, else the deferral's, else a minimal re-poll);
// it returns the timeout to arm. Called with sn.mu held.
func (n *NAPI) releaseToBusyPoll() time.Duration {
	n.preferBusy = false
	n.sched = false
	deferN, timeout := 0, time.Duration(0)
	if n.dev != nil {
		deferN, timeout = n.dev.NAPIDefer()
	}
	n.deferCount = deferN
	if n.suspendFor > 0 {
		timeout = n.suspendFor
	}
	if timeout <= 0 {
		timeout = time.Microsecond // no timer configured: re-poll soon
	}
	return timeout
}

// armDefer starts the deferral timer.
func (n *NAPI) armDefer(timeout time.Duration) {
	if n.timer == nil {
		cpu := n.sn.cpu
		n.timer = n.sn.host.clock.NewTimer(func() { cpu.RaiseTimer(n.watchdog) })
	}
	n.timer.Reset(timeout)
}
