package driver_test

import (
	"errors"
	"syscall"
	"testing"
	"time"

	"vnic/driver"
	"vnic/ethtool"
	"vnic/hw"
	"vnic/internal/topo"
	"vnic/stack"
)

func TestDrvInfoAndChannels(t *testing.T) {
	e := newEnv(t, queues(4))
	di := e.a.Adapter.DrvInfo()
	if di.Driver != "vnic" || di.Version == "" || di.BusInfo != "h1/nic0" || di.EEDumpLen != 128 {
		t.Fatalf("drvinfo %+v", di)
	}
	ch := e.a.Adapter.GetChannels()
	if ch.Combined != 4 || ch.MaxCombined != 8 || ch.Other != 1 || ch.MaxOther != 1 {
		t.Fatalf("channels %+v", ch)
	}
	if !e.a.Adapter.GetLink() {
		t.Fatal("link")
	}
}

func TestRingParamErrorsChangeNothing(t *testing.T) {
	e := newEnv(t, nil)
	ad := e.a.Adapter
	before := ad.GetRingParam()
	none := ethtool.Opt32{}
	tests := []struct {
		rx, jumbo, tx ethtool.Opt32
		want          error
	}{
		{ethtool.Some32(4097), none, none, syscall.EINVAL},
		{none, none, ethtool.Some32(8192), syscall.EINVAL},
		{ethtool.Some32(100), none, none, syscall.EINVAL}, // not a multiple of 8
		{ethtool.Some32(0), none, none, syscall.EINVAL},
		{none, ethtool.Some32(8), none, syscall.EINVAL},
	}
	for _, tc := range tests {
		err := ethtool.SetRing(ad, tc.rx, none, tc.jumbo, tc.tx)
		if !errors.Is(err, tc.want) || !errors.Is(err, ethtool.ErrInvalid) {
			t.Errorf("%v/%v/%v: %v", tc.rx, tc.jumbo, tc.tx, err)
		}
		if got := ad.GetRingParam(); got != before {
			t.Fatalf("a failed set changed the rings: %+v", got)
		}
	}
	if e.a.HW.Read32(hw.RDLEN(0)) != 256*16 {
		t.Fatal("RDLEN changed")
	}
}

func TestCoalesce(t *testing.T) {
	e := newEnv(t, queues(2))
	ad := e.a.Adapter
	if err := setCoal(ad, ethtool.RxUsecs, 100); err != nil {
		t.Fatal(err)
	}
	if c := ad.GetCoalesce(); c.V[ethtool.RxUsecs] != 100 {
		t.Fatalf("rx-usecs %d", c.V[ethtool.RxUsecs])
	}
	for v := 0; v <= 2; v++ {
		if got := e.a.HW.Read32(hw.EITR(v)); got != 100<<2 {
			t.Fatalf("EITR(%d) = %#x", v, got)
		}
	}
	bad := []struct {
		kv   []any
		want error
	}{
		{[]any{ethtool.RxUsecs, 100, ethtool.TxUsecs, 5}, ethtool.ErrInvalid},
		{[]any{ethtool.RxUsecs, driver.MaxITRUsecs + 1}, ethtool.ErrInvalid},
		{[]any{ethtool.RxUsecs, 50, ethtool.AdaptiveRx, 1}, ethtool.ErrInvalid}, // adaptive chooses rx-usecs
		{[]any{ethtool.RxUsecs, 1, ethtool.AdaptiveTx, 1}, ethtool.ErrInvalid},  // one scheme per vector
		{[]any{ethtool.AdaptiveTx, 1, ethtool.TxUsecs, 5}, ethtool.ErrInvalid},  // adaptive chooses tx-usecs
		{[]any{ethtool.RxUsecs, 50, ethtool.RxFrames, 4}, syscall.EOPNOTSUPP},
		{[]any{ethtool.RxUsecsIRQ, 4}, syscall.EOPNOTSUPP},
	}
	for _, b := range bad {
		c, mask := coalMany(b.kv...)
		if err := ethtool.SetCoalesce(ad, c, mask); !errors.Is(err, b.want) {
			t.Errorf("%v: %v", b.kv, err)
		}
		if ad.GetCoalesce().V[ethtool.RxUsecs] != 100 || e.a.HW.Read32(hw.EITR(1)) != 100<<2 {
			t.Fatal("a failed set changed the coalescing")
		}
	}
}

// TestCoalesceInterruptCount: frames every 7 µs (from 0.5 µs, never on a
// window edge) for 1 ms on one queue: with rx-usecs 0 each frame gets its
// own interrupt; with rx-usecs 100 there is one at the first frame and one
// at the end of each 100 µs window that saw frames: 11.
func TestCoalesceInterruptCount(t *testing.T) {
	for _, tc := range []struct {
		usecs uint32
		want  uint64
	}{{0, 143}, {100, 11}} {
		e := newEnv(t, nil)
		listen(e.b)
		if err := setCoal(e.b.Adapter, ethtool.RxUsecs, tc.usecs); err != nil {
			t.Fatal(err)
		}
		base := e.b.Adapter.QueueStats(0).Interrupts
		train(e)
		if got := e.b.Adapter.QueueStats(0).Interrupts - base; got != tc.want {
			t.Errorf("rx-usecs %d: %d interrupts, want %d", tc.usecs, got, tc.want)
		}
		if got := e.b.Netdev.Stats64().RxPackets; got != 143 {
			t.Errorf("received %d", got)
		}
	}
}

// train injects 143 frames into h2, 7 µs apart from 0.5 µs (never on a
// 1 µs window edge), and runs 2 ms.
func train(e *env) {
	dst, src := e.b.Netdev.Addr(), e.a.Netdev.Addr()
	for k := 0; k < 143; k++ {
		f := udpFrame(dst, src, 60, k)
		tm := e.w.Clock.NewTimer(func() { inject(e.b, f) })
		tm.Reset(500*time.Nanosecond + time.Duration(k)*7*time.Microsecond)
	}
	e.w.Run(2 * time.Millisecond)
}

// TestRingResizeUnderTraffic: a back-to-back stream over a slow link keeps
// the TX ring and the qdisc full while both ends change ring sizes three
// times; every packet pktgen handed over arrives, nothing leaks.
func TestRingResizeUnderTraffic(t *testing.T) {
	e := newEnv(t, func(c *topo.Config) { c.Cables[0].SpeedMbps = 100 })
	listen(e.b)
	pg, err := e.a.Host.Stack.NewPktgen(stack.PktgenConfig{
		Dev: e.a.Netdev, DstMAC: e.b.Netdev.Addr(), SrcIP: [4]byte{198, 18, 0, 1}, DstIP: [4]byte{198, 19, 0, 1},
		Size: 60, Flows: 4, Burst: 16, Count: 2000, Queue: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	pg.Start()
	for i, sz := range []uint32{64, 1024, 128} {
		e.w.Run(5 * time.Millisecond)
		for _, d := range []*topo.Device{e.a, e.b} {
			if err := ethtool.SetRing(d.Adapter, ethtool.Some32(sz), ethtool.Opt32{}, ethtool.Opt32{}, ethtool.Some32(sz)); err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
		}
		if got := e.a.Adapter.GetRingParam(); got.Rx != sz || got.Tx != sz {
			t.Fatalf("ring %+v", got)
		}
	}
	e.w.Run(200 * time.Millisecond)
	if !pg.Done() {
		t.Fatalf("pktgen sent %d of 2000", pg.Sent())
	}
	if pg.Refused() == 0 {
		t.Fatal("the stream never filled the qdisc: the test does not exercise requeueing")
	}
	if got := e.b.Netdev.Stats64().RxPackets; got != 2000 {
		t.Errorf("received %d of 2000", got)
	}
}

// setCoal sets one coalescing parameter through the command core.
func setCoal(ops ethtool.Ops, p ethtool.CoalesceParam, v uint32) error {
	var c ethtool.Coalesce
	c.V[p] = v
	return ethtool.SetCoalesce(ops, c, p.Bit())
}

// coalMany returns a request from parameter, value pairs.
func coalMany(kv ...any) (ethtool.Coalesce, uint32) {
	var c ethtool.Coalesce
	var mask uint32
	for i := 0; i < len(kv); i += 2 {
		p := kv[i].(ethtool.CoalesceParam)
		c.V[p] = uint32(kv[i+1].(int))
		mask |= p.Bit()
	}
	return c, mask
}

// TestAdaptiveRx: with adaptive-rx on, lib/dim moves the vector's interval:
// under steady open-loop load (throughput does not depend on moderation)
// it climbs to the most moderated profile, 256 µs, and interrupts fall.
func TestAdaptiveRx(t *testing.T) {
	e := newEnv(t, nil)
	listen(e.b)
	var c ethtool.Coalesce
	c.V[ethtool.AdaptiveRx] = 1
	c.V[ethtool.RxUsecs] = 0
	if err := ethtool.SetCoalesce(e.b.Adapter, c, ethtool.AdaptiveRx.Bit()); err != nil {
		t.Fatal(err)
	}
	if got := e.b.Adapter.GetCoalesce(); got.V[ethtool.AdaptiveRx] != 1 || got.V[ethtool.RxUsecs] != 8 {
		t.Fatalf("adaptive on: %v", got.V)
	}
	pg, err := e.a.Host.Stack.NewPktgen(stack.PktgenConfig{Dev: e.a.Netdev, DstMAC: e.b.Netdev.Addr(), SrcIP: [4]byte{198, 18, 0, 1},
		DstIP: [4]byte{198, 19, 0, 1}, Size: 60, Flows: 1, Rate: 200000, Burst: 1, Queue: 0})
	if err != nil {
		t.Fatal(err)
	}
	i0 := e.b.Adapter.QueueStats(0).Interrupts
	pg.Start()
	e.w.Run(time.Millisecond) // still at 8 µs
	early := 10 * (e.b.Adapter.QueueStats(0).Interrupts - i0)
	e.w.Run(100 * time.Millisecond)
	i1 := e.b.Adapter.QueueStats(0).Interrupts
	e.w.Run(10 * time.Millisecond)
	late := e.b.Adapter.QueueStats(0).Interrupts - i1
	pg.Stop()
	e.w.Run(10 * time.Millisecond)
	if got := e.b.HW.Read32(hw.EITR(1)) >> 2; got != 256 {
		t.Errorf("EITR settled at %d µs, want 256", got)
	}
	if got := e.b.Adapter.GetCoalesce().V[ethtool.RxUsecs]; got != 256 {
		t.Errorf("rx-usecs reads %d under adaptive-rx, want the profile's 256", got)
	}
	if late*5 > early || late > 40 {
		t.Errorf("interrupts per 10 ms: %d at first, %d once settled (at most 10 ms / 256 µs ≈ 40)", early, late)
	}
	// Off again: the static interval comes back.
	c.V[ethtool.AdaptiveRx] = 0
	if err := ethtool.SetCoalesce(e.b.Adapter, c, ethtool.AdaptiveRx.Bit()); err != nil {
		t.Fatal(err)
	}
	if got := e.b.HW.Read32(hw.EITR(1)) >> 2; got != 256 {
		t.Errorf("adaptive off keeps the last interval: EITR %d", got)
	}
}

// TestReceiveDelayTimers: the 143 frames 7 µs apart of
// TestCoalesceInterruptCount under the receive delay timers. A 20 µs packet
// timer (20 steps of 1.024 µs) waits out the whole train: one interrupt. With
// a 100 µs absolute timer (98 steps) too, each cause goes 100.352 µs after
// the first frame it waited for: 15 frames a time, 10 interrupts (the last
// train's packet timer ends first).
func TestReceiveDelayTimers(t *testing.T) {
	for _, tc := range []struct {
		delay, abs time.Duration
		want       uint64
	}{{0, 0, 143}, {20 * time.Microsecond, 0, 1}, {20 * time.Microsecond, 100 * time.Microsecond, 10}} {
		e := newEnv(t, func(c *topo.Config) {
			c.Hosts[1].Devices[0].RxIntDelayUsecs, c.Hosts[1].Devices[0].RxAbsIntDelayUsecs = int(tc.delay/time.Microsecond), int(tc.abs/time.Microsecond)
		})
		listen(e.b)
		base := e.b.Adapter.QueueStats(0).Interrupts
		train(e)
		if got := e.b.Adapter.QueueStats(0).Interrupts - base; got != tc.want {
			t.Errorf("delay %v, absolute %v: %d interrupts, want %d", tc.delay, tc.abs, got, tc.want)
		}
		if got := e.b.Netdev.Stats64().RxPackets; got != 143 {
			t.Errorf("received %d", got)
		}
	}
	for _, bad := range []struct{ delay, abs time.Duration }{{0, 50 * time.Microsecond}, {-time.Microsecond, 0}, {68 * time.Millisecond, 0}, {time.Millisecond, 68 * time.Millisecond}} {
		cfg := topo.Pair(topo.DeviceConfig{Queues: 1, RxIntDelayUsecs: int(bad.delay / time.Microsecond), RxAbsIntDelayUsecs: int(bad.abs / time.Microsecond)}, 1, 1000)
		cfg.Time = topo.VirtualTime
		if w, err := topo.Build(cfg); err == nil {
			w.Close()
			t.Errorf("delay %v, absolute %v: no error", bad.delay, bad.abs)
		}
	}
}

// TestAdaptiveTx: lib/dim on the TX side. Under an open-loop transmit
// flood throughput does not depend on moderation, so TX DIM climbs to its
// longest profile (128 µs); the shared vector takes the shorter of that
// and the static rx-usecs 250; off again, rx-usecs alone sets it.
func TestAdaptiveTx(t *testing.T) {
	e := newEnv(t, nil)
	listen(e.b)
	ad := e.a.Adapter
	if err := setCoal(ad, ethtool.RxUsecs, 250); err != nil {
		t.Fatal(err)
	}
	c, mask := coalMany(ethtool.AdaptiveTx, 1)
	if err := ethtool.SetCoalesce(ad, c, mask); err != nil {
		t.Fatal(err)
	}
	if got := ad.GetCoalesce(); got.V[ethtool.AdaptiveTx] != 1 || got.V[ethtool.TxUsecs] != 8 || got.V[ethtool.RxUsecs] != 250 {
		t.Fatalf("adaptive-tx on: %v", got.V)
	}
	if got := e.a.HW.Read32(hw.EITR(1)) >> 2; got != 8 {
		t.Fatalf("EITR %d µs, want the default TX profile's 8", got)
	}
	pg, err := e.a.Host.Stack.NewPktgen(stack.PktgenConfig{Dev: e.a.Netdev, DstMAC: e.b.Netdev.Addr(), SrcIP: [4]byte{198, 18, 0, 1},
		DstIP: [4]byte{198, 19, 0, 1}, Size: 60, Flows: 1, Rate: 200000, Burst: 1, Queue: 0})
	if err != nil {
		t.Fatal(err)
	}
	pg.Start()
	e.w.Run(100 * time.Millisecond)
	pg.Stop()
	e.w.Run(10 * time.Millisecond)
	if got := e.a.HW.Read32(hw.EITR(1)) >> 2; got != 128 {
		t.Errorf("EITR settled at %d µs, want min(rx-usecs 250, TX profile 128)", got)
	}
	if got := ad.GetCoalesce(); got.V[ethtool.TxUsecs] != 128 || got.V[ethtool.RxUsecs] != 250 {
		t.Errorf("reads back %v", got.V)
	}
	// Off: the ethtool CLI sends the read-back tx-usecs with it.
	c, mask = coalMany(ethtool.AdaptiveTx, 0)
	if err := ethtool.SetCoalesce(ad, c, mask); err != nil {
		t.Fatal(err)
	}
	if got := e.a.HW.Read32(hw.EITR(1)) >> 2; got != 250 {
		t.Errorf("adaptive-tx off: EITR %d µs, want rx-usecs 250", got)
	}
	if got := ad.GetCoalesce(); got.V[ethtool.AdaptiveTx] != 0 || got.V[ethtool.TxUsecs] != 0 {
		t.Errorf("off reads back %v", got.V)
	}
}

// TestQueueStatsSurviveReconfigure: a ring change (-G) and a channel change
// (-L) make new vectors; the queues' interrupt and poll counts go on from
// where they were, and a queue -L took away still answers with its counts,
// as ethtool -S lists every queue the device has used.
func TestQueueStatsSurviveReconfigure(t *testing.T) {
	e := newEnv(t, func(c *topo.Config) { c.Hosts[1].Devices[0].Queues = 2 })
	listen(e.b)
	pg, err := e.a.Host.Stack.NewPktgen(stack.PktgenConfig{
		Dev: e.a.Netdev, DstMAC: e.b.Netdev.Addr(), SrcIP: [4]byte{198, 18, 0, 1}, DstIP: [4]byte{198, 19, 0, 1},
		Size: 60, Flows: 64, Burst: 8, Count: 4000, Queue: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	pg.Start()
	e.w.Run(5 * time.Millisecond)
	nq := e.b.Adapter.Queues()
	if nq < 2 {
		t.Fatalf("%d queues: the test needs two", nq)
	}
	before := make([]driver.QueueStats, nq)
	for q := range before {
		before[q] = e.b.Adapter.QueueStats(q)
	}
	if before[nq-1].Interrupts == 0 || before[nq-1].Polls == 0 {
		t.Fatalf("queue %d carried nothing before the changes: %+v", nq-1, before[nq-1])
	}
	if err := ethtool.SetRing(e.b.Adapter, ethtool.Some32(256), ethtool.Opt32{}, ethtool.Opt32{}, ethtool.Some32(256)); err != nil {
		t.Fatal(err)
	}
	for q := range before {
		s := e.b.Adapter.QueueStats(q)
		if s.Interrupts < before[q].Interrupts || s.Polls < before[q].Polls || s.PollWork < before[q].PollWork {
			t.Errorf("-G: queue %d went back from %+v to %+v", q, before[q], s)
		}
	}
	if err := ethtool.SetChannels(e.b.Adapter, ethtool.Opt32{}, ethtool.Opt32{}, ethtool.Opt32{}, ethtool.Some32(uint32(nq-1))); err != nil {
		t.Fatal(err)
	}
	if s := e.b.Adapter.QueueStats(nq - 1); s.Interrupts < before[nq-1].Interrupts || s.Polls < before[nq-1].Polls {
		t.Errorf("-L: the removed queue %d went from %+v to %+v", nq-1, before[nq-1], s)
	}
	e.w.Run(50 * time.Millisecond)
	var work uint64
	for q := range nq {
		work += e.b.Adapter.QueueStats(q).PollWork
	}
	if rx := e.b.Netdev.Stats64().RxPackets; work != rx {
		t.Errorf("the queues' polls took %d packets, the device received %d", work, rx)
	}
}
