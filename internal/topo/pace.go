package topo

import "time"

// PaceStep is the most virtual time one Pacer.Advance runs: requests and
// signals get in between steps of a busy simulation.
const PaceStep = time.Millisecond

// PaceIdle is the longest Advance asks its caller to sleep: a simulation
// with no event due sleeps this long between looks.
const PaceIdle = time.Second

// Pacer keeps a topology's clock in step with the wall clock, for a
// topology that runs until stopped (vnic up). In virtual time the clock may
// lag the wall clock (a busy simulation) but not run ahead of it: an idle
// topology would race through hours a second, and `vnic ping -i 1` would
// send thousands of requests. An idle simulation is not polled: Advance
// says how long to sleep, until the next event is due, and the caller
// blocks that long (or until a request comes).
type Pacer struct {
	w      *World
	wall   func() time.Time
	vstart time.Duration
	wstart time.Time
}

// NewPacer starts pacing w from now by wall, the wall clock (nil:
// time.Now; tests give their own).
func NewPacer(w *World, wall func() time.Time) *Pacer {
	if wall == nil {
		wall = time.Now
	}
	return &Pacer{w: w, wall: wall, vstart: w.Clock.Now(), wstart: wall()}
}

// Advance runs the events that are due by the wall clock, at most
// PaceStep of virtual time, and sets the clock to the wall clock's reading
// (as far as it got). It returns how long the caller may sleep before the
// next call: 0 while the simulation lags the wall clock, the time until
// the next event is due otherwise (PaceIdle at most). In real time there is
// nothing to run: it returns PaceIdle.
func (p *Pacer) Advance() time.Duration {
	vc := p.w.VClock
	if vc == nil {
		return PaceIdle
	}
	target := p.vstart + p.wall().Sub(p.wstart) // where the clock should be
	now := vc.Now()
	if now < target {
		vc.RunUntil(min(target, now+PaceStep))
	}
	if vc.Now() < target {
		return 0 // behind: go on at once
	}
	next, ok := vc.Next()
	if !ok {
		return PaceIdle
	}
	return min(max(next-vc.Now(), 0), PaceIdle)
}
