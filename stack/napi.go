package stack

import (
	"fmt"
	"math/bits"
	"time"
)

// NAPIWeight is NAPI_POLL_WEIGHT, the default per-poll budget.
const NAPIWeight = 64

// PollFunc is a driver's NAPI poll: do at most budget units of RX work and
// return how many were done. If it did less than budget it must call
// CompleteDone and may re-enable its interrupt only if that returned true.
type PollFunc func(n *NAPI, budget int) int

// NAPI is struct napi_struct.
type NAPI struct {
	dev    *NetDevice
	poll   PollFunc
	weight int
	sn     *Softnet

	// IRQ is the interrupt vector that schedules this NAPI (netif_napi_set_irq);
	// the contract checker matches unmasks against it.
	IRQ      int
	Observer NAPIObserver

	// guarded by sn.mu
	sched, missed, disabled, listed, polling bool
	next                                     *NAPI
	// A poll going on in virtual time (Continue): the work it did so far.
	cont     bool
	contWork int

	polls, packets, budgetHits, empty, timerPolls Counter

	// Deferral (napi_defer_hard_irqs, gro_flush_timeout): empty polls
	// left before the IRQ is re-enabled, and the re-poll timer.
	deferCount int
	timer      Timer

	// Threaded NAPI: the kthread that polls instead of NET_RX, and
	// whether a poll is running in it (guarded by sn.mu).
	kthread  interface{ Wake() }
	inThread bool
	// Busy polling owns the NAPI (guarded by sn.mu); preferBusy: a busy
	// poller that prefers it is waiting for NET_RX to let go.
	inBusyPoll bool
	preferBusy bool
	suspendFor time.Duration // the IRQ suspension the preferring poller asked for
	// IRQ suspension in force (SuspendIRQs): completions keep the
	// interrupt masked and arm the timer with suspend.
	suspended bool
	suspend   time.Duration
	busyPolls Counter
	// sizes is the histogram of packets per poll (PollSizeBucket).
	sizes [PollSizeBuckets]Counter
	// overBudget counts polls that returned more than their budget (a
	// driver bug Linux warns about).
	overBudget Counter

	gro groTable // trains held during a poll (poll context only)
}

// NAPIStats are a NAPI instance's counters.
type NAPIStats struct {
	Polls      uint64 // poll calls
	Packets    uint64 // work returned by polls
	BudgetHits uint64 // polls that used their whole budget
	Empty      uint64 // polls that found no work (after a spurious interrupt)
	TimerPolls uint64 // polls the deferral timer scheduled
	BusyPolls  uint64 // polls made by busy polling
	// PollSizes counts polls (busy polls too) by the packets they took,
	// in buckets of PollSizeBucket: 0, 1, 2-3, 4-7, …, 128-255, 256 and
	// more.
	PollSizes [PollSizeBuckets]uint64
	// OverBudget counts polls that did more work than their budget (a
	// driver bug; Linux warns once).
	OverBudget uint64
}

// PollSizeBuckets is the number of buckets of NAPIStats.PollSizes.
const PollSizeBuckets = 10

// PollSizeBucket is the bucket of a poll that took work packets: 0 for
// none, then one per power of two (bucket b holds 2^(b-1) to 2^b - 1),
// the last one everything from 256.
func PollSizeBucket(work int) int {
	return min(bits.Len(uint(max(work, 0))), PollSizeBuckets-1)
}

// NewNAPI is netif_napi_add_weight: a disabled NAPI for dev, polled on cpu.
func (h *Host) NewNAPI(dev *NetDevice, cpu int, poll PollFunc, weight int) *NAPI {
	if weight <= 0 {
		weight = NAPIWeight
	}
	return &NAPI{dev: dev, poll: poll, weight: weight, sn: h.sn[cpu%len(h.sn)], IRQ: -1, disabled: true}
}

// Dev returns the device the NAPI belongs to.
func (n *NAPI) Dev() *NetDevice { return n.dev }

// Weight returns the per-poll budget.
func (n *NAPI) Weight() int { return n.weight }

// CPU returns the CPU this NAPI is polled on.
func (n *NAPI) CPU() CPU { return n.sn.cpu }

// Stats returns the counters.
func (n *NAPI) Stats() NAPIStats {
	st := NAPIStats{Polls: n.polls.Load(), Packets: n.packets.Load(), BudgetHits: n.budgetHits.Load(), Empty: n.empty.Load(), TimerPolls: n.timerPolls.Load(), BusyPolls: n.busyPolls.Load(), OverBudget: n.overBudget.Load()}
	for i := range st.PollSizes {
		st.PollSizes[i] = n.sizes[i].Load()
	}
	return st
}

// Enable is napi_enable.
func (n *NAPI) Enable() {
	n.sn.mu.Lock()
	n.disabled = false
	n.sched, n.missed = false, false
	n.cont, n.contWork = false, 0
	n.sn.mu.Unlock()
}

// Disable is napi_disable: no new scheduling, a scheduled instance is taken
// off the poll list, and a poll in flight on another CPU is waited for, so
// the driver may free its rings afterwards. (In virtual time nothing runs
// concurrently; a poll can only be in flight if Disable is called from it.)
func (n *NAPI) Disable() {
	n.sn.mu.Lock()
	n.disabled = true
	if n.listed {
		n.sn.unlink(n)
	}
	if n.timer != nil {
		n.timer.Stop()
	}
	n.deferCount = 0
	wasSched := n.sched
	n.sched, n.missed = false, false
	if wasSched && n.Observer != nil {
		n.Observer.NAPICompleted(n.IRQ) // under the lock, as Schedule tells it
	}
	if !n.sn.host.clock.Virtual() {
		for n.polling {
			n.sn.pollDone.Wait()
		}
	}
	n.sn.mu.Unlock()
}

// Schedule is napi_schedule: if the NAPI is enabled and not scheduled it goes
// on its CPU's poll list and NET_RX is raised. Scheduling an already
// scheduled NAPI marks it missed, so its completion re-polls. It reports
// whether this call scheduled it.
func (n *NAPI) Schedule() bool {
	n.sn.mu.Lock()
	if n.disabled {
		n.sn.mu.Unlock()
		return false
	}
	if n.sched {
		n.missed = true
		n.sn.mu.Unlock()
		return false
	}
	n.sched = true
	threaded := n.dev != nil && n.dev.Threaded()
	if !threaded {
		n.sn.link(n)
	}
	// The observer hears of it under the lock: once the NAPI is listed a
	// poll on another CPU may complete it, and its completion must not
	// reach the observer first.
	if n.Observer != nil {
		n.Observer.NAPIScheduled(n.IRQ)
	}
	n.sn.mu.Unlock()
	if threaded {
		n.thread().Wake()
	} else {
		n.sn.cpu.RaiseSoftirq()
	}
	return true
}

// thread returns the NAPI's kthread (napi/<dev>-<irq>), made on first use.
func (n *NAPI) thread() interface{ Wake() } {
	n.sn.mu.Lock()
	defer n.sn.mu.Unlock()
	if n.kthread == nil {
		name := fmt.Sprintf("napi/%s-%d", n.dev.Name(), n.IRQ)
		n.kthread = n.sn.cpu.NewKthread(name, 0, n.threadStep)
	}
	return n.kthread
}

// threadStep is napi_threaded_poll: one poll (or the next part of one)
// while the NAPI is scheduled; the thread sleeps once it completes.
func (n *NAPI) threadStep() bool {
	s := n.sn
	s.mu.Lock()
	if !n.sched || n.disabled || n.inBusyPoll {
		s.mu.Unlock()
		return false
	}
	n.polling, n.inThread = true, true
	s.mu.Unlock()
	_, total := s.pollOne(n)
	s.mu.Lock()
	defer s.mu.Unlock()
	n.polling, n.inThread = false, false
	s.pollDone.Broadcast()
	if n.cont {
		n.cont = false // the same poll goes on in the next step
		return n.sched && !n.disabled
	}
	again := n.missed
	n.missed = false
	return n.sched && !n.disabled && (total >= n.weight || again)
}

// Scheduled reports NAPI_STATE_SCHED.
func (n *NAPI) Scheduled() bool {
	n.sn.mu.Lock()
	defer n.sn.mu.Unlock()
	return n.sched
}

// Continue is for a poll that did some work, less than its budget, and
// found the ring empty. In virtual time the poll's work has not run yet
// when it looks, so what arrives while it runs would be missed; a real
// driver's loop checks the next descriptor after each packet and takes
// those too. Continue asks, in virtual time, to be called again in the
// same poll once this work has run: the NAPI stays scheduled and at the
// head of the list, the call costs no new poll and counts with this one,
// and its budget is what is left of the weight. It returns false (do
// nothing, complete as usual) in real time or when the instance is being
// disabled.
func (n *NAPI) Continue(work int) bool {
	if !n.sn.host.clock.Virtual() {
		return false
	}
	n.sn.mu.Lock()
	defer n.sn.mu.Unlock()
	if !n.sched || n.disabled || !n.polling || work <= 0 {
		return false
	}
	n.cont = true
	return true
}

// CompleteDone is napi_complete_done: the poll did work < budget. It
// returns false when the driver must leave its interrupt masked: the NAPI
// was scheduled again while polling, or deferral holds the interrupt off
// (the device's napi_defer_hard_irqs and gro_flush_timeout: a poll that
// did work allows that many empty polls, each after the timeout, polled
// from the timer without an interrupt, before the interrupt comes back).
func (n *NAPI) CompleteDone(work int) bool {
	n.sn.mu.Lock()
	if !n.sched || n.inBusyPoll {
		// Busy polling owns it: the interrupt stays masked.
		n.sn.mu.Unlock()
		return false
	}
	if n.missed {
		if n.inThread {
			n.sn.mu.Unlock()
			return false // the thread polls again (it clears missed)
		}
		n.missed = false
		if !n.listed {
			n.sn.link(n)
		}
		polling := n.polling
		n.sn.mu.Unlock()
		if !polling { // inside net_rx_action the running round sees it
			n.sn.cpu.RaiseSoftirq()
		}
		return false
	}
	var deferN int
	var timeout time.Duration
	if n.dev != nil { // (the backlog's NAPI has none)
		deferN, timeout = n.dev.NAPIDefer()
	}
	if work+n.contWork > 0 { // the whole poll's work, Continue parts too
		n.deferCount = deferN
	}
	hold := false
	switch {
	case n.suspended && deferN > 0:
		// IRQ suspension: the application polls; the timer is a
		// safety net. (Without deferral the completion gives the
		// interrupt back, as in Linux, where the suspension only takes
		// hold while a preferring poller finds the NAPI held off.)
		hold, timeout = true, n.suspend
	case n.deferCount > 0:
		n.deferCount--
		hold = timeout > 0
	}
	n.sched = false
	if !hold && n.Observer != nil {
		// Under the lock, so that an interrupt scheduling the NAPI again
		// right after cannot be heard of first.
		n.Observer.NAPICompleted(n.IRQ)
	}
	n.sn.mu.Unlock()
	if hold {
		n.armDefer(timeout)
		return false
	}
	return true
}

// watchdog is napi_watchdog: the deferral timer polls the NAPI (unless
// something scheduled it meanwhile).
func (n *NAPI) watchdog() {
	if n.Schedule() {
		n.timerPolls.Add(1)
	}
}
