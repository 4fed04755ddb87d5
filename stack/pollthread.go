package stack

import (
	"math"
	"sync"
	"time"
)

// PollThread is the polling thread of Mogul and Ramakrishnan's
// "Eliminating Receive Livelock" (M7 in the interrupts-versus-polling
// experiments): a kernel thread, above user processes, that calls the
// registered callbacks of the devices on its CPU round robin, each for up
// to its quota of packets per turn. A device's interrupt handler only
// schedules its callbacks and leaves the interrupt masked; a callback
// that finds nothing to do is idle (its Idle re-enables the interrupt).
// Output is a callback too, so transmission gets its turn even when input
// never runs dry — unless the input quota is unbounded.
//
// A turn is a series of calls: one that did some work and has quota left
// is called again once its work has run (in virtual time a call sees the
// ring as it was when it started, as a real driver's loop sees each
// packet's descriptor in turn), until it uses its quota or finds nothing.
//
// Two controls of theirs are here: the cycle limit (the thread uses at
// most CycleLimit of every Period of CPU time, then sleeps to the next
// period, leaving the rest to user processes), and queue-state feedback
// (InputGate: while it returns false, input callbacks are not polled;
// whoever drains the queue calls Kick when it reopens).
type PollThread struct {
	host   *Host
	cpu    CPU
	thread interface{ Wake() }

	mu   sync.Mutex
	cbs  []*PollCallback
	next int
	cur  *PollCallback // the turn in progress
	left int           // its quota left (0: no bound)

	// CycleLimit is the share of each Period the thread may use (0 or
	// 1: no limit).
	CycleLimit float64
	Period     time.Duration
	// InputGate, when set, says whether input callbacks may run.
	InputGate func() bool

	periodStart, used time.Duration
	timer             Timer
	timerArmed        bool
	limited           uint64 // periods cut by the cycle limit
	gated             uint64 // times input was held back
}

// PollThreadPrio is the polling thread's priority: above user threads (0).
const PollThreadPrio = 10

// PollCallback is one device's callback.
type PollCallback struct {
	Name string
	// Quota bounds the packets one call handles (0: no bound).
	Quota int
	// Input marks a receive callback (held back by InputGate).
	Input bool
	// Poll handles at most quota packets (quota > 0) and reports how many.
	Poll func(quota int) (work int)
	// Idle is called when Poll found nothing: the callback is done for
	// now (it re-enables its device's interrupt).
	Idle func()

	active bool
	gen    uint64 // Schedule calls: one during a poll keeps it active
	turns  uint64
	calls  uint64
	work   uint64
	full   uint64
}

// PollCallbackStats are a callback's counters.
type PollCallbackStats struct {
	Turns uint64 // turns it was given
	Calls uint64 // Poll calls (a turn goes on while there is work and quota)
	Work  uint64 // packets
	Full  uint64 // turns that used the whole quota
}

// CallbackStats returns cb's counters.
func (p *PollThread) CallbackStats(cb *PollCallback) PollCallbackStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return PollCallbackStats{cb.turns, cb.calls, cb.work, cb.full}
}

// PollThreadStats are the thread's counters.
type PollThreadStats struct {
	Limited uint64 // periods the cycle limit cut short
	Gated   uint64 // times queue-state feedback held input back
}

// PollThread returns CPU cpu's polling thread, made on first use.
func (h *Host) PollThread(cpu int) *PollThread {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.pollThreads == nil {
		h.pollThreads = make([]*PollThread, len(h.cpus))
	}
	i := cpu % len(h.cpus)
	if h.pollThreads[i] == nil {
		p := &PollThread{host: h, cpu: h.cpus[i], Period: time.Millisecond}
		p.thread = p.cpu.NewKthread("poll", PollThreadPrio, p.step)
		p.timer = h.clock.NewTimer(func() {
			p.mu.Lock()
			p.timerArmed = false
			p.mu.Unlock()
			p.thread.Wake()
		})
		h.pollThreads[i] = p
	}
	return h.pollThreads[i]
}

// Register adds a callback (inactive until scheduled).
func (p *PollThread) Register(cb *PollCallback) {
	p.mu.Lock()
	p.cbs = append(p.cbs, cb)
	p.mu.Unlock()
}

// Unregister removes a callback.
func (p *PollThread) Unregister(cb *PollCallback) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, c := range p.cbs {
		if c == cb {
			p.cbs = append(p.cbs[:i], p.cbs[i+1:]...)
			if p.next > i {
				p.next--
			}
			return
		}
	}
}

// Schedule marks cb as having work and wakes the thread (from an
// interrupt handler, or a callback that made work for another).
func (p *PollThread) Schedule(cb *PollCallback) {
	p.mu.Lock()
	cb.active = true
	cb.gen++
	p.mu.Unlock()
	p.thread.Wake()
}

// Active reports whether cb is scheduled.
func (p *PollThread) Active(cb *PollCallback) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return cb.active
}

// Kick wakes the thread (input may run again).
func (p *PollThread) Kick() { p.thread.Wake() }

// Stats returns the thread's counters.
func (p *PollThread) Stats() PollThreadStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return PollThreadStats{p.limited, p.gated}
}

// step runs one callback; it reports whether the thread stays runnable.
func (p *PollThread) step() bool {
	now := p.cpu.Now()
	p.mu.Lock()
	if limit := p.CycleLimit; limit > 0 && limit < 1 {
		if now >= p.periodStart+p.Period {
			p.periodStart = now - (now-p.periodStart)%p.Period
			p.used = 0
		}
		if float64(p.used) >= limit*float64(p.Period) {
			// Out of cycles: sleep to the next period.
			p.limited++
			if !p.timerArmed {
				p.timerArmed = true
				p.timer.Reset(p.periodStart + p.Period - now)
			}
			p.mu.Unlock()
			return false
		}
	}
	open := p.InputGate == nil || p.InputGate()
	cb := p.cur
	if cb != nil && (!cb.active || (cb.Input && !open)) {
		cb = nil
	}
	held := false
	if cb == nil {
		for k := 0; k < len(p.cbs); k++ {
			c := p.cbs[(p.next+k)%len(p.cbs)]
			if !c.active {
				continue
			}
			if c.Input && !open {
				held = true
				continue
			}
			cb = c
			p.next = (p.next + k + 1) % len(p.cbs)
			p.left = c.Quota
			c.turns++
			break
		}
	}
	p.cur = nil
	if cb == nil {
		if held {
			p.gated++
		}
		p.mu.Unlock()
		return false // asleep until a Schedule or Kick
	}
	gen, left := cb.gen, p.left
	p.mu.Unlock()

	quota := left
	if quota == 0 {
		quota = math.MaxInt
	}
	work := cb.Poll(quota)
	if work == 0 && cb.Idle != nil {
		cb.Idle()
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	p.used += p.cpu.Now() - now
	cb.calls++
	cb.work += uint64(work)
	switch {
	case work == 0:
		if cb.gen == gen {
			cb.active = false // (an interrupt while it ran keeps it active)
		}
	case left == 0 || work < left:
		// Quota left: go on with this turn once the work has run.
		p.cur = cb
		if left > 0 {
			p.left = left - work
		}
	default:
		cb.full++
	}
	held = false
	for _, c := range p.cbs {
		if c.active && (!c.Input || open) {
			return true
		}
		held = held || c.active
	}
	if held {
		p.gated++ // asleep with input held back
	}
	return false
}
