package iperf3

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"vnic/stack"
	"vnic/stack/inet"
	"vnic/stack/ipv4"
	"vnic/stack/tcp"
)

// iperf_tcp.c and net.c: the test's sockets on a vnic host, through the
// stack's public socket calls (safe from any goroutine on a real-time
// host).

// sockOpts are what iperf3 sets on its data sockets before they connect
// (the client) or on the listener they are accepted from (the server).
type sockOpts struct {
	window  int // SO_SNDBUF and SO_RCVBUF
	mss     int // TCP_MAXSEG
	noDelay bool
}

func (o sockOpts) any() bool { return o.window != 0 || o.mss != 0 || o.noDelay }

// apply sets o on sk, each failure with iperf3's code.
func (o sockOpts) apply(sk *tcp.Sock) error {
	if o.noDelay {
		if err := sk.SetsockoptInt(tcp.SolTCP, tcp.TCPNoDelay, 1); err != nil {
			return fail(IESetNoDelay, err)
		}
	}
	if o.mss != 0 {
		if err := sk.SetsockoptInt(tcp.SolTCP, tcp.TCPMaxSeg, o.mss); err != nil {
			return fail(IESetMSS, err)
		}
	}
	if o.window != 0 {
		if err := sk.SetsockoptInt(tcp.SolSocket, tcp.SoSndBuf, o.window); err != nil {
			return fail(IESetBuf, err)
		}
		if err := sk.SetsockoptInt(tcp.SolSocket, tcp.SoRcvBuf, o.window); err != nil {
			return fail(IESetBuf, err)
		}
	}
	return nil
}

// errRealTime is vnic's refusal of a host on the virtual clock: iperf3
// measures the wall clock, which a virtual-time topology does not follow.
var errRealTime = fmt.Errorf("iperf3: iperf3 runs on real-time hosts only (vnic up --time real): %w", syscall.EOPNOTSUPP)

// tcpOf is the host's TCP.
func tcpOf(h *stack.Host) (*tcp.Proto, error) {
	if h.Clock().Virtual() {
		return nil, errRealTime
	}
	in := ipv4.Of(h)
	if in == nil {
		return nil, fmt.Errorf("iperf3: host %s has no IPv4: %w", h.Name(), syscall.EAFNOSUPPORT)
	}
	p := tcp.Of(in)
	if p == nil {
		return nil, fmt.Errorf("iperf3: host %s has no TCP: %w", h.Name(), syscall.EPROTONOSUPPORT)
	}
	return p, nil
}

// dial is netdial and iperf_tcp_connect: a socket with o set, bound to
// laddr when given, connected to raddr within timeout (0: the stack's
// SYN retries) or until ctx ends.
func dial(ctx context.Context, h *stack.Host, laddr netip.Addr, raddr netip.AddrPort, o sockOpts, timeout time.Duration) (*inet.TCPConn, error) {
	p, err := tcpOf(h)
	if err != nil {
		return nil, err
	}
	sk := p.NewSocket()
	if err := o.apply(sk); err != nil {
		_ = sk.Close()
		return nil, err
	}
	if laddr.IsValid() {
		if err := sk.Bind(netip.AddrPortFrom(laddr, 0)); err != nil {
			_ = sk.Close()
			return nil, err
		}
	}
	if err := sk.Connect(raddr); !errors.Is(err, syscall.EINPROGRESS) {
		_ = sk.Close()
		if err == nil {
			err = syscall.EINVAL
		}
		return nil, err
	}
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	if dl, ok := ctx.Deadline(); ok && (deadline.IsZero() || dl.Before(deadline)) {
		deadline = dl
	}
	stop := context.AfterFunc(ctx, sk.Kick)
	defer stop()
	for {
		if err := ctx.Err(); err != nil {
			_ = sk.Close()
			return nil, err
		}
		if err := sk.Wait(sk.Connected, deadline); err != nil {
			_ = sk.Close()
			if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
				err = syscall.ETIMEDOUT
			}
			return nil, err
		}
		done, err := sk.ConnectDone()
		if err != nil {
			_ = sk.Close()
			return nil, err
		}
		if done {
			return inet.NewTCPConn(sk), nil
		}
	}
}

// listen is netannounce and iperf_tcp_listen: a listener on laddr with
// o set, so that the connections accepted from it have them.
func listen(h *stack.Host, laddr netip.AddrPort, o sockOpts) (*inet.TCPListener, error) {
	if _, err := tcpOf(h); err != nil {
		return nil, err
	}
	l, err := inet.ListenTCP(h, "tcp", laddr.String())
	if err != nil {
		return nil, err
	}
	if err := o.apply(l.Sock()); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

// readFull reads len(b) bytes from c within d (Nread with a bound).
func readFull(c *inet.TCPConn, b []byte, d time.Duration) error {
	if d > 0 {
		_ = c.SetReadDeadline(time.Now().Add(d))
		defer c.SetReadDeadline(time.Time{})
	}
	_, err := io.ReadFull(c, b)
	return err
}

// writeState is iperf_set_send_state's write: one signed byte.
func writeState(c *inet.TCPConn, state int8) error {
	_, err := c.Write([]byte{byte(state)})
	return err
}

// sockBufs are SO_SNDBUF and SO_RCVBUF as getsockopt reports them.
func sockBufs(sk *tcp.Sock) (snd, rcv int) {
	snd, _ = sk.GetsockoptInt(tcp.SolSocket, tcp.SoSndBuf)
	rcv, _ = sk.GetsockoptInt(tcp.SolSocket, tcp.SoRcvBuf)
	return snd, rcv
}

// run is the stream's data goroutine, iperf_tcp_send or iperf_tcp_recv
// in a loop: blocks of the test's length written (the random block of
// iperf_new_stream) or read, each counted, until stop. A failure while
// the test runs goes to the test (IEStreamWrite, IEStreamRead); the
// sender's end of file ends the receiver quietly.
func (sp *stream) run(errs chan<- error) {
	defer close(sp.ended)
	buf := make([]byte, sp.t.blksize)
	if sp.sender {
		_, _ = rand.Read(buf)
	}
	for {
		select {
		case <-sp.quit:
			return
		default:
		}
		var n int
		var err error
		if sp.sender {
			n, err = sp.conn.Write(buf)
		} else {
			n, err = sp.conn.Read(buf)
		}
		sp.count.Add(int64(n))
		if err == nil {
			continue
		}
		select {
		case <-sp.quit:
			return
		default:
		}
		if !sp.sender && errors.Is(err, io.EOF) {
			return
		}
		code := IEStreamRead
		if sp.sender {
			code = IEStreamWrite
		}
		select {
		case errs <- fail(code, err):
		default:
		}
		return
	}
}

// start runs the data goroutine.
func (sp *stream) start(errs chan<- error) {
	sp.quit, sp.ended = make(chan struct{}), make(chan struct{})
	go sp.run(errs)
}

// stop ends the data goroutine (a blocked write or read gives up at
// once) and waits for it: the count is final.
func (sp *stream) stop() {
	if sp.quit == nil {
		return
	}
	select {
	case <-sp.quit:
	default:
		close(sp.quit)
	}
	now := time.Now()
	_ = sp.conn.SetDeadline(now)
	<-sp.ended
	_ = sp.conn.SetDeadline(time.Time{})
}

// What the server's acceptor does with a new connection.
const (
	phaseIdle    = iota // the first is the control connection
	phaseBusy           // ACCESS_DENIED, without reading from it
	phaseStreams        // a data stream: its cookie is read and handed over
)

type accepted struct {
	conn   *inet.TCPConn
	cookie string
	err    error // accept's (the listener failed), or the cookie's read
}

// acceptor accepts from one listener: iperf_accept and iperf_tcp_accept.
type acceptor struct {
	l     *inet.TCPListener
	conns chan<- accepted
	phase *atomic.Int32
	quit  chan struct{}
	done  chan struct{}
}

func startAcceptor(l *inet.TCPListener, conns chan<- accepted, phase *atomic.Int32) *acceptor {
	a := &acceptor{l: l, conns: conns, phase: phase, quit: make(chan struct{}), done: make(chan struct{})}
	go a.run()
	return a
}

func (a *acceptor) run() {
	defer close(a.done)
	for {
		nc, err := a.l.Accept()
		if err != nil {
			select {
			case a.conns <- accepted{err: err}:
			case <-a.quit:
			}
			return
		}
		c := nc.(*inet.TCPConn)
		var x accepted
		switch {
		case a.phase.CompareAndSwap(phaseIdle, phaseBusy):
			x.conn = c
		case a.phase.Load() == phaseStreams:
			b := make([]byte, cookieSize)
			x.conn, x.err = c, readFull(c, b, cookieTimeout)
			x.cookie = cString(b)
		default:
			// Busy: told so at once; nothing is read from it (that
			// could hold up the test).
			_ = c.SetWriteDeadline(time.Now().Add(time.Second))
			_ = writeState(c, accessDenied)
			_ = c.Close()
			continue
		}
		select {
		case a.conns <- x:
		case <-a.quit:
			_ = c.Close()
			return
		}
	}
}

// stop closes the listener and waits for the acceptor.
func (a *acceptor) stop() {
	close(a.quit)
	_ = a.l.Close()
	<-a.done
}

// server is one test's listening side.
type server struct {
	h     *stack.Host
	laddr netip.AddrPort
	conns chan accepted
	phase atomic.Int32
	acc   *acceptor
}

// relisten replaces the listener by one with o set (iperf_tcp_listen's
// fresh socket when -w, -M or -N asked for one; a plain one after the
// streams).
func (s *server) relisten(o sockOpts) error {
	s.acc.stop()
	l, err := listen(s.h, s.laddr, o)
	if err != nil {
		return fail(IEStreamListen, err)
	}
	s.acc = startAcceptor(l, s.conns, &s.phase)
	return nil
}
