package topo

import (
	"testing"
	"time"
)

// The pacer runs what is due by the wall clock and nothing ahead of it; an
// idle simulation is not polled: Advance answers the time until the next
// event is due, and the clock is not moved past the wall clock's reading.
func TestPacerSleepsUntilNextEvent(t *testing.T) {
	w := Started(t, Pair(DeviceConfig{Queues: 1}, 1, 1000), 10*time.Millisecond)
	wall := time.Unix(1000, 0)
	p := NewPacer(w, func() time.Time { return wall })
	start := w.Clock.Now()
	fired := 0
	tm := w.Clock.NewTimer(func() { fired++ })
	tm.Reset(300 * time.Millisecond)
	// The wall clock has not moved: nothing to run.
	if got, next := p.Advance(), func() time.Duration { n, _ := w.VClock.Next(); return n - w.Clock.Now() }(); got != min(next, PaceIdle) || got > 300*time.Millisecond || got == 0 {
		t.Fatalf("idle: sleep %v, want the %v to the next event (at most the 300ms to the timer)", got, next)
	}
	if w.Clock.Now() != start || fired != 0 {
		t.Fatalf("the clock ran ahead of the wall clock: %v, fired %d", w.Clock.Now()-start, fired)
	}
	// 100 ms of wall time pass: the clock follows, in PaceStep steps (0:
	// go on at once while behind), and then the sleep is to the timer.
	wall = wall.Add(100 * time.Millisecond)
	steps := 0
	var sleep time.Duration
	for sleep = p.Advance(); sleep == 0; sleep = p.Advance() {
		steps++
	}
	if steps != int(100*time.Millisecond/PaceStep)-1 || w.Clock.Now()-start != 100*time.Millisecond || fired != 0 {
		t.Errorf("after 100ms of wall time: %d steps, clock +%v, fired %d", steps, w.Clock.Now()-start, fired)
	}
	if next, _ := w.VClock.Next(); sleep != min(next-w.Clock.Now(), PaceIdle) || sleep > 200*time.Millisecond {
		t.Errorf("sleep %v, want the time to the next event (at most 200ms)", sleep)
	}
	// Past the timer's time: it fires, once.
	wall = wall.Add(250 * time.Millisecond)
	for p.Advance() == 0 {
	}
	if fired != 1 || w.Clock.Now()-start != 350*time.Millisecond {
		t.Errorf("after 350ms: fired %d, clock +%v", fired, w.Clock.Now()-start)
	}
}

// In real time there is nothing to step: the pacer says sleep.
func TestPacerRealTime(t *testing.T) {
	cfg := Pair(DeviceConfig{Queues: 1}, 1, 1000)
	cfg.Time = RealTime
	w, err := Build(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if got := NewPacer(w, nil).Advance(); got != PaceIdle {
		t.Errorf("real time: sleep %v, want PaceIdle", got)
	}
}
