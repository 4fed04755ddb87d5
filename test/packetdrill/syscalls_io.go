package packetdrill

import (
	"fmt"
	"strings"
	"syscall"
	"time"

	pd "vnic/internal/packetdrill"
)

// bufferArgs reads (fd, ..., len[, flags]): read and write have three
// arguments, recv and send four.
func (r *runner) bufferArgs(sc *pd.Syscall) (f *fd, n int, flags int, err error) {
	want := 3
	if sc.Name == "recv" || sc.Name == "send" {
		want = 4
	}
	if err = arity(sc, want); err != nil {
		return
	}
	if f, err = r.fdArg(sc, 0); err != nil {
		return
	}
	if _, ok := sc.Args[1].(*pd.Ellipsis); !ok {
		err = unsupported("%s with a buffer %s (only ...)", sc.Name, sc.Args[1])
		return
	}
	l, err := intArg(sc, 2)
	if err != nil {
		return
	}
	if l < 0 || l > 1<<26 {
		err = fmt.Errorf("bad length %d", l)
		return
	}
	if want == 4 {
		var fl int64
		if fl, err = intArg(sc, 3); err != nil {
			return
		}
		flags = int(fl)
	}
	return f, int(l), flags, nil
}

// sysRead is read and recv: a blocking socket waits for data (or the
// end of it), and returns what there is.
func (r *runner) sysRead(sc *pd.Syscall) (*call, error) {
	f, n, flags, err := r.bufferArgs(sc)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, n)
	c := &call{fds: []*fd{f}}
	c.try = func() (int64, error, bool) {
		got, err := f.sk.Recv(buf, flags&^symbolInt("MSG_DONTWAIT"))
		// recv(MSG_OOB) never waits, blocking socket or not (tcp_recv_urg).
		if wouldBlock(err, syscall.EAGAIN, f.nonblock || flags&(symbolInt("MSG_DONTWAIT")|symbolInt("MSG_OOB")) != 0) {
			return 0, nil, false
		}
		return completed(result(int64(got), err), err)
	}
	return c, nil
}

// sysWrite is write and send of as many zero bytes (packetdrill's
// buffers are zeroed, and so are the payloads of its expected packets):
// a non-blocking socket takes what fits; a blocking one waits for room
// until all is queued, as tcp_sendmsg does.
func (r *runner) sysWrite(sc *pd.Syscall) (*call, error) {
	f, n, flags, err := r.bufferArgs(sc)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, n)
	sent := 0
	c := &call{fds: []*fd{f}}
	c.try = func() (int64, error, bool) {
		dontwait := f.nonblock || flags&symbolInt("MSG_DONTWAIT") != 0
		if sent > 0 && !dontwait && !f.sk.WriteSpace() {
			// A writer asleep in sk_stream_wait_memory is woken only
			// when the queue has drained to sk_stream_write_space's
			// threshold, not by every ACK that frees a little.
			return 0, nil, false
		}
		for {
			m, err := f.sk.Send(buf[sent:], flags&^(symbolInt("MSG_DONTWAIT")|symbolInt("MSG_NOSIGNAL")))
			sent += m
			switch {
			case err == nil && (sent == n || dontwait):
				return completed(int64(sent), nil)
			case err == nil && m > 0:
				continue
			case wouldBlock(err, syscall.EAGAIN, dontwait):
				return 0, nil, false
			case err == nil:
				return 0, nil, false
			case sent > 0:
				return completed(int64(sent), nil)
			default:
				return completed(-1, err)
			}
		}
	}
	return c, nil
}

func symbolInt(name string) int { return int(symbols[name]) }

// pollfd is one {fd=…, events=…, revents=…} of a poll.
type pollfd struct {
	f               *fd
	events, revents int
}

// sysPoll is poll([{fd=N, events=E, revents=R}, …], nfds, timeout): the
// sockets' readiness (tcp_poll) masked by what each asks for, plus the
// errors and hang-ups poll always reports; with nothing ready it waits
// for a wake-up or the timeout (-1: none).
func (r *runner) sysPoll(sc *pd.Syscall) (*call, error) {
	if err := arity(sc, 3); err != nil {
		return nil, err
	}
	list, ok := sc.Args[0].(*pd.List)
	if !ok {
		return nil, mismatchf("Bad type; actual: %s expected: list", sc.Args[0])
	}
	var pfds []pollfd
	c := &call{}
	for _, e := range list.Elems {
		st, ok := e.(*pd.Struct)
		if !ok {
			return nil, mismatchf("Bad type; actual: %s expected: pollfd", e)
		}
		var p pollfd
		for _, fe := range st.Fields {
			as, ok := fe.(*pd.Assign)
			if !ok {
				return nil, fmt.Errorf("bad pollfd field %s", fe)
			}
			v, err := eval(as.RHS)
			if err != nil {
				return nil, err
			}
			switch as.LHS.String() {
			case "fd":
				if p.f = r.fds[int(v)]; p.f == nil {
					return nil, fmt.Errorf("unable to find fd with script fd %d", v)
				}
			case "events":
				p.events = int(v)
			case "revents":
				p.revents = int(v)
			default:
				return nil, fmt.Errorf("bad pollfd field %s", as.LHS)
			}
		}
		if p.f == nil {
			return nil, fmt.Errorf("pollfd without fd")
		}
		pfds = append(pfds, p)
		c.fds = append(c.fds, p.f)
	}
	if nfds, err := intArg(sc, 1); err != nil || int(nfds) != len(pfds) {
		return nil, unsupported("poll nfds %s for %d pollfds", sc.Args[1], len(pfds))
	}
	timeout, err := intArg(sc, 2)
	if err != nil {
		return nil, err
	}
	if timeout > 0 {
		c.timeout = time.Duration(timeout) * time.Millisecond
	}
	deadline := r.clk.Now() + c.timeout
	got := make([]int, len(pfds))
	always := symbolInt("POLLERR") | symbolInt("POLLHUP") | symbolInt("POLLNVAL")
	c.try = func() (int64, error, bool) {
		n := 0
		for i, p := range pfds {
			got[i] = p.f.sk.Poll() & (p.events | always)
			if got[i] != 0 {
				n++
			}
		}
		if n == 0 && timeout != 0 && (timeout < 0 || r.clk.Now() < deadline) {
			return 0, nil, false
		}
		return completed(int64(n), nil)
	}
	c.check = func() error {
		for i, p := range pfds {
			if got[i] != p.revents {
				return mismatchf("Expected revents of %s but got %s for pollfd %d", pollString(p.revents), pollString(got[i]), i)
			}
		}
		return nil
	}
	return c, nil
}

// pollString prints poll flags by name (flags_to_string).
func pollString(v int) string {
	if v == 0 {
		return "0"
	}
	var names []string
	for _, n := range []string{"POLLIN", "POLLPRI", "POLLOUT", "POLLERR", "POLLHUP", "POLLNVAL", "POLLRDNORM", "POLLRDBAND", "POLLWRNORM", "POLLWRBAND", "POLLRDHUP"} {
		if b := symbolInt(n); v&b != 0 {
			names = append(names, n)
			v &^= b
		}
	}
	if v != 0 {
		names = append(names, fmt.Sprintf("%#x", v))
	}
	return strings.Join(names, "|")
}
