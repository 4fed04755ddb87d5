package iperf3

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"syscall"
	"time"

	"vnic/stack"
	"vnic/stack/inet"
	"vnic/stack/tcp"
)

// Server runs iperf3 -s on host h (main's loop over iperf_run_server):
// it listens on cfg.Port (at cfg.Bind, else every address) and runs one
// test at a time, each announced with "Server listening on … (test
// #N)", until ctx ends, or after one test with cfg.OneOff. A client that
// connects while a test runs is told ACCESS_DENIED. What fails in a test
// is printed to out's Stderr as iperf3 prints it ("iperf3: error - …"),
// and the server goes on to the next (with -J the test's document gets
// an "error" member instead). It returns nil when ctx ends, the error
// of the one test with OneOff, and at once an error iperf3 would exit
// on (the port cannot be listened on, a virtual-time host).
func Server(ctx context.Context, h *stack.Host, cfg Config, out Output) error {
	if err := cfg.Check(); err != nil {
		return err
	}
	if !cfg.Server {
		return &Error{Code: IENoRole}
	}
	if _, err := tcpOf(h); err != nil {
		return err
	}
	for n := 1; ; n++ {
		t := newTest(cfg, 's', out)
		err := t.runServer(ctx, h, n)
		if ctx.Err() != nil {
			return nil
		}
		var ie *Error
		if errors.As(err, &ie) && ie.Code == IEListen {
			return err
		}
		if err != nil {
			if t.json {
				t.jsonFinish(err.Error())
			} else {
				out.err("iperf3: error - " + err.Error() + "\n")
			}
		}
		if cfg.OneOff {
			return err
		}
	}
}

// cookieTimeout bounds the wait for a connection's cookie (iperf3 waits
// as long as it takes).
const cookieTimeout = 10 * time.Second

// streamErrGrace is how long a failed stream waits for the control
// connection to say why (the other end's TERMINATE comes before its
// streams close, but may be read after).
const streamErrGrace = time.Second

// setupTimeout bounds the time from the control connection to the
// test's start, and each step of the protocol outside the test's run.
const setupTimeout = 60 * time.Second

func (t *test) runServer(ctx context.Context, h *stack.Host, n int) error {
	if t.json {
		t.jStart.add("system_info", systemInfo(h))
	}
	s := &server{h: h, laddr: netip.AddrPortFrom(netip.IPv4Unspecified(), uint16(t.cfg.port())), conns: make(chan accepted)}
	if t.cfg.Bind.IsValid() {
		s.laddr = netip.AddrPortFrom(t.cfg.Bind, s.laddr.Port())
	}
	l, err := listen(h, s.laddr, sockOpts{})
	if err != nil {
		return fail(IEListen, err)
	}
	s.acc = startAcceptor(l, s.conns, &s.phase)
	defer func() { s.acc.stop() }()
	if !t.json {
		t.printf("%s", ReportListening(t.cfg.port(), n))
	}
	t.cpu.start()

	// The control connection and its cookie.
	var c *inet.TCPConn
	for c == nil {
		select {
		case a := <-s.conns:
			if a.err != nil {
				return fail(IEAccept, a.err)
			}
			c = a.conn
		case <-ctx.Done():
			return nil
		}
	}
	b := make([]byte, cookieSize)
	if err := readFull(c, b, cookieTimeout); err != nil {
		c.Close()
		return fail(IERecvCookie, err)
	}
	t.cookie = cString(b)
	k := newCtrl(c)
	defer k.close()
	t.streamErrs = make(chan error, MaxStreams)
	defer t.closeStreams()

	// iperf_exchange_parameters.
	if err := k.send(paramExchange); err != nil {
		return err
	}
	j, err := k.readJSON()
	if err != nil {
		return fail(IERecvParams, err)
	}
	if e := t.getParameters(j); e != nil {
		_ = k.send(serverError)
		_ = k.sendCode(e)
		return e
	}
	o := sockOpts{window: t.window, mss: t.mss, noDelay: t.noDelay}
	if o.any() {
		if err := s.relisten(o); err != nil {
			return err
		}
	}
	if t.json {
		snd, rcv := sockBufs(s.acc.l.Sock())
		t.jStart.add("sock_bufsize", num(t.window)).add("sndbuf_actual", num(snd)).add("rcvbuf_actual", num(rcv))
	}
	s.phase.Store(phaseStreams)
	if err := k.send(createStreams); err != nil {
		return err
	}
	t.onConnect(c.Sock().RemoteAddr())
	k.start()

	setup := time.NewTimer(setupTimeout)
	defer setup.Stop()
	var tick, over *time.Timer
	var tickC, overC <-chan time.Time
	defer func() {
		if tick != nil {
			tick.Stop()
		}
		if over != nil {
			over.Stop()
		}
	}()
	state := int8(createStreams)
	nextTick := 0
	var streamErr error // see runClient
	var grace <-chan time.Time
	for {
		select {
		case a := <-s.conns:
			if a.err != nil {
				return fail(IEStreamAccept, a.err)
			}
			if err := t.acceptStream(a, state); err != nil {
				return err
			}
			if state != createStreams || len(t.streams) < t.parallel {
				continue
			}
			s.phase.Store(phaseBusy)
			if o.any() {
				if err := s.relisten(sockOpts{}); err != nil {
					return err
				}
			}
			if err := k.send(testStart); err != nil {
				return err
			}
			t.startTime = max(t.now(), 1)
			for _, sp := range t.streams {
				sp.startTime = t.startTime
			}
			t.onTestStart()
			if t.duration != 0 {
				// server_timer_proc: the client gets 5 s past its time.
				over = time.NewTimer(time.Duration(t.duration+5) * time.Second)
				overC = over.C
			}
			if iv := t.cfg.interval(); iv > 0 {
				nextTick = 1
				tick = time.NewTimer(iv)
				tickC = tick.C
			}
			if err := k.send(testRunning); err != nil {
				return err
			}
			for _, sp := range t.streams {
				sp.start(t.streamErrs)
			}
			state = testRunning
			setup.Stop()
		case m := <-k.states:
			if m.err != nil {
				if errors.Is(m.err, io.EOF) || errors.Is(m.err, io.ErrUnexpectedEOF) {
					t.out.err("iperf3: the client has unexpectedly closed the connection\n")
					return nil
				}
				return fail(IERecvMessage, m.err)
			}
			switch m.state {
			case testStart:
			case testEnd:
				if err := t.serverTestEnd(k); err != nil {
					return err
				}
				state = displayResults
				setup.Reset(setupTimeout) // for IPERF_DONE
			case iperfDone:
				t.jsonFinish("")
				return nil
			case clientTerminate:
				t.cpuUtil = t.cpu.sample()
				if state == testRunning {
					t.stats()
				}
				t.terminated()
				t.out.err("iperf3: the client has terminated\n")
				return nil
			default:
				return &Error{Code: IEMessage}
			}
			k.release()
		case <-tickC:
			if state == testRunning {
				t.stats()
				t.printIntermediate()
			}
			nextTick++
			at := time.Duration(nextTick) * t.cfg.interval()
			tick.Reset(time.Until(t.origin.Add(time.Duration(t.startTime)*time.Microsecond + at)))
		case <-overC:
			return &Error{Code: IECtrlClose}
		case <-setup.C:
			switch state {
			case createStreams:
				return &Error{Code: IEAccept, Errno: syscall.ETIMEDOUT}
			case displayResults:
				return &Error{Code: IECtrlRead, Errno: syscall.ETIMEDOUT}
			}
		case err := <-t.streamErrs:
			if state == testRunning && streamErr == nil {
				streamErr, grace = err, time.After(streamErrGrace)
			}
		case <-grace:
			return streamErr
		case <-ctx.Done():
			// iperf_got_sigend: the summary so far, SERVER_TERMINATE.
			if state == testRunning {
				t.cpuUtil = t.cpu.sample()
				t.stats()
				t.terminated()
			}
			_ = k.send(serverTerminate)
			return nil
		}
	}
}

// acceptStream is the server's side of iperf_tcp_accept and of
// iperf_run_server's stream setup: a connection whose cookie is the
// test's becomes a stream with the test's congestion control and TOS;
// another is told ACCESS_DENIED.
func (t *test) acceptStream(a accepted, state int8) error {
	c := a.conn
	if a.err != nil || state != createStreams {
		c.Close()
		return nil
	}
	if a.cookie != t.cookie {
		_ = c.SetWriteDeadline(time.Now().Add(time.Second))
		_ = writeState(c, accessDenied)
		c.Close()
		return nil
	}
	sk := c.Sock()
	if t.congestion != "" {
		if err := sk.SetCongestion(t.congestion); err != nil {
			if !errors.Is(err, syscall.ENOENT) {
				c.Close()
				return fail(IESetCongestion, err)
			}
			// Not one of the host's: iperf3 warns and goes on.
			t.out.err("warning: TCP congestion control algorithm not supported\n")
		}
	}
	t.congUsed = sk.CongestionName()
	if t.noDelay {
		if err := sk.SetsockoptInt(tcp.SolTCP, tcp.TCPNoDelay, 1); err != nil {
			c.Close()
			return fail(IESetNoDelay, err)
		}
	}
	if t.tos != 0 {
		if err := sk.SetsockoptInt(tcp.SolIP, tcp.IPTOS, t.tos); err != nil {
			c.Close()
			return fail(IESetTOS, err)
		}
	}
	t.onNewStream(t.addStream(c, t.sender))
	return nil
}

// serverTestEnd is the server's TEST_END: the streams stop and close,
// the server prints its summary, then the results are exchanged and the
// client told to display them.
func (t *test) serverTestEnd(k *ctrl) error {
	for _, sp := range t.streams {
		sp.stop()
	}
	t.cpuUtil = t.cpu.sample()
	t.stats()
	t.closeStreams()
	t.settle()
	t.printIntermediate()
	t.printResults()
	if err := k.send(exchangeResults); err != nil {
		return err
	}
	j, err := k.readJSON()
	if err != nil {
		return fail(IERecvResults, err)
	}
	if e := t.getResults(j); e != nil {
		return e
	}
	if err := k.sendJSON(t.results()); err != nil {
		return fail(IESendResults, err)
	}
	return k.send(displayResults)
}

// sendCode follows SERVER_ERROR: i_errno and errno, four bytes each in
// network order.
func (k *ctrl) sendCode(e *Error) error {
	b := binary.BigEndian.AppendUint32(nil, uint32(int32(e.Code)))
	b = binary.BigEndian.AppendUint32(b, uint32(e.Errno))
	_ = k.conn.SetWriteDeadline(time.Now().Add(ioTimeout))
	defer k.conn.SetWriteDeadline(time.Time{})
	_, err := k.conn.Write(b)
	return err
}
