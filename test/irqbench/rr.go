package irqbench

import (
	"encoding/binary"
	"time"

	"vnic/hw"
	"vnic/stack"
)

// clients starts the request/response load (Run.Clients): client i sends
// its k-th request at start + (k·n + i)/λ, or as soon as its reply to the
// (k−1)-th is in if that is later (λ = 0: always as soon as the reply is
// in). A request carries its send time and its client's number; the
// application's reply brings them back.
func (g *rig) clients(size int) {
	n, rate := g.r.Clients, g.r.Offered
	g.running = true
	start := g.w.Clock.Now()
	slot := make([]int, n)
	timers := make([]hw.Timer, n)
	due := func(i int) time.Duration {
		if rate == 0 {
			return 0
		}
		return start + time.Duration(float64(slot[i]*n+i)/rate*1e9)
	}
	send := func(i int) {
		if !g.running {
			return
		}
		frame := g.frame(0, size)
		binary.BigEndian.PutUint64(frame[42:50], uint64(g.w.Clock.Now()))
		binary.BigEndian.PutUint32(frame[50:54], uint32(i))
		g.dut.HW.Receive(frame)
		g.sent++
		g.queueSent[0]++
		slot[i]++
	}
	for i := range timers {
		timers[i] = g.w.Clock.NewTimer(func() { send(i) })
		timers[i].Reset(max(0, due(i)-start))
	}
	g.replied = func(i int) {
		if !g.running || i < 0 || i >= n {
			return
		}
		if now, d := g.w.Clock.Now(), due(i); d > now {
			timers[i].Reset(d - now)
		} else {
			send(i)
		}
	}
	g.stopClients = func() {
		for _, t := range timers {
			t.Stop()
		}
	}
}

// reply is h1's handler for the application's replies: the round trip is
// the consumer's latency; the client may send again.
func (g *rig) reply(skb *stack.SKB) {
	i := -1
	if d := skb.Data(); len(d) >= 40 {
		i = int(binary.BigEndian.Uint32(d[36:40]))
	}
	g.cons.handle(skb)
	if g.replied != nil {
		g.replied(i)
	}
}
