package udp

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"syscall"
	"time"
	"vnic/header"
	"vnic/stack"
	"vnic/stack/sock"
)

// The errors a read returns without waiting are made once: a reader that
// finds its queue empty (each time it has drained it, before it parks)
// allocates nothing.
var (
	errNothingQueued = fmt.Errorf("stack: udp: nothing queued: %w", syscall.EAGAIN)
	errClosed        = fmt.Errorf("stack: udp: %w", net.ErrClosed)
)

// queue is __udp_queue_rcv_skb: past the receive buffer the datagram
// is dropped (RcvbufErrors and InErrors).
func (p *Proto) queue(c *Conn, skb *stack.SKB) {
	ts := skb.Truesize()
	c.mu.Lock()
	if c.closed || c.qBytes+ts > c.rcvbuf {
		c.mu.Unlock()
		p.Stats.RcvbufErrors.Add(1)
		p.Stats.InErrors.Add(1)
		skb.Free()
		return
	}
	skb.SetDst(nil)
	c.q.Push(skb)
	c.qBytes += ts
	c.cond.Broadcast()
	c.mu.Unlock()
	p.Stats.InDatagrams.Add(1)
}

// Recv copies the next datagram into b without waiting; EAGAIN when none
// is queued. A longer datagram is truncated (MSG_TRUNC reports its length
// as n > len(b) is not possible: n is what was copied, full its size).
func (c *Conn) Recv(b []byte) (n int, from netip.AddrPort, full int, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.recvLocked(b)
}

func (c *Conn) recvLocked(b []byte) (int, netip.AddrPort, int, error) {
	if c.err != nil {
		err := c.err
		c.err = nil
		return 0, netip.AddrPort{}, 0, err
	}
	skb := c.q.Pop()
	if skb == nil {
		if c.closed {
			return 0, netip.AddrPort{}, 0, errClosed
		}
		return 0, netip.AddrPort{}, 0, errNothingQueued
	}
	c.qBytes -= skb.Truesize()
	d := header.UDP(skb.Data())
	iph := header.IPv4(skb.NetworkHeader())
	from := netip.AddrPortFrom(netip.AddrFrom4(iph.Src()), d.SrcPort())
	n := copy(b, d.Payload())
	full := len(d) - header.UDPHeaderLen
	c.p.in.Host().CPUs()[0].ChargeCopy(n)
	skb.Consume()
	return n, from, full, nil
}

// RecvWait is Recv that waits, on a real-time host, for a datagram until
// the read deadline (SO_RCVTIMEO; none set: for ever) and returns
// os.ErrDeadlineExceeded after it. On the virtual clock it does not wait:
// nothing arrives while the caller blocks (run the clock, then read).
func (c *Conn) RecvWait(p []byte) (int, netip.AddrPort, error) {
	if c.p.in.Host().Clock().Virtual() {
		n, from, _, err := c.Recv(p)
		return n, from, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	clk := c.p.in.Host().Clock()
	var stop stack.Timer
	for {
		n, from, _, err := c.recvLocked(p)
		if err != errNothingQueued {
			if stop != nil {
				stop.Stop()
			}
			return n, from, err
		}
		if !c.rdl.IsZero() {
			if clk.Now() >= clk.At(c.rdl) {
				if stop != nil {
					stop.Stop()
				}
				return 0, netip.AddrPort{}, os.ErrDeadlineExceeded
			}
			if stop == nil {
				stop = sock.Timer(clk, c.rdl, &c.mu, c.cond)
			}
		}
		c.cond.Wait()
	}
}

// SetReadDeadline sets when a waiting RecvWait gives up (zero: never); a
// wait in progress sees the new deadline.
func (c *Conn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	c.rdl = t
	c.cond.Broadcast()
	c.mu.Unlock()
	return nil
}

// SetRcvBuf is SO_RCVBUF (Linux doubles the value asked for).
func (c *Conn) SetRcvBuf(n int) {
	c.mu.Lock()
	c.rcvbuf = 2 * n
	c.mu.Unlock()
}
