package ipv4

import (
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"vnic/header"
	"vnic/stack"
	"vnic/stack/ipv4/fib"
	"vnic/stack/sock"
)

// RawConn is a raw IPv4 socket of one protocol (SOCK_RAW): it receives a
// copy of every local datagram of its protocol, IP header included, beside
// the protocol's own handler (raw_local_deliver); with RouterAlert set
// (IP_ROUTER_ALERT) it also takes forwarded packets carrying the Router
// Alert option, which then are not forwarded (ip_call_ra_chain).
type RawConn struct {
	in          *Inet
	proto       uint8
	routerAlert bool
	q           sock.Queue[[]byte]
}

const rawQueueLen = 256

type rawTable struct {
	mu    sync.Mutex
	conns atomic.Pointer[[]*RawConn] // copied on write: read per packet without the lock
}

// OpenRaw opens a raw socket for protocol proto (1..255).
func (in *Inet) OpenRaw(proto uint8, routerAlert bool) (*RawConn, error) {
	if proto == 0 {
		return nil, fmt.Errorf("stack: raw: protocol 0: %w", syscall.EPROTONOSUPPORT)
	}
	c := &RawConn{in: in, proto: proto, routerAlert: routerAlert}
	c.q.Init(rawQueueLen)
	t := &in.raw
	t.mu.Lock()
	var next []*RawConn
	if cur := t.conns.Load(); cur != nil {
		next = append(next, *cur...)
	}
	next = append(next, c)
	t.conns.Store(&next)
	t.mu.Unlock()
	return c, nil
}

// Close removes the socket.
func (c *RawConn) Close() error {
	t := &c.in.raw
	t.mu.Lock()
	var next []*RawConn
	for _, o := range *t.conns.Load() {
		if o != c {
			next = append(next, o)
		}
	}
	t.conns.Store(&next)
	t.mu.Unlock()
	c.q.Close()
	return nil
}

// queue copies datagram (from its IP header) to the socket.
func (c *RawConn) queue(datagram []byte) { c.q.Push(append([]byte(nil), datagram...)) }

// Recv returns the next datagram (IP header first) without waiting.
func (c *RawConn) Recv() ([]byte, bool) { return c.q.Recv() }

// Wait returns the next datagram, waiting until deadline on a real-time
// host (on the virtual clock it does not wait: run the clock, then Recv).
func (c *RawConn) Wait(deadline time.Time) ([]byte, error) {
	return c.q.Wait(c.in.host.Clock(), deadline, "raw")
}

// SendTo sends payload to dst behind an IPv4 header of the socket's
// protocol (raw_sendmsg without IP_HDRINCL).
func (c *RawConn) SendTo(payload []byte, dst netip.Addr, ttl uint8) error {
	in := c.in
	if !dst.Is4() {
		return fmt.Errorf("stack: raw: %v: %w", dst, syscall.EAFNOSUPPORT)
	}
	fl := fib.FlowKey{Dst: dst.As4(), Proto: c.proto}
	rt, err := in.RouteOutput(&fl)
	if err != nil {
		return fmt.Errorf("stack: raw: %v: %w", dst, err)
	}
	if ttl == 0 {
		ttl = in.cfg.DefaultTTL
	}
	return in.SendDatagram(rt, IPHeader{Src: fl.Src, Dst: fl.Dst, Proto: c.proto, TTL: ttl}, nil, payload, 0)
}

// rawDeliver gives each raw socket of the datagram's protocol a copy
// (raw_local_deliver); skb's data is at the transport header, its network
// header set. It reports whether any socket took one.
func (in *Inet) rawDeliver(skb *stack.SKB, proto uint8) bool {
	p := in.raw.conns.Load()
	if p == nil {
		return false
	}
	got := false
	for _, c := range *p {
		if c.proto == proto {
			c.queue(skb.NetworkHeader())
			got = true
		}
	}
	return got
}

// routerAlert is ip_call_ra_chain: a forwarded packet with the Router
// Alert option goes to the raw sockets that asked for such packets of its
// protocol (a fragment is reassembled first); if one took it, it is not
// forwarded.
func (in *Inet) routerAlert(skb *stack.SKB) bool {
	p := in.raw.conns.Load()
	if p == nil {
		return false
	}
	proto := header.IPv4(skb.Data()).Protocol()
	var takers []*RawConn
	for _, c := range *p {
		if c.routerAlert && c.proto == proto {
			takers = append(takers, c)
		}
	}
	if len(takers) == 0 {
		return false
	}
	if header.IPv4(skb.Data()).IsFragment() {
		if skb = in.defrag(skb, defragCallRA); skb == nil {
			return true
		}
	}
	for _, c := range takers {
		c.queue(skb.Data())
	}
	skb.Consume()
	return true
}
