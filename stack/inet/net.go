package inet

import (
	"fmt"
	"net"
	"net/netip"
	"sync/atomic"
	"syscall"
	"time"

	"vnic/stack"
	"vnic/stack/ipv4"
	"vnic/stack/udp"
)

// PacketConn is a UDP socket of a host as a net.PacketConn (gVisor's
// gonet.UDPConn): addresses are *net.UDPAddr; on a real-time host reads
// wait for a datagram until the read deadline and writes wait for room
// in the send buffer until the write deadline.
type PacketConn struct {
	c *udp.Conn
	// from is the address ReadFrom returned last: a datagram from the
	// same source gets the same *net.UDPAddr, so reading a stream from
	// one peer allocates nothing.
	from atomic.Pointer[fromAddr]
}

type fromAddr struct {
	ap netip.AddrPort
	ua *net.UDPAddr
}

var _ net.PacketConn = (*PacketConn)(nil)

// NewPacketConn adapts c.
func NewPacketConn(c *udp.Conn) *PacketConn { return &PacketConn{c: c} }

// ListenPacket is net.ListenPacket on host h: network "udp" or "udp4",
// address "ip:port" (an empty ip: every local address; port 0: an
// ephemeral one).
func ListenPacket(h *stack.Host, network, address string) (*PacketConn, error) {
	if network != "udp" && network != "udp4" {
		return nil, fmt.Errorf("stack: inet: listen %s: %w", network, syscall.EPROTONOSUPPORT)
	}
	in := ipv4.Of(h)
	if in == nil {
		return nil, fmt.Errorf("stack: inet: %s has no IPv4: %w", h.Name(), syscall.EAFNOSUPPORT)
	}
	var ap netip.AddrPort
	if address != "" {
		ua, err := net.ResolveUDPAddr("udp4", address)
		if err != nil {
			return nil, fmt.Errorf("stack: inet: listen %s: %w", address, syscall.EINVAL)
		}
		ap = ua.AddrPort()
		ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	c, err := udp.Listen(in, ap)
	if err != nil {
		return nil, err
	}
	return &PacketConn{c: c}, nil
}

// Conn returns the UDP socket.
func (p *PacketConn) Conn() *udp.Conn { return p.c }

// ReadFrom reads a datagram, waiting for one until the read deadline on a
// real-time host. Datagrams from one source share one *net.UDPAddr (it
// must not be modified).
func (p *PacketConn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, from, err := p.c.RecvWait(b)
	if err != nil {
		return 0, nil, err
	}
	if f := p.from.Load(); f != nil && f.ap == from {
		return n, f.ua, nil
	}
	ua := net.UDPAddrFromAddrPort(from)
	p.from.Store(&fromAddr{from, ua})
	return n, ua, nil
}

// ReadFromUDPAddrPort is ReadFrom with the source as a netip.AddrPort
// (net.UDPConn's method of that name): never an allocation.
func (p *PacketConn) ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error) {
	return p.c.RecvWait(b)
}

// WriteTo sends b to addr (a *net.UDPAddr).
func (p *PacketConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	ua, ok := addr.(*net.UDPAddr)
	if !ok {
		return 0, fmt.Errorf("stack: udp: %T is not a *net.UDPAddr: %w", addr, syscall.EINVAL)
	}
	ap := ua.AddrPort()
	return p.c.SendTo(b, netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()))
}

// Close closes the socket.
func (p *PacketConn) Close() error { return p.c.Close() }

// LocalAddr returns the bound address.
func (p *PacketConn) LocalAddr() net.Addr { return net.UDPAddrFromAddrPort(p.c.LocalAddrPort()) }

// SetDeadline sets the read and the write deadline.
func (p *PacketConn) SetDeadline(t time.Time) error {
	_ = p.c.SetWriteDeadline(t)
	return p.c.SetReadDeadline(t)
}

// SetReadDeadline sets when a waiting ReadFrom gives up.
func (p *PacketConn) SetReadDeadline(t time.Time) error { return p.c.SetReadDeadline(t) }

// SetWriteDeadline sets when a WriteTo waiting for the send buffer gives
// up (os.ErrDeadlineExceeded).
func (p *PacketConn) SetWriteDeadline(t time.Time) error { return p.c.SetWriteDeadline(t) }
