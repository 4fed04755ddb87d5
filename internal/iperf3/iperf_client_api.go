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

// Client runs iperf3 -c on host h (iperf_run_client): it connects to
// the server cfg.Host names, exchanges the parameters, opens the data
// streams, sends (or with -R receives) for cfg.Duration, then exchanges
// the results and prints them. It prints to out what iperf3 prints (in
// -J one JSON document at the end, with an "error" member if it
// failed) and returns the failure as an *Error (iperf3 prints it as
// "iperf3: error - " and its text). h must be on the real-time clock.
// Cancelling ctx interrupts the test as iperf3's SIGINT does: the
// summary so far, CLIENT_TERMINATE to the server, IEClientTerm.
func Client(ctx context.Context, h *stack.Host, cfg Config, out Output) error {
	if err := cfg.Check(); err != nil {
		return err
	}
	if !cfg.Host.IsValid() || cfg.Server {
		return &Error{Code: IENoRole}
	}
	t := newTest(cfg, 'c', out)
	err := t.runClient(ctx, h)
	if err != nil {
		t.jsonFinish(err.Error())
	}
	return err
}

func (t *test) runClient(ctx context.Context, h *stack.Host) error {
	if t.json {
		t.jStart.add("system_info", systemInfo(h))
	}
	if _, err := tcpOf(h); err != nil {
		return err
	}
	// iperf_connect: the control connection and the cookie.
	t.cookie = makeCookie()
	raddr := netip.AddrPortFrom(t.cfg.Host, uint16(t.cfg.port()))
	c, err := dial(ctx, h, t.cfg.Bind, raddr, sockOpts{}, t.cfg.ConnectTimeout)
	if err != nil {
		if ctx.Err() != nil {
			return &Error{Code: IEClientTerm}
		}
		return fail(IEConnect, err)
	}
	_ = c.SetWriteDeadline(time.Now().Add(ioTimeout))
	if _, err := c.Write(append([]byte(t.cookie), 0)); err != nil {
		c.Close()
		return fail(IESendCookie, err)
	}
	_ = c.SetWriteDeadline(time.Time{})
	if mss, err := c.Sock().GetsockoptInt(tcp.SolTCP, tcp.TCPMaxSeg); err == nil && mss > 0 && mss <= 65535 {
		t.ctrlMSS = mss
	}
	t.cpu.start()
	k := newCtrl(c)
	k.start()
	defer k.close()
	t.streamErrs = make(chan error, t.parallel)
	defer t.closeStreams()

	var tick, end *time.Timer
	var tickC, endC <-chan time.Time
	defer func() {
		if tick != nil {
			tick.Stop()
		}
		if end != nil {
			end.Stop()
		}
	}()
	state := int8(0)
	done := false // the test's time is up (test->done)
	nextTick := 0
	// A stream that fails may be the server going away: its control
	// message (SERVER_TERMINATE, SERVER_ERROR) is given a moment to say
	// so before the stream's error is the test's.
	var streamErr error
	var grace <-chan time.Time
	// The server answers each step within setupTimeout, while no test
	// runs (iperf3 would wait for ever).
	watch := time.NewTimer(setupTimeout)
	defer watch.Stop()
	for {
		select {
		case m := <-k.states:
			watch.Reset(setupTimeout)
			if m.err != nil {
				if errors.Is(m.err, io.EOF) || errors.Is(m.err, io.ErrUnexpectedEOF) {
					return &Error{Code: IECtrlClose}
				}
				return fail(IERecvMessage, m.err)
			}
			state = m.state
			switch state {
			case paramExchange:
				if err := k.sendJSON(t.parameters()); err != nil {
					return fail(IESendParams, err)
				}
				t.onConnect(netip.AddrPort{})
			case createStreams:
				if err := t.createStreams(ctx, h); err != nil {
					return err
				}
			case testStart:
				// iperf_init_test and the timers.
				t.startTime = max(t.now(), 1)
				for _, sp := range t.streams {
					sp.startTime = t.startTime
				}
				t.onTestStart()
				end = time.NewTimer(time.Duration(t.duration) * time.Second)
				endC = end.C
				if iv := t.cfg.interval(); iv > 0 && iv < time.Duration(t.duration)*time.Second {
					nextTick = 1
					tick = time.NewTimer(iv)
					tickC = tick.C
				}
			case testRunning:
				watch.Stop()
				for _, sp := range t.streams {
					sp.start(t.streamErrs)
				}
			case exchangeResults:
				for _, sp := range t.streams {
					sp.stop()
				}
				t.settle()
				if err := k.sendJSON(t.results()); err != nil {
					return fail(IESendResults, err)
				}
				j, err := k.readJSON()
				if err != nil {
					return fail(IERecvResults, err)
				}
				if err := t.getResults(j); err != nil {
					return err
				}
			case displayResults:
				// iperf_client_end.
				t.closeStreams()
				t.printIntermediate()
				t.printResults()
				err := k.send(iperfDone)
				k.close()
				if err != nil {
					return err
				}
				if t.json {
					t.jsonFinish("")
				} else {
					t.printf("\n%s", reportDone)
				}
				return nil
			case iperfDone:
			case serverTerminate:
				t.cpuUtil = t.cpu.sample()
				t.terminated()
				return &Error{Code: IEServerTerm}
			case accessDenied:
				return &Error{Code: IEAccessDenied}
			case serverError:
				var b [8]byte
				if err := readFull(k.conn, b[:], ioTimeout); err != nil {
					return fail(IECtrlRead, err)
				}
				return &Error{Code: Code(int32(binary.BigEndian.Uint32(b[:4]))), Errno: syscall.Errno(binary.BigEndian.Uint32(b[4:]))}
			default:
				return &Error{Code: IEMessage}
			}
			k.release()
		case <-tickC:
			if !done {
				t.stats()
				t.printIntermediate()
			}
			nextTick++
			iv := t.cfg.interval()
			if at := time.Duration(nextTick) * iv; at < time.Duration(t.duration)*time.Second {
				tick.Reset(time.Until(t.origin.Add(time.Duration(t.startTime)*time.Microsecond + at)))
			}
		case <-endC:
			// The time is up: the sender stops, the receiver drains
			// until the server answers (so that a full pipe cannot
			// block it), and the server is told.
			done = true
			if t.sender {
				for _, sp := range t.streams {
					sp.stop()
				}
			}
			t.cpuUtil = t.cpu.sample()
			t.stats()
			if err := k.send(testEnd); err != nil {
				return err
			}
			state = testEnd
			watch.Reset(setupTimeout)
		case err := <-t.streamErrs:
			if !done && streamErr == nil {
				streamErr, grace = err, time.After(streamErrGrace)
			}
		case <-grace:
			return streamErr
		case <-watch.C:
			return &Error{Code: IECtrlRead, Errno: syscall.ETIMEDOUT}
		case <-ctx.Done():
			// iperf_got_sigend.
			t.cpuUtil = t.cpu.sample()
			if t.startTime != 0 {
				if !done {
					t.stats()
				}
				t.terminated()
			}
			_ = k.send(clientTerminate)
			return &Error{Code: IEClientTerm}
		}
	}
}

// terminated prints what iperf3 prints when the test ends early: the
// last interval and the summary of what is known.
func (t *test) terminated() {
	for _, sp := range t.streams {
		sp.stop()
	}
	t.settle()
	if len(t.streams) > 0 && len(t.streams[0].intervals) > 0 {
		t.printIntermediate()
	}
	t.printResults()
}

// createStreams is iperf_create_streams: P connections to the server,
// each with the test's options, its congestion control, then the
// cookie.
func (t *test) createStreams(ctx context.Context, h *stack.Host) error {
	raddr := netip.AddrPortFrom(t.cfg.Host, uint16(t.cfg.port()))
	o := sockOpts{window: t.window, mss: t.mss, noDelay: t.noDelay}
	for i := 0; i < t.parallel; i++ {
		c, err := dial(ctx, h, t.cfg.Bind, raddr, o, t.cfg.ConnectTimeout)
		if err != nil {
			if ie, ok := err.(*Error); ok {
				return ie
			}
			return fail(IEStreamConnect, err)
		}
		if t.json {
			snd, rcv := sockBufs(c.Sock())
			t.jStart.add("sock_bufsize", num(t.window)).add("sndbuf_actual", num(snd)).add("rcvbuf_actual", num(rcv))
		}
		_ = c.SetWriteDeadline(time.Now().Add(ioTimeout))
		if _, err := c.Write(append([]byte(t.cookie), 0)); err != nil {
			c.Close()
			return fail(IESendCookie, err)
		}
		_ = c.SetWriteDeadline(time.Time{})
		if t.congestion != "" {
			if err := c.Sock().SetCongestion(t.congestion); err != nil {
				c.Close()
				return fail(IESetCongestion, err)
			}
		}
		t.congUsed = c.Sock().CongestionName()
		sp := t.addStream(c, t.sender)
		t.onNewStream(sp)
	}
	return nil
}

// addStream is iperf_new_stream and iperf_add_stream: ids 1, 3, 4, 5, …
// (iperf_add_stream counts from 2 for the second), sockets 5, 7, 9, …
func (t *test) addStream(c *inet.TCPConn, sender bool) *stream {
	n := len(t.streams)
	id := 1
	if n > 0 {
		id = n + 2
	}
	sp := &stream{t: t, id: id, socket: 5 + 2*n, sender: sender, conn: c,
		local: c.Sock().LocalAddr(), remote: c.Sock().RemoteAddr(), startTime: t.startTime}
	t.streams = append(t.streams, sp)
	return sp
}

// settle takes each stream's count as its final figure on this end.
func (t *test) settle() {
	for _, sp := range t.streams {
		if sp.sender {
			sp.bytesSent = sp.count.Load()
		} else {
			sp.bytesReceived = sp.count.Load()
		}
	}
}

// closeStreams stops and closes the data connections.
func (t *test) closeStreams() {
	for _, sp := range t.streams {
		sp.stop()
		if !sp.closed {
			sp.closed = true
			_ = sp.conn.Close()
		}
	}
}

// systemInfo is -J's system_info: what iperf3 takes from uname, here the
// host's name on vnic.
func systemInfo(h *stack.Host) string { return "vnic host " + h.Name() }
