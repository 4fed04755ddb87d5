package stack_test

import (
	"fmt"
	"testing"
	"time"

	"vnic/hw"
	"vnic/internal/stacktest"
	"vnic/stack"
)

// pollScript is a NAPI poll over a counter of pending packets.
type pollScript struct {
	pending   int
	calls     []int // work per call
	completed int
}

func (p *pollScript) poll(n *stack.NAPI, budget int) int {
	w := min(p.pending, budget)
	p.pending -= w
	p.calls = append(p.calls, w)
	if w < budget && n.CompleteDone(w) {
		p.completed++
	}
	return w
}

func TestNAPIBudgets(t *testing.T) {
	tests := []struct {
		name       string
		pending    int
		calls      []int
		squeeze    uint64
		rounds     uint64
		budgetHits uint64
		sizes      string // the packets-per-poll histogram
	}{
		// Each case schedules twice: the second marks the NAPI missed, so its
		// completion keeps it scheduled for one more (empty) poll.
		{"one poll", 10, []int{10, 0}, 0, 1, 0, "[1 0 0 0 1 0 0 0 0 0]"},
		{"exactly the weight stays scheduled", 64, []int{64, 0, 0}, 0, 1, 1, "[2 0 0 0 0 0 0 1 0 0]"},
		{"200 in one round", 200, []int{64, 64, 64, 8, 0}, 0, 1, 3, "[1 0 0 0 1 0 0 3 0 0]"},
		// 300-packet round budget: after 5 polls (320) the round ends with
		// work left, time_squeeze counts it, NET_RX is raised again.
		{"400 across two rounds", 400, []int{64, 64, 64, 64, 64, 64, 16, 0}, 1, 2, 6, "[1 0 0 0 0 1 0 6 0 0]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk, h := stacktest.NewHost(t, 1)
			d, _ := stacktest.NewDev(t, h, 1)
			ps := &pollScript{pending: tc.pending}
			n := h.NewNAPI(d, 0, ps.poll, 64)
			if n.Schedule() {
				t.Fatal("a disabled NAPI was scheduled")
			}
			n.Enable()
			if !n.Schedule() || n.Schedule() {
				t.Fatal("schedule twice")
			}
			clk.RunFor(time.Millisecond)
			if fmtInts(ps.calls) != fmtInts(tc.calls) {
				t.Fatalf("polls %v, want %v", ps.calls, tc.calls)
			}
			sn := h.Softnet(0).Stats()
			if sn.TimeSqueeze != tc.squeeze || sn.Rounds != tc.rounds || n.Stats().BudgetHits != tc.budgetHits {
				t.Fatalf("softnet %+v napi %+v", sn, n.Stats())
			}
			if n.Scheduled() {
				t.Fatal("still scheduled after the ring drained")
			}
			if got := fmt.Sprint(n.Stats().PollSizes); got != tc.sizes {
				t.Fatalf("poll sizes %s, want %s", got, tc.sizes)
			}
		})
	}
}

func TestPollSizeBucket(t *testing.T) {
	for _, tc := range []struct{ work, want int }{{-1, 0}, {0, 0}, {1, 1}, {2, 2}, {3, 2}, {4, 3}, {63, 6}, {64, 7}, {150, 8}, {255, 8}, {256, 9}, {1000, 9}} {
		if got := stack.PollSizeBucket(tc.work); got != tc.want {
			t.Errorf("PollSizeBucket(%d) = %d, want %d", tc.work, got, tc.want)
		}
	}
}

func fmtInts(v []int) string {
	s := ""
	for _, x := range v {
		s += " " + itoa(x)
	}
	return s
}

func itoa(x int) string {
	if x == 0 {
		return "0"
	}
	s := ""
	for x > 0 {
		s = string(rune('0'+x%10)) + s
		x /= 10
	}
	return s
}

func TestNAPIDisable(t *testing.T) {
	clk, h := stacktest.NewHost(t, 1)
	d, _ := stacktest.NewDev(t, h, 1)
	ps := &pollScript{pending: 5}
	n := h.NewNAPI(d, 0, ps.poll, 64)
	n.Enable()
	n.Schedule()
	n.Disable()
	clk.RunFor(time.Millisecond)
	if len(ps.calls) != 0 || n.Schedule() {
		t.Fatal("a disabled NAPI was polled or scheduled")
	}
}

func TestNAPIBudgetTime(t *testing.T) {
	clk := hw.NewVirtualClock()
	cpu := hw.NewCPU(0, clk, hw.CostModel{})
	h := stack.NewHost("h", clk, []stack.CPU{cpu}, stack.HostConfig{NetdevBudget: 100000, NetdevBudgetTime: 100 * time.Microsecond})
	d, _ := stacktest.NewDev(t, h, 1)
	ps := &pollScript{pending: 1000}
	n := h.NewNAPI(d, 0, func(n *stack.NAPI, b int) int {
		cpu.Charge(30 * time.Microsecond) // each poll costs 30 µs
		return ps.poll(n, b)
	}, 64)
	n.Enable()
	n.Schedule()
	clk.RunUntil(100 * time.Microsecond)
	// 4 polls reach 120 µs ≥ 100 µs: the round ends, time_squeeze counts it.
	if len(ps.calls) != 4 || h.Softnet(0).Stats().TimeSqueeze != 1 {
		t.Fatalf("polls %d squeeze %d", len(ps.calls), h.Softnet(0).Stats().TimeSqueeze)
	}
	clk.RunFor(time.Millisecond)
	if ps.pending != 0 {
		t.Fatal("work left")
	}
}

// TestNAPIContinue: a poll that asks to Continue is called again once its
// work has run, and takes what arrived meanwhile within the same poll: one
// poll counted, the poll cost charged once, its budget shrinking with the
// work done, and the instance first on the list (a second NAPI waits).
func TestNAPIContinue(t *testing.T) {
	clk := hw.NewVirtualClock()
	cpu := hw.NewCPU(0, clk, hw.CostModel{})
	h := stack.NewHost("h", clk, []stack.CPU{cpu}, stack.HostConfig{Costs: stack.Costs{Poll: 2 * time.Microsecond}})
	d, _ := stacktest.NewDev(t, h, 1)
	pending := 1
	var calls, budgets []int
	var at []time.Duration
	n := h.NewNAPI(d, 0, func(n *stack.NAPI, budget int) int {
		w := min(pending, budget)
		pending -= w
		calls, budgets, at = append(calls, w), append(budgets, budget), append(at, cpu.Now()) // Now includes the work charged so far
		cpu.Charge(time.Duration(w) * 10 * time.Microsecond)
		if w == budget {
			return w
		}
		if n.Continue(w) {
			return w
		}
		n.CompleteDone(w)
		return w
	}, 4)
	other := &pollScript{pending: 1}
	o := h.NewNAPI(d, 0, other.poll, 64)
	n.Enable()
	o.Enable()
	// Packets arrive at 5, 15 and 25 µs: each while the poll's work runs.
	for _, ts := range []time.Duration{5, 15, 25} {
		tm := clk.NewTimer(func() { pending++ })
		tm.Reset(ts * time.Microsecond)
	}
	n.Schedule()
	o.Schedule()
	clk.RunFor(time.Millisecond)
	// 0 µs: 2 µs poll cost, 1 packet (to 12 µs); at 12: the packet of 5;
	// at 22: the one of 15; at 32: the one of 25 fills the weight of 4.
	// The full poll stays scheduled; its next poll, after the other
	// NAPI's, finds nothing and completes.
	if fmtInts(calls) != " 1 1 1 1 0" || fmtInts(budgets) != " 4 3 2 1 4" {
		t.Fatalf("calls%s budgets%s", fmtInts(calls), fmtInts(budgets))
	}
	want := []time.Duration{2, 12, 22, 32} // after the 2 µs poll cost, then every 10 µs
	for i := range want {
		if at[i] != want[i]*time.Microsecond {
			t.Fatalf("call %d at %v, want %v µs", i, at[i], want[i])
		}
	}
	st := n.Stats()
	if st.Polls != 2 || st.Packets != 4 || st.BudgetHits != 1 || st.Empty != 1 {
		t.Fatalf("stats %+v", st)
	}
	if len(other.calls) != 1 || n.Scheduled() || o.Scheduled() {
		t.Fatalf("other NAPI polled %d times; scheduled %v %v", len(other.calls), n.Scheduled(), o.Scheduled())
	}
}

// TestNAPIDefer: with napi_defer_hard_irqs 3 and gro_flush_timeout 20 µs a
// poll that did work completes without giving the interrupt back; the
// timer polls three times (each an hrtimer interrupt) and the third empty
// poll returns it. Work found by a timer poll starts the count again.
func TestNAPIDefer(t *testing.T) {
	clk := hw.NewVirtualClock()
	cpu := hw.NewCPU(0, clk, hw.CostModel{Timer: time.Microsecond})
	h := stack.NewHost("h", clk, []stack.CPU{cpu}, stack.HostConfig{})
	d, _ := stacktest.NewDev(t, h, 1)
	if err := d.SetNAPIDefer(3, 20*time.Microsecond); err != nil {
		t.Fatal(err)
	}
	pending, unmasks := 5, 0
	var at []time.Duration
	n := h.NewNAPI(d, 0, func(n *stack.NAPI, budget int) int {
		w := min(pending, budget)
		pending -= w
		at = append(at, cpu.Now())
		if n.CompleteDone(w) {
			unmasks++
		}
		return w
	}, 64)
	n.Enable()
	n.Schedule()
	// A packet arrives at 50 µs, seen by the third timer poll, at 63 µs.
	tm := clk.NewTimer(func() { pending++ })
	tm.Reset(50 * time.Microsecond)
	clk.RunFor(time.Millisecond)
	// 0: 5 packets; timer polls 1 µs after each 20 µs (the interrupt's
	// cost): 21, 42, 63 (finds the one of 50, count back to 3), 84, 105,
	// 126 → interrupt back.
	want := []time.Duration{0, 21, 42, 63, 84, 105, 126}
	if len(at) != len(want) || unmasks != 1 {
		t.Fatalf("polls at %v, %d unmasks", at, unmasks)
	}
	for i := range want {
		if at[i] != want[i]*time.Microsecond {
			t.Fatalf("polls at %v, want %v µs", at, want)
		}
	}
	if st := n.Stats(); st.TimerPolls != 6 || cpu.Stats().Timers != 6 || cpu.Stats().Hardirqs != 0 {
		t.Fatalf("timer polls %d, timer interrupts %d", st.TimerPolls, cpu.Stats().Timers)
	}
	if d.SetNAPIDefer(-1, 0) == nil {
		t.Fatal("negative napi_defer_hard_irqs accepted")
	}
}

// TestNAPIThreaded: a threaded NAPI polls in its kthread (task context),
// not in NET_RX, one poll a step while it has work.
func TestNAPIThreaded(t *testing.T) {
	clk := hw.NewVirtualClock()
	cpu := hw.NewCPU(0, clk, hw.CostModel{})
	h := stack.NewHost("h", clk, []stack.CPU{cpu}, stack.HostConfig{})
	d, _ := stacktest.NewDev(t, h, 1)
	d.SetThreaded(true)
	pending := 150
	var calls []int
	n := h.NewNAPI(d, 0, func(n *stack.NAPI, budget int) int {
		w := min(pending, budget)
		pending -= w
		calls = append(calls, w)
		cpu.Charge(time.Duration(w) * time.Microsecond)
		if w < budget {
			n.CompleteDone(w)
		}
		return w
	}, 64)
	n.Enable()
	n.Schedule()
	clk.RunFor(time.Millisecond)
	st := cpu.Stats()
	if fmtInts(calls) != " 64 64 22" || st.Softirqs != 0 || st.Busy[hw.Task] != 150*time.Microsecond || n.Scheduled() {
		t.Fatalf("calls%s, %d softirqs, task time %v, scheduled %v", fmtInts(calls), st.Softirqs, st.Busy[hw.Task], n.Scheduled())
	}
}

// TestNAPIBusyPoll: busy polling takes an idle NAPI, and the driver's
// completion inside it leaves the interrupt masked; NET_RX cannot poll it
// meanwhile; stopping without prefer hands it to NET_RX, which completes
// it; with prefer and deferral the timer takes it, the interrupt masked.
func TestNAPIBusyPoll(t *testing.T) {
	for _, prefer := range []bool{false, true} {
		t.Run(fmt.Sprint(prefer), func(t *testing.T) {
			clk := hw.NewVirtualClock()
			cpu := hw.NewCPU(0, clk, hw.CostModel{Timer: time.Microsecond})
			h := stack.NewHost("h", clk, []stack.CPU{cpu}, stack.HostConfig{Costs: stack.Costs{Poll: time.Microsecond}})
			d, _ := stacktest.NewDev(t, h, 1)
			if err := d.SetNAPIDefer(2, 10*time.Microsecond); err != nil {
				t.Fatal(err)
			}
			pending, unmasks := 5, 0
			var calls []int
			n := h.NewNAPI(d, 0, func(n *stack.NAPI, budget int) int {
				w := min(pending, budget)
				pending -= w
				calls = append(calls, w)
				if w < budget && n.CompleteDone(w) {
					unmasks++
				}
				return w
			}, 64)
			n.Enable()
			var work int
			var ok bool
			cpu.RunTask(func() { work, ok = n.BusyPoll(8, prefer, 0) })
			clk.RunFor(time.Microsecond / 2)
			if !ok || work != 5 || unmasks != 0 || !n.Scheduled() {
				t.Fatalf("busy poll: work %d ok %v, %d unmasks, scheduled %v", work, ok, unmasks, n.Scheduled())
			}
			// An interrupt's schedule now only marks it missed; NET_RX does not poll it.
			n.Schedule()
			clk.RunFor(10 * time.Microsecond)
			if len(calls) != 1 {
				t.Fatalf("polled %d times while busy polling owned it", len(calls))
			}
			cpu.RunTask(func() { n.BusyPollStop(prefer, 0) })
			clk.RunFor(time.Millisecond)
			if prefer {
				// The timer polls three times: two empty polls held
				// (napi_defer_hard_irqs 2), the third gives the
				// interrupt back.
				if n.Stats().TimerPolls != 3 || unmasks != 1 {
					t.Fatalf("prefer: %d timer polls, %d unmasks", n.Stats().TimerPolls, unmasks)
				}
			} else if n.Stats().TimerPolls != 0 || unmasks != 1 || len(calls) != 2 {
				// NET_RX polls once more, finds nothing and completes: the
				// busy poll's work did not load the deferral count.
				t.Fatalf("no prefer: %d timer polls, %d unmasks, %d polls", n.Stats().TimerPolls, unmasks, len(calls))
			}
			if n.Stats().BusyPolls != 1 {
				t.Fatalf("%d busy polls", n.Stats().BusyPolls)
			}
		})
	}
}

// TestNAPISuspendIRQs: while the application keeps finding events
// (SuspendIRQs), completions hold the interrupt off and the suspension's
// timer polls after its timeout — but only with deferral configured, as
// in Linux; without it every completion gives the interrupt back.
func TestNAPISuspendIRQs(t *testing.T) {
	for _, tc := range []struct {
		deferN int
		want   string // polls (µs) and unmasks before ResumeIRQs at 700 µs
	}{
		// The poll at 0 holds; the suspension timer polls at 501 (an
		// hrtimer interrupt) and holds again.
		{3, "[0 501] 0"},
		// Each poll unmasks: the first at 0, the suspension timer's (which
		// napi_suspend_irqs armed) at 501.
		{0, "[0 501] 2"},
	} {
		clk := hw.NewVirtualClock()
		cpu := hw.NewCPU(0, clk, hw.CostModel{Timer: time.Microsecond})
		h := stack.NewHost("h", clk, []stack.CPU{cpu}, stack.HostConfig{})
		d, _ := stacktest.NewDev(t, h, 1)
		if tc.deferN > 0 {
			if err := d.SetNAPIDefer(tc.deferN, 20*time.Microsecond); err != nil {
				t.Fatal(err)
			}
		}
		pending, unmasks := 5, 0
		var at []int64
		n := h.NewNAPI(d, 0, func(n *stack.NAPI, budget int) int {
			w := min(pending, budget)
			pending -= w
			at = append(at, int64(cpu.Now()/time.Microsecond))
			if n.CompleteDone(w) {
				unmasks++
			}
			return w
		}, 64)
		n.Enable()
		n.SuspendIRQs(500 * time.Microsecond)
		n.Schedule()
		clk.RunFor(700 * time.Microsecond)
		if got := fmt.Sprint(at, " ", unmasks); got != tc.want {
			t.Errorf("defer %d: polls and unmasks %s, want %s", tc.deferN, got, tc.want)
		}
		// The application stops finding events: the suspension ends and
		// the interrupt comes back (after the deferral's empty polls).
		n.ResumeIRQs()
		clk.RunFor(time.Millisecond)
		if unmasks == 0 {
			t.Errorf("defer %d: the interrupt never came back after ResumeIRQs (polls %v)", tc.deferN, at)
		}
	}
}

// TestNAPIOverBudget: a poll that returns more than its budget is counted
// (napi_poll warns about it), a legal one is not.
func TestNAPIOverBudget(t *testing.T) {
	clk, h := stacktest.NewHost(t, 1)
	d, _ := stacktest.NewDev(t, h, 1)
	calls := 0
	n := h.NewNAPI(d, 0, func(n *stack.NAPI, budget int) int {
		calls++
		if calls == 1 {
			return budget + 5 // a buggy driver
		}
		n.CompleteDone(3)
		return 3
	}, 64)
	n.Enable()
	n.Schedule()
	clk.RunFor(time.Millisecond)
	if st := n.Stats(); st.OverBudget != 1 || st.Polls != 2 {
		t.Fatalf("over budget %d in %d polls, want 1 in 2", st.OverBudget, st.Polls)
	}
}
