package inet

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"

	"vnic/stack"
	"vnic/stack/ipv4"
	"vnic/stack/tcp"
)

// TCPConn is a connected TCP socket of a host as a net.Conn (gVisor's
// gonet.TCPConn). On a real-time host reads and writes wait until their
// deadlines; on the virtual clock nothing arrives while a caller waits,
// so they answer EAGAIN instead of waiting (run the clock, then call
// again).
type TCPConn struct {
	sk *tcp.Sock

	mu       sync.Mutex
	rdl, wdl time.Time
}

var _ net.Conn = (*TCPConn)(nil)

// NewTCPConn adapts sk.
func NewTCPConn(sk *tcp.Sock) *TCPConn { return &TCPConn{sk: sk} }

// Sock returns the socket.
func (c *TCPConn) Sock() *tcp.Sock { return c.sk }

func tcpOf(h *stack.Host) (*tcp.Proto, error) {
	in := ipv4.Of(h)
	if in == nil {
		return nil, fmt.Errorf("stack: inet: %s has no IPv4: %w", h.Name(), syscall.EAFNOSUPPORT)
	}
	p := tcp.Of(in)
	if p == nil {
		return nil, fmt.Errorf("stack: inet: %s has no TCP: %w", h.Name(), syscall.EPROTONOSUPPORT)
	}
	return p, nil
}

func parseTCPAddr(network, address string) (netip.AddrPort, error) {
	if network != "tcp" && network != "tcp4" {
		return netip.AddrPort{}, fmt.Errorf("stack: inet: %s: %w", network, syscall.EPROTONOSUPPORT)
	}
	if address == "" {
		return netip.AddrPort{}, nil
	}
	ta, err := net.ResolveTCPAddr("tcp4", address)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("stack: inet: %s: %w", address, syscall.EINVAL)
	}
	ap := ta.AddrPort()
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), nil
}

// DialTCP is net.Dial on host h for "tcp"/"tcp4" (real time: it waits
// for the handshake until deadline, zero for none; virtual time: the
// connection is returned at once, still connecting).
func DialTCP(h *stack.Host, network, address string, deadline time.Time) (*TCPConn, error) {
	p, err := tcpOf(h)
	if err != nil {
		return nil, err
	}
	ap, err := parseTCPAddr(network, address)
	if err != nil {
		return nil, err
	}
	sk := p.NewSocket()
	if err := sk.Connect(ap); !errors.Is(err, syscall.EINPROGRESS) {
		_ = sk.Close()
		return nil, err
	}
	if h.Clock().Virtual() {
		return NewTCPConn(sk), nil
	}
	for {
		if err := sk.Wait(sk.Connected, deadline); err != nil {
			_ = sk.Close()
			return nil, err
		}
		done, err := sk.ConnectDone()
		if err != nil {
			_ = sk.Close()
			return nil, err
		}
		if done {
			return NewTCPConn(sk), nil
		}
	}
}

// Read reads what has arrived, waiting for data until the read deadline
// on a real-time host; io.EOF after the peer's FIN.
func (c *TCPConn) Read(b []byte) (int, error) {
	for {
		n, err := c.sk.Read(b)
		if err == nil {
			if n == 0 && len(b) > 0 {
				return 0, io.EOF
			}
			return n, nil
		}
		if !errors.Is(err, syscall.EAGAIN) || c.virtual() {
			return n, err
		}
		if werr := c.sk.Wait(c.sk.Readable, c.deadline(false)); werr != nil {
			return 0, werr
		}
	}
}

// Write queues all of b, waiting for room in the send buffer until the
// write deadline on a real-time host.
func (c *TCPConn) Write(b []byte) (int, error) {
	done := 0
	for done < len(b) {
		n, err := c.sk.Write(b[done:])
		done += n
		if err == nil {
			continue
		}
		if !errors.Is(err, syscall.EAGAIN) || c.virtual() {
			return done, err
		}
		if werr := c.sk.Wait(c.sk.Writable, c.deadline(true)); werr != nil {
			return done, werr
		}
	}
	return done, nil
}

func (c *TCPConn) virtual() bool { return c.sk.Proto().Inet().Host().Clock().Virtual() }

func (c *TCPConn) deadline(write bool) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if write {
		return c.wdl
	}
	return c.rdl
}

// Close closes the connection (tcp_close: the FIN after the data, or a
// reset when unread data is left or the linger is zero).
func (c *TCPConn) Close() error { return c.sk.Close() }

// CloseWrite is shutdown(SHUT_WR): the FIN goes after the data.
func (c *TCPConn) CloseWrite() error { return c.sk.Shutdown(tcp.ShutWr) }

// CloseRead is shutdown(SHUT_RD).
func (c *TCPConn) CloseRead() error { return c.sk.Shutdown(tcp.ShutRd) }

// LocalAddr is the bound address.
func (c *TCPConn) LocalAddr() net.Addr { return net.TCPAddrFromAddrPort(c.sk.LocalAddr()) }

// RemoteAddr is the peer's address.
func (c *TCPConn) RemoteAddr() net.Addr { return net.TCPAddrFromAddrPort(c.sk.RemoteAddr()) }

// SetDeadline sets both deadlines.
func (c *TCPConn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	c.rdl, c.wdl = t, t
	c.mu.Unlock()
	c.sk.Kick()
	return nil
}

// SetReadDeadline sets when a waiting Read gives up
// (os.ErrDeadlineExceeded).
func (c *TCPConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	c.rdl = t
	c.mu.Unlock()
	c.sk.Kick()
	return nil
}

// SetWriteDeadline sets when a waiting Write gives up.
func (c *TCPConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	c.wdl = t
	c.mu.Unlock()
	c.sk.Kick()
	return nil
}

// SetNoDelay is TCP_NODELAY.
func (c *TCPConn) SetNoDelay(on bool) error {
	return c.sk.SetsockoptInt(tcp.SolTCP, tcp.TCPNoDelay, b2i(on))
}

// SetKeepAlive is SO_KEEPALIVE.
func (c *TCPConn) SetKeepAlive(on bool) error {
	return c.sk.SetsockoptInt(tcp.SolSocket, tcp.SoKeepAlive, b2i(on))
}

// SetKeepAlivePeriod is TCP_KEEPIDLE and TCP_KEEPINTVL, as Go's net sets
// them.
func (c *TCPConn) SetKeepAlivePeriod(d time.Duration) error {
	secs := max(int((d+time.Second-1)/time.Second), 1)
	if err := c.sk.SetsockoptInt(tcp.SolTCP, tcp.TCPKeepIdle, secs); err != nil {
		return err
	}
	return c.sk.SetsockoptInt(tcp.SolTCP, tcp.TCPKeepIntvl, secs)
}

// SetLinger is SO_LINGER as net.TCPConn takes it: sec < 0 the default
// close, 0 a reset, > 0 linger (the close does not wait here).
func (c *TCPConn) SetLinger(sec int) error {
	c.sk.SetLinger(sec >= 0, max(sec, 0))
	return nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TCPListener is a listening socket as a net.Listener.
type TCPListener struct {
	sk *tcp.Sock

	mu  sync.Mutex
	dl  time.Time
	one sync.Once
}

var _ net.Listener = (*TCPListener)(nil)

// ListenTCP is net.Listen on host h for "tcp"/"tcp4": address "ip:port"
// (an empty ip: every local address; port 0: an ephemeral one), the
// backlog net.core.somaxconn.
func ListenTCP(h *stack.Host, network, address string) (*TCPListener, error) {
	p, err := tcpOf(h)
	if err != nil {
		return nil, err
	}
	ap, err := parseTCPAddr(network, address)
	if err != nil {
		return nil, err
	}
	sk := p.NewSocket()
	_ = sk.SetsockoptInt(tcp.SolSocket, tcp.SoReuseAddr, 1) // as Go's net does
	if err := sk.Bind(ap); err != nil {
		_ = sk.Close()
		return nil, err
	}
	if err := sk.Listen(p.Config().Somaxconn); err != nil {
		_ = sk.Close()
		return nil, err
	}
	return &TCPListener{sk: sk}, nil
}

// Sock returns the listening socket.
func (l *TCPListener) Sock() *tcp.Sock { return l.sk }

// Accept waits for a connection (real time; until the deadline set with
// SetDeadline); on the virtual clock EAGAIN when none is queued.
func (l *TCPListener) Accept() (net.Conn, error) {
	for {
		c, err := l.sk.Accept()
		if err == nil {
			return NewTCPConn(c), nil
		}
		if !errors.Is(err, syscall.EAGAIN) || l.sk.Proto().Inet().Host().Clock().Virtual() {
			if errors.Is(err, syscall.EINVAL) {
				return nil, fmt.Errorf("stack: inet: accept: %w", net.ErrClosed)
			}
			return nil, err
		}
		l.mu.Lock()
		dl := l.dl
		l.mu.Unlock()
		if werr := l.sk.Wait(l.sk.Acceptable, dl); werr != nil {
			return nil, werr
		}
	}
}

// SetDeadline sets when a waiting Accept gives up.
func (l *TCPListener) SetDeadline(t time.Time) error {
	l.mu.Lock()
	l.dl = t
	l.mu.Unlock()
	l.sk.Kick()
	return nil
}

// Close stops listening; queued connections are reset.
func (l *TCPListener) Close() error {
	err := net.ErrClosed
	l.one.Do(func() { err = l.sk.Close() })
	return err
}

// Addr is the bound address.
func (l *TCPListener) Addr() net.Addr { return net.TCPAddrFromAddrPort(l.sk.LocalAddr()) }
