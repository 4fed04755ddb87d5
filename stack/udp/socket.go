package udp

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"vnic/header"
	"vnic/stack"
	"vnic/stack/ipv4"
	"vnic/stack/ipv4/fib"
)

// DefaultRcvBuf is net.core.rmem_default: the bytes (buffer sizes,
// not payload) a socket may hold.
const DefaultRcvBuf = 212992

// DefaultSndBuf is net.core.wmem_default: the bytes (skb truesizes) of a
// socket's datagrams sent and not yet freed (transmitted, or dropped)
// before a send waits.
const DefaultSndBuf = 212992

// Conn is a UDP socket (inet.PacketConn makes it a net.PacketConn). Its
// waiting reads wait only on a real-time host (on the virtual clock they
// return EAGAIN when nothing is queued: run the clock, then read).
type Conn struct {
	p      *Proto
	laddr  [4]byte
	lport  uint16
	raddr  [4]byte
	rport  uint16
	mu     sync.Mutex
	cond   *sync.Cond
	q      stack.SKBList
	qBytes int
	rcvbuf int
	err    error // a pending asynchronous error (sk_err): ECONNREFUSED …
	closed bool
	rdl    time.Time
	// TTL, TOS and DF are IP_TTL, IP_TOS and IP_MTU_DISCOVER (do): set
	// before sending.
	TTL uint8
	TOS uint8
	DF  bool
	// NoChecksum sends a zero checksum (SO_NO_CHECK).
	NoChecksum bool
	// Owner is the socket's owner (the credentials its datagrams carry
	// for netfilter's owner match): 0:0 unless set before sending.
	Owner stack.SockOwner

	// inetID is the socket's IP ID counter (inet_id), set at random by
	// connect: a connected socket's datagrams take their IDs from it, DF
	// or not (ip_select_ident_segs).
	inetID atomic.Uint32

	corked bool // UDP_CORK: sends append to pending until uncorked
	pend   []byte
	pendTo netip.AddrPort

	// The send buffer (sk_sndbuf against sk_wmem_alloc) and SO_SNDTIMEO:
	// a send without room waits (real time) or is refused with EAGAIN
	// (virtual time). shut and wdl are what a waiting sender watches.
	wmem   *stack.Wmem
	shut   atomic.Bool
	wdl    atomic.Int64 // write deadline, Unix ns (0: none)
	wmu    sync.Mutex   // guards wtimer
	wtimer stack.Timer  // wakes waiting senders at the write deadline

	ep atomic.Pointer[endpoint]
}

// endpoint is what a send needs of the socket's addresses, published
// whole when they change (bind, connect) so that a send reads them
// without the table's lock; a connected socket's route (sk_dst_cache) is
// kept in it, for as long as the routing does not change (DstCheck) and
// the send's flow is the one it was looked up for.
type endpoint struct {
	laddr, raddr [4]byte
	rport        uint16
	rt           *ipv4.Rtable
	key          routeKey // what rt was looked up for
	src          [4]byte  // the source the lookup gave
}

// routeKey is what of a send's flow its route depends on beyond the
// socket's fixed fields (protocol, source port).
type routeKey struct {
	dst, src [4]byte
	tos      uint8
	dport    uint16
}

// SetCork is setsockopt(UDP_CORK): while corked, sends are appended to
// one pending datagram (ip_append_data) instead of going out; uncorking
// sends it (ip_push_pending_frames) — several sends, one datagram,
// fragmented if it exceeds the MTU (A-TX-02). Sends while corked must go
// to one destination (EINVAL otherwise), and the datagram may not exceed
// 65,507 bytes (EMSGSIZE).
func (c *Conn) SetCork(on bool) error {
	c.mu.Lock()
	was := c.corked
	c.corked = on
	pend, to := c.pend, c.pendTo
	if !on {
		c.pend, c.pendTo = nil, netip.AddrPort{}
	}
	c.mu.Unlock()
	if was && !on && to.IsValid() {
		if err := c.sendable(); err != nil {
			return err
		}
		_, err := c.sendNow(pend, to)
		return err
	}
	return nil
}

// sendable is what a send checks of the socket first: closed, or an
// asynchronous error pending (reported once).
func (c *Conn) sendable() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sendableLocked()
}

func (c *Conn) sendableLocked() error {
	if c.closed {
		return errClosed
	}
	err := c.err
	c.err = nil
	return err
}

// Listen binds a socket to laddr (an unspecified address: every local
// address; port 0: an ephemeral port from ip_local_port_range).
func (p *Proto) Listen(laddr netip.AddrPort) (*Conn, error) {
	in := p.in
	c := &Conn{p: p, rcvbuf: DefaultRcvBuf, wmem: stack.NewWmem(DefaultSndBuf)}
	c.cond = sync.NewCond(&c.mu)
	c.Owner.Wmem = c.wmem
	if laddr.Addr().IsValid() && !laddr.Addr().IsUnspecified() {
		if !laddr.Addr().Is4() {
			return nil, fmt.Errorf("stack: udp: %v: %w", laddr, syscall.EAFNOSUPPORT)
		}
		a := laddr.Addr().As4()
		if !in.IsLocalAddr(a) && !header.IPv4IsMulticast(a) && !header.IPv4IsLbcast(a) {
			return nil, fmt.Errorf("stack: udp: bind %v: %w", laddr, syscall.EADDRNOTAVAIL)
		}
		c.laddr = a
	}
	if err := p.table.bind(c, laddr.Port()); err != nil {
		return nil, err
	}
	c.ep.Store(&endpoint{laddr: c.laddr})
	return c, nil
}

// Connect sets the default destination; datagrams from elsewhere are no
// longer received, and ICMP errors are reported on the socket.
func (c *Conn) Connect(raddr netip.AddrPort) error {
	if !raddr.Addr().Is4() || raddr.Port() == 0 {
		return fmt.Errorf("stack: udp: connect %v: %w", raddr, syscall.EINVAL)
	}
	laddr, _, _ := c.ends()
	fl := fib.FlowKey{Dst: raddr.Addr().As4(), Src: laddr, Proto: ipv4.IPProtoUDP, Sport: c.lport, Dport: raddr.Port()}
	if _, err := c.p.in.RouteOutput(&fl); err != nil {
		return fmt.Errorf("stack: udp: connect %v: %w", raddr, err)
	}
	t := &c.p.table
	t.mu.Lock()
	defer t.mu.Unlock()
	c.raddr, c.rport = raddr.Addr().As4(), raddr.Port()
	if c.laddr == ([4]byte{}) {
		c.laddr = fl.Src
	}
	c.inetID.Store(c.p.in.IDRandom() & 0xffff) // ip4_datagram_connect
	c.ep.Store(&endpoint{laddr: c.laddr, raddr: c.raddr, rport: c.rport})
	return nil
}

// ends reads the bound address and the connected peer. They change under
// the table's lock (which the receive path holds while it matches
// sockets), so they are read under it too.
func (c *Conn) ends() (laddr, raddr [4]byte, rport uint16) {
	t := &c.p.table
	t.mu.Lock()
	defer t.mu.Unlock()
	return c.laddr, c.raddr, c.rport
}

// LocalAddrPort returns the bound address and port.
func (c *Conn) LocalAddrPort() netip.AddrPort {
	laddr, _, _ := c.ends()
	return netip.AddrPortFrom(netip.AddrFrom4(laddr), c.lport)
}

// SendTo sends b to to (udp_sendmsg): routed, source from the binding or
// the route, the checksum over the pseudo header (0 becomes 0xffff).
func (c *Conn) SendTo(b []byte, to netip.AddrPort) (int, error) {
	c.mu.Lock()
	if c.corked {
		defer c.mu.Unlock()
		switch {
		case c.closed:
			return 0, errClosed
		case c.pendTo.IsValid() && c.pendTo != to:
			return 0, fmt.Errorf("stack: udp: corked datagram is for %v, not %v: %w", c.pendTo, to, syscall.EINVAL)
		case len(c.pend)+len(b) > 65535-ipv4.IPv4HdrLen-8:
			return 0, fmt.Errorf("stack: udp: corked datagram of %d bytes: %w", len(c.pend)+len(b), syscall.EMSGSIZE)
		}
		c.pend = append(c.pend, b...)
		c.pendTo = to
		return len(b), nil
	}
	err := c.sendableLocked()
	c.mu.Unlock()
	if err != nil {
		return 0, err
	}
	return c.sendNow(b, to)
}

// sendNow is udp_sendmsg without a cork, once sendable has passed.
func (c *Conn) sendNow(b []byte, to netip.AddrPort) (int, error) {
	if !to.Addr().Is4() || to.Port() == 0 {
		return 0, fmt.Errorf("stack: udp: send to %v: %w", to, syscall.EINVAL)
	}
	if len(b) > 65535-ipv4.IPv4HdrLen-8 {
		return 0, fmt.Errorf("stack: udp: %d bytes: %w", len(b), syscall.EMSGSIZE)
	}
	in := c.p.in
	ep := c.ep.Load()
	rport := ep.rport
	fl := fib.FlowKey{Dst: to.Addr().As4(), Src: ep.laddr, TOS: c.TOS, Proto: ipv4.IPProtoUDP, Sport: c.lport, Dport: to.Port()}
	if header.IPv4IsMulticast(fl.Src) || header.IPv4IsLbcast(fl.Src) {
		fl.Src = [4]byte{}
	}
	// A connected socket sending to its peer keeps its route while the
	// routing stands (udp_sendmsg's sk_dst_check).
	cached := rport != 0 && fl.Dst == ep.raddr && fl.Dport == rport
	key := routeKey{fl.Dst, fl.Src, fl.TOS, fl.Dport}
	var rt *ipv4.Rtable
	if cached && ep.rt != nil && ep.key == key && in.DstCheck(ep.rt) {
		rt, fl.Src = ep.rt, ep.src
	} else {
		var err error
		if rt, err = in.RouteOutput(&fl); err != nil {
			return 0, fmt.Errorf("stack: udp: send to %v: %w", to, err)
		}
		if cached {
			next := *ep
			next.rt, next.key, next.src = rt, key, fl.Src
			c.ep.CompareAndSwap(ep, &next) // a connect meanwhile wins
		}
	}
	if rt.Flags&ipv4.RTCFBroadcast != 0 && fl.Dst != ([4]byte{}) && !header.IPv4IsLbcast(fl.Dst) && rt.Type != fib.RTNBroadcast {
		return 0, fmt.Errorf("stack: udp: send to %v: %w", to, syscall.EACCES)
	}
	if err := c.waitSndbuf(); err != nil {
		return 0, err
	}
	var hb [header.UDPHeaderLen]byte
	h := header.UDP(hb[:])
	h.SetSrcPort(c.lport)
	h.SetDstPort(to.Port())
	h.SetLength(uint16(header.UDPHeaderLen + len(b)))
	if !c.NoChecksum {
		sum := header.PseudoHeaderIPv4(fl.Src, fl.Dst, ipv4.IPProtoUDP, uint16(header.UDPHeaderLen+len(b)))
		ck := ^header.Fold(header.Sum(b, header.Sum(h, sum)))
		if ck == 0 {
			ck = 0xffff // RFC 768: zero means "no checksum"
		}
		h.SetChecksum(ck)
	}
	ttl := c.TTL
	if ttl == 0 {
		ttl = in.Config().DefaultTTL
		if rt.Type == fib.RTNMulticast {
			ttl = 1
		}
	}
	iph := ipv4.IPHeader{Src: fl.Src, Dst: fl.Dst, Proto: ipv4.IPProtoUDP, TOS: c.TOS, TTL: ttl, DF: c.DF, Owner: &c.Owner}
	if rport != 0 { // a connected socket: its own ID counter
		iph.Connected, iph.ID = true, uint16(c.inetID.Add(1))
	}
	if err := in.SendDatagram(rt, iph, h[:], b, 0); err != nil {
		var ms *ipv4.ErrMsgSize
		if !errors.As(err, &ms) {
			c.p.Stats.SndbufErrors.Add(1)
		}
		return 0, err
	}
	c.p.Stats.OutDatagrams.Add(1)
	return len(b), nil
}

// Send sends b to the connected destination.
func (c *Conn) Send(b []byte) (int, error) {
	ep := c.ep.Load()
	if ep.rport == 0 {
		return 0, fmt.Errorf("stack: udp: not connected: %w", syscall.EDESTADDRREQ)
	}
	return c.SendTo(b, netip.AddrPortFrom(netip.AddrFrom4(ep.raddr), ep.rport))
}

// waitSndbuf is sock_alloc_send_pskb's wait: with less than the send
// buffer in use the send goes on; otherwise it waits for the buffer to
// drain to half (real time), until the write deadline
// (os.ErrDeadlineExceeded) or a close, or is refused with EAGAIN on the
// virtual clock, where nothing drains while the caller waits. Either
// refusal counts SndbufErrors.
func (c *Conn) waitSndbuf() error {
	if c.wmem.Room() {
		return nil
	}
	clk := c.p.in.Host().Clock()
	if clk.Virtual() {
		c.p.Stats.SndbufErrors.Add(1)
		return fmt.Errorf("stack: udp: send buffer full: %w", syscall.EAGAIN)
	}
	if dl := c.wdl.Load(); dl != 0 {
		c.wmu.Lock()
		if c.wtimer == nil {
			c.wtimer = clk.NewTimer(c.wmem.Wake)
		}
		c.wtimer.Reset(max(clk.At(time.Unix(0, dl))-clk.Now(), 0))
		c.wmu.Unlock()
	}
	err := c.wmem.Wait(func() error {
		if c.shut.Load() {
			return errClosed
		}
		if dl := c.wdl.Load(); dl != 0 && !time.Now().Before(time.Unix(0, dl)) {
			return os.ErrDeadlineExceeded
		}
		return nil
	})
	if err != nil {
		c.p.Stats.SndbufErrors.Add(1)
	}
	return err
}

// SetWriteDeadline sets when a send waiting for the send buffer gives up
// (SO_SNDTIMEO; zero: never); a wait in progress sees the new deadline.
func (c *Conn) SetWriteDeadline(t time.Time) error {
	if t.IsZero() {
		c.wdl.Store(0)
	} else {
		c.wdl.Store(t.UnixNano())
	}
	c.wmem.Wake()
	return nil
}

// SetSndBuf is SO_SNDBUF (Linux doubles the value asked for).
func (c *Conn) SetSndBuf(n int) { c.wmem.SetLimit(2 * n) }

// Wmem is the socket's send buffer (its limit and what is in use).
func (c *Conn) Wmem() *stack.Wmem { return c.wmem }

// Close unbinds the socket and drops what it held.
func (c *Conn) Close() error {
	t := &c.p.table
	t.mu.Lock()
	list := t.ports[c.lport]
	for i, o := range list {
		if o == c {
			t.ports[c.lport] = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	if len(t.ports[c.lport]) == 0 {
		delete(t.ports, c.lport)
	}
	t.mu.Unlock()
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return errClosed
	}
	c.closed = true
	c.shut.Store(true)
	q := c.q
	c.q = stack.SKBList{}
	c.qBytes = 0
	c.cond.Broadcast()
	c.mu.Unlock()
	for s := q.Pop(); s != nil; s = q.Pop() {
		s.Free()
	}
	c.wmem.Wake() // a sender waiting for room sees the close
	c.wmu.Lock()
	if c.wtimer != nil {
		c.wtimer.Stop()
	}
	c.wmu.Unlock()
	return nil
}
