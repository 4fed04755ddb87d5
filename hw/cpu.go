package hw

import (
	"sync"
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
	// levelBusy is when the preempting item of each context that started
	// last has run (virtual time).
	levelBusy [numLevels]time.Duration
	softirq   bool   // a softirq is raised
	onSoftir  func() // the softirq handler (the stack's net_rx_action)
	stopped   bool

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

	stats CPUStats
	wg    sync.WaitGroup
}

// CPUStats counts what a CPU did.
type CPUStats struct {
	Busy     [numLevels]time.Duration // charged time per context (virtual)
	Items    [numLevels]uint64        // work items run per context
	Hardirqs uint64
	Softirqs uint64
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
	c := &CPU{id: id, clock: clock, Costs: costs}
	c.cond = sync.NewCond(&c.mu)
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
	c.cond.Signal()
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
	c.cond.Signal()
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
	c.cond.Signal()
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
	if c.queues[Hardirq].size > 0 || c.contq.size > 0 {
		return int(Hardirq)
	}
	if c.softirq || c.queues[Softirq].size > 0 {
		return int(Softirq)
	}
	if c.queues[Task].size > 0 {
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
	cont := l == Hardirq && c.contq.size > 0
	if l == Hardirq && !cont {
		c.charged = c.Costs.IRQ
		c.stats.Hardirqs++
	}
	if cont {
		c.contq.pop()()
	} else if l == Softirq && c.queues[Softirq].size == 0 {
		c.softirq = false
		c.stats.Softirqs++
		if c.onSoftir != nil {
			c.onSoftir()
		}
	} else {
		c.queues[l].pop()()
	}
	d := c.charged
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
			if c.levelBusy[l] > now {
				c.armed, c.armedAt = true, min(c.levelBusy[l], c.busyUntil)
				c.dispatch.Reset(c.armedAt - now)
				return
			}
			d := c.exec(Level(l))
			c.levelBusy[l] = now + d
			c.busyUntil += d
			continue
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
	c.cond.Broadcast()
	c.wg.Wait()
}

func (c *CPU) loop() {
	defer c.wg.Done()
	c.mu.Lock()
	for {
		for c.top() < 0 && !c.stopped {
			c.cond.Wait()
		}
		if c.stopped {
			c.mu.Unlock()
			return
		}
		l := Level(c.top())
		var fn func()
		soft := false
		switch {
		case l == Hardirq && c.contq.size > 0:
			fn = c.contq.pop()
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
		if soft {
			if c.onSoftir != nil {
				c.onSoftir()
			}
		} else {
			fn()
		}
		c.mu.Lock()
	}
}

// RunTask queues fn in task context.
func (c *CPU) RunTask(fn func()) { c.Raise(Task, fn) }

// RunSoftirq queues fn in softirq context (a tasklet).
func (c *CPU) RunSoftirq(fn func()) { c.Raise(Softirq, fn) }
