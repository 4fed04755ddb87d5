package hw

import (
	"strings"
	"testing"
	"time"
)

// TestThreadsRoundRobin: two CPU-bound threads share the CPU in turns of
// TaskSlice; a one-off task item goes before them; a thread with nothing
// more to do leaves the run queue and a Wake puts it back.
func TestThreadsRoundRobin(t *testing.T) {
	clk := NewVirtualClock()
	cpu := NewCPU(0, clk, CostModel{})
	var order strings.Builder
	steps := map[string]int{}
	mk := func(name string, limit int) *Thread {
		return cpu.NewThread(name, func() bool {
			order.WriteString(name)
			cpu.Charge(time.Millisecond)
			steps[name]++
			return steps[name] < limit
		})
	}
	a, b := mk("a", 100), mk("b", 4)
	a.Wake()
	b.Wake()
	b.Wake() // already runnable: no second entry
	cpu.RunTask(func() { order.WriteString("t") })
	clk.RunFor(12 * time.Millisecond)
	// The one-off first; then 3 ms turns; b is done after 4 steps. (A
	// step's code runs as it starts: the one at 12 ms is in.)
	if got, want := order.String(), "taaabbbaaabaaa"; got != want {
		t.Fatalf("order %q, want %q", got, want)
	}
	if a.Busy() != 9*time.Millisecond || b.Busy() != 4*time.Millisecond || a.Steps() != 9 {
		t.Fatalf("busy a %v b %v, steps %d", a.Busy(), b.Busy(), a.Steps())
	}
	// Mid-step: ElapsedBusy has only what has run.
	clk.RunFor(500 * time.Microsecond)
	if a.ElapsedBusy() != 8*time.Millisecond+500*time.Microsecond || a.Busy() != 9*time.Millisecond {
		t.Fatalf("a elapsed %v busy %v", a.ElapsedBusy(), a.Busy())
	}
	steps["b"] = 0
	b.Wake()
	clk.RunFor(5500 * time.Microsecond)
	// a's turn that began at 10 ms ended with the step at 12; b queues
	// behind a's next turn.
	if got, want := order.String(), "taaabbbaaabaaaaaabbb"; got != want {
		t.Fatalf("order %q, want %q", got, want)
	}
}

// TestKsoftirqdHandoff: a softirq that keeps finding work is handed to
// ksoftirqd after MaxSoftirqRestart passes or MaxSoftirqTime, whichever
// comes first; ksoftirqd then shares the CPU with a user thread; without
// the hand-off the user thread gets nothing.
func TestKsoftirqdHandoff(t *testing.T) {
	for _, tc := range []struct {
		name      string
		pass      time.Duration
		ksoftirqd bool
		inSoftirq int // passes run in softirq context before the hand-off
	}{
		{"restart limit", 100 * time.Microsecond, true, 10},
		{"time limit", 300 * time.Microsecond, true, 7},
		{"no hand-off", 300 * time.Microsecond, false, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := NewVirtualClock()
			cpu := NewCPU(0, clk, CostModel{})
			cpu.Ksoftirqd = tc.ksoftirqd
			inSoftirq := 0
			cpu.SetSoftirqHandler(func() {
				if cpu.level == Softirq {
					inSoftirq++
				}
				cpu.Charge(tc.pass)
				cpu.RaiseSoftirq() // always more work
			})
			user := cpu.NewThread("user", func() bool { cpu.Charge(10 * time.Microsecond); return true })
			user.Wake()
			cpu.RaiseSoftirq()
			clk.RunFor(60 * time.Millisecond)
			ks := cpu.KsoftirqdThread().ElapsedBusy()
			u := user.ElapsedBusy()
			if !tc.ksoftirqd {
				if u != 0 || ks != 0 || cpu.HandedOff() {
					t.Fatalf("user %v ksoftirqd %v", u, ks)
				}
				return
			}
			if inSoftirq != tc.inSoftirq || !cpu.HandedOff() {
				t.Fatalf("%d passes in softirq, want %d", inSoftirq, tc.inSoftirq)
			}
			// The rest is shared in TaskSlice turns: within one turn.
			rest := 60*time.Millisecond - time.Duration(inSoftirq)*tc.pass
			if u+ks != rest || (u-ks).Abs() > TaskSlice {
				t.Fatalf("user %v ksoftirqd %v of %v", u, ks, rest)
			}
		})
	}
}

// TestKsoftirqdSleeps: when the pending work is done ksoftirqd sleeps and
// a softirq raised afterwards runs in softirq context again; a softirq
// raised while ksoftirqd is runnable waits for it.
func TestKsoftirqdSleeps(t *testing.T) {
	clk := NewVirtualClock()
	cpu := NewCPU(0, clk, CostModel{})
	left := 30
	var levels strings.Builder
	cpu.SetSoftirqHandler(func() {
		levels.WriteString(cpu.level.String()[:1])
		cpu.Charge(100 * time.Microsecond)
		if left--; left > 0 {
			cpu.RaiseSoftirq()
		}
	})
	cpu.RaiseSoftirq()
	clk.RunFor(2 * time.Millisecond)
	// 10 passes in softirq, then ksoftirqd (task context).
	cpu.Raise(Hardirq, func() { cpu.RaiseSoftirq() }) // waits for ksoftirqd
	clk.RunFor(3 * time.Millisecond)
	if cpu.HandedOff() {
		t.Fatal("ksoftirqd still has the work")
	}
	cpu.RaiseSoftirq()
	clk.RunFor(time.Millisecond)
	want := strings.Repeat("s", 10) + strings.Repeat("t", 20) + "s"
	if levels.String() != want {
		t.Fatalf("contexts %q, want %q", levels.String(), want)
	}
}

// TestContinueSoftirqNotARestart: passes split into continuation items
// count once against the restart limit.
func TestContinueSoftirqNotARestart(t *testing.T) {
	clk := NewVirtualClock()
	cpu := NewCPU(0, clk, CostModel{})
	items, handedAt := 0, -1
	cpu.SetSoftirqHandler(func() {
		if cpu.level != Softirq && handedAt < 0 {
			handedAt = items
		}
		items++
		cpu.Charge(10 * time.Microsecond)
		if items%4 != 0 {
			cpu.ContinueSoftirq() // a pass is 4 items
		} else {
			cpu.RaiseSoftirq()
		}
	})
	cpu.RaiseSoftirq()
	clk.RunFor(time.Millisecond)
	// 10 passes of 4 items (400 µs, under the time limit), then ksoftirqd.
	if handedAt != 40 {
		t.Fatalf("handed off after %d items, want 40", handedAt)
	}
}

// TestThreadPriority: a runnable thread of higher priority always runs
// first; one woken during a lower one's step runs next.
func TestThreadPriority(t *testing.T) {
	clk := NewVirtualClock()
	cpu := NewCPU(0, clk, CostModel{})
	var order strings.Builder
	hi := 0
	kt := cpu.NewKthread("k", 5, func() bool {
		order.WriteString("k")
		cpu.Charge(time.Millisecond)
		hi++
		return hi%3 != 0 // three steps, then sleep
	})
	us := 0
	lo := cpu.NewThread("u", func() bool {
		order.WriteString("u")
		cpu.Charge(time.Millisecond)
		if us++; us == 2 {
			kt.Wake()
		}
		return true
	})
	lo.Wake()
	kt.Wake()
	clk.RunFor(8500 * time.Microsecond)
	// k first (higher), three steps, then u; u wakes k in its second
	// step, and k runs next (the step at 8 ms is in).
	if got, want := order.String(), "kkkuukkku"; got != want {
		t.Fatalf("order %q, want %q", got, want)
	}
}

// TestContextSwitchCost: a context switch (Costs.Switch) is charged to a
// thread's step when the CPU comes from another thread, a one-off task
// item, or idle after the thread slept; consecutive steps of one thread,
// even around an interrupt, pay nothing.
func TestContextSwitchCost(t *testing.T) {
	clk := NewVirtualClock()
	cpu := NewCPU(0, clk, CostModel{Switch: 2 * time.Microsecond, IRQ: time.Microsecond})
	steps := 0
	a := cpu.NewThread("a", func() bool { steps++; cpu.Charge(10 * time.Microsecond); return steps%3 != 0 })
	a.Wake() // from idle: a switch, then two more steps without one
	clk.RunFor(15 * time.Microsecond)
	cpu.Raise(Hardirq, func() {}) // mid-run: no switch after it
	clk.RunFor(100 * time.Microsecond)
	if st := cpu.Stats(); st.Switches != 1 || a.Busy() != 32*time.Microsecond {
		t.Fatalf("after the first wake: %d switches, a busy %v", st.Switches, a.Busy())
	}
	a.Wake() // it slept: a switch again
	clk.RunFor(100 * time.Microsecond)
	cpu.RunTask(func() {}) // a one-off item in between
	a.Wake()
	clk.RunFor(100 * time.Microsecond)
	if st := cpu.Stats(); st.Switches != 3 || a.Busy() != 96*time.Microsecond {
		t.Fatalf("%d switches, a busy %v; want 3 and 96µs", st.Switches, a.Busy())
	}
}
