package driver_test

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"vnic/driver"
	"vnic/hw"
	"vnic/internal/topo"
	"vnic/offload"
	"vnic/stack"
)

func TestProbeRejectsCorruptEEPROM(t *testing.T) {
	clk := hw.NewVirtualClock()
	dma := hw.NewDMA(1 << 20)
	dev, _ := hw.NewDevice(hw.DeviceConfig{Name: "x", MAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}}, clk, dma)
	dev.WriteEEPROM(5, 0x1234)
	cpu := hw.NewCPU(0, clk, hw.CostModel{})
	h := stack.NewHost("h", clk, []stack.CPU{cpu}, stack.HostConfig{})
	_, err := driver.Probe(dev.Function(), h, []*hw.CPU{cpu}, driver.Config{})
	if !errors.Is(err, driver.ErrEEPROM) {
		t.Fatalf("probe with a corrupt EEPROM: %v", err)
	}
	if len(h.Devices()) != 0 {
		t.Fatal("a device was registered")
	}
}

func TestProbeAndOpen(t *testing.T) {
	e := newEnv(t, nil)
	nd := e.a.Netdev
	if nd.Name() != "vnic0" || nd.Addr() != (stack.MAC{2, 0, 0, 0, 1, 0}) || nd.MTU() != 1500 {
		t.Fatalf("netdev %s %s %d", nd.Name(), nd.Addr(), nd.MTU())
	}
	if f := nd.Flags(); f&(stack.IFFUp|stack.IFFRunning|stack.IFFBroadcast|stack.IFFMulticast) != stack.IFFUp|stack.IFFRunning|stack.IFFBroadcast|stack.IFFMulticast {
		t.Fatalf("flags %#x", f)
	}
	if nd.Operstate() != stack.OperUp {
		t.Fatal("operstate")
	}
	if min, max := nd.MTURange(); min != 68 || max != 9216 {
		t.Fatal("MTU range")
	}
}

func TestByteExactFramesEverySize(t *testing.T) {
	e := newEnv(t, nil)
	c := listen(e.b)
	var sent [][]byte
	for n := 60; n <= 1514; n++ {
		f := udpFrame(e.b.Netdev.Addr(), e.a.Netdev.Addr(), n, n%7)
		sent = append(sent, f)
		if err := xmit(e.a, f); err != nil {
			t.Fatal(err)
		}
		if n%100 == 0 {
			e.w.Run(time.Millisecond)
		}
	}
	e.w.Run(10 * time.Millisecond)
	if len(c.frames) != len(sent) {
		t.Fatalf("received %d of %d", len(c.frames), len(sent))
	}
	for i := range sent {
		if !bytes.Equal(c.frames[i], sent[i]) {
			t.Fatalf("frame of %d bytes differs", len(sent[i]))
		}
	}
}

func TestJumboFramesAtMTU9000(t *testing.T) {
	e := newEnv(t, func(c *topo.Config) {
		for i := range c.Hosts {
			c.Hosts[i].Devices[0].MTU = 9000
		}
	})
	c := listen(e.b)
	f := udpFrame(e.b.Netdev.Addr(), e.a.Netdev.Addr(), 9014, 1)
	if err := xmit(e.a, f); err != nil {
		t.Fatal(err)
	}
	// One byte over the MTU is refused by the driver and counted.
	if err := xmit(e.a, udpFrame(e.b.Netdev.Addr(), e.a.Netdev.Addr(), 9015+4, 1)); err != nil {
		t.Fatal(err)
	}
	e.w.Run(time.Millisecond)
	if len(c.frames) != 1 || !bytes.Equal(c.frames[0], f) {
		t.Fatalf("jumbo: %d frames", len(c.frames))
	}
	if s := e.a.Adapter.DriverStats(); s.TxDropped != 1 {
		t.Fatalf("oversize tx drops %d", s.TxDropped)
	}
	// Back to 1500 while up: the 9014-byte frame is now oversize at h2.
	if err := e.b.Netdev.SetMTU(1500); err != nil {
		t.Fatal(err)
	}
	e.w.Run(time.Millisecond)
	xmit(e.a, f)
	e.w.Run(time.Millisecond)
	if len(c.frames) != 1 || e.b.Adapter.HWStats().ROC != 1 {
		t.Fatalf("after MTU 1500: %d frames, ROC %d", len(c.frames), e.b.Adapter.HWStats().ROC)
	}
}

func TestFilteringPromiscAndMulticast(t *testing.T) {
	e := newEnv(t, nil)
	c := listen(e.b)
	src := e.a.Netdev.Addr()
	other := stack.MAC{2, 0, 0, 0, 0x77, 0x77}
	group := stack.MAC{0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb}
	send := func(dst stack.MAC) int {
		before := len(c.frames)
		xmit(e.a, udpFrame(dst, src, 60, 0))
		e.w.Run(100 * time.Microsecond)
		return len(c.frames) - before
	}
	nd := e.b.Netdev
	steps := []struct {
		name string
		do   func()
		dst  stack.MAC
		want int
	}{
		{"own", nil, nd.Addr(), 1},
		{"broadcast", nil, stack.BroadcastMAC, 1},
		{"foreign unicast", nil, other, 0},
		{"group not joined", nil, group, 0},
		{"group joined", func() { nd.McAdd(group) }, group, 1},
		{"promisc +1", func() { nd.SetPromiscuity(1) }, other, 1},
		{"promisc +1 again", func() { nd.SetPromiscuity(1) }, other, 1},
		{"promisc -1: still 1", func() { nd.SetPromiscuity(-1) }, other, 1},
		{"promisc -1: 0", func() { nd.SetPromiscuity(-1) }, other, 0},
		{"group left", func() { nd.McDel(group) }, group, 0},
		{"allmulti", func() { nd.SetAllMulti(1) }, group, 1},
		{"allmulti off", func() { nd.SetAllMulti(-1) }, group, 0},
		{"new MAC", func() { nd.SetMACAddress(other) }, other, 1},
		{"old MAC", nil, stack.MAC{2, 0, 0, 0, 2, 0}, 0},
	}
	for _, s := range steps {
		if s.do != nil {
			s.do()
		}
		if got := send(s.dst); got != s.want {
			t.Fatalf("%s: received %d, want %d", s.name, got, s.want)
		}
	}
	// A packet to another host arrives as PACKET_OTHERHOST in promiscuous mode.
	if hs := e.b.Adapter.HWStats(); hs.RxFiltered != 6 {
		t.Fatalf("filtered %d, want 6", hs.RxFiltered)
	}
}

// TestNAPIExactCounts scripts arrivals on a one-queue receiver with no CPU
// costs and checks interrupts and polls exactly.
func TestNAPIExactCounts(t *testing.T) {
	e := newEnv(t, func(c *topo.Config) { c.Hosts[1].Devices[0].RxRing = 512 })
	listen(e.b)
	dst, src := e.b.Netdev.Addr(), e.a.Netdev.Addr()
	base := e.b.Adapter.QueueStats(0)
	burst := func(n int) {
		for i := 0; i < n; i++ {
			inject(e.b, udpFrame(dst, src, 60, i))
		}
		e.w.Run(time.Millisecond)
	}
	check := func(name string, irqs, polls, hits uint64) {
		t.Helper()
		s := e.b.Adapter.QueueStats(0)
		if got := [3]uint64{s.Interrupts - base.Interrupts, s.Polls - base.Polls, s.BudgetHits - base.BudgetHits}; got != [3]uint64{irqs, polls, hits} {
			t.Fatalf("%s: interrupts, polls, budget hits = %v, want %v", name, got, [3]uint64{irqs, polls, hits})
		}
		base = s
	}
	// Ten frames 1 ms apart: one interrupt and one poll each.
	for i := 0; i < 10; i++ {
		burst(1)
	}
	check("spaced", 10, 10, 0)
	// 200 frames at one instant. The first message masks the vector (EIAM);
	// the other 199 set EICR while masked. Polls: 64, 64, 64, 8; the
	// completion's EIMS write finds the cause pending and fires again; that
	// poll finds nothing and completes.
	burst(200)
	check("burst 200", 2, 5, 3)
	// 400 frames: the first NET_RX round stops at 320 ≥ netdev_budget 300
	// (time_squeeze), the second polls 64 and 16, then the re-fire.
	sq := e.b.Host.Stack.Softnet(0).Stats().TimeSqueeze
	burst(400)
	check("burst 400", 2, 8, 6)
	if got := e.b.Host.Stack.Softnet(0).Stats().TimeSqueeze - sq; got != 1 {
		t.Fatalf("time_squeeze %d, want 1", got)
	}
}

// TestTickPollingExactCounts: in the tick receive mode the queue vector
// never interrupts; each 1 ms tick polls at most BurstMax packets.
func TestTickPollingExactCounts(t *testing.T) {
	e := newEnv(t, func(c *topo.Config) {
		c.Hosts[1].Devices[0].RxRing = 512
		c.Hosts[1].Devices[0].RxMode = driver.RxModeTick.String()
	})
	listen(e.b)
	dst, src := e.b.Netdev.Addr(), e.a.Netdev.Addr()
	base := e.b.Adapter.QueueStats(0)
	rx0 := e.b.Netdev.Stats64().RxPackets
	// 400 frames at one instant, just after a tick: three ticks take
	// 150, 150 and 100 of them.
	for i := 0; i < 400; i++ {
		inject(e.b, udpFrame(dst, src, 60, i))
	}
	var got []uint64
	for i := 0; i < 4; i++ {
		e.w.Run(driver.TickPeriod)
		got = append(got, e.b.Netdev.Stats64().RxPackets-rx0)
	}
	if want := []uint64{150, 300, 400, 400}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("delivered after each tick %v, want %v", got, want)
	}
	s := e.b.Adapter.QueueStats(0)
	if s.Interrupts != base.Interrupts {
		t.Fatalf("%d queue interrupts in tick mode, want 0", s.Interrupts-base.Interrupts)
	}
	// One poll per tick: three took packets, the fourth found none.
	if polls, hits := s.Polls-base.Polls, s.BudgetHits-base.BudgetHits; polls != 4 || hits != 2 {
		t.Fatalf("polls %d, budget hits %d; want 4 and 2", polls, hits)
	}
}

func TestRxExhaustionCountedAndRecovered(t *testing.T) {
	e := newEnv(t, func(c *topo.Config) {
		c.Costs = topo.Costs{Proto: 20 * time.Microsecond} // a slow stack
		c.Hosts[1].Devices[0].RxRing = 64
	})
	listen(e.b)
	dst, src := e.b.Netdev.Addr(), e.a.Netdev.Addr()
	for i := 0; i < 500; i++ {
		xmit(e.a, udpFrame(dst, src, 60, i))
	}
	e.w.Run(20 * time.Millisecond)
	hs := e.b.Adapter.HWStats()
	rx := e.b.Netdev.Stats64().RxPackets
	if hs.MPC == 0 || hs.RNBC != hs.MPC || hs.RQDPC[0] != hs.MPC || rx+hs.MPC != 500 {
		t.Fatalf("MPC %d RNBC %d RQDPC %d received %d", hs.MPC, hs.RNBC, hs.RQDPC[0], rx)
	}
	// Recovered: the next frames all arrive.
	for i := 0; i < 10; i++ {
		xmit(e.a, udpFrame(dst, src, 60, i))
		e.w.Run(100 * time.Microsecond)
	}
	if got := e.b.Netdev.Stats64().RxPackets; got != rx+10 {
		t.Fatalf("after recovery %d, want %d", got, rx+10)
	}
}

func TestTxFullStopsAndWakes(t *testing.T) {
	e := newEnv(t, func(c *topo.Config) {
		c.Cables[0].SpeedMbps = 10 // 10 Mb/s: the TX ring fills at once
		c.Hosts[0].Devices[0].TxRing = 64
	})
	listen(e.b)
	dst, src := e.b.Netdev.Addr(), e.a.Netdev.Addr()
	const n = 600
	for i := 0; i < n; i++ {
		if err := xmit(e.a, udpFrame(dst, src, 1000, i)); err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
	}
	q := e.a.Netdev.TxQueue(0)
	if !q.Stopped() || q.Counters().Backlog == 0 {
		t.Fatalf("queue not stopped with a full ring: %+v", q.Counters())
	}
	e.w.Run(time.Second)
	c := q.Counters()
	if q.Stopped() || c.Backlog != 0 || c.Stops == 0 || c.Wakeups != c.Stops || c.QdiscDrops != 0 {
		t.Fatalf("after draining: stopped %v %+v", q.Stopped(), c)
	}
	if got := e.b.Netdev.Stats64().RxPackets; got != n {
		t.Fatalf("received %d of %d", got, n)
	}
	if got := e.a.Netdev.Stats64().TxPackets; got != n {
		t.Fatalf("tx packets %d", got)
	}
}

func TestLinkChangesCarrier(t *testing.T) {
	e := newEnv(t, nil)
	e.a.HW.SetCarrier(false)
	e.w.Run(time.Millisecond)
	if e.a.Netdev.Carrier() || e.a.Netdev.Operstate() != stack.OperDown || e.a.Netdev.Flags()&stack.IFFRunning != 0 {
		t.Fatal("carrier still on after the cable was pulled")
	}
	if err := xmit(e.a, udpFrame(e.b.Netdev.Addr(), e.a.Netdev.Addr(), 60, 0)); err == nil {
		t.Fatal("xmit without carrier succeeded")
	}
	e.a.HW.SetCarrier(true)
	e.w.Run(time.Millisecond)
	if !e.a.Netdev.Carrier() || e.a.Netdev.CarrierChanges() != 3 {
		t.Fatalf("carrier %v changes %d", e.a.Netdev.Carrier(), e.a.Netdev.CarrierChanges())
	}
	if s := e.a.Adapter.DriverStats(); s.LinkChanges != 3 {
		t.Fatalf("LSC events %d, want 3 (up at open, down, up)", s.LinkChanges)
	}
}

func TestTxTimeoutResetsStuckQueue(t *testing.T) {
	e := newEnv(t, func(c *topo.Config) { c.Hosts[0].Devices[0].TxTimeout = 100 * time.Millisecond })
	listen(e.b)
	dst, src := e.b.Netdev.Addr(), e.a.Netdev.Addr()
	// Upset the device: the TX ring base now points at unmapped memory.
	e.a.HW.Write32(hw.TDBAL(0), 0x80)
	for i := 0; i < 300; i++ {
		xmit(e.a, udpFrame(dst, src, 60, i))
	}
	q := e.a.Netdev.TxQueue(0)
	if !q.Stopped() {
		t.Fatal("queue not stopped")
	}
	// dev_watchdog looks every 100 ms: at 100 ms the queue has been stuck
	// 99 ms, at 200 ms it has been 199 ms, and the driver resets it.
	e.w.Run(250 * time.Millisecond)
	ds, qs := e.a.Adapter.DriverStats(), e.a.Adapter.QueueStats(0)
	if ds.TxTimeouts != 1 || qs.TxRestarts != 1 || ds.DMAFaults != 1 || q.Counters().Timeouts != 1 {
		t.Fatalf("timeouts %d restarts %d faults %d", ds.TxTimeouts, qs.TxRestarts, ds.DMAFaults)
	}
	// The queue works again.
	before := e.b.Netdev.Stats64().RxPackets
	for i := 0; i < 10; i++ {
		xmit(e.a, udpFrame(dst, src, 60, i))
	}
	e.w.Run(time.Millisecond)
	if got := e.b.Netdev.Stats64().RxPackets - before; got < 10 {
		t.Fatalf("after the reset %d packets arrived", got)
	}
}

func TestRSSFlowsKeepTheirQueue(t *testing.T) {
	e := newEnv(t, func(c *topo.Config) {
		for i := range c.Hosts {
			c.Hosts[i].Devices[0].Queues = 4
		}
	})
	c := listen(e.b)
	key := e.b.Adapter.RSSKey()
	tz := offload.NewToeplitz(key[:])
	dst, src := e.b.Netdev.Addr(), e.a.Netdev.Addr()
	const flows = 64
	for round := 0; round < 4; round++ {
		for f := 0; f < flows; f++ {
			xmit(e.a, udpFrame(dst, src, 60, f))
		}
		e.w.Run(time.Millisecond)
	}
	if len(c.frames) != 4*flows {
		t.Fatalf("received %d", len(c.frames))
	}
	spread := [4]int{}
	for i, fr := range c.frames {
		f := i % flows
		sip, dip := [4]byte(fr[26:30]), [4]byte(fr[30:34])
		// UDP 4-tuple hashing is off (as in igb): the IPv4 2-tuple decides.
		h := tz.HashIPv4(sip, dip, 0, 0, false)
		want := int(h&0x7f) % 4 // default RETA: entry j = j mod n (ethtool_rxfh_indir_default)
		if c.queues[i] != want {
			t.Fatalf("flow %d on queue %d, want %d", f, c.queues[i], want)
		}
		spread[c.queues[i]]++
	}
	for q, n := range spread {
		if n == 0 {
			t.Errorf("queue %d got nothing: %v", q, spread)
		}
	}
}

// TestDataPathNoAllocs: in steady state the whole path — pktgen, qdisc,
// start_xmit, TX engine, cable, RX engine, interrupts, NAPI, skbs, the
// protocol handler — allocates nothing.
func TestDataPathNoAllocs(t *testing.T) {
	e := newEnv(t, func(c *topo.Config) {
		c.Costs = topo.Costs(hw.DefaultCosts)
		for i := range c.Hosts {
			c.Hosts[i].Devices[0].Queues = 2
		}
	})
	sink := stack.NewSink(0)
	e.b.Host.Stack.AddProtocol(stack.EthPIPv4, sink.Handle)
	pg, err := e.a.Host.Stack.NewPktgen(stack.PktgenConfig{
		Dev: e.a.Netdev, DstMAC: e.b.Netdev.Addr(), SrcIP: [4]byte{198, 18, 0, 1}, DstIP: [4]byte{198, 19, 0, 1},
		Size: 60, Flows: 32, Rate: 2_000_000, Burst: 16, Queue: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	pg.Start()
	e.w.Run(5 * time.Millisecond) // warm up: pools, queues and rings reach their size
	before := e.b.Netdev.Stats64().RxPackets
	if n := testing.AllocsPerRun(20, func() { e.w.Run(50 * time.Microsecond) }); n != 0 {
		t.Fatalf("%v allocations per 50 µs of traffic", n)
	}
	if e.b.Netdev.Stats64().RxPackets-before < 1000 {
		t.Fatal("no traffic during the measurement")
	}
	pg.Stop()
	e.w.Run(time.Millisecond)
	// The interface timestamps follow the traffic (A-ND-15).
	if e.b.Netdev.LastRx() == 0 || e.a.Netdev.LastTx() == 0 {
		t.Fatal("last RX/TX time not recorded")
	}
}
