package ipv4

import (
	"fmt"
	"net/netip"
	"sync"
	"syscall"
	"time"
	"vnic/header"
	"vnic/stack"
	"vnic/stack/ipv4/fib"
	"vnic/stack/sock"
)

// PingConn is an ICMP echo socket (Linux's ping socket: SOCK_DGRAM,
// IPPROTO_ICMP): its echo requests carry its identifier, and it receives
// the echo replies with that identifier and the ICMP errors that quote
// one of its requests.
type PingConn struct {
	in *Inet
	id uint16
	q  sock.Queue[PingMsg]
	// Owner is the socket's owner (the credentials its packets carry for
	// netfilter's owner match): 0:0 unless set before sending.
	Owner stack.SockOwner
}

// PingMsg is what a ping socket received: an echo reply, or an error
// about one of its requests.
type PingMsg struct {
	From      netip.Addr
	Type      uint8
	Code      uint8
	Info      uint32 // the error's extra word: the next-hop MTU for fragmentation needed
	Seq       uint16
	TTL       uint8 // of the packet that carried the message
	Len       int   // ICMP bytes (header and data) of a reply
	Data      []byte
	At        time.Duration // when it arrived (host clock)
	IsError   bool
	Truncated bool
	// IPOptions are the reply's IP options as IP_RETOPTS gives them: the
	// record-route, timestamp and source-route options it carried, each
	// as received, without NOPs, padded with END to a multiple of four
	// (ip_options_echo, then ip_options_undo); nil without options.
	IPOptions []byte
}

// PingOptions are a request's IP settings (ping's -t, -M, -Q).
type PingOptions struct {
	TTL uint8
	TOS uint8
	DF  bool
	Src netip.Addr
	// IPOptions are the socket's IP_OPTIONS (ping's -R and -T): checked
	// as a local sender's (ip_options_get) and filled as the request
	// leaves (ip_options_build). Source routes are not taken here.
	IPOptions []byte
	// Oif binds the request to a device (SO_BINDTODEVICE, ping -I DEV).
	Oif int
}

const pingQueueLen = 1024

type pingTable struct {
	mu    sync.Mutex
	conns map[uint16]*PingConn
	next  uint16
}

func (t *pingTable) init() {
	t.conns = map[uint16]*PingConn{}
	t.next = 1
}

// OpenPing opens a ping socket with a free identifier.
func (in *Inet) OpenPing() (*PingConn, error) {
	t := &in.pings
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := 0; i < 65535; i++ {
		id := t.next
		t.next++
		if t.next == 0 {
			t.next = 1
		}
		if _, used := t.conns[id]; !used && id != 0 {
			c := &PingConn{in: in, id: id}
			c.q.Init(pingQueueLen)
			t.conns[id] = c
			return c, nil
		}
	}
	return nil, fmt.Errorf("stack: ping: no free identifier: %w", syscall.EADDRINUSE)
}

// ID returns the echo identifier.
func (c *PingConn) ID() uint16 { return c.id }

// Close releases the identifier; a blocked Wait returns.
func (c *PingConn) Close() error {
	t := &c.in.pings
	t.mu.Lock()
	delete(t.conns, c.id)
	t.mu.Unlock()
	c.q.Close()
	return nil
}

// SendEcho sends an echo request to dst with sequence seq and data. A
// request too big for the path with DF set fails with ErrMsgSize (ping -M
// do's "message too long").
func (c *PingConn) SendEcho(dst netip.Addr, seq uint16, data []byte, o PingOptions) error {
	in := c.in
	if !dst.Is4() {
		return fmt.Errorf("stack: ping: %v is not IPv4: %w", dst, syscall.EAFNOSUPPORT)
	}
	opt, err := localIPOptions(o.IPOptions, dst.As4(), in.notUnicast)
	if err != nil {
		return fmt.Errorf("stack: ping %v: %w", dst, err)
	}
	fl := fib.FlowKey{Dst: dst.As4(), TOS: o.TOS, Proto: IPProtoICMP, Oif: o.Oif}
	if o.Src.IsValid() {
		fl.Src = o.Src.As4()
	}
	rt, err := in.RouteOutput(&fl)
	if err != nil {
		return fmt.Errorf("stack: ping %v: %w", dst, err)
	}
	if rt.Flags&RTCFBroadcast != 0 {
		return fmt.Errorf("stack: ping %v: broadcast: %w", dst, syscall.EACCES)
	}
	ttl := o.TTL
	if ttl == 0 {
		ttl = in.cfg.DefaultTTL
	}
	var hb [header.ICMPv4HeaderLen]byte
	hdr := header.ICMPv4(hb[:])
	hdr.SetType(ICMPEcho)
	hdr.SetIdent(c.id)
	hdr.SetSeq(seq)
	hdr.SetChecksum(^header.Fold(header.Sum(data, header.Sum(hdr, 0))))
	if err := in.sendDatagram(rt, IPHeader{Src: fl.Src, Dst: fl.Dst, Proto: IPProtoICMP, TOS: o.TOS, TTL: ttl, DF: o.DF, Owner: &c.Owner}, opt, hdr, data, 0); err != nil {
		return err
	}
	in.ICMPStats.OutMsgs.Add(1)
	in.ICMPStats.OutType[ICMPEcho].Add(1)
	return nil
}

// Recv returns a queued message without waiting.
func (c *PingConn) Recv() (PingMsg, bool) { return c.q.Recv() }

// Wait returns the next message, waiting until deadline (real time; a
// host on the virtual clock never waits: run the clock, then Recv).
func (c *PingConn) Wait(deadline time.Time) (PingMsg, error) {
	return c.q.Wait(c.in.host.Clock(), deadline, "ping")
}

// deliver is ping_rcv (an echo reply) and ping_err (an error quoting an
// echo request): the socket of the identifier gets it.
// err is ping's ICMP error handler (ping_err): the error goes to the
// socket whose echo request it quotes.
func (t *pingTable) err(in *Inet) func(*stack.SKB, ICMPError) {
	return func(skb *stack.SKB, e ICMPError) {
		if len(e.L4) > 0 && e.L4[0] == ICMPEchoReply {
			// icmp_err: an error about an echo reply this host sent has
			// no socket; a redirect is still taken (ipv4_redirect).
			if e.Type == ICMPRedirect {
				in.takeRedirect(skb, e.Inner, e.Code, header.IPv4FromUint32(e.Info))
			}
			skb.Consume()
			return
		}
		t.deliver(in, skb, true)
	}
}

func (t *pingTable) deliver(in *Inet, skb *stack.SKB, isErr bool) {
	b := header.ICMPv4(skb.Data())
	iph := header.IPv4(skb.NetworkHeader())
	m := PingMsg{From: netip.AddrFrom4(iph.Src()), Type: b.Type(), Code: b.Code(), TTL: iph.TTL(), At: in.host.Clock().Now(), IsError: isErr}
	var id uint16
	if isErr {
		inner := header.IPv4(b.Payload())
		echo := header.ICMPv4(inner[inner.HeaderLen():])
		if echo.Type() != ICMPEcho {
			skb.Consume()
			return
		}
		id, m.Seq, m.Info = echo.Ident(), echo.Seq(), b.Rest()
	} else {
		id, m.Seq = b.Ident(), b.Seq()
		m.Len = len(b)
		m.Data = append([]byte(nil), b.Payload()...)
	}
	if hl := iph.HeaderLen(); hl > IPv4HdrLen && len(iph) >= hl {
		m.IPOptions = retOptions(iph[IPv4HdrLen:hl])
	}
	t.mu.Lock()
	c := t.conns[id]
	t.mu.Unlock()
	if c == nil {
		skb.Consume()
		return
	}
	if isErr && m.Type == ICMPRedirect {
		// ping_err: the socket's redirect is taken (ipv4_sk_redirect)
		// and reported, as with IP_RECVERR.
		inner := header.IPv4(b.Payload())
		in.takeRedirect(skb, inner, m.Code, header.IPv4FromUint32(m.Info))
	}
	c.q.Push(m)
	skb.Consume()
}

// localIPOptions compiles a socket's IP_OPTIONS for a datagram to dst
// (ip_options_get: padded with END to a multiple of four, checked as a
// local sender's); nil for none. EINVAL for malformed options or more
// than 40 bytes, EOPNOTSUPP for a source route.
func localIPOptions(b []byte, dst [4]byte, local func([4]byte) bool) (*ipOptData, error) {
	if len(b) == 0 {
		return nil, nil
	}
	n := (len(b) + 3) &^ 3
	if n > IPOptMaxLen {
		return nil, fmt.Errorf("%d bytes of IP options: %w", len(b), syscall.EINVAL)
	}
	o := &ipOptData{dst: dst}
	copy(o.data[:], b)
	hdr := make([]byte, IPv4HdrLen+n)
	hdr[0] = byte(0x40 | (IPv4HdrLen+n)/4)
	copy(hdr[IPv4HdrLen:], o.data[:n])
	// Compiling claims the slots the sender fills as the datagram leaves
	// (the pointers move past them, as ip_options_compile does to the
	// socket's copy), so the options are kept as compiled.
	opt, _, err := CompileIPOptions(hdr, IPOptionContext{Local: local})
	if err != nil {
		return nil, fmt.Errorf("IP options: %w", syscall.EINVAL)
	}
	copy(o.data[:], hdr[IPv4HdrLen:])
	if opt.SRR != 0 {
		return nil, fmt.Errorf("source-routed ping: %w", syscall.EOPNOTSUPP)
	}
	o.opt = opt
	return o, nil
}

// retOptions is what IP_RETOPTS gives for received options b: the record
// route, timestamp and source route options as they came, without NOPs,
// padded with END to a multiple of four.
func retOptions(b []byte) []byte {
	var out []byte
	it := header.IPv4Options(b).Iter()
	for o, ok := it.Next(); ok; o, ok = it.Next() {
		switch o.Type {
		case IPOptRR, IPOptTimestamp, IPOptLSRR, IPOptSSRR:
			out = append(out, o.Bytes...)
		}
	}
	for len(out)&3 != 0 {
		out = append(out, IPOptEnd)
	}
	return out
}
