package udp_test

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"vnic/hw"
	"vnic/internal/stacktest"
	"vnic/stack"
	"vnic/stack/inet"
	"vnic/stack/ipv4"
	"vnic/stack/ipv4/fib"
	"vnic/stack/udp"
)

// holdOps is a driver that keeps what it is sent until Complete (the TX
// completion), recording its transmit start as the vnic driver does.
type holdOps struct {
	stacktest.NopOps
	dev  *stack.NetDevice
	mu   sync.Mutex
	held []*stack.SKB
}

func (h *holdOps) Open() error { h.dev.CarrierOn(); return nil }
func (h *holdOps) StartXmit(skb *stack.SKB, q *stack.TxQueue) stack.TxResult {
	q.MarkTrans(q.XmitNow())
	h.mu.Lock()
	h.held = append(h.held, skb)
	h.mu.Unlock()
	return stack.TxOK
}

// Complete frees what was sent and returns how many it was, with the
// truesize of each.
func (h *holdOps) Complete() (n, truesize int) {
	h.mu.Lock()
	held := h.held
	h.held = nil
	h.mu.Unlock()
	for _, s := range held {
		truesize += s.Truesize()
		s.Consume()
	}
	return len(held), truesize
}

// countClock counts readings of a virtual clock.
type countClock struct {
	*hw.VirtualClock
	reads int
}

func (c *countClock) Now() time.Duration { c.reads++; return c.VirtualClock.Now() }

// udpHost is a host on clk with two devices (198.18.0.1/24 on dev0,
// 198.18.1.1/24 on dev1), their neighbours 198.18.0.2 and 198.18.1.2
// resolved, and a socket bound to 198.18.0.1:7.
type udpHost struct {
	in   *ipv4.Inet
	devs [2]*stack.NetDevice
	ops  [2]*holdOps
	c    *udp.Conn
}

func newUDPHost(t *testing.T, clk stack.Clock, cpus []stack.CPU) *udpHost {
	t.Helper()
	h := stack.NewHost("u", clk, cpus, stack.HostConfig{})
	in, err := inet.Init(h, ipv4.InetConfig{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	u := &udpHost{in: in}
	for i, p := range []string{"198.18.0.1/24", "198.18.1.1/24"} {
		ops := &holdOps{}
		d := stack.NewEtherDevice("eth%d", ops, 1, 1, 1500)
		ops.dev = d
		d.SetAddrInit(stack.MAC{2, 0, 0, 0, 0, byte(i + 1)})
		if err := h.Register(d); err != nil {
			t.Fatal(err)
		}
		if err := d.Open(); err != nil {
			t.Fatal(err)
		}
		if err := in.AddAddr(d, netip.MustParsePrefix(p)); err != nil {
			t.Fatal(err)
		}
		in.NeighAdd(d, netip.AddrFrom4([4]byte{198, 18, byte(i), 2}), stack.MAC{2, 0, 0, 0, 0, byte(0x22 + i)})
		u.devs[i], u.ops[i] = d, ops
	}
	if u.c, err = udp.Listen(in, netip.MustParseAddrPort("198.18.0.1:7")); err != nil {
		t.Fatal(err)
	}
	return u
}

func virtualUDPHost(t *testing.T) (*countClock, *udpHost) {
	vc := hw.NewVirtualClock()
	clk := &countClock{VirtualClock: vc}
	u := newUDPHost(t, clk, []stack.CPU{hw.NewCPU(0, vc, hw.CostModel{})})
	vc.RunFor(time.Millisecond)
	for _, o := range u.ops {
		o.Complete() // what the stack sent of its own (gratuitous ARP)
	}
	return clk, u
}

var peer = netip.MustParseAddrPort("198.18.0.2:9")

// On the virtual clock a send that finds the send buffer full is refused
// with EAGAIN (and counted); what the device completes gives the buffer
// back, exactly, fragments and all.
func TestSendBufferVirtualTime(t *testing.T) {
	_, u := virtualUDPHost(t)
	c, ops := u.c, u.ops[0]
	msg := make([]byte, 64)
	sent := 0
	for ; sent < 1000; sent++ {
		if _, err := c.SendTo(msg, peer); err != nil {
			if !errors.Is(err, syscall.EAGAIN) {
				t.Fatalf("send %d: %v, want EAGAIN", sent, err)
			}
			break
		}
	}
	// A 64-byte datagram's skb costs 2370 bytes (256 + a 2114-byte
	// buffer): sends go on while less than 212992 is in use.
	if truesize := 2370; sent != (udp.DefaultSndBuf+truesize-1)/truesize {
		t.Errorf("%d sends before EAGAIN, want %d", sent, (udp.DefaultSndBuf+truesize-1)/truesize)
	}
	if got := udp.Of(u.in).Stats.SndbufErrors.Load(); got != 1 {
		t.Errorf("SndbufErrors %d, want 1", got)
	}
	n, size := ops.Complete()
	if n != sent || c.Wmem().Alloc() != 0 || size != sent*2370 {
		t.Errorf("completed %d skbs of %d bytes, %d in use after, want %d, %d and 0", n, size, c.Wmem().Alloc(), sent, sent*2370)
	}
	// A fragmented datagram charges every fragment while the device
	// holds it, and gives every byte back.
	if _, err := c.SendTo(make([]byte, 4000), peer); err != nil {
		t.Fatal(err)
	}
	inUse := c.Wmem().Alloc()
	n, size = ops.Complete()
	if n != 3 || inUse != size || c.Wmem().Alloc() != 0 {
		t.Errorf("a 4000-byte datagram: %d fragments of %d bytes, %d charged, %d left", n, size, inUse, c.Wmem().Alloc())
	}
	// SO_SNDBUF is doubled, as in Linux: 8192 bytes take four skbs of
	// 2370 (the fourth starts below the limit), not a fifth.
	c.SetSndBuf(4096)
	for i := 0; i < 5; i++ {
		_, err := c.SendTo(msg, peer)
		if i < 4 && err != nil || i == 4 && !errors.Is(err, syscall.EAGAIN) {
			t.Errorf("send %d with an 8 KiB buffer: %v", i, err)
		}
	}
	ops.Complete()
}

// A send is one reading of the clock, for the IP ID, the neighbour's use,
// the qdisc and the driver's transmit start alike, connected or not.
func TestSendReadsTheClockOnce(t *testing.T) {
	clk, u := virtualUDPHost(t)
	msg := make([]byte, 64)
	send := map[string]func() error{
		"unconnected": func() error { _, err := u.c.SendTo(msg, peer); return err },
		"connected":   func() error { _, err := u.c.Send(msg); return err },
	}
	for _, name := range []string{"unconnected", "connected"} {
		if name == "connected" {
			if err := u.c.Connect(peer); err != nil {
				t.Fatal(err)
			}
		}
		for i := 0; i < 3; i++ {
			clk.reads = 0
			if err := send[name](); err != nil {
				t.Fatal(err)
			}
			if clk.reads != 1 {
				t.Errorf("%s send %d: %d clock readings, want 1", name, i, clk.reads)
			}
		}
		u.ops[0].Complete()
	}
}

// A connected socket keeps its route while the routing stands and looks
// it up again when the routing changes.
func TestConnectedRouteCache(t *testing.T) {
	_, u := virtualUDPHost(t)
	if err := u.c.Connect(peer); err != nil {
		t.Fatal(err)
	}
	msg := make([]byte, 64)
	sendVia := func() int {
		t.Helper()
		if _, err := u.c.Send(msg); err != nil {
			t.Fatal(err)
		}
		for i, o := range u.ops {
			if n, _ := o.Complete(); n == 1 {
				return i
			}
		}
		t.Fatal("the datagram went nowhere")
		return -1
	}
	if d := sendVia(); d != 0 {
		t.Fatalf("first send via eth%d, want eth0", d)
	}
	lookups, _ := u.in.FibStats()
	for i := 0; i < 3; i++ {
		if d := sendVia(); d != 0 {
			t.Fatalf("cached send via eth%d, want eth0", d)
		}
	}
	if l, _ := u.in.FibStats(); l != lookups {
		t.Errorf("%d FIB lookups for three sends on a connected socket, want 0", l-lookups)
	}
	// A host route to the peer through a gateway on eth1.
	if err := u.in.RouteAdd(fib.Route{Dst: peer.Addr().As4(), Len: 32, Gateway: [4]byte{198, 18, 1, 2}, Dev: u.devs[1]}, false); err != nil {
		t.Fatal(err)
	}
	if d := sendVia(); d != 1 {
		t.Fatalf("after the route change: via eth%d, want eth1", d)
	}
	// Another destination does not disturb the connected route.
	if _, err := u.c.SendTo(msg, netip.MustParseAddrPort("198.18.1.2:9")); err != nil {
		t.Fatal(err)
	}
	if n, _ := u.ops[1].Complete(); n != 1 {
		t.Fatalf("the unconnected send: %d packets on eth1, want 1", n)
	}
	if d := sendVia(); d != 1 {
		t.Fatalf("connected send via eth%d, want eth1", d)
	}
	if n := u.in.Host().Pool().Live(); n != 0 {
		t.Errorf("%d skbs live", n)
	}
}

// In real time a send that finds the buffer full waits until the device
// frees enough, until its write deadline, or until the socket closes.
func TestSendBufferWaits(t *testing.T) {
	clk := hw.NewRealClock()
	cpu := hw.NewCPU(0, clk, hw.CostModel{})
	u := newUDPHost(t, clk, []stack.CPU{cpu})
	cpu.Start()
	t.Cleanup(cpu.Stop)
	c, ops := u.c, u.ops[0]
	c.SetSndBuf(2 * 2370) // four 64-byte datagrams' skbs (doubled)
	msg := make([]byte, 64)
	fill := func() {
		t.Helper()
		for i := 0; i < 4; i++ {
			if _, err := c.SendTo(msg, peer); err != nil {
				t.Fatalf("send %d: %v", i, err)
			}
		}
	}
	// waitBlocked waits (bounded) until a sender waits on the buffer.
	waitBlocked := func() {
		t.Helper()
		for i := 0; c.Wmem().Waiting() == 0; i++ {
			if i == 5000 {
				t.Fatal("the sender did not wait for the send buffer")
			}
			time.Sleep(time.Millisecond)
		}
	}
	for _, tc := range []struct {
		name    string
		release func()
		want    error
	}{
		{"completion", func() { ops.Complete() }, nil},
		{"deadline", func() { _ = c.SetWriteDeadline(time.Now()) }, os.ErrDeadlineExceeded},
		{"close", func() { c.Close() }, net.ErrClosed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fill()
			done := make(chan error, 1)
			go func() { _, err := c.SendTo(msg, peer); done <- err }()
			waitBlocked()
			tc.release()
			select {
			case err := <-done:
				if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
					t.Errorf("the waiting send: %v, want %v", err, tc.want)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the waiting send did not return")
			}
			_ = c.SetWriteDeadline(time.Time{})
			ops.Complete()
		})
	}
	if c.Wmem().Alloc() != 0 {
		t.Errorf("%d bytes still charged", c.Wmem().Alloc())
	}
}
