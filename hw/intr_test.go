package hw

import (
	"fmt"
	"testing"
	"time"
)

func us(n int) time.Duration { return time.Duration(n) * time.Microsecond }

func TestEICSFiresAndAutoClears(t *testing.T) {
	r := newRig(t, false)
	r.msix()
	r.clk.RunFor(us(1))
	r.irqs = nil
	r.wr(EICS, 1<<3)
	r.clk.RunFor(us(1))
	if len(r.irqs) != 1 || r.irqs[0].vec != 3 {
		t.Fatalf("irqs %v", r.irqs)
	}
	if eicr := r.rd(EICR); eicr&(1<<3) != 0 {
		t.Fatalf("EIAC did not clear EICR: %#x", eicr)
	}
	if eims := r.rd(EIMS); eims&(1<<3) != 0 {
		t.Fatalf("EIAM did not mask: %#x", eims)
	}
	// Masked: a new cause is held in EICR, no message.
	r.wr(EICS, 1<<3)
	r.clk.RunFor(us(1))
	if len(r.irqs) != 1 || r.rd(EICR)&(1<<3) == 0 {
		t.Fatalf("masked vector fired or lost its cause: %v %#x", r.irqs, r.rd(EICR))
	}
	// Unmasking with the cause pending fires it, once.
	r.wr(EIMS, 1<<3)
	r.clk.RunFor(us(10))
	if len(r.irqs) != 2 {
		t.Fatalf("EIMS with a pending cause: %d messages, want 2", len(r.irqs))
	}
	if r.rd(IAC) != 2 {
		t.Fatal("IAC must count both messages")
	}
}

func TestEIMSWithPendingFiresOnceWithoutAutoClear(t *testing.T) {
	r := newRig(t, false)
	r.wr(GPIE, GpieMSIXMode) // no EIAME: no auto-mask
	r.wr(EIAC, 0)            // no auto-clear
	r.wr(EICS, 1<<2)         // cause pending, vector masked
	r.clk.RunFor(us(1))
	if len(r.irqs) != 0 {
		t.Fatal("masked vector fired")
	}
	r.wr(EIMS, 1<<2)
	r.clk.RunFor(us(1))
	if len(r.irqs) != 1 {
		t.Fatalf("%d messages after unmask, want 1", len(r.irqs))
	}
	// The cause stays (no EIAC), unmasked: no edge, no new message.
	r.wr(EICS, 1<<2)
	r.clk.RunFor(us(1))
	if len(r.irqs) != 1 {
		t.Fatalf("a cause already pending sent another message")
	}
	// W1C clears it; a new cause is a new edge.
	r.wr(EICR, 1<<2)
	if r.rd(EICR) != 0 {
		t.Fatal("EICR W1C")
	}
	r.wr(EICS, 1<<2)
	r.clk.RunFor(us(1))
	if len(r.irqs) != 2 {
		t.Fatalf("new edge after W1C: %d messages", len(r.irqs))
	}
}

func TestNoInterruptsOutsideMSIXMode(t *testing.T) {
	r := newRig(t, false)
	r.wr(EIMS, 0x1FF)
	r.wr(EICS, 0x1FF)
	r.clk.RunFor(us(5))
	if len(r.irqs) != 0 {
		t.Fatalf("sent %d messages without GPIE.MSIX_MODE", len(r.irqs))
	}
}

func TestIVARMapsQueuesToVectors(t *testing.T) {
	tests := []struct {
		q      int
		tx     bool
		reg    uint32
		shift  uint
		vector int
	}{
		{0, false, IVAR(0), 0, 5}, {0, true, IVAR(0), 8, 6}, {3, false, IVAR(3), 0, 7},
		{8, false, IVAR(0), 16, 9}, {9, true, IVAR(1), 24, 4}, {15, true, IVAR(7), 24, 2},
	}
	for _, tc := range tests {
		r := newRig(t, false)
		r.wr(tc.reg, (uint32(tc.vector)|IvarValid)<<tc.shift)
		v, ok := r.dev.queueVector(tc.q, tc.tx)
		if !ok || v != tc.vector {
			t.Errorf("q%d tx=%v: vector %d ok %v, want %d", tc.q, tc.tx, v, ok, tc.vector)
		}
		if _, ok := r.dev.queueVector(tc.q, !tc.tx); ok {
			t.Errorf("q%d other direction mapped too", tc.q)
		}
	}
}

func TestOtherCausesAndICRReadClears(t *testing.T) {
	r := newRig(t, false)
	r.msix()
	r.wr(CTRL, CtrlSLU) // link up: LSC
	r.clk.RunFor(us(1))
	if len(r.irqs) != 1 || r.rd(ICR)&IcrLSC == 0 {
		t.Fatalf("link up: %v", r.irqs)
	}
	r.wr(EIMS, 1<<0)
	r.irqs = nil
	r.dev.SetCarrier(false) // LSC
	r.clk.RunFor(us(1))
	if len(r.irqs) != 1 || r.irqs[0].vec != 0 {
		t.Fatalf("link change: %v, want one message on vector 0", r.irqs)
	}
	if icr := r.rd(ICR); icr&IcrLSC == 0 {
		t.Fatalf("ICR %#x lacks LSC", icr)
	}
	if icr := r.rd(ICR); icr != 0 {
		t.Fatalf("ICR read did not clear: %#x", icr)
	}
	if r.rd(STATUS)&StatusLU != 0 {
		t.Fatal("STATUS.LU with the carrier down")
	}
}

// TestEITRExactTimes: frames every 10 µs with EITR = 100 µs and a handler
// that takes the frames and unmasks at once. Messages go at 0 (leading
// edge) and then only at window ends with causes pending: 100, 200, 300 µs.
func TestEITRExactTimes(t *testing.T) {
	r := newRig(t, false)
	r.msix()
	r.rxRing(0, 256, 2048)
	r.wr(EITR(1), 100<<2)
	r.clk.RunFor(us(1))
	start := r.clk.Now()
	r.irqs = nil
	got := 0
	r.onIRQ = func(v int) {
		if v == 1 {
			got += len(r.reap(0))
			r.wr(EIMS, 1<<1)
		}
	}
	bcast := []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	for i := 0; i <= 30; i++ {
		tm := r.clk.NewTimer(func() { r.dev.Receive(frame(bcast, 60, [4]byte{198, 18, 0, 1}, 1)) })
		tm.Reset(us(10 * i))
	}
	r.clk.RunFor(us(1000))
	var at []string
	for _, x := range r.irqs {
		at = append(at, fmt.Sprint(x.at-start))
	}
	want := []string{"0s", "100µs", "200µs", "300µs"}
	if fmt.Sprint(at) != fmt.Sprint(want) {
		t.Fatalf("messages at %v, want %v", at, want)
	}
	if got != 31 {
		t.Fatalf("received %d frames, want 31", got)
	}
}

// TestEITRNoMessageWithoutCause: a window that ends with nothing pending
// sends nothing, and auto-clear does not clear a held cause.
func TestEITRNoMessageWithoutCause(t *testing.T) {
	r := newRig(t, false)
	r.msix()
	r.wr(EITR(4), 50<<2)
	r.clk.RunFor(us(1))
	r.irqs = nil
	r.wr(EICS, 1<<4)
	r.clk.RunFor(us(1))
	r.wr(EIMS, 1<<4) // handler done, unmask
	r.clk.RunFor(us(200))
	if len(r.irqs) != 1 {
		t.Fatalf("%d messages, want 1 (nothing pending at window end)", len(r.irqs))
	}
	// A cause inside a window is held, keeps its EICR bit, and goes at the end.
	r.wr(EICS, 1<<4)
	r.clk.RunFor(us(1))
	r.wr(EIMS, 1<<4)
	r.wr(EICS, 1<<4)
	if r.rd(EICR)&(1<<4) == 0 {
		t.Fatal("held cause was auto-cleared before delivery")
	}
	r.clk.RunFor(us(200))
	if len(r.irqs) != 3 || r.irqs[2].at-r.irqs[1].at != us(50) {
		t.Fatalf("held message: %v", r.irqs)
	}
}

// TestMSIXTrace: the trace sees each message as it is sent, with its
// vector, before the handler runs; removed, it sees nothing.
func TestMSIXTrace(t *testing.T) {
	r := newRig(t, false)
	r.msix()
	r.clk.RunFor(us(1))
	r.irqs = nil
	var seen []string
	r.dev.MSIX().SetTrace(func(vec int) { seen = append(seen, fmt.Sprintf("%d@%v/%d", vec, r.clk.Now(), len(r.irqs))) })
	r.wr(EICS, 1<<3)
	r.clk.RunFor(us(5))
	r.wr(EIMS, 1<<3)
	r.wr(EICS, 1<<2|1<<3)
	r.clk.RunFor(us(5))
	r.dev.MSIX().SetTrace(nil)
	r.wr(EIMS, 1<<2|1<<3)
	r.wr(EICS, 1<<2)
	r.clk.RunFor(us(5))
	if len(r.irqs) != 4 {
		t.Fatalf("%d messages, want 4", len(r.irqs))
	}
	if want := fmt.Sprintf("[3@%v/0 2@%v/1 3@%v/1]", us(1), us(6), us(6)); fmt.Sprint(seen) != want {
		t.Fatalf("trace %v, want %s", seen, want)
	}
}

// TestRxDelayTimers: RDTR restarts with every frame, RADV runs from the
// first delayed frame, the cause goes when either expires (1.024 µs
// units); RADV alone delays nothing; RDTR.FPD flushes at once.
func TestRxDelayTimers(t *testing.T) {
	for _, tc := range []struct {
		name       string
		rdtr, radv uint32
		frames     []int // µs
		fpdAt      int   // µs; 0: none
		want       []time.Duration
	}{
		{"packet timer", 100, 0, []int{0, 50, 100, 400}, 0, []time.Duration{202400 * time.Nanosecond, 502400 * time.Nanosecond}},
		{"absolute first", 100, 120, []int{0, 50, 100, 150}, 0, []time.Duration{122880 * time.Nanosecond, 252400 * time.Nanosecond}},
		{"radv alone", 0, 120, []int{0, 50, 100}, 0, []time.Duration{0, us(50), us(100)}},
		{"flush", 1000, 0, []int{0}, 10, []time.Duration{us(10)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, false)
			r.msix()
			r.rxRing(0, 256, 2048)
			r.wr(RDTR, tc.rdtr)
			r.wr(RADV, tc.radv)
			r.clk.RunFor(us(1))
			start := r.clk.Now()
			r.irqs = nil
			r.onIRQ = func(v int) {
				if v == 1 {
					r.reap(0)
					r.wr(EIMS, 1<<1)
				}
			}
			bcast := []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
			for _, at := range tc.frames {
				tm := r.clk.NewTimer(func() { r.dev.Receive(frame(bcast, 60, [4]byte{198, 18, 0, 1}, 1)) })
				tm.Reset(us(at))
			}
			if tc.fpdAt > 0 {
				tm := r.clk.NewTimer(func() { r.wr(RDTR, tc.rdtr|RdtrFPD) })
				tm.Reset(us(tc.fpdAt))
			}
			r.clk.RunFor(us(2000))
			var got []time.Duration
			for _, x := range r.irqs {
				if x.vec == 1 {
					got = append(got, x.at-start)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("messages at %v, want %v", got, tc.want)
			}
			if r.rd(RDTR) != tc.rdtr {
				t.Fatalf("RDTR reads %#x, want %#x (FPD is not stored)", r.rd(RDTR), tc.rdtr)
			}
		})
	}
}
