// Package stacktest holds what the stack's tests share: a host on a
// virtual clock and a fake driver that records what the stack asks of it.
package stacktest

import (
	"testing"

	"vnic/ethtool"
	"vnic/hw"
	"vnic/stack"
)

// FakeOps is a driver that records calls and transmits into Sent.
type FakeOps struct {
	Opens, Stops, RxModes int
	Sent                  []*stack.SKB
	// Busy makes StartXmit stop the queue and refuse.
	Busy       bool
	MTU        int
	TxTimeouts []int
}

func (f *FakeOps) Open() error { f.Opens++; return nil }
func (f *FakeOps) Stop() error { f.Stops++; return nil }
func (f *FakeOps) StartXmit(s *stack.SKB, q *stack.TxQueue) stack.TxResult {
	if f.Busy {
		q.Stop()
		return stack.TxBusy
	}
	f.Sent = append(f.Sent, s)
	return stack.TxOK
}
func (f *FakeOps) ChangeMTU(m int) error         { f.MTU = m; return nil }
func (f *FakeOps) SetMACAddress(stack.MAC) error { return nil }
func (f *FakeOps) SetRxMode()                    { f.RxModes++ }
func (f *FakeOps) GetStats64(*stack.LinkStats64) {}
func (f *FakeOps) TxTimeout(q int)               { f.TxTimeouts = append(f.TxTimeouts, q) }

// Free consumes what was sent.
func (f *FakeOps) Free() {
	for _, s := range f.Sent {
		s.Consume()
	}
	f.Sent = nil
}

// NewHost returns a host "h" with ncpu CPUs on a new virtual clock.
func NewHost(t testing.TB, ncpu int) (*hw.VirtualClock, *stack.Host) {
	t.Helper()
	clk := hw.NewVirtualClock()
	var cpus []stack.CPU
	for i := 0; i < ncpu; i++ {
		cpus = append(cpus, hw.NewCPU(i, clk, hw.CostModel{}))
	}
	return clk, stack.NewHost("h", clk, cpus, stack.HostConfig{})
}

// NewDev registers a "vnic%d" device with ntx queues each way and MAC
// 02:00:00:00:00:01 on h.
func NewDev(t testing.TB, h *stack.Host, ntx int) (*stack.NetDevice, *FakeOps) {
	t.Helper()
	ops := &FakeOps{}
	d := stack.NewEtherDevice("vnic%d", ops, ntx, ntx, 9216)
	d.SetAddrInit(stack.MAC{2, 0, 0, 0, 0, 1})
	register(t, h, d)
	return d, ops
}

// NewDevFeatures registers a one-queue device with MAC mac whose hardware
// features are hwf, on.
func NewDevFeatures(t testing.TB, h *stack.Host, mac stack.MAC, hwf, on ethtool.Features) (*stack.NetDevice, *FakeOps) {
	t.Helper()
	ops := &FakeOps{}
	d := stack.NewEtherDevice("vnic%d", ops, 1, 1, 9216)
	d.SetAddrInit(mac)
	d.InitFeatures(hwf, on)
	register(t, h, d)
	return d, ops
}

func register(t testing.TB, h *stack.Host, d *stack.NetDevice) {
	t.Helper()
	if err := h.Register(d); err != nil {
		t.Fatal(err)
	}
}

// NopOps are the device controls a test driver leaves alone (stop, MTU,
// MAC, RX mode, statistics, TX timeout): embed it and write Open and
// StartXmit.
type NopOps struct{}

func (NopOps) Stop() error                   { return nil }
func (NopOps) ChangeMTU(int) error           { return nil }
func (NopOps) SetMACAddress(stack.MAC) error { return nil }
func (NopOps) SetRxMode()                    {}
func (NopOps) GetStats64(*stack.LinkStats64) {}
func (NopOps) TxTimeout(int)                 {}
