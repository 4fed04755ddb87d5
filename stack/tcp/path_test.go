package tcp_test

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"vnic/header"
	"vnic/hw"
	"vnic/stack"
	"vnic/stack/tcp"
)

// path is a loopback host whose TCP segments all cross a test's hand at
// POST_ROUTING: each is logged, then passed on after the path's one-way
// delay — or dropped, CE-marked or held longer, as fate says. It stands
// in for a network between two sockets of one host, in virtual time.
type path struct {
	t     testing.TB
	clk   *hw.VirtualClock
	p     *tcp.Proto
	lo    *stack.NetDevice
	delay time.Duration
	fate  func(s *wireSeg) verdict // nil: every segment passes
	// arrived, when set, runs after a segment was delivered and what it
	// caused is done (no socket's lock is held).
	arrived func(s *wireSeg)
	log     []wireSeg
	ev      int // events so far: sends and arrivals, in order
}

// verdict is what becomes of a segment on the path.
type verdict struct {
	drop  bool
	ce    bool          // marked Congestion Experienced (if ECN-capable)
	extra time.Duration // delayed this much more than the path's delay
}

var pass = verdict{}

// wireSeg is one segment as it entered the path.
type wireSeg struct {
	n            int // its index in the log
	at           time.Duration
	sent, arr    int // the event numbers of its sending and its arrival (0: not arrived)
	sport, dport uint16
	seq, ack     uint32
	flags        uint8
	len          int
	urg          uint16 // the urgent pointer
	ecn          uint8  // the IP header's ECN field as sent
	opt          header.TCPOptions
	dropped, ce  bool
}

func (s *wireSeg) has(f uint8) bool { return s.flags&f != 0 }

func (s *wireSeg) String() string {
	return fmt.Sprintf("#%d %v %d>%d flags %#x seq %d ack %d len %d ecn %d", s.n, s.at, s.sport, s.dport, s.flags, s.seq, s.ack, s.len, s.ecn)
}

// newPath builds the host: IPv4 and TCP on a virtual clock, its
// loopback's segments through the path, delay each way, its MTU
// Ethernet's (segments of 1448 bytes with timestamps; the loopback's
// GSO still sends many in one packet).
func newPath(t testing.TB, delay time.Duration) *path {
	t.Helper()
	clk, p := loopHostB(t)
	pa := &path{t: t, clk: clk, p: p, lo: p.Inet().Loopback(), delay: delay}
	if err := pa.lo.SetMTU(1500); err != nil {
		t.Fatal(err)
	}
	ops := &stack.NFHookOps{Name: "path", Hook: stack.NFPostRouting, Priority: 0, Fn: pa.hook}
	if err := p.Inet().Host().Netfilter().Register(ops); err != nil {
		t.Fatal(err)
	}
	return pa
}

func (pa *path) hook(skb *stack.SKB, _ *stack.NFState) stack.Verdict {
	d := skb.Data()
	ip := header.IPv4(d)
	if !ip.IsValid() || ip.Protocol() != header.ProtoTCP {
		return stack.NFAccept
	}
	th := header.TCP(d[ip.HeaderLen():])
	pa.ev++
	s := wireSeg{n: len(pa.log), at: pa.clk.Now(), sent: pa.ev, sport: th.SrcPort(), dport: th.DstPort(), seq: th.Seq(), ack: th.Ack(),
		flags: th.Flags(), len: len(th) - th.HeaderLen(), urg: th.Urgent(), ecn: ip.TOS() & 3}
	s.opt = header.ParseTCPOptions(th.Options(), s.has(header.TCPSyn))
	v := pass
	if pa.fate != nil {
		v = pa.fate(&s)
	}
	s.dropped = v.drop
	if v.ce && !v.drop && ip.TOS()&3 != 0 {
		ip[1] |= 3
		ip.UpdateChecksum()
		s.ce = true
	}
	pa.log = append(pa.log, s)
	if v.drop {
		return stack.NFDrop
	}
	pkt := append([]byte(nil), d...)
	n := s.n
	tm := pa.p.Inet().Host().Clock().NewTimer(func() {
		pa.ev++
		pa.log[n].arr = pa.ev
		pa.inject(pkt)
		if pa.arrived != nil {
			pa.arrived(&pa.log[n])
		}
	})
	tm.Reset(pa.delay + v.extra)
	return stack.NFDrop
}

// inject hands a held packet to the loopback's receiver at once
// (netif_receive_skb), so that what it sends in answer follows its
// arrival in the log.
func (pa *path) inject(pkt []byte) {
	h := pa.p.Inet().Host()
	skb := h.Pool().Alloc(stack.NetIPAlign + stack.EthHdrLen + len(pkt))
	if skb == nil {
		pa.t.Error("no buffer to reinject a packet")
		return
	}
	skb.Reserve(stack.NetIPAlign)
	b := skb.Put(stack.EthHdrLen + len(pkt))
	b[12], b[13] = 0x08, 0x00
	copy(b[stack.EthHdrLen:], pkt)
	skb.Protocol = stack.EthTypeTrans(skb, pa.lo)
	skb.IPSummed = stack.ChecksumUnnecessary // the checksum was left to the (loopback) device
	stack.NetifReceiveSKB(skb)
}

// connect opens a connection from a client to a listener on addr and
// returns both ends, established.
func (pa *path) connect(addr netip.AddrPort) (c, s *tcp.Sock) {
	pa.t.Helper()
	return connectPair(pa.t, pa.p, pa.p, addr, func() { pa.clk.RunFor(4*pa.delay + time.Millisecond) })
}

// connectPair connects a socket of pc to a listener of pl on addr,
// running the clock with run for the handshake, and returns both ends.
func connectPair(t testing.TB, pc, pl *tcp.Proto, addr netip.AddrPort, run func()) (c, s *tcp.Sock) {
	t.Helper()
	l := pl.NewSocket()
	if err := l.Bind(addr); err != nil {
		t.Fatal(err)
	}
	if err := l.Listen(8); err != nil {
		t.Fatal(err)
	}
	c = pc.NewSocket()
	if err := c.Connect(addr); !errors.Is(err, syscall.EINPROGRESS) {
		t.Fatalf("connect: %v", err)
	}
	run()
	s, err := l.Accept()
	if err != nil {
		t.Fatalf("accept: %v (client %v)", err, c.State())
	}
	return c, s
}

// transfer writes data on c and reads it on s, in steps of the virtual
// clock, until all of it arrived or limit passed.
func (pa *path) transfer(c, s *tcp.Sock, data []byte, limit time.Duration) {
	pa.t.Helper()
	transfer(pa.t, func() { pa.clk.RunFor(time.Millisecond) }, c, s, data, int(limit/time.Millisecond))
}

// transfer writes data on c and reads it on s, running the clock with
// step between, at most steps times; all of it must arrive.
func transfer(t testing.TB, step func(), c, s *tcp.Sock, data []byte, steps int) {
	t.Helper()
	got := make([]byte, 0, len(data))
	buf := make([]byte, 256<<10)
	sent := 0
	for i := 0; i < steps && len(got) < len(data); i++ {
		if sent < len(data) {
			n, err := c.Write(data[sent:])
			if err != nil && !errors.Is(err, syscall.EAGAIN) {
				t.Fatal(err)
			}
			sent += n
		}
		step()
		for {
			n, err := s.Read(buf)
			if err != nil || n == 0 {
				break
			}
			got = append(got, buf[:n]...)
		}
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("read %d bytes of %d (or not the bytes written)", len(got), len(data))
	}
}

// ext is a TcpExt counter's value.
func ext(p *tcp.Proto, name string) uint64 {
	for _, c := range p.Stats.TcpExt() {
		if c.Name == name {
			return c.Value
		}
	}
	panic("no TcpExt counter " + name)
}

// setConfig changes the host's TCP settings.
func (pa *path) setConfig(f func(c *tcp.Config)) {
	c := pa.p.Config()
	f(&c)
	pa.p.SetConfig(c)
}
