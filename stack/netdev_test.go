package stack_test

import (
	"errors"
	"syscall"
	"testing"
	"time"

	"vnic/internal/stacktest"
	"vnic/stack"
)

func TestNameAllocation(t *testing.T) {
	_, h := stacktest.NewHost(t, 1)
	a, _ := stacktest.NewDev(t, h, 1)
	b, _ := stacktest.NewDev(t, h, 1)
	c, _ := stacktest.NewDev(t, h, 1)
	if a.Name() != "vnic0" || b.Name() != "vnic1" || c.Name() != "vnic2" || c.Ifindex() != 3 {
		t.Fatalf("names %s %s %s", a.Name(), b.Name(), c.Name())
	}
	if err := h.Unregister(b); err != nil {
		t.Fatal(err)
	}
	d, _ := stacktest.NewDev(t, h, 1)
	if d.Name() != "vnic1" || d.Ifindex() != 4 {
		t.Fatalf("lowest free index: %s ifindex %d", d.Name(), d.Ifindex())
	}
	fixed := stack.NewEtherDevice("vnic0", &stacktest.FakeOps{}, 1, 1, 1500)
	if err := h.Register(fixed); !errors.Is(err, syscall.EEXIST) {
		t.Fatalf("duplicate name: %v", err)
	}
}

func TestPromiscuityNesting(t *testing.T) {
	_, h := stacktest.NewHost(t, 1)
	d, ops := stacktest.NewDev(t, h, 1)
	if err := d.Open(); err != nil {
		t.Fatal(err)
	}
	base := ops.RxModes
	steps := []struct {
		inc     int
		counter int
		promisc bool
		rxModes int // calls so far beyond base
	}{
		{+1, 1, true, 1}, {+1, 2, true, 1}, {-1, 1, true, 1}, {-1, 0, false, 2},
	}
	for i, s := range steps {
		if err := d.SetPromiscuity(s.inc); err != nil {
			t.Fatal(err)
		}
		if d.Promiscuity() != s.counter || (d.Flags()&stack.IFFPromisc != 0) != s.promisc || ops.RxModes-base != s.rxModes {
			t.Fatalf("step %d: counter %d flags %#x rx_mode calls %d", i, d.Promiscuity(), d.Flags(), ops.RxModes-base)
		}
	}
	if err := d.SetPromiscuity(-1); !errors.Is(err, stack.ErrCounter) || !errors.Is(err, syscall.EOVERFLOW) {
		t.Fatalf("underflow: %v", err)
	}
	if err := d.SetAllMulti(+1); err != nil || d.Flags()&stack.IFFAllMulti == 0 {
		t.Fatal("allmulti")
	}
	if err := d.SetAllMulti(-1); err != nil || d.Flags()&stack.IFFAllMulti != 0 {
		t.Fatal("allmulti off")
	}
}

func TestMTUAndMAC(t *testing.T) {
	_, h := stacktest.NewHost(t, 1)
	d, ops := stacktest.NewDev(t, h, 1)
	if d.MTU() != 1500 {
		t.Fatal("default MTU")
	}
	for _, bad := range []int{67, 9217, -1} {
		if err := d.SetMTU(bad); !errors.Is(err, syscall.EINVAL) {
			t.Errorf("MTU %d: %v", bad, err)
		}
	}
	if err := d.SetMTU(9000); err != nil || d.MTU() != 9000 || ops.MTU != 9000 {
		t.Fatal("MTU 9000")
	}
	if err := d.SetMACAddress(stack.MAC{1, 2, 3, 4, 5, 6}); !errors.Is(err, syscall.EADDRNOTAVAIL) {
		t.Fatal("multicast MAC accepted")
	}
	if err := d.SetMACAddress(stack.MAC{}); err == nil {
		t.Fatal("zero MAC accepted")
	}
	if err := d.SetMACAddress(stack.MAC{2, 9, 9, 9, 9, 9}); err != nil || d.Addr() != (stack.MAC{2, 9, 9, 9, 9, 9}) {
		t.Fatal("set MAC")
	}
}

func TestMulticastList(t *testing.T) {
	_, h := stacktest.NewHost(t, 1)
	d, _ := stacktest.NewDev(t, h, 1)
	g := stack.MAC{0x01, 0, 0x5e, 0, 0, 1}
	if err := d.McAdd(stack.MAC{2, 0, 0, 0, 0, 2}); !errors.Is(err, syscall.EINVAL) {
		t.Fatal("unicast in the multicast list")
	}
	d.McAdd(g)
	d.McAdd(g)
	d.McDel(g)
	if l := d.McList(); len(l) != 1 {
		t.Fatal("refcount")
	}
	d.McDel(g)
	if l := d.McList(); len(l) != 0 {
		t.Fatal("last reference")
	}
	if err := d.McDel(g); !errors.Is(err, syscall.ENOENT) {
		t.Fatal("delete absent")
	}
}

func TestEthTypeTrans(t *testing.T) {
	_, h := stacktest.NewHost(t, 1)
	d, _ := stacktest.NewDev(t, h, 1)
	tests := []struct {
		dst  stack.MAC
		want uint8
	}{
		{stack.BroadcastMAC, stack.PacketBroadcast},
		{stack.MAC{0x01, 0, 0x5e, 0, 0, 1}, stack.PacketMulticast},
		{d.Addr(), stack.PacketHost},
		{stack.MAC{2, 0, 0, 0, 0, 0x77}, stack.PacketOtherHost},
	}
	for _, tc := range tests {
		s := h.Pool().Alloc(100)
		s.Put(60)
		stack.EthHeader(s, tc.dst, stack.MAC{2, 0, 0, 0, 0, 9}, stack.EthPARP)
		before := s.Len()
		proto := stack.EthTypeTrans(s, d)
		if proto != stack.EthPARP || s.PktType != tc.want || s.Len() != before-14 || len(s.MACHeader()) != s.Len()+14 {
			t.Errorf("dst %s: proto %#x type %d len %d", tc.dst, proto, s.PktType, s.Len())
		}
		s.Consume()
	}
}

func TestQdiscAndQueueStopWake(t *testing.T) {
	clk, h := stacktest.NewHost(t, 1)
	d, ops := stacktest.NewDev(t, h, 1)
	d.TxQueueLen = 10
	d.Open()
	xmit := func() error {
		s := h.Pool().Alloc(60)
		s.Put(60)
		s.Dev = d
		return stack.DevQueueXmit(s)
	}
	// No carrier: noop qdisc drops.
	if err := xmit(); !errors.Is(err, syscall.ENOBUFS) {
		t.Fatalf("without carrier: %v", err)
	}
	d.CarrierOn()
	ops.Busy = true
	var errs int
	for i := 0; i < 15; i++ {
		if xmit() != nil {
			errs++
		}
	}
	q := d.TxQueue(0)
	c := q.Counters()
	// The first packet is requeued (busy), the queue stops; 10 fit.
	if errs != 5 || c.Backlog != 10 || !q.Stopped() || c.Requeues != 1 || c.QdiscDrops != 5 {
		t.Fatalf("errs %d counters %+v stopped %v", errs, c, q.Stopped())
	}
	ops.Busy = false
	q.Wake()
	clk.RunFor(time.Microsecond) // NET_TX runs the qdisc
	if len(ops.Sent) != 10 || q.Counters().Backlog != 0 || q.Counters().Wakeups != 1 {
		t.Fatalf("after wake: sent %d backlog %d", len(ops.Sent), q.Counters().Backlog)
	}
	ops.Free()
	_, txd, _ := d.CoreStats()
	if txd != 6 || h.Pool().Live() != 0 {
		t.Fatalf("tx dropped %d live %d", txd, h.Pool().Live())
	}
}

func TestTxWatchdog(t *testing.T) {
	clk, h := stacktest.NewHost(t, 1)
	d, ops := stacktest.NewDev(t, h, 2)
	d.WatchdogTimeout = time.Second
	d.Open()
	d.CarrierOn()
	d.TxQueue(1).Stop()
	clk.RunFor(1500 * time.Millisecond)
	if len(ops.TxTimeouts) != 1 || ops.TxTimeouts[0] != 1 {
		t.Fatalf("timeouts %v", ops.TxTimeouts)
	}
	clk.RunFor(time.Second)
	if len(ops.TxTimeouts) != 2 {
		t.Fatalf("a queue still stuck times out again: %v", ops.TxTimeouts)
	}
	d.TxQueue(1).Wake()
	clk.RunFor(3 * time.Second)
	if len(ops.TxTimeouts) != 2 {
		t.Fatal("a running queue timed out")
	}
}

// TestQdiscBypassKeepsOrder: a packet finding pfifo_fast empty and idle
// goes straight to the driver; one finding packets waiting (a stopped
// queue's, or a burst's sent with XmitMore) goes behind them, and the run
// sends all in order, band 0 first; the queue's counters see each packet
// once either way.
func TestQdiscBypassKeepsOrder(t *testing.T) {
	clk, h := stacktest.NewHost(t, 1)
	d, ops := stacktest.NewDev(t, h, 1)
	d.TxQueueLen = 10
	d.Open()
	d.CarrierOn()
	q := d.TxQueue(0)
	xmit := func(id byte, prio uint32, more bool) {
		t.Helper()
		s := h.Pool().Alloc(60)
		s.Put(60)[0] = id
		s.Dev, s.Priority, s.XmitMore = d, prio, more
		if err := stack.DevQueueXmit(s); err != nil {
			t.Fatal(err)
		}
	}
	sent := func() (ids []byte) {
		for _, s := range ops.Sent {
			ids = append(ids, s.Data()[0])
		}
		ops.Free()
		return ids
	}
	check := func(what string, want ...byte) {
		t.Helper()
		if got := sent(); string(got) != string(want) {
			t.Fatalf("%s: sent %v, want %v", what, got, want)
		}
		if n := q.Len(); n != 0 {
			t.Fatalf("%s: %d left in the qdisc", what, n)
		}
	}
	xmit(1, 0, false)
	check("idle queue", 1)
	// A stopped queue holds them; the packet after the wake goes last.
	q.Stop()
	xmit(2, 0, false)
	xmit(3, 6, false) // TC_PRIO_INTERACTIVE: band 0, ahead of 2
	if got := sent(); len(got) != 0 || q.Len() != 2 {
		t.Fatalf("stopped queue sent %v, holds %d", got, q.Len())
	}
	q.Wake()
	xmit(4, 0, false)
	check("after the wake", 3, 2, 4)
	clk.RunFor(time.Microsecond) // the wake's NET_TX finds nothing left
	check("NET_TX")
	// A burst: XmitMore queues, the last one runs it.
	xmit(5, 0, true)
	xmit(6, 0, true)
	xmit(7, 0, false)
	check("burst", 5, 6, 7)
	if s := q.Stats.Packets.Load(); s != 7 {
		t.Fatalf("queue counted %d packets, want 7", s)
	}
	if c := q.Counters(); c.Requeues != 0 || c.QdiscDrops != 0 {
		t.Fatalf("counters %+v", c)
	}
}

// TestXmitTime: the first reading of an skb's transmit time reads the
// clock and is kept for the rest of the path; a time the sender gave
// wins; once cleared (the skb waited in a queue), the clock is read anew.
func TestXmitTime(t *testing.T) {
	clk, h := stacktest.NewHost(t, 1)
	s := h.Pool().Alloc(60)
	defer s.Consume()
	clk.RunFor(time.Millisecond)
	if got := s.XmitTime(clk); got != clk.Now() {
		t.Fatalf("first reading %v, clock %v", got, clk.Now())
	}
	first := clk.Now()
	clk.RunFor(time.Millisecond)
	if got := s.XmitTime(clk); got != first {
		t.Fatalf("second reading %v, want the first's %v", got, first)
	}
	s.SetXmitTime(42)
	if got := s.XmitTime(clk); got != 42 {
		t.Fatalf("after SetXmitTime(42): %v", got)
	}
	s.ClearXmitTime()
	if got := s.XmitTime(clk); got != clk.Now() || got == first {
		t.Fatalf("after ClearXmitTime: %v, clock %v", got, clk.Now())
	}
}

// TestXmitTimeEndsAtTheQueue: the time a sender gave is not kept past
// dev_queue_xmit, through pfifo_fast or a root qdisc: a packet the driver
// holds (or that comes back into the stack) reads the clock anew.
func TestXmitTimeEndsAtTheQueue(t *testing.T) {
	for _, root := range []bool{false, true} {
		clk, h := stacktest.NewHost(t, 1)
		d, ops := stacktest.NewDev(t, h, 1)
		d.Open()
		d.CarrierOn()
		if root {
			q, err := stack.NewNetem(d, 0x80010000, stack.NetemConfig{Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			d.GraftQdisc(q)
		}
		s := h.Pool().Alloc(60)
		s.Put(60)
		s.Dev = d
		s.SetXmitTime(42)
		if err := stack.DevQueueXmit(s); err != nil {
			t.Fatal(err)
		}
		clk.RunFor(time.Millisecond)
		if len(ops.Sent) != 1 {
			t.Fatalf("root qdisc %v: %d sent", root, len(ops.Sent))
		}
		if got := ops.Sent[0].XmitTime(clk); got != clk.Now() {
			t.Fatalf("root qdisc %v: the driver's skb still says %v (clock %v)", root, got, clk.Now())
		}
		ops.Free()
	}
}
