package stack_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"vnic/hw"
	"vnic/stack"
)

// source is a callback's work: pending packets at cost each.
type source struct {
	name    string
	pending int
	cost    time.Duration
	cpu     *hw.CPU
	log     *strings.Builder
	idle    int
}

func (s *source) poll(quota int) int {
	w := min(s.pending, quota)
	s.pending -= w
	s.cpu.Charge(time.Duration(w) * s.cost)
	fmt.Fprintf(s.log, "%s%d ", s.name, w)
	return w
}

func pollHost(t *testing.T) (*hw.VirtualClock, *hw.CPU, *stack.Host) {
	t.Helper()
	clk := hw.NewVirtualClock()
	cpu := hw.NewCPU(0, clk, hw.CostModel{})
	return clk, cpu, stack.NewHost("h", clk, []stack.CPU{cpu}, stack.HostConfig{})
}

// TestPollThreadTurns: callbacks take turns; a turn goes on while the
// callback works and has quota left, ends when it uses the quota (still
// scheduled) or finds nothing (Idle, unscheduled).
func TestPollThreadTurns(t *testing.T) {
	clk, cpu, h := pollHost(t)
	var log strings.Builder
	a := &source{name: "a", pending: 7, cost: 10 * time.Microsecond, cpu: cpu, log: &log}
	b := &source{name: "b", pending: 2, cost: 5 * time.Microsecond, cpu: cpu, log: &log}
	p := h.PollThread(0)
	ca := &stack.PollCallback{Name: "a", Quota: 3, Input: true, Poll: a.poll, Idle: func() { a.idle++ }}
	cb := &stack.PollCallback{Name: "b", Poll: b.poll, Idle: func() { b.idle++ }}
	p.Register(ca)
	p.Register(cb)
	p.Schedule(ca)
	p.Schedule(cb)
	clk.RunFor(time.Millisecond)
	if got, want := log.String(), "a3 b2 b0 a3 a1 a0 "; got != want {
		t.Fatalf("calls %q, want %q", got, want)
	}
	if a.idle != 1 || b.idle != 1 || p.Active(ca) || p.Active(cb) {
		t.Fatalf("idle %d %d, active %v %v", a.idle, b.idle, p.Active(ca), p.Active(cb))
	}
	if st := p.CallbackStats(ca); st != (stack.PollCallbackStats{Turns: 3, Calls: 4, Work: 7, Full: 2}) {
		t.Fatalf("a's stats %+v", st)
	}
	// 7×10 + 2×5 µs of work.
	if b := cpu.KsoftirqdThread(); b.Busy() != 0 || cpu.Stats().Busy[hw.Task] != 80*time.Microsecond {
		t.Fatalf("task time %v", cpu.Stats().Busy[hw.Task])
	}
}

// TestPollThreadContinues: in one turn, a call that did work is called
// again once its work has run, and takes what arrived meanwhile.
func TestPollThreadContinues(t *testing.T) {
	clk, cpu, h := pollHost(t)
	var log strings.Builder
	a := &source{name: "a", pending: 1, cost: 10 * time.Microsecond, cpu: cpu, log: &log}
	for _, at := range []time.Duration{5, 12, 25} {
		tm := clk.NewTimer(func() { a.pending++ })
		tm.Reset(at * time.Microsecond)
	}
	p := h.PollThread(0)
	ca := &stack.PollCallback{Name: "a", Poll: a.poll}
	p.Register(ca)
	p.Schedule(ca)
	clk.RunFor(time.Millisecond)
	// 0: one (to 10 µs); 10: the one of 5 (to 20); 20: the one of 12
	// (to 30); 30: the one of 25; 40: nothing.
	if got, want := log.String(), "a1 a1 a1 a1 a0 "; got != want {
		t.Fatalf("calls %q, want %q", got, want)
	}
	if st := p.CallbackStats(ca); st.Turns != 1 {
		t.Fatalf("%d turns, want 1", st.Turns)
	}
}

// TestPollThreadCycleLimit: the thread runs above a user thread; without
// a limit it takes the whole CPU while it has work, with a cycle limit f
// it takes f of each period and the user thread the rest.
func TestPollThreadCycleLimit(t *testing.T) {
	for _, f := range []float64{0, 0.25, 0.5, 0.75} {
		t.Run(fmt.Sprint(f), func(t *testing.T) {
			clk, cpu, h := pollHost(t)
			var log strings.Builder
			a := &source{name: "a", pending: 1 << 30, cost: 10 * time.Microsecond, cpu: cpu, log: &log}
			p := h.PollThread(0)
			p.CycleLimit = f
			ca := &stack.PollCallback{Name: "a", Quota: 5, Poll: a.poll}
			p.Register(ca)
			user := cpu.NewThread("user", func() bool { cpu.Charge(10 * time.Microsecond); return true })
			user.Wake()
			p.Schedule(ca)
			clk.RunFor(20 * time.Millisecond)
			u := float64(user.ElapsedBusy()) / float64(20*time.Millisecond)
			want := 1 - f
			if f == 0 {
				want = 0
			}
			// Each period the thread may overrun by one 50 µs call.
			if u < want-0.05 || u > want+0.01 {
				t.Fatalf("user share %.3f, want %.2f", u, want)
			}
			if f > 0 && p.Stats().Limited < 19 {
				t.Fatalf("limited %d periods of 20", p.Stats().Limited)
			}
		})
	}
}

// TestPollThreadGate: while the input gate is closed only output runs;
// Kick after it opens resumes input.
func TestPollThreadGate(t *testing.T) {
	clk, cpu, h := pollHost(t)
	var log strings.Builder
	in := &source{name: "i", pending: 4, cost: time.Microsecond, cpu: cpu, log: &log}
	out := &source{name: "o", pending: 2, cost: time.Microsecond, cpu: cpu, log: &log}
	p := h.PollThread(0)
	open := false
	p.InputGate = func() bool { return open }
	ci := &stack.PollCallback{Name: "i", Input: true, Poll: in.poll}
	co := &stack.PollCallback{Name: "o", Poll: out.poll}
	p.Register(ci)
	p.Register(co)
	p.Schedule(ci)
	p.Schedule(co)
	clk.RunFor(time.Millisecond)
	if got := log.String(); got != "o2 o0 " || !p.Active(ci) || p.Stats().Gated == 0 {
		t.Fatalf("gate closed: calls %q, input active %v", got, p.Active(ci))
	}
	open = true
	p.Kick()
	clk.RunFor(time.Millisecond)
	if got := log.String(); got != "o2 o0 i4 i0 " {
		t.Fatalf("gate open: calls %q", got)
	}
}
