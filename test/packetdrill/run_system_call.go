package packetdrill

import (
	"errors"
	"fmt"
	"sync/atomic"
	"syscall"
	"time"

	pd "vnic/internal/packetdrill"
)

// call is one system call of the script, its arguments read, ready to be
// tried — again and again while it would block: every vnic socket call
// is non-blocking, and a call that blocks in Linux is here a call tried
// after each wake-up of its socket until it completes, while virtual
// time runs.
type call struct {
	fds []*fd // whose wake-ups may let it complete
	// try makes the call once: its result and error, or done false when
	// it would block (and blocking is what the descriptor asks for).
	try func() (ret int64, err error, done bool)
	// check, when set, verifies what the call returned beyond its
	// result and errno (getsockopt's value, poll's revents).
	check func() error
	// fdResult: the result is a new descriptor (accept), checked as
	// packetdrill's CHECK_FD: any descriptor when one is expected.
	fdResult bool
	// timeout, when set, is when the call returns even unwoken (poll).
	timeout time.Duration
	fired   atomic.Bool
}

// woken reports (and clears) a wake-up that may let the call complete.
func (c *call) woken() bool {
	w := c.fired.Swap(false)
	for _, f := range c.fds {
		if f.woke.Swap(false) {
			w = true
		}
	}
	return w
}

// start clears wake-ups from before the call and arms its timeout.
func (r *runner) startCall(c *call) {
	c.woken()
	if c.timeout > 0 {
		t := r.clk.NewTimer(func() { c.fired.Store(true) })
		t.Reset(c.timeout)
	}
}

// syscallEvent is run_system_call_event. A call written start...end runs
// on packetdrill's system call thread: the script goes on while it
// blocks, and its return is checked against end. Any other call runs on
// the script's thread, after a blocking one has finished (waiting a
// second for it), and holds the script up for as long as it blocks.
func (r *runner) syscallEvent(sc *pd.Syscall) error {
	line := r.ev.Pos.Line
	if sc.Blocking {
		if r.pending != nil {
			if err := r.awaitIdle(time.Second); err != nil {
				return err
			}
			if r.pending != nil {
				return r.failf(line, "runtime error in %s call: blocking system call while another blocking system call is already in progress", sc.Name)
			}
		}
	} else if err := r.awaitIdle(time.Second); err != nil {
		return err
	}
	if err := r.waitForEvent("system call start"); err != nil {
		return err
	}
	c, err := r.newCall(sc)
	if err != nil {
		return r.failf(line, "runtime error in %s call: %v", sc.Name, err)
	}
	r.startCall(c)
	ret, cerr, done := c.try()
	if sc.Blocking {
		end := sc.End
		if sc.EndIsRelative {
			end += r.evOffset
		}
		b := &blocked{ev: r.ev, sc: sc, start: r.evTime, end: end, call: c}
		if done {
			return r.finishBlocked(b, ret, cerr)
		}
		r.pending = b
		r.logf("%s %s blocks", secs(r.now()), sc.Name)
		return nil
	}
	if !done {
		// The script's own thread is asleep in the call: nothing else
		// happens until it returns.
		r.logf("%s %s blocks the script", secs(r.now()), sc.Name)
		err := r.runUntil(r.vlimit, func() bool {
			if done || !c.woken() {
				return done
			}
			ret, cerr, done = c.try()
			return done
		})
		if err != nil {
			return err
		}
		if !done {
			return r.failf(line, "runtime error in %s call: the call blocked and had not returned when the script's time ran out (%s sec)", sc.Name, secs(r.now()))
		}
	}
	r.logf("%s %s returns %s", secs(r.now()), sc.Name, resultString(ret, cerr))
	if err := r.checkResult(sc, c, ret, cerr); err != nil {
		return r.failf(line, "runtime error in %s call: %v", sc.Name, err)
	}
	return nil
}

// retryPending tries the blocked call again if its socket woke, and
// checks it when it returns.
func (r *runner) retryPending() error {
	b := r.pending
	if b == nil || !b.call.woken() {
		return nil
	}
	ret, err, done := b.call.try()
	if !done {
		return nil
	}
	r.pending = nil
	return r.finishBlocked(b, ret, err)
}

// finishBlocked checks a blocking call's result and that it returned
// at its end time (the tolerance counting from its start).
func (r *runner) finishBlocked(b *blocked, ret int64, cerr error) error {
	line := b.ev.Pos.Line
	r.logf("%s %s returns %s", secs(r.now()), b.sc.Name, resultString(ret, cerr))
	if err := r.checkResult(b.sc, b.call, ret, cerr); err != nil {
		return r.failf(line, "runtime error in %s call: %v", b.sc.Name, err)
	}
	kind := b.ev.Time.Kind
	if err := r.verifyTime(kind, b.end, 0, r.now(), b.start, true, "system call return"); err != nil {
		return r.failf(line, "%v", err)
	}
	return nil
}

func resultString(ret int64, err error) string {
	if err == nil {
		return fmt.Sprint(ret)
	}
	if e, ok := errnoOf(err); ok {
		return fmt.Sprintf("%d %s (%s)", ret, errnoName(e), strerror(e))
	}
	return fmt.Sprintf("%d (%v)", ret, err)
}

// errnoOf is the errno a vnic error carries.
func errnoOf(err error) (syscall.Errno, bool) {
	var e syscall.Errno
	if errors.As(err, &e) {
		return e, true
	}
	return 0, false
}

// checkResult is end_syscall: the result as the script gives it (an
// accepted descriptor may be any when one is expected), then the errno.
func (r *runner) checkResult(sc *pd.Syscall, c *call, ret int64, cerr error) error {
	var actualErrno syscall.Errno
	if cerr != nil {
		e, ok := errnoOf(cerr)
		if !ok {
			return cerr // the runner's own: unsupported, or a bad argument
		}
		actualErrno = e
	}
	want, err := eval(sc.Result)
	if err != nil {
		return err
	}
	if c.fdResult && want >= 0 {
		if ret < 0 {
			return mismatchf("Expected non-negative result but got %d with errno %d (%s)", ret, int(actualErrno), strerror(actualErrno))
		}
	} else if ret != want {
		return mismatchf("Expected result %d but got %d with errno %d (%s)", want, ret, int(actualErrno), strerror(actualErrno))
	}
	if sc.Errno != "" {
		e, ok := errnos[sc.Errno]
		if !ok {
			return unsupported("errno %s", sc.Errno)
		}
		if e != actualErrno {
			return mismatchf("Expected errno %d (%s) but got %d (%s)", int(e), strerror(e), int(actualErrno), strerror(actualErrno))
		}
	}
	if c.check != nil && cerr == nil {
		return c.check()
	}
	return nil
}

// syscallTable is packetdrill's system_call_table for what vnic's socket
// API can do.
var syscallTable = map[string]func(r *runner, sc *pd.Syscall) (*call, error){
	"socket":     (*runner).sysSocket,
	"bind":       (*runner).sysBind,
	"listen":     (*runner).sysListen,
	"accept":     (*runner).sysAccept,
	"connect":    (*runner).sysConnect,
	"read":       (*runner).sysRead,
	"recv":       (*runner).sysRead,
	"write":      (*runner).sysWrite,
	"send":       (*runner).sysWrite,
	"close":      (*runner).sysClose,
	"shutdown":   (*runner).sysShutdown,
	"setsockopt": (*runner).sysSetsockopt,
	"getsockopt": (*runner).sysGetsockopt,
	"fcntl":      (*runner).sysFcntl,
	"poll":       (*runner).sysPoll,
}

func (r *runner) newCall(sc *pd.Syscall) (*call, error) {
	f, ok := syscallTable[sc.Name]
	if !ok {
		return nil, unsupported("system call %s", sc.Name)
	}
	return f(r, sc)
}

// completed is the answer of a call that does not block.
func completed(ret int64, err error) (int64, error, bool) { return ret, err, true }

// result turns an error into a system call's -1 (and its errno).
func result(ok int64, err error) int64 {
	if err != nil {
		return -1
	}
	return ok
}

// wouldBlock reports an EAGAIN (or EINPROGRESS) that a blocking
// descriptor waits out.
func wouldBlock(err error, errno syscall.Errno, nonblock bool) bool {
	e, ok := errnoOf(err)
	return ok && e == errno && !nonblock
}

// arity checks the number of arguments (check_arg_count).
func arity(sc *pd.Syscall, n int) error {
	if len(sc.Args) != n {
		return mismatchf("Expected %d args but got %d", n, len(sc.Args))
	}
	return nil
}

// fdArg is the descriptor the script names in argument i.
func (r *runner) fdArg(sc *pd.Syscall, i int) (*fd, error) {
	n, err := eval(sc.Args[i])
	if err != nil {
		return nil, err
	}
	f, ok := r.fds[int(n)]
	if !ok {
		return nil, fmt.Errorf("unable to find fd with script fd %d", n)
	}
	return f, nil
}

// intArg is argument i as an integer.
func intArg(sc *pd.Syscall, i int) (int64, error) { return eval(sc.Args[i]) }

// ellipsisArg checks that argument i is "...".
func ellipsisArg(sc *pd.Syscall, i int) error {
	if _, ok := sc.Args[i].(*pd.Ellipsis); !ok {
		return mismatchf("Bad type; actual: %s expected: ellipsis", sc.Args[i])
	}
	return nil
}
