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
	limit    int
	cost     time.Duration
	thread   *hw.Thread
	drops    uint64
	high     int
	low      int
	gated    bool
	feedback bool
	poller   *stack.PollThread
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
	if a.feedback && len(a.q) >= a.high {
		a.gated = true
	}
	a.thread.Wake()
}

// step is the application: one packet.
func (a *app) step() bool {
	if len(a.q) == 0 {
		return false
	}
	skb := a.q[0]
	a.q = a.q[1:]
	a.g.cpu.Charge(a.cost)
	if a.g.r.Forward {
		a.g.forward(skb) // the reply, or the packet on its way
	} else {
		a.g.cons.handle(skb)
	}
	if a.gated && len(a.q) <= a.low {
		a.gated = false
		a.poller.Kick()
	}
	return len(a.q) > 0
}
