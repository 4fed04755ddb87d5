package hw

import (
	"sync"
	"time"
)

// Clock is the single source of time for the device, the driver and the
// stack. Now is the time since the clock started.
type Clock interface {
	Now() time.Duration
	// NewTimer returns a stopped timer that calls fn when it fires. Timers are
	// reusable and cost no allocation to re-arm.
	NewTimer(fn func()) Timer
	// Virtual reports whether this is the discrete-event clock.
	Virtual() bool
	// At is the clock's reading at wall time t (a socket's deadline).
	At(t time.Time) time.Duration
}

// Timer is a reusable one-shot timer.
type Timer = interface {
	// Reset arms the timer to fire d from now, replacing any pending firing.
	Reset(d time.Duration)
	// Stop disarms the timer and reports whether it was armed.
	Stop() bool
}

// VirtualClock is a discrete-event scheduler. Events at the same instant run
// in the order they were scheduled, so a run is a pure function of its inputs.
// All events run on the goroutine that calls Run*; nothing here is safe for
// concurrent use.
type VirtualClock struct {
	now    time.Duration
	seq    uint64
	events eventHeap
	fired  uint64
	// current is the CPU whose work is executing, for Charge.
	current *CPU
}

// NewVirtualClock returns a clock at time 0.
func NewVirtualClock() *VirtualClock { return &VirtualClock{} }

// Now returns the virtual time.
func (c *VirtualClock) Now() time.Duration { return c.now }

// Virtual reports true.
func (c *VirtualClock) Virtual() bool { return true }

// VirtualEpoch is the wall time a virtual clock's 0 stands for.
var VirtualEpoch = time.Unix(0, 0)

// At maps wall time t onto virtual time, 0 being VirtualEpoch.
func (c *VirtualClock) At(t time.Time) time.Duration { return t.Sub(VirtualEpoch) }

// NewTimer returns a stopped virtual timer.
func (c *VirtualClock) NewTimer(fn func()) Timer {
	return &vtimer{c: c, fn: fn, index: -1}
}

// Events returns the number of events fired so far.
func (c *VirtualClock) Events() uint64 { return c.fired }

// Pending reports whether any event is scheduled.
func (c *VirtualClock) Pending() bool { return len(c.events) > 0 }

// Next returns the time of the next event, if any.
func (c *VirtualClock) Next() (time.Duration, bool) {
	if len(c.events) == 0 {
		return 0, false
	}
	return c.events[0].at, true
}

// Step fires the earliest event and reports whether there was one.
func (c *VirtualClock) Step() bool {
	if len(c.events) == 0 {
		return false
	}
	t := c.events.pop()
	if t.at > c.now {
		c.now = t.at
	}
	c.fired++
	t.fn()
	return true
}

// RunUntil fires every event scheduled at or before t, then sets the clock to t.
func (c *VirtualClock) RunUntil(t time.Duration) {
	for len(c.events) > 0 && c.events[0].at <= t {
		c.Step()
	}
	if t > c.now {
		c.now = t
	}
}

// RunFor runs the clock d past the current time.
func (c *VirtualClock) RunFor(d time.Duration) { c.RunUntil(c.now + d) }

// RunIdle fires events until none is left or the clock passes limit; it
// reports whether the system went idle.
func (c *VirtualClock) RunIdle(limit time.Duration) bool {
	for len(c.events) > 0 {
		if c.events[0].at > limit {
			return false
		}
		c.Step()
	}
	return true
}

type vtimer struct {
	c     *VirtualClock
	fn    func()
	at    time.Duration
	seq   uint64
	index int
}

func (t *vtimer) Reset(d time.Duration) {
	if d < 0 {
		d = 0
	}
	t.at = t.c.now + d
	t.c.seq++
	t.seq = t.c.seq
	if t.index >= 0 {
		t.c.events.fix(t.index)
		return
	}
	t.c.events.push(t)
}

func (t *vtimer) Stop() bool {
	if t.index < 0 {
		return false
	}
	t.c.events.remove(t.index)
	return true
}

// eventHeap is a binary min-heap of timers by (at, seq), written out
// rather than through container/heap: it is the simulator's hottest loop.
type eventHeap []*vtimer

func (h eventHeap) less(i, j int) bool {
	a, b := h[i], h[j]
	return a.at < b.at || (a.at == b.at && a.seq < b.seq)
}

func (h eventHeap) swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}

func (h eventHeap) up(j int) {
	for j > 0 {
		i := (j - 1) / 2
		if !h.less(j, i) {
			break
		}
		h.swap(i, j)
		j = i
	}
}

func (h eventHeap) down(i int) bool {
	i0, n := i, len(h)
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		j := l
		if r := l + 1; r < n && h.less(r, l) {
			j = r
		}
		if !h.less(j, i) {
			break
		}
		h.swap(i, j)
		i = j
	}
	return i > i0
}

func (h *eventHeap) push(t *vtimer) {
	t.index = len(*h)
	*h = append(*h, t)
	h.up(t.index)
}

func (h *eventHeap) pop() *vtimer {
	old := *h
	n := len(old) - 1
	old.swap(0, n)
	t := old[n]
	old[n] = nil
	*h = old[:n]
	if n > 0 {
		h.down(0)
	}
	t.index = -1
	return t
}

func (h *eventHeap) remove(i int) {
	old := *h
	n := len(old) - 1
	t := old[i]
	if i != n {
		old.swap(i, n)
	}
	old[n] = nil
	*h = old[:n]
	if i != n {
		if !h.down(i) {
			h.up(i)
		}
	}
	t.index = -1
}

func (h eventHeap) fix(i int) {
	if !h.down(i) {
		h.up(i)
	}
}

// RealClock is wall-clock time from a fixed start.
type RealClock struct{ start time.Time }

// NewRealClock returns a clock reading 0 now.
func NewRealClock() *RealClock { return &RealClock{start: time.Now()} }

// Now returns the wall time since the clock started.
func (c *RealClock) Now() time.Duration { return time.Since(c.start) }

// Virtual reports false.
func (c *RealClock) Virtual() bool { return false }

// At is the clock's reading at wall time t.
func (c *RealClock) At(t time.Time) time.Duration { return t.Sub(c.start) }

// NewTimer returns a stopped runtime timer; fn runs on its own goroutine.
func (c *RealClock) NewTimer(fn func()) Timer {
	t := &rtimer{}
	t.t = time.AfterFunc(time.Hour, fn)
	t.t.Stop()
	return t
}

type rtimer struct {
	mu sync.Mutex
	t  *time.Timer
}

func (t *rtimer) Reset(d time.Duration) {
	t.mu.Lock()
	t.t.Reset(d)
	t.mu.Unlock()
}

func (t *rtimer) Stop() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.t.Stop()
}
