package hw

import (
	"fmt"
	"testing"
	"time"
)

func TestCPUPreemptionVirtual(t *testing.T) {
	clk := NewVirtualClock()
	costs := CostModel{IRQ: 1 * time.Microsecond}
	cpu := NewCPU(0, clk, costs)
	var log []string
	rec := func(s string) { log = append(log, fmt.Sprintf("%s@%v", s, clk.Now())) }

	// A 10 µs task starts at 0.
	cpu.Raise(Task, func() { rec("task"); cpu.Charge(10 * time.Microsecond) })
	clk.RunFor(2 * time.Microsecond)
	// A hardirq at 2 µs preempts at once, costs 1 µs entry/exit + 2 µs, and
	// raises a softirq; the softirq preempts the task too (irq exit), once
	// the hardirq's 3 µs have run.
	cpu.SetSoftirqHandler(func() { rec("softirq"); cpu.Charge(3 * time.Microsecond) })
	cpu.Raise(Hardirq, func() { rec("hardirq"); cpu.Charge(2 * time.Microsecond); cpu.RaiseSoftirq() })
	// Another task queued behind.
	cpu.Raise(Task, func() { rec("task2") })
	clk.RunFor(100 * time.Microsecond)

	want := []string{"task@0s", "hardirq@2µs", "softirq@5µs", "task2@16µs"}
	if fmt.Sprint(log) != fmt.Sprint(want) {
		t.Fatalf("got %v want %v", log, want)
	}
	st := cpu.Stats()
	if st.Busy[Task] != 10*time.Microsecond || st.Busy[Hardirq] != 3*time.Microsecond || st.Busy[Softirq] != 3*time.Microsecond {
		t.Fatalf("busy %v", st.Busy)
	}
	if st.Hardirqs != 1 || st.Softirqs != 1 {
		t.Fatalf("counts %+v", st)
	}
}

func TestCPUSoftirqDoesNotPreemptSoftirq(t *testing.T) {
	clk := NewVirtualClock()
	cpu := NewCPU(0, clk, CostModel{})
	n := 0
	var at []time.Duration
	cpu.SetSoftirqHandler(func() {
		n++
		at = append(at, clk.Now())
		cpu.Charge(5 * time.Microsecond)
	})
	cpu.RaiseSoftirq()
	clk.RunFor(time.Microsecond)
	cpu.Raise(Hardirq, func() { cpu.RaiseSoftirq() })
	cpu.RaiseSoftirq() // coalesces with the one the hardirq raises
	clk.RunFor(100 * time.Microsecond)
	if n != 2 || at[0] != 0 || at[1] != 5*time.Microsecond {
		t.Fatalf("softirq ran %d times at %v", n, at)
	}
}

func TestCPURealTime(t *testing.T) {
	cpu := NewCPU(0, NewRealClock(), CostModel{})
	cpu.Start()
	defer cpu.Stop()
	done := make(chan int, 3)
	cpu.SetSoftirqHandler(func() { done <- 2 })
	cpu.Raise(Hardirq, func() { done <- 1; cpu.RaiseSoftirq() })
	cpu.Raise(Task, func() { done <- 3 })
	got := []int{}
	timeout := time.After(5 * time.Second)
	for len(got) < 3 {
		select {
		case v := <-done:
			got = append(got, v)
		case <-timeout:
			t.Fatalf("real-time CPU stalled after %v", got)
		}
	}
	if got[0] != 1 {
		t.Fatalf("hardirq must run first: %v", got)
	}
}

// TestCPUIndirectCost: an interrupt that preempts work adds c_ind to it —
// to the task below it, or to a softirq in progress above the task — and
// an interrupt on an idle CPU adds nothing.
func TestCPUIndirectCost(t *testing.T) {
	us := func(f float64) time.Duration { return time.Duration(f * float64(time.Microsecond)) }
	clk := NewVirtualClock()
	cpu := NewCPU(0, clk, CostModel{IRQ: us(1), Indirect: us(0.5)})
	var log []string
	rec := func(s string) { log = append(log, fmt.Sprintf("%s@%v", s, clk.Now())) }
	// Idle: an interrupt at 0 costs its 1 µs only.
	cpu.Raise(Hardirq, func() { rec("idle-irq") })
	clk.RunFor(us(5))
	// A 10 µs task from 5 µs; an interrupt at 7 µs (1 + 2 µs) raises a
	// 3 µs softirq; a second interrupt at 12 µs preempts the softirq.
	cpu.SetSoftirqHandler(func() { rec("softirq"); cpu.Charge(us(3)) })
	cpu.Raise(Task, func() { rec("task"); cpu.Charge(us(10)) })
	cpu.Raise(Task, func() { rec("task2") })
	clk.RunFor(us(2))
	cpu.Raise(Hardirq, func() { rec("irq1"); cpu.Charge(us(2)); cpu.RaiseSoftirq() })
	clk.RunFor(us(5))
	cpu.Raise(Hardirq, func() { rec("irq2") })
	clk.RunFor(us(100))
	// irq1 runs 7–10 and its c_ind goes to the task; the softirq runs
	// from 10; irq2 preempts it at 12 (1 µs) and its c_ind goes to the
	// softirq, which ends at 14.5; the task (2 µs done, 8 + 0.5 left)
	// ends at 23, and task2 runs then.
	want := []string{"idle-irq@0s", "task@5µs", "irq1@7µs", "softirq@10µs", "irq2@12µs", "task2@23µs"}
	if fmt.Sprint(log) != fmt.Sprint(want) {
		t.Fatalf("got %v\nwant %v", log, want)
	}
	st := cpu.Stats()
	if st.Indirect != us(1) || st.Busy[Task] != us(10.5) || st.Busy[Softirq] != us(3.5) || st.Busy[Hardirq] != us(5) {
		t.Fatalf("indirect %v, busy %v", st.Indirect, st.Busy)
	}
}
