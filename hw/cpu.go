package hw

import (
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Level is a CPU execution context. Higher levels preempt lower ones.
type Level uint8

const (
	// Task is process context (applications, kthreads).
	Task Level = iota
	// Softirq is bottom-half context: NET_RX/NET_TX, timers.
	Softirq
	// Hardirq is interrupt context.
	Hardirq
	numLevels
)

func (l Level) String() string {
	return [...]string{"task", "softirq", "hardirq"}[l]
}

// CostModel is what modelled work costs a CPU in virtual time. Real time
// ignores it: there the work costs what it costs.
type CostModel struct {
	IRQ       time.Duration // hard interrupt entry + exit, charged per hardirq
	RxPacket  time.Duration // driver work per received packet
	TxPacket  time.Duration // driver work per transmitted packet (xmit + clean)
	Proto     time.Duration // protocol work per packet
	Poll      time.Duration // per NAPI poll call
	CopyPerKB time.Duration // per 1024 bytes copied (or checksummed) by the CPU
	GRO       time.Duration // per frame GRO examines
	Timer     time.Duration // an hrtimer interrupt (NAPI deferral), charged instead of IRQ
	// Indirect is c_ind: what an interrupt costs the work it interrupts
	// (caches, TLB, pipeline), added to that work when an interrupt (or
	// timer interrupt) preempts it (virtual time). An interrupt on an
	// idle CPU costs nothing more.
	Indirect time.Duration
	// Switch is a context switch into a thread: charged to a thread's step
	// when the CPU last ran another thread or a one-off task item, or
	// the thread slept since its last step (the switch from idle; virtual
	// time). 0 in both presets.
	Switch time.Duration
}

// DefaultCosts is the "modern server" preset of spec/irq-vs-polling.md §2.3.
var DefaultCosts = CostModel{
	IRQ:       1000 * time.Nanosecond,
	RxPacket:  100 * time.Nanosecond,
	TxPacket:  200 * time.Nanosecond,
	Proto:     500 * time.Nanosecond,
	Poll:      300 * time.Nanosecond,
	CopyPerKB: 50 * time.Nanosecond,
	GRO:       50 * time.Nanosecond,
	Timer:     300 * time.Nanosecond,
}

// CPU runs work in three contexts. In virtual time, work runs as events on
// the clock's goroutine: the Go code of a work item runs at once, and the
// CPU is then busy for the cost the item charged; a higher context arriving
// while the CPU is busy runs at once and pushes the end of the busy period
// out (preemption). In real time, one goroutine per CPU runs the work in
// priority order.
type CPU struct {
	id    int
	clock Clock
	Costs CostModel

	mu     sync.Mutex // real time only
	cond   *sync.Cond
	queues [numLevels]workQueue
	contq  workQueue // hard-interrupt handlers going on (no new interrupt)
	timerq workQueue // hrtimer handlers (a timer interrupt: Costs.Timer)
	// levelBusy is when the preempting item of each context that started
	// last has run (virtual time).
	levelBusy [numLevels]time.Duration
	softirq   bool   // a softirq is raised
	onSoftir  func() // the softirq handler (the stack's net_rx_action)
	stopped   bool

	// Threads in task context: the first of the highest priority runs
	// next; threads of one priority take turns.
	runq     []*Thread
	lastTask *Thread // whose step the latest task item was (nil: a one-off)

	// Ksoftirqd enables the hand-off of softirq work to the ksoftirqd
	// thread (virtual time; on by NewCPU): once a run of softirq work has
	// lasted MaxSoftirqTime or restarted MaxSoftirqRestart times with
	// work still pending, the pending work goes to ksoftirqd, a thread
	// that competes with the others for the CPU, and softirqs raised
	// meanwhile wait for it (Linux 4.9 to 6.4, ksoftirqd_running).
	Ksoftirqd   bool
	ksoftirqd   *Thread
	handedOff   bool
	softirqCont bool          // the pending softirq continues a pass
	inBurst     bool          // softirq work has run since the CPU was last idle or in a task
	burstStart  time.Duration // when that run began
	restarts    int           // passes in it

	// virtual time
	unspent   [numLevels]time.Duration // charged work not run yet (ElapsedBusy)
	settled   time.Duration
	vclock    *VirtualClock
	dispatch  Timer
	armedAt   time.Duration
	armed     bool
	running   bool
	busyUntil time.Duration
	baseLevel Level
	charged   time.Duration
	startedAt time.Duration
	level     Level // of the item running now

	stats CPUStats
	wg    sync.WaitGroup
	kicks atomic.Uint64 // notify calls (real time): what spinIdle watches
}

// The limits of __do_softirq before it wakes ksoftirqd.
const (
	MaxSoftirqTime    = 2 * time.Millisecond
	MaxSoftirqRestart = 10
)

// TaskSlice is how long a thread runs before the next runnable thread
// gets the CPU: CFS's 6 ms scheduling period shared by two runnable
// threads.
const TaskSlice = 3 * time.Millisecond

// Thread is a schedulable thread in task context: a kthread (ksoftirqd,
// a threaded NAPI poller) or a user process. Runnable threads share the
// CPU round robin, each for up to TaskSlice of CPU time per turn; a
// thread runs as a sequence of steps, each one work item. One-off task
// items (RunTask) go before threads.
type Thread struct {
	Name string
	// Prio orders threads strictly: a runnable thread of a higher
	// priority always runs before lower ones (a kernel thread above user
	// processes). Default 0.
	Prio   int
	cpu    *CPU
	step   func() bool
	queued bool
	// rewoken: woken while queued; a step that reports nothing to do
	// then stays runnable (no lost wake-up).
	rewoken bool
	slept   bool          // went to sleep after its last step
	used    time.Duration // in this turn
	busy    time.Duration
	steps   uint64
}

// NewThread returns a sleeping thread on c whose step runs one work item
// and reports whether the thread has more to do (stays runnable).
func (c *CPU) NewThread(name string, step func() bool) *Thread {
	return &Thread{Name: name, cpu: c, step: step}
}

// Wake makes t runnable (at the back of the run queue) unless it is.
func (t *Thread) Wake() {
	c := t.cpu
	if c.vclock == nil {
		c.mu.Lock()
		defer c.notify()
		defer c.mu.Unlock()
	}
	if t.queued {
		t.rewoken = true // a step in progress may be about to sleep
		return
	}
	t.queued, t.used = true, 0
	c.runq = append(c.runq, t)
	if c.vclock != nil {
		c.kick()
	}
}

// Busy is the CPU time t's steps have charged (virtual time), including a
// step in progress.
func (t *Thread) Busy() time.Duration { return t.busy }

// ElapsedBusy is Busy without the part of a step in progress that has not
// run yet (virtual time), as CPU.ElapsedBusy is for contexts.
func (t *Thread) ElapsedBusy() time.Duration {
	c := t.cpu
	if c.vclock == nil {
		return t.busy
	}
	c.settle()
	if c.lastTask == t {
		return t.busy - c.unspent[Task]
	}
	return t.busy
}

// Steps is how many steps t has run.
func (t *Thread) Steps() uint64 { return t.steps }

// pickThread is the index of the thread to run: the first of the highest
// priority.
func (c *CPU) pickThread() int {
	best := 0
	for i, t := range c.runq {
		if t.Prio > c.runq[best].Prio {
			best = i
		}
	}
	return best
}

// NewKthread is NewThread for the stack: a thread of priority prio that
// the caller only wakes.
func (c *CPU) NewKthread(name string, prio int, step func() bool) interface{ Wake() } {
	t := c.NewThread(name, step)
	t.Prio = prio
	return t
}

// Ksoftirqd returns the CPU's ksoftirqd thread.
func (c *CPU) KsoftirqdThread() *Thread { return c.ksoftirqd }

// HandedOff reports whether softirq work is with ksoftirqd now.
func (c *CPU) HandedOff() bool { return c.handedOff }

// runSoftirq is one pass of the softirq handler.
func (c *CPU) runSoftirq() {
	c.softirq = false
	c.softirqCont = false
	c.stats.Softirqs++
	if c.onSoftir != nil {
		c.onSoftir()
	}
}

// ksoftirqdStep is run_ksoftirqd: one pass while softirq work is pending;
// with none it sleeps and softirqs run on interrupt exit again.
func (c *CPU) ksoftirqdStep() bool {
	if c.softirq {
		c.runSoftirq()
	}
	if !c.softirq {
		c.handedOff = false
		return false
	}
	return true
}

// CPUStats counts what a CPU did.
type CPUStats struct {
	Busy     [numLevels]time.Duration // charged time per context (virtual)
	Items    [numLevels]uint64        // work items run per context
	Hardirqs uint64
	Timers   uint64 // hrtimer interrupts (RaiseTimer)
	Wakeups  uint64 // real time: the CPU's goroutine woke from idle
	Softirqs uint64
	// Indirect is the c_ind time interrupts added to the work they
	// preempted (included in Busy).
	Indirect time.Duration
	// Switches counts the context switches charged (Costs.Switch).
	Switches uint64
}

type workQueue struct {
	buf        []func()
	head, size int
}

func (q *workQueue) push(fn func()) {
	if q.size == len(q.buf) {
		nb := make([]func(), 2*len(q.buf)+8)
		for i := 0; i < q.size; i++ {
			nb[i] = q.buf[(q.head+i)%len(q.buf)]
		}
		q.buf, q.head = nb, 0
	}
	q.buf[(q.head+q.size)%len(q.buf)] = fn
	q.size++
}

func (q *workQueue) pop() func() {
	fn := q.buf[q.head]
	q.buf[q.head] = nil
	q.head = (q.head + 1) % len(q.buf)
	q.size--
	return fn
}

// NewCPU returns CPU id on clock. Real-time CPUs must be started with Start.
func NewCPU(id int, clock Clock, costs CostModel) *CPU {
	c := &CPU{id: id, clock: clock, Costs: costs, Ksoftirqd: true}
	c.cond = sync.NewCond(&c.mu)
	c.ksoftirqd = c.NewThread("ksoftirqd", c.ksoftirqdStep)
	if vc, ok := clock.(*VirtualClock); ok {
		c.vclock = vc
		c.dispatch = vc.NewTimer(c.run)
	}
	return c
}

// ID returns the CPU number.
func (c *CPU) ID() int { return c.id }

// SetSoftirqHandler installs the function RaiseSoftirq schedules.
func (c *CPU) SetSoftirqHandler(fn func()) { c.onSoftir = fn }

// Raise queues fn to run in context l.
func (c *CPU) Raise(l Level, fn func()) {
	if c.vclock != nil {
		c.queues[l].push(fn)
		c.kick()
		return
	}
	c.mu.Lock()
	c.queues[l].push(fn)
	c.mu.Unlock()
	c.notify()
}

// ContinueHardirq queues fn to run in hard-interrupt context as the
// continuation of the handler running now: a handler that loops over work
// that keeps arriving ends its pass and continues here, so (in virtual
// time) the device's events between passes are seen. It costs no
// interrupt entry.
func (c *CPU) ContinueHardirq(fn func()) {
	if c.vclock != nil {
		c.contq.push(fn)
		c.kick()
		return
	}
	c.mu.Lock()
	c.contq.push(fn)
	c.mu.Unlock()
	c.notify()
}

// RaiseTimer runs fn in hard-interrupt context as an hrtimer's handler:
// the timer interrupt costs Costs.Timer (not Costs.IRQ).
func (c *CPU) RaiseTimer(fn func()) {
	if c.vclock != nil {
		c.timerq.push(fn)
		c.kick()
		return
	}
	c.mu.Lock()
	c.timerq.push(fn)
	c.mu.Unlock()
	c.notify()
}

// RaiseSoftirq marks the softirq pending; the handler runs once however
// often it is raised before it runs.
func (c *CPU) RaiseSoftirq() {
	if c.vclock != nil {
		c.softirq = true
		c.kick()
		return
	}
	c.mu.Lock()
	c.softirq = true
	c.mu.Unlock()
	c.notify()
}

// ContinueSoftirq raises the softirq to go on with a pass the handler
// split into several work items (virtual time: a NET_RX round polls one
// NAPI per item); unlike RaiseSoftirq it is not a restart of __do_softirq.
func (c *CPU) ContinueSoftirq() {
	c.RaiseSoftirq()
	if c.vclock != nil {
		c.softirqCont = true
	}
}

// Charge accounts d of modelled work to the CPU that is running work now
// (smp_processor_id's CPU), whichever CPU it is called on: in virtual time
// exactly one CPU runs at a time. Outside any work item, and in real time,
// it does nothing: real work costs what it costs.
func (c *CPU) Charge(d time.Duration) {
	if c.vclock != nil && c.vclock.current != nil {
		c.vclock.current.charged += d
	}
}

// ChargeCopy accounts copying n bytes to the running CPU.
func (c *CPU) ChargeCopy(n int) { c.Charge(c.Costs.CopyPerKB * time.Duration(n) / 1024) }

// Now is the time as seen by the running work: in virtual time the clock
// plus what the running work has charged so far.
func (c *CPU) Now() time.Duration {
	if c.vclock != nil && c.vclock.current != nil {
		return c.clock.Now() + c.vclock.current.charged
	}
	return c.clock.Now()
}

// Position is where the running work stands in its context's CPU time
// (virtual time): the context's time of the items before this one plus
// what this one has charged so far. Items of one context run one after
// another, so positions only grow, and the work at a position has run
// once ElapsedBusy of that context passes it. It returns the context too.
func (c *CPU) Position() (Level, time.Duration) {
	if c.vclock == nil || c.vclock.current != c {
		return Task, 0
	}
	return c.level, c.stats.Busy[c.level] + c.charged
}

// Stats returns a copy of the counters. In virtual time, Busy counts each
// work item's whole cost from the moment it starts; ElapsedBusy counts only
// what has run by now.
func (c *CPU) Stats() CPUStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

// ElapsedBusy is the CPU time each context has used up to now (virtual
// time): Busy without the part of items in progress that has not run yet.
// A preempting item runs first, so time passing is taken from the highest
// context with work in progress.
func (c *CPU) ElapsedBusy() [numLevels]time.Duration {
	c.settle()
	b := c.stats.Busy
	for l := range b {
		b[l] -= c.unspent[l]
	}
	return b
}

// settle moves the time elapsed since the last call from the contexts'
// unspent work, highest first.
func (c *CPU) settle() {
	if c.vclock == nil {
		return
	}
	now := c.vclock.Now()
	el := now - c.settled
	c.settled = now
	for l := int(numLevels) - 1; l >= 0 && el > 0; l-- {
		d := min(el, c.unspent[l])
		c.unspent[l] -= d
		el -= d
	}
}

// kick makes sure a dispatch event is scheduled now (virtual time).
func (c *CPU) kick() {
	if c.running {
		return // the running loop picks the work up
	}
	now := c.vclock.Now()
	if c.armed && c.armedAt <= now {
		return
	}
	c.armed, c.armedAt = true, now
	c.dispatch.Reset(0)
}

// top returns the highest level with work, or -1.
func (c *CPU) top() int {
	if c.queues[Hardirq].size > 0 || c.contq.size > 0 || c.timerq.size > 0 {
		return int(Hardirq)
	}
	if (c.softirq && !c.handedOff) || c.queues[Softirq].size > 0 {
		return int(Softirq)
	}
	if c.queues[Task].size > 0 || len(c.runq) > 0 {
		return int(Task)
	}
	return -1
}

// exec runs one item of level l and returns its charged cost.
func (c *CPU) exec(l Level) time.Duration {
	prev := c.vclock.current
	prevCharged := c.charged
	c.vclock.current = c
	c.charged = 0
	prevLevel := c.level
	c.level = l
	cont := l == Hardirq && c.contq.size > 0
	timer := l == Hardirq && !cont && c.timerq.size > 0
	switch {
	case timer:
		c.charged = c.Costs.Timer
		c.stats.Timers++
	case l == Hardirq && !cont:
		c.charged = c.Costs.IRQ
		c.stats.Hardirqs++
	}
	var thread *Thread
	more := false
	switch {
	case cont:
		c.contq.pop()()
	case timer:
		c.timerq.pop()()
	case l == Softirq && c.queues[Softirq].size == 0:
		// __do_softirq: a pass that finds work pending again when it
		// ends restarts, until the run has lasted MaxSoftirqTime or
		// made MaxSoftirqRestart passes; then ksoftirqd takes over.
		if !c.softirqCont {
			now := c.vclock.Now()
			if !c.inBurst {
				c.inBurst, c.burstStart, c.restarts = true, now, 0
			} else if c.restarts++; c.Ksoftirqd && (now-c.burstStart >= MaxSoftirqTime || c.restarts >= MaxSoftirqRestart) {
				c.handedOff, c.inBurst = true, false
				c.ksoftirqd.Wake()
				break
			}
		}
		c.runSoftirq()
	case l == Task && c.queues[Task].size == 0:
		thread = c.runq[c.pickThread()]
		thread.rewoken = false
		if c.Costs.Switch > 0 && (thread != c.lastTask || thread.slept) {
			c.charged += c.Costs.Switch
			c.stats.Switches++
		}
		thread.slept = false
		more = thread.step()
		more = more || thread.rewoken
	default:
		c.queues[l].pop()()
	}
	d := c.charged
	c.level = prevLevel
	if l == Task {
		c.lastTask = thread
	}
	if thread != nil {
		thread.busy += d
		thread.used += d
		thread.steps++
		if !more || thread.used >= TaskSlice {
			c.runq = slices.DeleteFunc(c.runq, func(t *Thread) bool { return t == thread })
			if more {
				thread.used = 0
				c.runq = append(c.runq, thread)
			} else {
				thread.queued, thread.slept = false, true
			}
		}
	}
	c.charged = prevCharged
	c.vclock.current = prev
	c.stats.Busy[l] += d
	if c.vclock != nil {
		c.settle()
		c.unspent[l] += d
	}
	c.stats.Items[l]++
	return d
}

// chargeIndirect adds c_ind to the work an interrupt of level l
// preempted at now: the highest context below l with an item in progress.
// That item (and every one in progress under it) ends later by ind, and
// its context is charged for it.
func (c *CPU) chargeIndirect(l Level, now, ind time.Duration) {
	m := c.baseLevel
	for k := int(l) - 1; k > int(c.baseLevel); k-- {
		if c.levelBusy[k] > now {
			m = Level(k)
			break
		}
	}
	c.busyUntil += ind
	for k := int(c.baseLevel) + 1; k <= int(m); k++ {
		if c.levelBusy[k] > now {
			c.levelBusy[k] += ind
		}
	}
	c.settle()
	c.stats.Busy[m] += ind
	c.unspent[m] += ind
	c.stats.Indirect += ind
	if m == Task && c.baseLevel == Task && c.lastTask != nil {
		c.lastTask.busy += ind
	}
}

// run is the virtual-time dispatch event.
func (c *CPU) run() {
	c.armed = false
	c.running = true
	defer func() { c.running = false }()
	for {
		now := c.vclock.Now()
		l := c.top()
		if l < 0 {
			return
		}
		if c.busyUntil > now {
			// Busy: only a higher context preempts, and one item of a
			// context at a time: an item of the preempting context
			// queued meanwhile (another interrupt, a handler's
			// continuation) starts when the one before it has run.
			if Level(l) <= c.baseLevel {
				break
			}
			// It also waits for the items of higher contexts in
			// progress: they preempted the CPU and run first.
			wait := c.levelBusy[l]
			for h := l + 1; h < int(numLevels); h++ {
				wait = max(wait, c.levelBusy[h])
			}
			if wait > now {
				c.armed, c.armedAt = true, min(wait, c.busyUntil)
				c.dispatch.Reset(c.armedAt - now)
				return
			}
			if Level(l) == Softirq && c.levelBusy[l] != now {
				c.inBurst = false // not straight after the last pass
			}
			entry := Level(l) == Hardirq && c.contq.size == 0 // an interrupt, not a handler's continuation
			d := c.exec(Level(l))
			c.levelBusy[l] = now + d
			c.busyUntil += d
			// A preempted item of a context in between ends later by as
			// much.
			for m := int(c.baseLevel) + 1; m < l; m++ {
				if c.levelBusy[m] > now {
					c.levelBusy[m] += d
				}
			}
			if ind := c.Costs.Indirect; entry && ind > 0 {
				c.chargeIndirect(Level(l), now, ind)
			}
			continue
		}
		// A run of softirq passes goes on only while each pass ends with
		// work pending and the CPU goes straight on (interrupts aside).
		if now > c.busyUntil || !c.softirq || c.baseLevel == Task || Level(l) == Task {
			c.inBurst = false
		}
		c.baseLevel = Level(l)
		c.startedAt = now
		c.busyUntil = now + c.exec(Level(l))
	}
	c.armed, c.armedAt = true, c.busyUntil
	c.dispatch.Reset(c.busyUntil - c.vclock.Now())
}

// Busy reports whether the CPU is inside a busy period (virtual time).
func (c *CPU) Busy() bool { return c.vclock != nil && c.busyUntil > c.vclock.Now() }

// Start runs a real-time CPU on its own goroutine until Stop.
func (c *CPU) Start() {
	if c.vclock != nil {
		return
	}
	c.wg.Add(1)
	go c.loop()
}

// Stop ends a real-time CPU after the work it is running.
func (c *CPU) Stop() {
	if c.vclock != nil {
		return
	}
	c.mu.Lock()
	c.stopped = true
	c.mu.Unlock()
	c.kicks.Add(1)
	c.cond.Broadcast()
	c.wg.Wait()
}

// SpinIdle is how long a real-time CPU out of work polls for more before
// its goroutine parks: work comes in trains (a NAPI poll's interrupt, the
// next burst), and a wake-up from park costs the poster a futex call and
// the CPU a trip through the scheduler. 0 parks at once.
var SpinIdle = 20 * time.Microsecond

// notify tells the CPU's goroutine that work was queued (real time).
func (c *CPU) notify() {
	c.kicks.Add(1)
	c.cond.Signal()
}

// spinIdle waits up to SpinIdle for notify, yielding the processor
// between looks (real time, without c.mu).
func (c *CPU) spinIdle() {
	if SpinIdle <= 0 {
		return
	}
	k := c.kicks.Load()
	start := time.Now()
	for i := 1; c.kicks.Load() == k; i++ {
		if i%16 == 0 && time.Since(start) >= SpinIdle {
			return
		}
		runtime.Gosched()
	}
}

func (c *CPU) loop() {
	defer c.wg.Done()
	c.mu.Lock()
	for {
		if c.top() < 0 && !c.stopped {
			c.mu.Unlock()
			c.spinIdle()
			c.mu.Lock()
			for c.top() < 0 && !c.stopped {
				c.cond.Wait()
			}
			c.stats.Wakeups++
		}
		if c.stopped {
			c.mu.Unlock()
			return
		}
		l := Level(c.top())
		var fn func()
		var thread *Thread
		soft := false
		switch {
		case l == Task && c.queues[Task].size == 0:
			thread = c.runq[c.pickThread()]
			thread.rewoken = false
		case l == Hardirq && c.contq.size > 0:
			fn = c.contq.pop()
		case l == Hardirq && c.timerq.size > 0:
			fn = c.timerq.pop()
			c.stats.Timers++
		case l == Softirq && c.queues[Softirq].size == 0:
			c.softirq = false
			soft = true
		default:
			fn = c.queues[l].pop()
			if l == Hardirq {
				c.stats.Hardirqs++
			}
		}
		if soft {
			c.stats.Softirqs++
		}
		c.stats.Items[l]++
		c.mu.Unlock()
		switch {
		case soft:
			if c.onSoftir != nil {
				c.onSoftir()
			}
		case thread != nil:
			more := thread.step()
			c.mu.Lock()
			more = more || thread.rewoken
			thread.steps++
			c.runq = slices.DeleteFunc(c.runq, func(t *Thread) bool { return t == thread })
			if more {
				c.runq = append(c.runq, thread) // no time slices in real time: one step a turn
			} else {
				thread.queued = false
			}
			c.mu.Unlock()
		default:
			fn()
		}
		c.mu.Lock()
	}
}

// RunTask queues fn in task context.
func (c *CPU) RunTask(fn func()) { c.Raise(Task, fn) }

// RunSoftirq queues fn in softirq context (a tasklet).
func (c *CPU) RunSoftirq(fn func()) { c.Raise(Softirq, fn) }
