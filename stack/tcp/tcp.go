package tcp

import (
	"fmt"
	"net/netip"
	"os"
	"syscall"
	"time"

	"vnic/header"
	"vnic/stack/sock"
)

// The socket calls, as af_inet.c and tcp.c answer them. None waits: a
// call that would block answers EAGAIN (connect: EINPROGRESS, then
// EALREADY), and the caller waits for a wake-up (Wait, or OnWake on the
// virtual clock) and calls again.

func errf(err syscall.Errno, format string, a ...any) error {
	return fmt.Errorf("stack: tcp: "+format+": %w", append(a, err)...)
}

// The would-block answers, made once: a busy poller meets them often and
// they must not allocate.
var (
	errAcceptAgain    = errf(syscall.EAGAIN, "accept: no connection queued")
	errSendConnecting = errf(syscall.EAGAIN, "send: not yet connected")
	errSendFull       = errf(syscall.EAGAIN, "send: the send buffer is full")
	errRecvConnecting = errf(syscall.EAGAIN, "recv: not yet connected")
	errRecvAgain      = errf(syscall.EAGAIN, "recv: nothing to read")
)

// Bind is bind(2): laddr's address must be the host's (or unspecified),
// its port free (0: an ephemeral one).
func (sk *Sock) Bind(laddr netip.AddrPort) error {
	sk.mu.Lock()
	defer sk.mu.Unlock()
	if sk.state != Closed || sk.bound {
		return errf(syscall.EINVAL, "bind: already bound")
	}
	var a [4]byte
	if laddr.Addr().IsValid() && !laddr.Addr().IsUnspecified() {
		if !laddr.Addr().Is4() {
			return errf(syscall.EAFNOSUPPORT, "bind %v", laddr)
		}
		a = laddr.Addr().As4()
		if !sk.p.in.IsLocalAddr(a) {
			return errf(syscall.EADDRNOTAVAIL, "bind %v", laddr)
		}
	}
	port, err := sk.p.bind(sk, a, laddr.Port())
	if err != nil {
		return err
	}
	sk.laddr, sk.lport, sk.bound = a, port, true
	return nil
}

// Listen is listen(2): backlog is clamped to net.core.somaxconn.
func (sk *Sock) Listen(backlog int) error {
	sk.mu.Lock()
	defer sk.mu.Unlock()
	switch sk.state {
	case Listen:
		sk.backlog = sk.clampBacklog(backlog)
		return nil
	case Closed:
	default:
		return errf(syscall.EINVAL, "listen in %v", sk.state)
	}
	if !sk.bound {
		port, err := sk.p.bind(sk, [4]byte{}, 0)
		if err != nil {
			return err
		}
		sk.lport, sk.bound = port, true
	}
	p := sk.p
	p.mu.Lock()
	for _, o := range p.lhash[sk.lport] {
		// inet_csk_get_port's check again: a port with SO_REUSEADDR
		// sharers cannot become a listener's while they hold it. The
		// listeners are lhash's (p.mu), never read from o.state, which
		// is o.mu's.
		if o != sk && (o.laddr == sk.laddr || o.laddr == [4]byte{} || sk.laddr == [4]byte{}) {
			p.mu.Unlock()
			return errf(syscall.EADDRINUSE, "listen on port %d", sk.lport)
		}
	}
	p.lhash[sk.lport] = append(p.lhash[sk.lport], sk)
	p.mu.Unlock()
	sk.backlog = sk.clampBacklog(backlog)
	sk.lpending = map[*request]struct{}{}
	sk.state = Listen
	return nil
}

func (sk *Sock) clampBacklog(n int) int {
	if m := sk.p.conf().Somaxconn; n > m || n < 0 {
		n = m
	}
	return n
}

// Connect is connect(2): the SYN goes out and the answer is
// EINPROGRESS; once the handshake is done (or failed) a second call
// answers 0 (or the error). A call while it is under way: EALREADY.
func (sk *Sock) Connect(raddr netip.AddrPort) error {
	sk.mu.Lock()
	defer sk.mu.Unlock()
	switch sk.state {
	case SynSent, SynRecv:
		return errf(syscall.EALREADY, "connect")
	case Established, CloseWait, FinWait1, FinWait2, Closing, LastAck, TimeWait:
		if sk.err == nil {
			return errf(syscall.EISCONN, "connect")
		}
	case Listen:
		return errf(syscall.EISCONN, "connect")
	}
	if sk.err != nil {
		err := sk.err
		sk.err = nil
		return err
	}
	if !raddr.Addr().Is4() || raddr.Port() == 0 {
		return errf(syscall.EINVAL, "connect %v", raddr)
	}
	return sk.connectLocked(raddr.Addr().As4(), raddr.Port())
}

// ConnectDone reports, after Connect answered EINPROGRESS, whether the
// handshake is over, and its error (SO_ERROR).
func (sk *Sock) ConnectDone() (bool, error) {
	sk.mu.Lock()
	defer sk.mu.Unlock()
	if sk.state == SynSent || sk.state == SynRecv {
		return false, nil
	}
	err := sk.err
	sk.err = nil
	return true, err
}

// Accept is accept(2): the oldest established connection; EAGAIN when
// none is queued.
func (sk *Sock) Accept() (*Sock, error) {
	sk.mu.Lock()
	defer sk.mu.Unlock()
	if sk.state != Listen {
		return nil, errf(syscall.EINVAL, "accept on a socket not listening")
	}
	if len(sk.acceptQ) == 0 {
		return nil, errAcceptAgain
	}
	c := sk.acceptQ[0]
	sk.acceptQ = sk.acceptQ[1:]
	c.mu.Lock()
	c.parent = nil
	c.mu.Unlock()
	return c, nil
}

// Write is send(2) without flags.
func (sk *Sock) Write(b []byte) (int, error) { return sk.Send(b, 0) }

// Flags of Send and Recv.
const (
	MsgOOB      = 0x1
	MsgPeek     = 0x2
	MsgDontWait = 0x40
	MsgWaitAll  = 0x100
	MsgMore     = 0x8000
)

// Send is tcp_sendmsg: b is copied into the write queue as far as the
// send buffer allows (EAGAIN when none of it fits) and sent as the
// windows, Nagle and corking let. With MSG_OOB the last byte copied is
// urgent (tcp_mark_urg), and Nagle does not hold it back.
func (sk *Sock) Send(b []byte, flags int) (int, error) {
	sk.mu.Lock()
	defer sk.mu.Unlock()
	if sk.mstampRefresh() {
		defer sk.mstampEnd()
	}
	if sk.err != nil {
		err := sk.err
		sk.err = nil
		return 0, err
	}
	if sk.wrShut {
		return 0, errf(syscall.EPIPE, "send after shutdown")
	}
	switch sk.state {
	case Established, CloseWait:
	case SynSent, SynRecv:
		return 0, errSendConnecting
	default:
		return 0, errf(syscall.EPIPE, "send in %v", sk.state)
	}
	if len(b) == 0 {
		return 0, nil
	}
	n := sk.queueData(b, flags&MsgMore != 0, flags&MsgOOB != 0)
	if n == 0 {
		return 0, errSendFull
	}
	sk.p.in.Host().CPUs()[0].ChargeCopy(n)
	return n, nil
}

// Read is recv(2) without flags.
func (sk *Sock) Read(b []byte) (int, error) { return sk.Recv(b, 0) }

// Recv is tcp_recvmsg: in-order data (MSG_PEEK leaves it queued) up to
// the urgent mark, the urgent byte itself skipped unless SO_OOBINLINE;
// 0 at the peer's FIN; EAGAIN when nothing is there yet. MSG_OOB reads
// the urgent byte (tcp_recv_urg).
func (sk *Sock) Recv(b []byte, flags int) (int, error) {
	sk.mu.Lock()
	defer sk.mu.Unlock()
	if sk.state == Listen {
		return 0, errf(syscall.ENOTCONN, "recv on a listener")
	}
	if flags&MsgOOB != 0 {
		return sk.recvUrg(b, flags)
	}
	if sk.rq.Len() == 0 {
		if sk.err != nil {
			err := sk.err
			sk.err = nil
			return 0, err
		}
		if sk.rdShut || sk.finRcvd || sk.state == Closed && sk.iss != 0 {
			return 0, nil
		}
		if sk.state == Closed {
			return 0, errf(syscall.ENOTCONN, "recv")
		}
		if sk.state == SynSent || sk.state == SynRecv {
			return 0, errRecvConnecting
		}
		return 0, errRecvAgain
	}
	if len(b) == 0 {
		return 0, nil
	}
	if flags&MsgPeek != 0 {
		n, _ := sk.readStream(b, true)
		if n == 0 {
			return 0, errRecvAgain
		}
		return n, nil
	}
	n, consumed := sk.readStream(b, false)
	sk.rq.Discard(consumed)
	sk.copiedSeq += uint32(consumed)
	if n == 0 {
		return 0, errRecvAgain // only an urgent byte, out of band
	}
	sk.p.in.Host().CPUs()[0].ChargeCopy(n)
	sk.rcvSpaceAdjust(n)
	sk.cleanupRbuf(n)
	return n, nil
}

// Shutdown how: SHUT_RD, SHUT_WR, SHUT_RDWR.
const (
	ShutRd   = 0
	ShutWr   = 1
	ShutRdWr = 2
)

// Shutdown is shutdown(2): SHUT_WR queues a FIN after the data (in the
// states that may send one); SHUT_RD makes reads answer 0.
func (sk *Sock) Shutdown(how int) error {
	sk.mu.Lock()
	defer sk.mu.Unlock()
	if how < ShutRd || how > ShutRdWr {
		return errf(syscall.EINVAL, "shutdown %d", how)
	}
	switch sk.state {
	case Closed, SynSent:
		if sk.state == SynSent {
			sk.doneLocked(nil)
			return nil
		}
		return errf(syscall.ENOTCONN, "shutdown")
	case Listen:
		if how != ShutWr {
			sk.closeListener()
			sk.setState(Closed)
		}
		return nil
	}
	if how == ShutRd || how == ShutRdWr {
		sk.rdShut = true
	}
	if how == ShutWr || how == ShutRdWr {
		if !sk.wrShut {
			sk.wrShut = true
			switch sk.state {
			case Established, SynRecv:
				sk.setState(FinWait1)
				sk.sendFin()
			case CloseWait:
				sk.setState(LastAck)
				sk.sendFin()
			}
		}
	}
	sk.wakeUp()
	return nil
}

// Close is tcp_close: a listener drops its queues; unread data makes the
// close a reset (RFC 2525 2.17); a zero linger aborts; otherwise the
// FIN follows the data and the socket finishes as an orphan.
func (sk *Sock) Close() error {
	sk.mu.Lock()
	defer sk.mu.Unlock()
	if sk.userClosed {
		return errf(syscall.EBADF, "close")
	}
	sk.userClosed = true
	sk.rdShut, sk.wrShut = true, true
	st := &sk.p.Stats
	switch sk.state {
	case Closed:
		sk.setState(Closed) // unbinds
		sk.release()
		return nil
	case Listen:
		sk.closeListener()
		sk.setState(Closed)
		sk.release()
		return nil
	case SynSent:
		sk.setState(Closed)
		sk.release()
		return nil
	}
	unread := sk.rq.Len()
	sk.rq.Reset()
	switch {
	case unread > 0:
		st.ExtTCPAbortOnClose.Add(1)
		sk.sendActiveReset()
		sk.setState(Closed)
	case sk.lingerOn && sk.linger == 0:
		st.ExtTCPAbortOnData.Add(1)
		sk.sendActiveReset()
		sk.setState(Closed)
	default:
		switch sk.state {
		case Established, SynRecv:
			sk.setState(FinWait1)
			sk.sendFin()
		case CloseWait:
			sk.setState(LastAck)
			sk.sendFin()
		}
		if sk.state != Closed {
			sk.p.mu.Lock()
			sk.orphan = true
			sk.p.orphan++
			sk.p.mu.Unlock()
			if sk.state == FinWait2 {
				sk.armFinWait2()
			}
		}
	}
	sk.release()
	return nil
}

// release counts the socket gone from the user's side.
func (sk *Sock) release() {
	sk.p.mu.Lock()
	sk.p.socks--
	sk.p.mu.Unlock()
}

// closeListener is inet_csk_listen_stop: queued connections that were
// never accepted are reset, half-open ones forgotten.
func (sk *Sock) closeListener() {
	p := sk.p
	p.mu.Lock()
	for r := range sk.lpending {
		delete(p.reqs, r.tuple())
		r.timer.Stop()
	}
	p.mu.Unlock()
	sk.lpending = nil
	q := sk.acceptQ
	sk.acceptQ = nil
	for _, c := range q {
		c.mu.Lock()
		c.parent = nil
		c.userClosed = true
		if c.state != Closed {
			c.sendActiveReset()
			c.setState(Closed)
		}
		c.mu.Unlock()
	}
}

// Poll events.
const (
	PollIn    = 0x1
	PollPri   = 0x2
	PollOut   = 0x4
	PollErr   = 0x8
	PollHup   = 0x10
	PollRdHup = 0x2000
)

// Poll is tcp_poll: what a poll(2) on the socket reports now.
func (sk *Sock) Poll() int {
	sk.mu.Lock()
	defer sk.mu.Unlock()
	if sk.state == Listen {
		if len(sk.acceptQ) > 0 {
			return PollIn
		}
		return 0
	}
	ev := 0
	if sk.err != nil {
		ev |= PollErr
	}
	if (sk.rdShut && sk.wrShut) || sk.state == Closed {
		ev |= PollHup
	}
	if sk.rdShut || sk.finRcvd {
		ev |= PollIn | PollRdHup
	}
	if sk.state != SynSent && sk.state != SynRecv && sk.state != Closed || sk.state == Closed && sk.iss != 0 {
		if sk.rq.Len() >= sk.readTarget() {
			ev |= PollIn
		}
		if sk.urgData&urgValid != 0 {
			ev |= PollPri
		}
		if !sk.wrShut {
			if sk.writeable() {
				ev |= PollOut
			}
		} else {
			ev |= PollOut
		}
	}
	return ev
}

// Wait blocks a real-time caller until ready reports true (checked
// under the socket's lock after every wake-up), the deadline passes
// (os.ErrDeadlineExceeded; zero: none) or Kick is called (nil: the
// caller looks again, at a new deadline say). On the virtual clock it
// does not wait: the answer is EAGAIN unless ready already holds.
func (sk *Sock) Wait(ready func() bool, deadline time.Time) error {
	sk.mu.Lock()
	defer sk.mu.Unlock()
	kicks := sk.kicks
	clk := sk.host().Clock()
	if clk.Virtual() {
		if ready() {
			return nil
		}
		return errf(syscall.EAGAIN, "wait on the virtual clock")
	}
	var stop interface{ Stop() bool }
	defer func() {
		if stop != nil {
			stop.Stop()
		}
	}()
	for !ready() && sk.kicks == kicks {
		if !deadline.IsZero() {
			if clk.Now() >= clk.At(deadline) {
				return os.ErrDeadlineExceeded
			}
			if stop == nil {
				stop = sock.Timer(clk, deadline, &sk.mu, sk.cond)
			}
		}
		sk.cond.Wait()
	}
	return nil
}

// Kick wakes every Wait on the socket.
func (sk *Sock) Kick() {
	sk.mu.Lock()
	sk.kicks++
	sk.cond.Broadcast()
	sk.mu.Unlock()
}

// Proto returns the TCP the socket belongs to.
func (sk *Sock) Proto() *Proto { return sk.p }

// Readable and the others are Wait's usual conditions (called with the
// socket's lock held, as Wait calls them).
func (sk *Sock) Readable() bool {
	return sk.rq.Len() > 0 || sk.err != nil || sk.rdShut || sk.finRcvd || sk.state == Closed
}

// Writable: room in the send buffer, or an end to writing.
func (sk *Sock) Writable() bool {
	return sk.writeable() && sk.state != SynSent && sk.state != SynRecv ||
		sk.err != nil || sk.wrShut || sk.state == Closed
}

// WriteSpace reports whether a writer blocked on a full send buffer
// would be woken now (sk_stream_write_space's test): a caller that
// blocks on the socket's behalf waits for it before sending again.
func (sk *Sock) WriteSpace() bool {
	sk.mu.Lock()
	defer sk.mu.Unlock()
	return sk.Writable()
}

// Acceptable: a connection queued, or the listener closed.
func (sk *Sock) Acceptable() bool { return len(sk.acceptQ) > 0 || sk.state != Listen }

// Connected: the handshake is over, one way or the other.
func (sk *Sock) Connected() bool { return sk.state != SynSent && sk.state != SynRecv }

// SetNonblock is fcntl(F_SETFL, O_NONBLOCK): recorded for callers that
// wait on the socket's behalf (the calls themselves never wait).
func (sk *Sock) SetNonblock(on bool) {
	sk.mu.Lock()
	sk.nonblock = on
	sk.mu.Unlock()
}

// Nonblock reports O_NONBLOCK.
func (sk *Sock) Nonblock() bool {
	sk.mu.Lock()
	defer sk.mu.Unlock()
	return sk.nonblock
}

// LocalAddr and RemoteAddr are getsockname and getpeername.
func (sk *Sock) LocalAddr() netip.AddrPort {
	sk.mu.Lock()
	defer sk.mu.Unlock()
	return netip.AddrPortFrom(netip.AddrFrom4(sk.laddr), sk.lport)
}

// RemoteAddr is getpeername.
func (sk *Sock) RemoteAddr() netip.AddrPort {
	sk.mu.Lock()
	defer sk.mu.Unlock()
	return netip.AddrPortFrom(netip.AddrFrom4(sk.raddr), sk.rport)
}

// doneLocked is tcp_done: the socket is closed, with err for the user.
func (sk *Sock) doneLocked(err error) {
	if err != nil {
		sk.err = err
	}
	sk.rdShut, sk.wrShut = true, true
	sk.setState(Closed)
}

// sendFin queues a FIN after the data (tcp_send_fin) and pushes it.
func (sk *Sock) sendFin() {
	if sk.finQueued {
		return
	}
	sk.finQueued = true
	if n := len(sk.wq); n > sk.sendHead && sk.wq[n-1].flags&header.TCPFin == 0 {
		// The last unsent segment takes the FIN.
		sk.wq[n-1].flags |= header.TCPFin
		sk.wq[n-1].end++
	} else {
		sk.wq = append(sk.wq, txSeg{seq: sk.writeSeq, end: sk.writeSeq + 1, flags: header.TCPFin | header.TCPAck})
	}
	sk.writeSeq++
	sk.pushPending(true)
}
