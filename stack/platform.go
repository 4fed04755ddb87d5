package stack

import "time"

// Timer is a reusable one-shot timer (identical to hw.Timer).
type Timer = interface {
	Reset(d time.Duration)
	Stop() bool
}

// Clock is the host's time source (implemented by hw's clocks).
type Clock interface {
	Now() time.Duration
	NewTimer(fn func()) Timer
	Virtual() bool
	// At is the clock's reading at wall time t: where a socket's
	// deadline falls on the host's clock.
	At(t time.Time) time.Duration
}

// CPU is one processor as the stack sees it (implemented by *hw.CPU).
type CPU interface {
	ID() int
	// SetSoftirqHandler installs the function RaiseSoftirq runs in softirq
	// context; the stack installs its NET_TX/NET_RX action.
	SetSoftirqHandler(fn func())
	RaiseSoftirq()
	// RaiseTimer runs fn in hard-interrupt context as an hrtimer's
	// handler.
	RaiseTimer(fn func())
	// ContinueSoftirq raises the softirq to go on with a pass split into
	// several work items (virtual time); it is not a new pass for the
	// softirq's restart limit.
	ContinueSoftirq()
	RunTask(fn func())
	RunSoftirq(fn func())
	// NewKthread makes a kernel thread of priority prio (higher runs
	// first; user threads are 0) whose step runs one work item and
	// reports whether it has more to do; it sleeps until woken.
	NewKthread(name string, prio int, step func() bool) interface{ Wake() }
	// Charge accounts modelled work to the running context; Now includes it.
	Charge(d time.Duration)
	ChargeCopy(n int)
	Now() time.Duration
}

// NAPIObserver is told about NAPI state changes (the hw contract checker).
type NAPIObserver interface {
	NAPIScheduled(irq int)
	NAPICompleted(irq int)
	NAPIPolled(irq, budget, work int)
}

// Costs is the stack's share of the cost model.
type Costs struct {
	Proto time.Duration // protocol work per received packet
	Poll  time.Duration // per NAPI poll call
	GRO   time.Duration // per frame GRO examines
}
