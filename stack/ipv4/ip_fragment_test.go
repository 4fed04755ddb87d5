package ipv4_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"vnic/header"
	"vnic/internal/stacktest"
	"vnic/stack"
	"vnic/stack/inet"
	"vnic/stack/ipv4"
	"vnic/stack/ipv4/fib"
	"vnic/stack/rtnetlink"
	"vnic/stack/udp"
)

func udpPair(t *testing.T, r *inetRig, a, b string, port uint16) (*udp.Conn, *udp.Conn) {
	t.Helper()
	srv, err := udp.Listen(r.inet[b], netip.AddrPortFrom(netip.IPv4Unspecified(), port))
	if err != nil {
		t.Fatal(err)
	}
	cli, err := udp.Listen(r.inet[a], netip.AddrPort{})
	if err != nil {
		t.Fatal(err)
	}
	return cli, srv
}

// FRAG-08 and DEFRAG-04..06: 4,000 bytes of IP payload at MTU 1500 leave
// as 1480, 1480 and 1040 at offsets 0, 185, 370 (MF 1, 1, 0), with the
// same ID, and come back together at the receiver byte for byte.
func TestFragmentGoldenAndReassemble(t *testing.T) {
	r := newInetRig(t, "h1", "h2")
	r.link("h1", "198.18.0.1/24", "h2", "198.18.0.2/24", 0)
	cli, srv := udpPair(t, r, "h1", "h2", 9)
	localIn := 0
	if err := r.hosts["h2"].Netfilter().Register(&stack.NFHookOps{Name: "count", Hook: stack.NFLocalIn, Fn: func(*stack.SKB, *stack.NFState) stack.Verdict {
		localIn++
		return stack.NFAccept
	}}); err != nil {
		t.Fatal(err)
	}
	payload := make([]byte, 4000-8)
	for i := range payload {
		payload[i] = byte(i * 7)
	}
	// Resolve first so the wire shows only the datagram.
	if _, err := cli.SendTo([]byte("x"), netip.MustParseAddrPort("198.18.0.2:9")); err != nil {
		t.Fatal(err)
	}
	r.run(time.Millisecond)
	buf := make([]byte, 70000)
	if _, _, _, err := srv.Recv(buf); err != nil {
		t.Fatal(err)
	}
	r.frames = nil
	if _, err := cli.SendTo(payload, netip.MustParseAddrPort("198.18.0.2:9")); err != nil {
		t.Fatal(err)
	}
	r.run(time.Millisecond)
	sp := cli.LocalAddrPort().Port()
	_ = sp
	got := r.summary()
	var ids []uint16
	for _, f := range r.frames {
		ids = append(ids, header.IPv4(f.b[14:]).ID())
	}
	wantLines(t, "fragments", got, []string{
		"h1/eth0 IP 198.18.0.1>198.18.0.2 frag off 0 mf 1 UDP " + strconv.Itoa(int(sp)) + ">9 ttl 64 len 1500",
		"h1/eth0 IP 198.18.0.1>198.18.0.2 frag off 185 mf 1 ttl 64 len 1500",
		"h1/eth0 IP 198.18.0.1>198.18.0.2 frag off 370 mf 0 ttl 64 len 1060",
	})
	if ids[0] != ids[1] || ids[1] != ids[2] {
		t.Fatalf("IDs %v differ", ids)
	}
	n, from, full, err := srv.Recv(buf)
	if err != nil || n != len(payload) || full != len(payload) || !bytes.Equal(buf[:n], payload) || from != netip.AddrPortFrom(mustAddr("198.18.0.1"), sp) {
		t.Fatalf("received %d (%d) from %v: %v", n, full, from, err)
	}
	s1, s2 := r.inet["h1"].Stats.Snapshot(), r.inet["h2"].Stats.Snapshot()
	if s1.FragOKs != 1 || s1.FragCreates != 3 || s1.FragFails != 0 {
		t.Fatalf("h1 %+v", s1)
	}
	if s2.ReasmReqds != 3 || s2.ReasmOKs != 1 || s2.ReasmFails != 0 || s2.InDelivers != 2 || s2.InReceives != 4 {
		t.Fatalf("h2 %+v", s2)
	}
	// A-RX-06: LOCAL_IN saw two datagrams, not four packets.
	if localIn != 2 {
		t.Fatalf("LOCAL_IN ran %d times, want 2", localIn)
	}
	if r.inet["h2"].FragQueues() != 0 || r.inet["h2"].FragMem() != 0 {
		t.Fatalf("queues left: %d, %d bytes", r.inet["h2"].FragQueues(), r.inet["h2"].FragMem())
	}
}

// FRAG-05 / V-1: DF and too big for a local sender is EMSGSIZE before
// anything is built; V-4: non-last fragments are multiples of 8 for any
// MTU (1006 → 984).
func TestFragmentDFAndMTU1006(t *testing.T) {
	r := newInetRig(t, "h1", "h2")
	r.link("h1", "198.18.0.1/24", "h2", "198.18.0.2/24", 1006)
	cli, srv := udpPair(t, r, "h1", "h2", 9)
	cli.DF = true
	_, err := cli.SendTo(make([]byte, 2000), netip.MustParseAddrPort("198.18.0.2:9"))
	var ms *ipv4.ErrMsgSize
	if !errors.As(err, &ms) || ms.MTU != 1006 || !errors.Is(err, syscall.EMSGSIZE) {
		t.Fatalf("DF send: %v", err)
	}
	cli.DF = false
	if _, err := cli.SendTo(make([]byte, 2000), netip.MustParseAddrPort("198.18.0.2:9")); err != nil {
		t.Fatal(err)
	}
	r.run(time.Millisecond)
	var lens []int
	for _, f := range r.frames {
		if binary.BigEndian.Uint16(f.b[12:14]) == stack.EthPIPv4 {
			lens = append(lens, int(header.IPv4(f.b[14:]).TotalLen())-20)
		}
	}
	if len(lens) != 3 || lens[0] != 984 || lens[1] != 984 || lens[2] != 2008-2*984 {
		t.Fatalf("fragment payloads %v", lens)
	}
	buf := make([]byte, 4000)
	if n, _, _, err := srv.Recv(buf); err != nil || n != 2000 {
		t.Fatalf("recv %d %v", n, err)
	}
}

// fragments builds the wire fragments of one UDP datagram of n payload
// bytes from h1 to h2 at mtu, by sending it through a rig and capturing.
func captureFragments(t *testing.T, n, mtu int) [][]byte {
	r := newInetRig(t, "a", "b")
	wa, _ := r.link("a", "198.18.0.1/24", "b", "198.18.0.2/24", mtu)
	wa.drop = func([]byte) bool { return true }
	r.inet["a"].NeighAdd(wa.dev, mustAddr("198.18.0.2"), stack.MAC{2, 0, 0, 0, 0, 0xbb})
	c, err := udp.Listen(r.inet["a"], netip.MustParseAddrPort("0.0.0.0:4000"))
	if err != nil {
		t.Fatal(err)
	}
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(i)
	}
	if _, err := c.SendTo(p, netip.MustParseAddrPort("198.18.0.2:9")); err != nil {
		t.Fatal(err)
	}
	r.run(time.Millisecond)
	var out [][]byte
	for _, f := range r.frames {
		out = append(out, f.b)
	}
	return out
}

// DEFRAG: fragments in any order give the datagram once; a duplicate is
// dropped alone; an overlap discards the queue (ReasmOverlaps and, as
// Linux's ip_frag_queue counts it, ReasmFails); a lost
// fragment leaves it pending until the 30 s timeout, which sends time
// exceeded (reassembly) only if the first fragment came.
func TestReassemblyOrderOverlapTimeout(t *testing.T) {
	frags := captureFragments(t, 5000, 1500) // 4 fragments
	if len(frags) != 4 {
		t.Fatalf("%d fragments", len(frags))
	}
	type step struct {
		name       string
		order      []int
		dup        int // index to send twice (-1 none)
		overlap    bool
		wait       time.Duration
		delivered  int
		timeExc    int
		overlaps   uint64
		reasmFails uint64
		timeouts   uint64
	}
	rnd := rand.New(rand.NewSource(3))
	shuffled := rnd.Perm(4)
	for _, c := range []step{
		{name: "in order", order: []int{0, 1, 2, 3}, dup: -1, delivered: 1},
		{name: "reversed", order: []int{3, 2, 1, 0}, dup: -1, delivered: 1},
		{name: "shuffled", order: shuffled, dup: -1, delivered: 1},
		{name: "duplicate", order: []int{0, 1, 2, 3}, dup: 1, delivered: 1},
		{name: "overlap", order: []int{0, 1}, dup: -1, overlap: true, overlaps: 1, reasmFails: 1},
		{name: "middle lost", order: []int{0, 1, 3}, dup: -1, wait: 31 * time.Second, timeExc: 1, reasmFails: 1, timeouts: 1},
		{name: "first lost", order: []int{1, 2, 3}, dup: -1, wait: 31 * time.Second, timeExc: 0, reasmFails: 1, timeouts: 1},
		{name: "not yet", order: []int{0, 1, 3}, dup: -1, wait: 29 * time.Second},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newInetRig(t, "a", "b")
			wa, wb := r.link("a", "198.18.0.1/24", "b", "198.18.0.2/24", 0)
			// Address the captured frames to b's MAC.
			srv, err := udp.Listen(r.inet["b"], netip.MustParseAddrPort("0.0.0.0:9"))
			if err != nil {
				t.Fatal(err)
			}
			send := func(b []byte) {
				f := append([]byte(nil), b...)
				mac := wb.dev.Addr()
				copy(f[0:6], mac[:])
				r.inject(wb, f)
			}
			for _, i := range c.order {
				send(frags[i])
				if i == c.dup {
					send(frags[i])
				}
			}
			if c.overlap {
				// Fragment 2 moved 8 bytes back: overlaps fragment 1.
				f := append([]byte(nil), frags[2]...)
				ip := header.IPv4(f[14:])
				binary.BigEndian.PutUint16(f[14+6:14+8], ip.FlagsFrag()-1)
				ip.UpdateChecksum()
				send(f)
				send(frags[3])
			}
			r.frames = nil
			r.run(time.Millisecond + c.wait)
			delivered := 0
			buf := make([]byte, 6000)
			for {
				n, _, _, err := srv.Recv(buf)
				if err != nil {
					break
				}
				if n != 5000 || buf[4999] != byte(4999%256) {
					t.Fatalf("datagram of %d bytes", n)
				}
				delivered++
			}
			te := 0
			for _, f := range r.frames {
				if f.from == "b/eth0" && describe(f.b) == "IP 198.18.0.2>198.18.0.1 ICMP 11/1 ttl 64 len 576" {
					te++
				}
			}
			s := r.inet["b"].Stats.Snapshot()
			if delivered != c.delivered || te != c.timeExc || s.ReasmOverlaps != c.overlaps || s.ReasmFails != c.reasmFails || s.ReasmTimeout != c.timeouts {
				t.Fatalf("delivered %d time-exceeded %d %+v\nwire %v", delivered, te, s, r.summary())
			}
			_ = wa
		})
	}
}

// inject hands frame to w's device as if it came off the wire.
func (r *inetRig) inject(w *wire, f []byte) {
	d := w.dev
	s := d.Host().Pool().Alloc(len(f) + stack.NetIPAlign)
	s.Reserve(stack.NetIPAlign)
	copy(s.Put(len(f)), f)
	s.Protocol = stack.EthTypeTrans(s, d)
	_ = stack.NetifRx(s, 0)
}

// A-TX-02: sends on a corked socket make one datagram when it is
// uncorked, fragmented when it exceeds the MTU.
func TestUDPCork(t *testing.T) {
	r := newInetRig(t, "h1", "h2")
	r.link("h1", "198.18.0.1/24", "h2", "198.18.0.2/24", 0)
	cli, srv := udpPair(t, r, "h1", "h2", 9)
	to := netip.MustParseAddrPort("198.18.0.2:9")
	if err := cli.SetCork(true); err != nil {
		t.Fatal(err)
	}
	for _, part := range []string{"one ", "two ", strings.Repeat("3", 2000)} {
		if _, err := cli.SendTo([]byte(part), to); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cli.SendTo([]byte("x"), netip.MustParseAddrPort("198.18.0.2:10")); !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("another destination while corked: %v", err)
	}
	r.run(time.Millisecond)
	if len(r.frames) != 0 {
		t.Fatalf("%d frames before uncorking", len(r.frames))
	}
	if err := cli.SetCork(false); err != nil {
		t.Fatal(err)
	}
	r.run(time.Millisecond)
	buf := make([]byte, 4000)
	n, _, _, err := srv.Recv(buf)
	if err != nil || string(buf[:n]) != "one two "+strings.Repeat("3", 2000) {
		t.Fatalf("got %d bytes: %v", n, err)
	}
	if _, _, _, err := srv.Recv(buf); !errors.Is(err, syscall.EAGAIN) {
		t.Fatalf("a second datagram: %v", err)
	}
	if s := r.inet["h1"].Stats.Snapshot(); s.OutRequests != 1 || s.FragOKs != 1 || s.FragCreates != 2 {
		t.Fatalf("%+v", s)
	}
}

// Connecting a socket while datagrams arrive is safe (run with -race): the
// receive path reads the socket's ends under the table's lock.
func TestUDPConnectWhileReceiving(t *testing.T) {
	clk, h := stacktest.NewHost(t, 1)
	in, err := inet.Init(h, ipv4.InetConfig{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := udp.Listen(in, netip.MustParseAddrPort("127.0.0.1:9"))
	if err != nil {
		t.Fatal(err)
	}
	cli, err := udp.Listen(in, netip.AddrPort{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 100; i++ {
			_ = srv.Connect(netip.MustParseAddrPort("127.0.0.1:7"))
			_ = srv.LocalAddrPort()
		}
	}()
	for i := 0; i < 100; i++ {
		if _, err := cli.SendTo([]byte("x"), netip.MustParseAddrPort("127.0.0.1:9")); err != nil {
			t.Fatal(err)
		}
		clk.RunFor(time.Millisecond) // the loopback delivers: udp_rcv matches sockets here
	}
	<-done
	// Every datagram is accounted for: queued, refused for a connected
	// socket's other peer, or over the receive buffer.
	if s := udp.Of(in).Stats.Snapshot(); s.InDatagrams+s.NoPorts+s.RcvbufErrors != 100 {
		t.Fatalf("%+v", s)
	}
}

// A DF datagram of an unconnected socket carries IP ID 0 (ip_select_ident)
// even in a buffer a datagram with an ID used before: the header is
// written whole, never left to what the pool's buffer held.
func TestDFDatagramIDZeroInReusedBuffer(t *testing.T) {
	r := newInetRig(t, "h1", "h2")
	r.link("h1", "198.18.0.1/24", "h2", "198.18.0.2/24", 0)
	cli, _ := udpPair(t, r, "h1", "h2", 9)
	to := netip.MustParseAddrPort("198.18.0.2:9")
	for i := 0; i < 8; i++ {
		cli.DF = i%2 == 1
		if _, err := cli.SendTo(make([]byte, 100), to); err != nil {
			t.Fatal(err)
		}
		r.run(time.Millisecond)
	}
	var ids []uint16
	for _, f := range r.frames {
		if f.from != "h1/eth0" || binary.BigEndian.Uint16(f.b[12:14]) != stack.EthPIPv4 {
			continue
		}
		ip := header.IPv4(f.b[14:])
		if ip.Protocol() != ipv4.IPProtoUDP {
			continue
		}
		if ip.DontFragment() {
			ids = append(ids, ip.ID())
		} else if ip.ID() == 0 {
			t.Errorf("a datagram without DF has ID 0")
		}
	}
	if len(ids) != 4 {
		t.Fatalf("%d DF datagrams on the wire, want 4", len(ids))
	}
	for _, id := range ids {
		if id != 0 {
			t.Errorf("DF datagram with ID %#x, want 0 (IDs %x)", id, ids)
		}
	}
}

// A route's mtu metric is the path MTU of what leaves by it, smaller than
// the device's: fib_tests' ping -s 1500 over "mtu 1300" goes out as 1300
// and 248 bytes (1280 + 228 of ICMP), and the answer, at the peer's 1500,
// comes back whole.
func TestFragmentAtRouteMTU(t *testing.T) {
	r := newInetRig(t, "h1", "h2")
	w1, _ := r.link("h1", "198.18.0.1/24", "h2", "198.18.0.2/24", 0)
	var mx fib.Metrics
	mx.Val[rtnetlink.RTAXMTU] = 1300
	if err := r.inet["h1"].RouteAdd(fib.Route{Dst: [4]byte{198, 18, 0, 2}, Len: 32, Dev: w1.dev, Metrics: mx}, false); err != nil {
		t.Fatal(err)
	}
	c, err := r.inet["h1"].OpenPing()
	if err != nil {
		t.Fatal(err)
	}
	dst := netip.MustParseAddr("198.18.0.2")
	if err := c.SendEcho(dst, 1, make([]byte, 56), ipv4.PingOptions{}); err != nil { // resolves the peer
		t.Fatal(err)
	}
	r.run(10 * time.Millisecond)
	if _, ok := c.Recv(); !ok {
		t.Fatal("no answer to the small echo")
	}
	r.frames = nil
	if err := c.SendEcho(dst, 2, make([]byte, 1500), ipv4.PingOptions{}); err != nil {
		t.Fatal(err)
	}
	r.run(10 * time.Millisecond)
	wantLines(t, "ping -s 1500 over mtu 1300", r.summary(), []string{
		"h1/eth0 IP 198.18.0.1>198.18.0.2 frag off 0 mf 1 ICMP 8/0 ttl 64 len 1300",
		"h1/eth0 IP 198.18.0.1>198.18.0.2 frag off 160 mf 0 ttl 64 len 248",
		"h2/eth0 IP 198.18.0.2>198.18.0.1 frag off 0 mf 1 ICMP 0/0 ttl 64 len 1500",
		"h2/eth0 IP 198.18.0.2>198.18.0.1 frag off 185 mf 0 ttl 64 len 48",
	})
	if m, ok := c.Recv(); !ok || m.IsError || m.Seq != 2 || len(m.Data) != 1500 {
		t.Fatalf("answer %+v %v", m, ok)
	}
}
