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
