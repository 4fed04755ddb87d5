package packetdrill

import (
	"fmt"
	"io"
	"time"

	pd "vnic/internal/packetdrill"
)

// runner is one script's run: packetdrill's struct state over a vnic
// host on a virtual clock, where script time 0 is the virtual time the
// first event is reached.
type runner struct {
	s       *pd.Script
	dir     string
	opt     options
	verbose io.Writer
	notes   []string

	*testHost
	start   time.Duration // virtual time of script time 0
	vlimit  time.Duration // no wait runs the clock past this
	wallEnd time.Time

	fds        map[int]*fd
	sockets    []*socket
	sut        *socket // socket_under_test: the connection packets map to
	nextRemote uint16  // the next port of a passive connection's peer
	sniffed    int     // packets of tun.sent already looked at

	// The event being run and the one before it, in script time (µs)
	// after relative times are resolved.
	ev        *pd.Event
	evTime    int64
	evEnd     int64
	evOffset  int64
	last      *pd.Event
	lastTime  int64
	lastKnown bool

	pending *blocked // a blocking call under way, or nil
}

// blocked is a system call written start...end that has not returned:
// packetdrill's system call thread, asleep in the kernel. It is tried
// again whenever its socket wakes.
type blocked struct {
	ev    *pd.Event
	sc    *pd.Syscall
	start int64 // script µs
	end   int64 // when it must return, script µs
	call  *call
}

func newRunner(s *pd.Script, dir string, cfg Config) (*runner, error) {
	opt, err := readOptions(s, cfg.Args)
	if err != nil {
		if _, ok := err.(*Failure); !ok {
			err = &Failure{File: s.File, Line: 1, Msg: err.Error()}
		}
		return nil, err
	}
	th, err := newTestHost(cfg.Seed)
	if err != nil {
		return nil, &Failure{File: s.File, Line: 1, Msg: fmt.Sprintf("setting up the host: %v", err)}
	}
	wall := cfg.WallLimit
	if wall <= 0 {
		wall = 60 * time.Second
	}
	r := &runner{s: s, dir: dir, opt: opt, verbose: cfg.Verbose, testHost: th, fds: map[int]*fd{},
		nextRemote: firstRemotePort, wallEnd: time.Now().Add(wall)}
	r.vlimit = r.clk.Now() + time.Duration(r.scriptSpan())*time.Microsecond + 5*time.Second
	if r.verbose != nil {
		r.tun.onSend = func(p livePacket) {
			r.logf("%s sent %s", secs(r.scriptNow(p.at)), describeIP(p.ip))
		}
	}
	return r, nil
}

// scriptSpan bounds how long the script can take: its events' times
// added up as if every relative one followed the latest moment the one
// before it could have happened (ranges at their ends, blocking calls
// at their returns, each late by the tolerance).
func (r *runner) scriptSpan() int64 {
	var t, prev int64
	for _, ev := range r.s.Events {
		switch ev.Time.Kind {
		case pd.AbsoluteTime:
			t = ev.Time.Usecs
		case pd.AbsoluteRange:
			t = ev.Time.EndUsecs
		case pd.RelativeTime:
			t = prev + ev.Time.Usecs
		case pd.RelativeRange:
			t = prev + ev.Time.EndUsecs
		case pd.AnyTime:
			t = prev
		}
		if sc, ok := ev.Action.(*pd.Syscall); ok && sc.Blocking {
			end := sc.End
			if sc.EndIsRelative {
				end += prev
			}
			t = max(t, end)
		}
		t += r.opt.toleranceUsecs + t/8
		prev = t
	}
	return t
}

func (r *runner) logf(format string, a ...any) {
	if r.verbose != nil {
		fmt.Fprintf(r.verbose, format+"\n", a...)
	}
}

// line is the line of the event being run (the first for the setup).
func (r *runner) line() int {
	if r == nil || r.ev == nil {
		return 1
	}
	return r.ev.Pos.Line
}

func (r *runner) failf(line int, format string, a ...any) error {
	return &Failure{File: r.s.File, Line: line, Msg: fmt.Sprintf(format, a...)}
}

// now is the script time in µs; scriptNow converts a virtual time.
func (r *runner) now() int64 { return r.scriptNow(r.clk.Now()) }

func (r *runner) scriptNow(v time.Duration) int64 { return (v - r.start).Microseconds() }

func (r *runner) virtual(us int64) time.Duration { return r.start + time.Duration(us)*time.Microsecond }

// run is run_script: the init command, the events in order, what a
// blocking call still owes at the end, the cleanup command.
func (r *runner) run() error {
	for _, f := range r.opt.initScripts {
		if err := r.runShellFile(f, ".", 0); err != nil {
			return r.failf(1, "error executing init script: %v", err)
		}
	}
	if r.s.Init != nil {
		if err := r.command(r.s.Init); err != nil {
			return err
		}
	}
	r.start = r.clk.Now()
	for i := range r.s.Events {
		ev := &r.s.Events[i]
		if err := r.nextEvent(ev); err != nil {
			return err
		}
		var err error
		switch a := ev.Action.(type) {
		case *pd.Packet:
			err = r.packetEvent(a)
		case *pd.Syscall:
			err = r.syscallEvent(a)
		case *pd.Command:
			if err = r.waitForEvent("command"); err == nil {
				err = r.command(a)
			}
		case *pd.Code:
			err = r.failf(ev.Pos.Line, "%v", unsupported("%%{ }%% code (packetdrill hands it to Python after the run)"))
		}
		if err != nil {
			return err
		}
		r.last, r.lastTime, r.lastKnown = ev, r.evTime, true
	}
	if r.pending != nil {
		if err := r.awaitIdle(time.Second); err != nil {
			return err
		}
		if r.pending != nil {
			return r.failf(r.pending.ev.Pos.Line, "runtime error: exiting while a blocking system call is in progress")
		}
	}
	if r.s.Cleanup != nil {
		r.ev = nil
		return r.command(r.s.Cleanup)
	}
	return nil
}

// nextEvent is get_next_event and adjust_relative_event_times: the
// first event must be at 0, absolute times must not go back, and a
// relative time counts from now (from the previous packet's time when
// both are inbound packets, so that back-to-back injections do not
// drift).
func (r *runner) nextEvent(ev *pd.Event) error {
	t := ev.Time
	if r.last == nil && t.Usecs != 0 {
		return r.failf(ev.Pos.Line, "first event should be at time 0")
	}
	if r.last != nil && isAbsolute(r.last.Time) && isAbsolute(t) && t.Usecs < r.lastTime {
		return r.failf(ev.Pos.Line, "time goes backward in script from %d usec to %d usec", r.lastTime, t.Usecs)
	}
	r.ev = ev
	r.evTime, r.evEnd, r.evOffset = t.Usecs, t.EndUsecs, 0
	if t.Kind == pd.AnyTime || t.IsRelative() {
		off := r.now()
		if r.last != nil && isInbound(r.last) && isInbound(ev) {
			off = r.lastTime
		}
		r.evOffset = off
		r.evTime += off
		if t.Kind == pd.RelativeRange {
			r.evEnd += off
		}
	}
	r.logf("%s line %d: %s", secs(r.evTime), ev.Pos.Line, ev)
	return nil
}

func isAbsolute(t pd.Time) bool { return t.Kind == pd.AbsoluteTime || t.Kind == pd.AbsoluteRange }

func isInbound(ev *pd.Event) bool {
	p, ok := ev.Action.(*pd.Packet)
	return ok && p.Direction == pd.Inbound
}

// verifyTime is verify_time: did something the script put at
// scriptUsecs (a range: up to endUsecs) happen at actual? The tolerance
// is --tolerance_usecs, or --tolerance_percent of the time since the
// previous event when that is more.
func (r *runner) verifyTime(kind pd.TimeKind, scriptUsecs, endUsecs, actual, lastUsecs int64, lastKnown bool, what string) error {
	if kind == pd.AnyTime {
		return nil
	}
	tol := r.opt.toleranceUsecs
	if lastKnown {
		if dyn := int64(r.opt.tolerancePercent / 100 * float64(scriptUsecs-lastUsecs)); dyn > tol {
			tol = dyn
		}
	}
	switch kind {
	case pd.AbsoluteRange, pd.RelativeRange:
		if actual >= scriptUsecs-tol && actual <= endUsecs+tol {
			return nil
		}
		if kind == pd.AbsoluteRange {
			return fmt.Errorf("timing error: expected %s in time range %s~%s sec but happened at %s sec",
				what, secs(scriptUsecs), secs(endUsecs), secs(actual))
		}
		o := r.evOffset
		return fmt.Errorf("timing error: expected %s in relative time range +%s~+%s sec but happened at %+.6f sec",
			what, secs(scriptUsecs-o), secs(endUsecs-o), float64(actual-o)/1e6)
	}
	if actual < scriptUsecs-tol || actual > scriptUsecs+tol {
		return fmt.Errorf("timing error: expected %s at %s sec but happened at %s sec; tolerance %s sec",
			what, secs(scriptUsecs), secs(actual), secs(tol))
	}
	return nil
}

// waitForEvent is wait_for_event: run the stack until the event's time,
// then check that it was not reached late (a call that blocked the
// script's thread can make it so).
func (r *runner) waitForEvent(what string) error {
	if err := r.runUntil(r.virtual(r.evTime), nil); err != nil {
		return err
	}
	if r.last == nil {
		return nil
	}
	if err := r.verifyTime(r.ev.Time.Kind, r.evTime, r.evEnd, r.now(), r.lastTime, r.lastKnown, what); err != nil {
		return r.failf(r.ev.Pos.Line, "%v", err)
	}
	return nil
}

// runUntil runs the stack up to virtual time t, one clock event at a
// time, finishing a blocked call when its socket wakes; it stops early
// once done reports true. It never runs past the script's bound.
func (r *runner) runUntil(t time.Duration, done func() bool) error {
	if t > r.vlimit {
		t = r.vlimit
	}
	for n := 0; ; n++ {
		if err := r.retryPending(); err != nil {
			return err
		}
		if done != nil && done() {
			return nil
		}
		if n%4096 == 4095 && time.Now().After(r.wallEnd) {
			return r.failf(r.line(), "the run took longer than its wall-clock limit (virtual time %s sec)", secs(r.now()))
		}
		next, ok := r.clk.Next()
		if !ok || next > t {
			r.clk.RunUntil(t)
			return r.retryPending()
		}
		r.clk.Step()
	}
}

// awaitIdle is await_idle_thread: let a blocked call finish, waiting at
// most d of virtual time (packetdrill waits a second of wall time).
func (r *runner) awaitIdle(d time.Duration) error {
	if r.pending == nil {
		return nil
	}
	return r.runUntil(r.clk.Now()+d, func() bool { return r.pending == nil })
}
