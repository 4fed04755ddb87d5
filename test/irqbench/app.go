package irqbench

import (
	"time"

	"vnic/driver"
	"vnic/hw"
	"vnic/stack"
)

// app is a user-level application behind a socket queue (Mogul's
// screend): the protocol handler queues each packet, dropping it when the
// queue is full (after the protocol work was done); the application, a
// user thread, takes AppCost per packet. With Feedback (quota mode), input
// stops at 75 % of the queue and resumes under 25 %.
type app struct {
	g        *rig
	q        []*stack.SKB
	at       []time.Duration // when each entered the queue
	limit    int
	cost     time.Duration
	thread   *hw.Thread
	drops    uint64
	high     int
	low      int
	gated    bool
	feedback bool
	poller   *stack.PollThread

	// busy polling (M4)
	napi      *stack.NAPI
	busy      time.Duration
	budget    int
	full      bool
	prefer    bool
	suspend   time.Duration
	waiting   bool          // asleep in epoll_wait (IRQ suspension)
	polling   bool          // in a busy-poll loop
	pollStart time.Duration // when it began
}

func newApp(g *rig, r Run) *app {
	a := &app{g: g, limit: r.SocketQueue, cost: r.AppCost}
	if a.limit == 0 {
		a.limit = 32
	}
	a.high, a.low = (3*a.limit+3)/4, a.limit/4
	a.thread = g.cpu.NewThread("app", a.step)
	g.user = a.thread
	if r.Mode.Feedback && r.Mode.RxMode == driver.RxModeQuota {
		a.feedback = true
		a.poller = g.host.Stack.PollThread(0)
		a.poller.InputGate = func() bool { return !a.gated }
	}
	m := r.Mode
	if m.BusyPoll > 0 || m.FullBusy || m.SuspendTimeout > 0 {
		a.napi = g.dut.Adapter.NAPI(0)
		a.busy, a.full, a.prefer, a.budget, a.suspend = m.BusyPoll, m.FullBusy, m.PreferBusyPoll || m.SuspendTimeout > 0, m.BusyBudget, m.SuspendTimeout
		if a.budget == 0 {
			a.budget = 8 // BUSY_POLL_BUDGET
		}
		if a.full {
			a.thread.Wake() // it never sleeps
		}
		a.waiting = a.suspend > 0 // in epoll_wait until the first events
	}
	g.host.Stack.AddProtocol(stack.EthPIPv4, a.enqueue)
	return a
}

// enqueue is the protocol handler: into the socket queue.
func (a *app) enqueue(skb *stack.SKB) {
	if len(a.q) >= a.limit {
		a.drops++
		skb.Free()
		return
	}
	a.q = append(a.q, skb)
	a.at = append(a.at, a.g.cpu.Now())
	if a.feedback && len(a.q) >= a.high {
		a.gated = true
	}
	a.thread.Wake()
}

// step is the application: one packet, or with an empty socket one
// busy-poll iteration while busy polling lasts.
func (a *app) step() bool {
	if len(a.q) == 0 {
		return a.busyPoll()
	}
	if a.waiting {
		// epoll_wait returns events: suspend the interrupt.
		a.waiting = false
		a.napi.SuspendIRQs(a.suspend)
	}
	skb, at := a.q[0], a.at[0]
	a.q, a.at = a.q[1:], a.at[1:]
	a.g.cpu.Charge(a.cost)
	if a.g.r.Forward {
		a.g.forward(skb) // the reply, or the packet on its way
	} else {
		a.g.cons.socketAt = at
		a.g.cons.handle(skb)
		a.g.cons.socketAt = 0
	}
	if a.gated && len(a.q) <= a.low {
		a.gated = false
		a.poller.Kick()
	}
	return len(a.q) > 0 || a.napi != nil // a busy poller polls when the socket is empty
}

// busyPoll is one iteration of napi_busy_loop with an empty socket; it
// reports whether the application stays runnable. A loop ends when it
// brings data (the packets went up to the socket) or when BusyPoll has
// passed; either way busy_poll_stop gives the NAPI back.
func (a *app) busyPoll() bool {
	if a.napi == nil {
		return false
	}
	if a.suspend > 0 {
		// epoll_wait with busy_poll_usecs 0: one poll; events keep the
		// interrupt suspended, none end the suspension.
		if _, ok := a.napi.BusyPoll(a.budget, true, a.suspend); ok {
			a.napi.BusyPollStop(true, a.suspend)
		}
		if len(a.q) > 0 {
			a.napi.SuspendIRQs(a.suspend)
			return true
		}
		a.napi.ResumeIRQs()
		a.waiting = true
		return false
	}
	now := a.g.cpu.Now()
	if !a.polling {
		a.polling, a.pollStart = true, now
	}
	if !a.full && now-a.pollStart >= a.busy {
		a.polling = false
		a.napi.BusyPollStop(a.prefer, 0)
		return false // sleep until a packet wakes it
	}
	if _, ok := a.napi.BusyPoll(a.budget, a.prefer, 0); !ok {
		a.g.cpu.Charge(stack.BusyPollSpin) // NET_RX has it: spin
	}
	if len(a.q) > 0 {
		a.polling = false
		a.napi.BusyPollStop(a.prefer, 0)
	}
	return true
}
