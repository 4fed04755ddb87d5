package stack

import (
	"fmt"
	"math/bits"
	"sync"
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
	if !n.sn.host.clock.Virtual() {
		for n.polling {
			n.sn.pollDone.Wait()
		}
	}
	n.sn.mu.Unlock()
	if wasSched && n.Observer != nil {
		n.Observer.NAPICompleted(n.IRQ)
	}
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
	n.sn.mu.Unlock()
	if n.Observer != nil {
		n.Observer.NAPIScheduled(n.IRQ)
	}
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
	n.sn.mu.Unlock()
	if hold {
		n.armDefer(timeout)
		return false
	}
	if n.Observer != nil {
		n.Observer.NAPICompleted(n.IRQ)
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

// Softnet is a CPU's softnet_data: its NAPI poll list, its TX output queue
// and its counters.
type Softnet struct {
	host *Host
	cpu  CPU

	mu         mutex
	pollDone   *sync.Cond // on mu: a poll finished (napi_disable waits on it)
	head, tail *NAPI
	output     []*TxQueue // queues woken, waiting for qdisc_run

	processed, timeSqueeze, rounds Counter

	// A NET_RX round in progress (virtual time): each poll is its own
	// CPU work item, so the device's DMA goes on between polls as it
	// does while a real CPU polls.
	inRound    bool
	budgetLeft int
	deadline   time.Duration

	// The legacy input path's backlog (netif_rx) and the NAPI instance
	// that drains it in NET_RX (process_backlog).
	backlog      SKBList
	backlogLen   int
	backlogNAPI  *NAPI
	backlogDrops Counter
}

// SoftnetStats is /proc/net/softnet_stat for one CPU.
type SoftnetStats struct {
	Processed   uint64 // packets polled
	TimeSqueeze uint64 // rounds that ran out of budget or time with work left
	Rounds      uint64 // NET_RX rounds
	Dropped     uint64 // backlog full (netif_rx)
	Backlog     int    // packets waiting in the backlog now
}

// Stats returns the counters.
func (s *Softnet) Stats() SoftnetStats {
	s.mu.Lock()
	bl := s.backlogLen
	s.mu.Unlock()
	return SoftnetStats{s.processed.Load(), s.timeSqueeze.Load(), s.rounds.Load(), s.backlogDrops.Load(), bl}
}

func (s *Softnet) link(n *NAPI) {
	n.listed = true
	n.next = nil
	if s.tail == nil {
		s.head, s.tail = n, n
	} else {
		s.tail.next = n
		s.tail = n
	}
}

func (s *Softnet) unlink(n *NAPI) {
	var prev *NAPI
	for p := s.head; p != nil; prev, p = p, p.next {
		if p != n {
			continue
		}
		if prev == nil {
			s.head = p.next
		} else {
			prev.next = p.next
		}
		if s.tail == p {
			s.tail = prev
		}
		n.listed, n.next = false, nil
		return
	}
}

// action is the softirq handler: NET_TX (qdisc runs for woken queues), then
// NET_RX (net_rx_action).
func (s *Softnet) action() {
	s.txAction()
	s.rxAction()
}

// rxAction is net_rx_action: poll the list round robin, each NAPI at most
// its weight per turn, until the list is empty, netdev_budget packets were
// processed or netdev_budget_usecs passed. Work left re-raises the softirq.
func (s *Softnet) rxAction() {
	virtual := s.host.clock.Virtual()
	if !s.inRound {
		s.rounds.Add(1)
		s.budgetLeft = s.host.cfg.NetdevBudget
		s.deadline = s.cpu.Now() + s.host.cfg.NetdevBudgetTime
		s.inRound = virtual
	}
	budget, deadline := s.budgetLeft, s.deadline
	for {
		s.mu.Lock()
		n := s.head
		if n == nil {
			s.mu.Unlock()
			return
		}
		s.unlink(n)
		n.polling = true
		s.mu.Unlock()

		work, total := s.pollOne(n)
		budget -= work

		s.mu.Lock()
		n.polling = false
		s.pollDone.Broadcast()
		if n.cont {
			// The same poll goes on once its work so far has run:
			// first on the list, with no budget or time check (the
			// driver's loop has none).
			n.cont = false
			if n.sched && !n.disabled && !n.listed {
				n.listed, n.next = true, s.head
				s.head = n
				if s.tail == nil {
					s.tail = n
				}
				s.mu.Unlock()
				s.budgetLeft = budget
				s.cpu.ContinueSoftirq()
				return
			}
		}
		var release time.Duration
		if total >= n.weight && n.sched && !n.disabled && !n.listed { // (more than the weight is a driver bug, counted; napi_poll repolls it too)
			if n.preferBusy {
				// A busy poller prefers it (napi_poll's early exit):
				// let go to the timer, the interrupt still masked.
				release = n.releaseToBusyPoll()
			} else {
				// The driver did not complete: poll again after the others.
				s.link(n)
			}
		}
		left := s.head != nil
		s.mu.Unlock()
		if release > 0 {
			n.armDefer(release)
		}

		if !left {
			s.inRound = false
			return
		}
		if budget <= 0 || s.cpu.Now() >= deadline {
			s.inRound = false
			s.timeSqueeze.Add(1)
			s.cpu.RaiseSoftirq()
			return
		}
		if virtual {
			// The round goes on once this poll's work has run.
			s.budgetLeft = budget
			s.cpu.ContinueSoftirq()
			return
		}
	}
}

// pollOne makes one poll call, or the next part of a poll that asked to
// Continue; it returns the work of this call and of the poll so far.
func (s *Softnet) pollOne(n *NAPI) (int, int) {
	before := n.contWork
	if before == 0 {
		s.cpu.Charge(s.host.cfg.Costs.Poll)
	}
	work := n.poll(n, n.weight-before)
	n.groFlushAll() // nothing is held across polls
	s.processed.Add(uint64(work))
	s.mu.Lock()
	more := n.cont
	s.mu.Unlock()
	if more {
		n.contWork += work
		return work, n.contWork
	}
	total := before + work
	n.contWork = 0
	n.polls.Add(1)
	n.packets.Add(uint64(total))
	n.sizes[PollSizeBucket(total)].Add(1)
	if total >= n.weight {
		n.budgetHits.Add(1)
	}
	if total > n.weight {
		n.overBudget.Add(1) // napi_poll's WARN_ON_ONCE(work > weight)
	}
	if total == 0 {
		n.empty.Add(1)
	}
	if n.Observer != nil {
		n.Observer.NAPIPolled(n.IRQ, n.weight, total)
	}
	return work, total
}

// BudgetTime returns the NET_RX time limit.
func (h *Host) BudgetTime() time.Duration { return h.cfg.NetdevBudgetTime }
