package stack_test

import (
	"errors"
	"syscall"
	"testing"
	"time"

	"vnic/hw"
	"vnic/stack"
)

// fakeOps is a driver that records calls and transmits into a slice.
type fakeOps struct {
	opens, stops, rxModes int
	sent                  []*stack.SKB
	busy                  bool
	mtu                   int
	txTimeouts            []int
}

func (f *fakeOps) Open() error { f.opens++; return nil }
func (f *fakeOps) Stop() error { f.stops++; return nil }
func (f *fakeOps) StartXmit(s *stack.SKB, q *stack.TxQueue) stack.TxResult {
	if f.busy {
		q.Stop()
		return stack.TxBusy
	}
	f.sent = append(f.sent, s)
	return stack.TxOK
}
func (f *fakeOps) ChangeMTU(m int) error         { f.mtu = m; return nil }
func (f *fakeOps) SetMACAddress(stack.MAC) error { return nil }
func (f *fakeOps) SetRxMode()                    { f.rxModes++ }
func (f *fakeOps) GetStats64(*stack.LinkStats64) {}
func (f *fakeOps) TxTimeout(q int)               { f.txTimeouts = append(f.txTimeouts, q) }
func (f *fakeOps) free() {
	for _, s := range f.sent {
		s.Consume()
	}
	f.sent = nil
}

func newHost(t *testing.T, ncpu int) (*hw.VirtualClock, *stack.Host) {
	t.Helper()
	clk := hw.NewVirtualClock()
	var cpus []stack.CPU
	for i := 0; i < ncpu; i++ {
		cpus = append(cpus, hw.NewCPU(i, clk, hw.CostModel{}))
	}
	return clk, stack.NewHost("h", clk, cpus, stack.HostConfig{})
}

func newDev(t *testing.T, h *stack.Host, ntx int) (*stack.NetDevice, *fakeOps) {
	t.Helper()
	ops := &fakeOps{}
	d := stack.NewEtherDevice("vnic%d", ops, ntx, ntx, 9216)
	d.SetAddrInit(stack.MAC{2, 0, 0, 0, 0, 1})
	if err := h.Register(d); err != nil {
		t.Fatal(err)
	}
	return d, ops
}

func TestNameAllocation(t *testing.T) {
	_, h := newHost(t, 1)
	a, _ := newDev(t, h, 1)
	b, _ := newDev(t, h, 1)
	c, _ := newDev(t, h, 1)
	if a.Name() != "vnic0" || b.Name() != "vnic1" || c.Name() != "vnic2" || c.Ifindex() != 3 {
		t.Fatalf("names %s %s %s", a.Name(), b.Name(), c.Name())
	}
	if err := h.Unregister(b); err != nil {
		t.Fatal(err)
	}
	d, _ := newDev(t, h, 1)
	if d.Name() != "vnic1" || d.Ifindex() != 4 {
		t.Fatalf("lowest free index: %s ifindex %d", d.Name(), d.Ifindex())
	}
	fixed := stack.NewEtherDevice("vnic0", &fakeOps{}, 1, 1, 1500)
	if err := h.Register(fixed); !errors.Is(err, syscall.EEXIST) {
		t.Fatalf("duplicate name: %v", err)
	}
}

func TestPromiscuityNesting(t *testing.T) {
	_, h := newHost(t, 1)
	d, ops := newDev(t, h, 1)
	if err := d.Open(); err != nil {
		t.Fatal(err)
	}
	base := ops.rxModes
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
		if d.Promiscuity() != s.counter || (d.Flags()&stack.IFFPromisc != 0) != s.promisc || ops.rxModes-base != s.rxModes {
			t.Fatalf("step %d: counter %d flags %#x rx_mode calls %d", i, d.Promiscuity(), d.Flags(), ops.rxModes-base)
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
	_, h := newHost(t, 1)
	d, ops := newDev(t, h, 1)
	if d.MTU() != 1500 {
		t.Fatal("default MTU")
	}
	for _, bad := range []int{67, 9217, -1} {
		if err := d.SetMTU(bad); !errors.Is(err, syscall.EINVAL) {
			t.Errorf("MTU %d: %v", bad, err)
		}
	}
	if err := d.SetMTU(9000); err != nil || d.MTU() != 9000 || ops.mtu != 9000 {
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
	_, h := newHost(t, 1)
	d, _ := newDev(t, h, 1)
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
	_, h := newHost(t, 1)
	d, _ := newDev(t, h, 1)
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
	clk, h := newHost(t, 1)
	d, ops := newDev(t, h, 1)
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
	ops.busy = true
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
	ops.busy = false
	q.Wake()
	clk.RunFor(time.Microsecond) // NET_TX runs the qdisc
	if len(ops.sent) != 10 || q.Counters().Backlog != 0 || q.Counters().Wakeups != 1 {
		t.Fatalf("after wake: sent %d backlog %d", len(ops.sent), q.Counters().Backlog)
	}
	ops.free()
	_, txd, _ := d.CoreStats()
	if txd != 6 || h.Pool().Live() != 0 {
		t.Fatalf("tx dropped %d live %d", txd, h.Pool().Live())
	}
}

func TestTxWatchdog(t *testing.T) {
	clk, h := newHost(t, 1)
	d, ops := newDev(t, h, 2)
	d.WatchdogTimeout = time.Second
	d.Open()
	d.CarrierOn()
	d.TxQueue(1).Stop()
	clk.RunFor(1500 * time.Millisecond)
	if len(ops.txTimeouts) != 1 || ops.txTimeouts[0] != 1 {
		t.Fatalf("timeouts %v", ops.txTimeouts)
	}
	clk.RunFor(time.Second)
	if len(ops.txTimeouts) != 2 {
		t.Fatalf("a queue still stuck times out again: %v", ops.txTimeouts)
	}
	d.TxQueue(1).Wake()
	clk.RunFor(3 * time.Second)
	if len(ops.txTimeouts) != 2 {
		t.Fatal("a running queue timed out")
	}
}
