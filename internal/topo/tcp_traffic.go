package topo

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"vnic/hw"
	"vnic/stack/ipv4"
	"vnic/stack/tcp"
)

// TCPTraffic is a config's TCP flows running over the hosts' own TCP.
// Each end of a connection is a thread of its host in task context (a
// user process) that runs non-blocking socket calls until one would
// wait, then sleeps until the socket wakes it (sk_data_ready,
// sk_write_space, sk_state_change); each listener is such a thread too.
// The code is the same on both clocks: in virtual time the threads'
// copies are charged to their CPUs and a seed gives the same bytes,
// transactions and timings every run.
type TCPTraffic struct {
	w     *World
	Flows []*TCPRun
	left  atomic.Int64 // connections not finished
}

// TCPRun is one tcp entry running: a listener on the server and the
// client's connections to it.
type TCPRun struct {
	Config TCPFlow
	Addr   netip.AddrPort // what the clients connect to
	t      *TCPTraffic
	lsk    *tcp.Sock
	conns  []*tcpConn
	// A connection with a duration of its own sends for own from when it
	// is established; one without a target until deadline, the
	// topology's duration from the start (0: until Stop).
	own, deadline time.Duration
	stop          atomic.Bool
	mu            sync.Mutex                 // the listener's thread and the starter (real time)
	byPort        map[uint16]*tcpConn        // a client's port: its connection
	bufs          struct{ out, resp []byte } // what clients and servers send (never written)
}

// The ends' states.
const (
	cliConnecting = iota
	cliSending    // bulk
	cliRequest    // rr: writing a request
	cliResponse   // rr: reading the response
	cliDraining   // shut down: waiting for the server's FIN
	srvWaiting    // not accepted yet
	srvReading    // bulk data, or an rr request
	srvResponding // rr
	endDone
)

// tcpConn is one connection, both ends.
type tcpConn struct {
	f          *TCPRun
	mu         sync.Mutex // its two threads and the reader of results (real time)
	cli, srv   *tcp.Sock
	ccpu, scpu *hw.CPU
	cth, sth   *hw.Thread
	timer      hw.Timer // a duration's end: wakes the client
	cst, sst   int
	crbuf      []byte
	srbuf      []byte
	up         bool          // established
	start, end time.Duration // established; the last byte or answer in
	sent, rcvd int64         // bulk: written by the client, read by the server
	trans      int64         // rr: answered requests
	left       int           // rr: the client's request bytes to write, then response bytes to read
	reqAt      time.Duration
	lat        []time.Duration
	srvGot     int // rr: the request's bytes the server has, then the response's it has written
	cinfo      *tcp.TCPInfo
	sinfo      *tcp.TCPInfo
	done       bool
	err        error
}

// readBuf is the most an end reads a call.
const readBuf = 64 << 10

// StartTCP starts the tcp entries of a world built from the config that
// gave them: per entry a listener on the server (bound to the port on
// every address) and the connections from the client. A connection
// without bytes, count or duration of its own sends until until has
// passed from now (the topology's duration); until 0 lets it send until
// Stop. In real time it first
// waits (up to 5 s) for the links to come up.
func StartTCP(w *World, flows []TCPFlow, until time.Duration) (*TCPTraffic, error) {
	t := &TCPTraffic{w: w}
	if len(flows) > 0 && w.VClock == nil {
		w.waitCarrier(5 * time.Second) // a SYN into a link still negotiating waits a second for its retransmission
	}
	for i, fc := range flows {
		f, err := t.start(i, fc, until)
		if f != nil {
			t.Flows = append(t.Flows, f)
		}
		if err != nil {
			t.Close()
			return nil, fmt.Errorf("tcp[%d]: %w", i, err)
		}
	}
	return t, nil
}

func (t *TCPTraffic) start(i int, fc TCPFlow, until time.Duration) (*TCPRun, error) {
	cli, srv := t.w.Host(fc.Client), t.w.Host(fc.Server)
	if cli == nil || srv == nil {
		return nil, fmt.Errorf("no host %q or %q", fc.Client, fc.Server)
	}
	cp, sp := tcp.Of(ipv4.Of(cli.Stack)), tcp.Of(ipv4.Of(srv.Stack))
	if cp == nil || sp == nil {
		return nil, fmt.Errorf("%s and %s must run IPv4: %w", fc.Client, fc.Server, syscall.EAFNOSUPPORT)
	}
	addr, err := t.w.serverAddr(fc)
	if err != nil {
		return nil, err
	}
	f := &TCPRun{Config: fc, Addr: netip.AddrPortFrom(addr, uint16(fc.Port)), t: t, byPort: map[uint16]*tcpConn{}}
	if f.own = fc.Duration; fc.Bytes == 0 && fc.Count == 0 && fc.Duration == 0 && until > 0 {
		f.deadline = t.w.Clock.Now() + until
	}
	switch fc.Type {
	case TCPBulk:
		f.bufs.out = make([]byte, fc.MessageSize)
	case TCPRR:
		f.bufs.out, f.bufs.resp = make([]byte, fc.RequestSize), make([]byte, fc.ResponseSize)
	default:
		return nil, fmt.Errorf("type %q: want bulk or rr", fc.Type)
	}
	f.lsk = sp.NewSocket()
	if err := f.options(f.lsk); err != nil {
		return f, err
	}
	if err := f.lsk.Bind(netip.AddrPortFrom(netip.IPv4Unspecified(), uint16(fc.Port))); err != nil {
		return f, fmt.Errorf("listen on %s port %d: %w", fc.Server, fc.Port, err)
	}
	if err := f.lsk.Listen(fc.Connections); err != nil {
		return f, err
	}
	lth := srv.CPUs[i%len(srv.CPUs)].NewThread(fmt.Sprintf("tcp[%d] listener", i), f.acceptStep)
	f.lsk.OnWake(lth.Wake)
	f.mu.Lock()
	defer f.mu.Unlock() // accept finds a connection once it is listed
	for j := 0; j < fc.Connections; j++ {
		c := &tcpConn{f: f, ccpu: cli.CPUs[(i+j)%len(cli.CPUs)], scpu: srv.CPUs[(i+j)%len(srv.CPUs)], sst: srvWaiting,
			crbuf: make([]byte, 1<<10), srbuf: make([]byte, readBuf)}
		if fc.Type == TCPRR {
			c.crbuf, c.srbuf = make([]byte, min(readBuf, fc.ResponseSize)), make([]byte, min(readBuf, fc.RequestSize))
		}
		c.cth = c.ccpu.NewThread(fmt.Sprintf("tcp[%d] client %d", i, j), c.clientStep)
		c.sth = c.scpu.NewThread(fmt.Sprintf("tcp[%d] server %d", i, j), c.serverStep)
		c.timer = t.w.Clock.NewTimer(c.cth.Wake)
		f.conns = append(f.conns, c)
		t.left.Add(1)
		c.cli = cp.NewSocket()
		c.cli.OnWake(c.cth.Wake)
		if err := f.options(c.cli); err != nil {
			return f, err
		}
		if err := c.cli.Connect(f.Addr); !errors.Is(err, syscall.EINPROGRESS) {
			c.fail(fmt.Errorf("connect %v: %w", f.Addr, err))
			continue
		}
		f.byPort[c.cli.LocalAddr().Port()] = c
		c.cth.Wake()
	}
	return f, nil
}

// serverAddr is the address a flow's clients connect to: its own, or the
// server's first in the config.
func (w *World) serverAddr(fc TCPFlow) (netip.Addr, error) {
	if fc.Address != "" {
		return netip.ParseAddr(fc.Address)
	}
	for _, hc := range w.cfg.Hosts {
		if hc.Name == fc.Server {
			if a := hc.addrs(); len(a) > 0 {
				return a[0], nil
			}
		}
	}
	return netip.Addr{}, fmt.Errorf("server %s has no address: %w", fc.Server, syscall.EDESTADDRREQ)
}

// options sets the flow's socket options on sk (a listener's pass to the
// connections it accepts).
func (f *TCPRun) options(sk *tcp.Sock) error {
	if f.Config.NoDelay {
		if err := sk.SetsockoptInt(tcp.SolTCP, tcp.TCPNoDelay, 1); err != nil {
			return err
		}
	}
	if f.Config.Congestion != "" {
		return sk.SetCongestion(f.Config.Congestion)
	}
	return nil
}

// acceptStep is the listener's thread: one connection accepted and handed
// to its server thread.
func (f *TCPRun) acceptStep() bool {
	sk, err := f.lsk.Accept()
	if err != nil {
		return false // EAGAIN, or the listener closed
	}
	f.mu.Lock()
	c := f.byPort[sk.RemoteAddr().Port()]
	f.mu.Unlock()
	if c == nil {
		sk.Close() // not one of the flow's clients
		return true
	}
	c.mu.Lock()
	if c.done || c.srv != nil {
		c.mu.Unlock()
		sk.Close()
		return true
	}
	c.srv, c.sst = sk, srvReading
	c.mu.Unlock()
	sk.OnWake(c.sth.Wake)
	c.sth.Wake() // what came before the wake-up was set
	return true
}

// again reports whether err says the call would wait.
func again(err error) bool { return errors.Is(err, syscall.EAGAIN) }

// clientStep is a connection's client thread: one call, and whether it
// has more to do.
func (c *tcpConn) clientStep() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	f := &c.f.Config
	switch c.cst {
	case cliConnecting:
		done, err := c.cli.ConnectDone()
		if err != nil {
			c.fail(fmt.Errorf("connect %v: %w", c.f.Addr, err))
			return false
		}
		if !done {
			return false
		}
		c.start, c.up = c.ccpu.Now(), true
		now := c.f.t.w.Clock.Now() // start has the step's work so far in it
		switch {
		case c.f.own > 0:
			c.timer.Reset(c.start + c.f.own - now)
		case c.f.deadline > 0:
			c.timer.Reset(max(0, c.f.deadline-now))
		}
		c.cst, c.left = cliSending, f.RequestSize
		if f.Type == TCPRR {
			c.cst = cliRequest
		}
		return true
	case cliSending:
		if c.finished() {
			return c.shutdown()
		}
		k := int64(len(c.f.bufs.out))
		if f.Bytes > 0 {
			k = min(k, f.Bytes-c.sent)
		}
		n, err := c.cli.Write(c.f.bufs.out[:k])
		c.sent += int64(n)
		return c.ok(err)
	case cliRequest:
		if c.left == f.RequestSize {
			if c.finished() {
				return c.shutdown()
			}
			c.reqAt = c.ccpu.Now()
		}
		n, err := c.cli.Write(c.f.bufs.out[f.RequestSize-c.left:])
		if c.left -= n; c.left == 0 {
			c.cst, c.left = cliResponse, f.ResponseSize
		}
		return c.ok(err)
	case cliResponse:
		n, err := c.cli.Read(c.crbuf[:min(len(c.crbuf), c.left)])
		if err == nil && n == 0 {
			c.fail(fmt.Errorf("the server closed with %d bytes of an answer to come", c.left))
			return false
		}
		if c.left -= n; c.left == 0 {
			now := c.ccpu.Now()
			c.trans++
			c.lat = append(c.lat, now-c.reqAt)
			c.end = now
			c.cst, c.left = cliRequest, f.RequestSize
		}
		return c.ok(err)
	case cliDraining:
		n, err := c.cli.Read(c.crbuf)
		if err != nil || n > 0 {
			return c.ok(err)
		}
		// The server's FIN: it has read everything and closed.
		info := c.cli.Info()
		c.cinfo, c.cst = &info, endDone
		c.cli.Close()
		c.finish()
	}
	return false
}

// finished reports whether the client has done its work: its target
// reached, its time up, or the flow stopped.
func (c *tcpConn) finished() bool {
	f := &c.f.Config
	switch {
	case c.f.stop.Load():
		return true
	case f.Bytes > 0:
		return c.sent >= f.Bytes
	case f.Count > 0:
		return c.trans >= f.Count
	}
	now := c.ccpu.Now()
	return c.f.own > 0 && now-c.start >= c.f.own || c.f.deadline > 0 && now >= c.f.deadline
}

// shutdown ends the client's sending (the FIN after the data).
func (c *tcpConn) shutdown() bool {
	c.timer.Stop()
	if err := c.cli.Shutdown(tcp.ShutWr); err != nil {
		c.fail(fmt.Errorf("shutdown: %w", err))
		return false
	}
	c.cst = cliDraining
	return true
}

// ok is an end's answer to a call's error: go on (nil), sleep until the
// socket wakes it (EAGAIN), or fail the connection.
func (c *tcpConn) ok(err error) bool {
	switch {
	case err == nil:
		return true
	case again(err):
		return false
	}
	c.fail(err)
	return false
}

// serverStep is a connection's server thread.
func (c *tcpConn) serverStep() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	f := &c.f.Config
	switch c.sst {
	case srvReading:
		k := len(c.srbuf)
		if f.Type == TCPRR {
			k = min(k, f.RequestSize-c.srvGot)
		}
		n, err := c.srv.Read(c.srbuf[:k])
		if err == nil && n == 0 {
			if c.srvGot > 0 {
				c.fail(fmt.Errorf("the client closed %d bytes into a request", c.srvGot))
				return false
			}
			info := c.srv.Info()
			c.sinfo, c.sst = &info, endDone
			c.srv.Close()
			c.finish()
			return false
		}
		if f.Type == TCPBulk {
			if n > 0 {
				c.rcvd += int64(n)
				c.end = c.scpu.Now()
			}
		} else if c.srvGot += n; c.srvGot == f.RequestSize {
			c.sst, c.srvGot = srvResponding, 0
		}
		return c.ok(err)
	case srvResponding:
		n, err := c.srv.Write(c.f.bufs.resp[c.srvGot:])
		if c.srvGot += n; c.srvGot == f.ResponseSize {
			c.sst, c.srvGot = srvReading, 0
		}
		return c.ok(err)
	}
	return false
}

// finish counts the connection done once both ends are.
func (c *tcpConn) finish() {
	if c.done || c.cst != endDone || c.sst != endDone {
		return
	}
	c.done = true
	c.timer.Stop()
	if f := &c.f.Config; f.Type == TCPBulk && c.rcvd != c.sent && c.err == nil {
		c.err = fmt.Errorf("the server read %d of the %d bytes sent", c.rcvd, c.sent)
	}
	c.f.t.left.Add(-1)
}

// fail ends the connection with err: both ends closed (a reset where
// data is left).
func (c *tcpConn) fail(err error) {
	if c.done {
		return
	}
	if c.err == nil {
		c.err = err
	}
	c.closeEnds()
	c.finish()
}

// closeEnds closes what is open of the connection, keeping each end's
// TCP_INFO.
func (c *tcpConn) closeEnds() {
	if c.cli != nil && c.cst != endDone {
		info := c.cli.Info()
		c.cinfo = &info
		c.cli.Close()
	}
	if c.srv != nil && c.sst != endDone {
		info := c.srv.Info()
		c.sinfo = &info
		c.srv.Close()
	}
	c.cst, c.sst = endDone, endDone
}

// Stop tells every client to end: after the write or transaction under
// way it shuts its side down, and the connection closes as usual.
func (t *TCPTraffic) Stop() {
	for _, f := range t.Flows {
		f.stop.Store(true)
		for _, c := range f.conns {
			c.cth.Wake()
		}
	}
}

// Done reports whether every connection has finished.
func (t *TCPTraffic) Done() bool { return t == nil || t.left.Load() == 0 }

// Wait runs the world until every connection has finished or limit has
// passed on its clock (virtual time: in steps of 20 µs; real time: it
// sleeps), and reports whether they all have.
func (t *TCPTraffic) Wait(limit time.Duration) bool {
	if t == nil {
		return true
	}
	end := t.w.Clock.Now() + limit
	for !t.Done() && t.w.Clock.Now() < end {
		if t.w.VClock != nil {
			t.w.Run(min(20*time.Microsecond, end-t.w.Clock.Now()))
		} else {
			time.Sleep(time.Millisecond)
		}
	}
	return t.Done()
}

// Close closes every socket still open (a connection not finished ends
// with an error) and the listeners.
func (t *TCPTraffic) Close() {
	if t == nil {
		return
	}
	for _, f := range t.Flows {
		for _, c := range f.conns {
			c.mu.Lock()
			c.fail(errors.New("closed before it finished"))
			c.mu.Unlock()
		}
		if f.lsk != nil {
			f.lsk.Close()
		}
	}
}
