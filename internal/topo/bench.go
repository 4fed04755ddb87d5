package topo

import (
	"fmt"
	"runtime"
	"sync"
	"syscall"
	"time"

	"vnic/ethtool"
	"vnic/hw"
	"vnic/stack"
)

// BenchResult is one data-path measurement in real time.
type BenchResult struct {
	Path            string  `json:"path"` // rx, tx or virtual
	Size            int     `json:"size"`
	Queues          int     `json:"queues"`
	Packets         uint64  `json:"packets"`
	Seconds         float64 `json:"seconds"`
	PPS             float64 `json:"pps"`
	AllocsPerPacket float64 `json:"allocs_per_packet"`
	Drops           uint64  `json:"drops"`
	// CPUSeconds is the process's user+system CPU time during the run, and
	// PPSPerCore the packets per CPU-second: the rate one core sustains.
	CPUSeconds float64 `json:"cpu_seconds"`
	PPSPerCore float64 `json:"pps_per_core"`
}

// cpuTime returns the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func (r *BenchResult) setCPU(d time.Duration) {
	r.CPUSeconds = d.Seconds()
	if d > 0 {
		r.PPSPerCore = float64(r.Packets) / d.Seconds()
	}
}

// benchHost is one host with a device of queues queues, its cable end
// replaced by port, on real-time CPUs (one per queue).
func benchHost(queues int, port hw.Port) (*World, *Device, error) {
	w, err := Build(Config{
		Costs: Costs(hw.DefaultCosts),
		Hosts: []HostConfig{{Name: "b", CPUs: queues, Devices: []DeviceConfig{{Queues: queues, RxRing: 1024, TxRing: 1024}}}},
	})
	if err != nil {
		return nil, nil, err
	}
	d := w.Hosts[0].Devices[0]
	d.HW.Connect(port)
	deadline := time.Now().Add(5 * time.Second)
	for !d.Netdev.Carrier() && time.Now().Before(deadline) {
		time.Sleep(100 * time.Microsecond)
	}
	if !d.Netdev.Carrier() {
		w.Close()
		return nil, nil, fmt.Errorf("topo: bench: link did not come up")
	}
	return w, d, nil
}

func mallocs() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.Mallocs
}

// BenchTX sends packets frames of size bytes back to back through
// dev_queue_xmit, the qdisc, start_xmit, the TX ring and the device's TX
// engine into a counting port; one pktgen per queue's CPU.
func BenchTX(size, queues int, packets uint64) (BenchResult, error) {
	sink := &hw.Sink{}
	w, d, err := benchHost(queues, sink)
	if err != nil {
		return BenchResult{}, err
	}
	defer w.Close()
	var pgs []*stack.Pktgen
	per := packets / uint64(queues)
	for q := 0; q < queues; q++ {
		pg, err := d.Host.Stack.NewPktgen(stack.PktgenConfig{
			Dev: d.Netdev, CPU: q, DstMAC: stack.MAC{2, 0, 0, 0, 0xee, 0xee},
			SrcIP: [4]byte{198, 18, byte(q), 1}, DstIP: [4]byte{198, 19, 0, 1},
			Size: size, Flows: 256, Rate: 0, Burst: 64, Count: per, Queue: q,
		})
		if err != nil {
			return BenchResult{}, err
		}
		pgs = append(pgs, pg)
	}
	total := per * uint64(queues)
	runtime.GC()
	m0 := mallocs()
	c0 := cpuTime()
	start := time.Now()
	for _, pg := range pgs {
		pg.Start()
	}
	deadline := start.Add(120 * time.Second)
	for time.Now().Before(deadline) {
		sink.Lock()
		n := sink.Frames
		sink.Unlock()
		if n >= total {
			break
		}
		time.Sleep(50 * time.Microsecond)
	}
	el := time.Since(start)
	m1 := mallocs()
	sink.Lock()
	n := sink.Frames
	sink.Unlock()
	r := BenchResult{Path: "tx", Size: size, Queues: queues, Packets: n, Seconds: el.Seconds(),
		PPS: float64(n) / el.Seconds(), AllocsPerPacket: float64(m1-m0) / float64(max(n, 1))}
	r.setCPU(cpuTime() - c0)
	return r, nil
}

// BenchRX injects packets frames of size bytes (256 flows, so RSS spreads
// them) into the device's receive path from the wire and counts what NAPI
// delivers to a null protocol handler.
func BenchRX(size, queues int, packets uint64) (BenchResult, error) {
	w, d, err := benchHost(queues, &hw.Sink{})
	if err != nil {
		return BenchResult{}, err
	}
	defer w.Close()
	sink := stack.NewSink(0)
	d.Host.Stack.AddProtocol(stack.EthPIPv4, sink.Handle)
	frames := make([][]byte, 256)
	for i := range frames {
		frames[i] = make([]byte, size)
		stack.BuildUDPFrame(frames[i], d.Netdev.Addr(), stack.MAC{2, 0, 0, 0, 0xee, 0xee},
			stack.FlowAddrs([4]byte{198, 18, 0, 1}, i), [4]byte{198, 19, 0, 1}, uint16(stack.PktgenSrcPort+i), stack.PktgenPort)
	}
	runtime.GC()
	m0 := mallocs()
	c0 := cpuTime()
	start := time.Now()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		// The wire, with flow control: trains of 32 frames arrive back to
		// back (ReceiveBurst) while fewer than half the RX descriptors are
		// in flight, so the figure is the driver's and stack's rate, not
		// the drop rate of an overrun.
		const burst = 32 // divides 256: a train never wraps
		window := uint64(512 * queues)
		for i := uint64(0); i < packets; {
			k := min(packets-i, burst)
			for i+k-sink.Packets() > window {
				time.Sleep(20 * time.Microsecond) // the wire waits without burning a core
			}
			d.HW.ReceiveBurst(frames[i%256 : i%256+k])
			i += k
		}
	}()
	wg.Wait()
	deadline := time.Now().Add(30 * time.Second)
	var missed uint64
	for time.Now().Before(deadline) {
		missed = d.Adapter.HWStats().MPC
		if sink.Packets()+missed >= packets {
			break
		}
		time.Sleep(100 * time.Microsecond)
	}
	el := time.Since(start)
	m1 := mallocs()
	n := sink.Packets()
	r := BenchResult{Path: "rx", Size: size, Queues: queues, Packets: n, Seconds: el.Seconds(),
		PPS: float64(n) / el.Seconds(), AllocsPerPacket: float64(m1-m0) / float64(max(n, 1)), Drops: missed}
	r.setCPU(cpuTime() - c0)
	return r, nil
}

// BenchVirtual runs two cabled hosts with 4 queues each under a 12 Mpps
// offered load of 64-byte frames (four pktgens, one per queue) in virtual
// time until packets frames have crossed the wire, and reports simulated
// frames per wall-clock second; Drops counts frames the receiver missed.
func BenchVirtual(packets uint64) (BenchResult, error) {
	v, err := NewVirtualLoad()
	if err != nil {
		return BenchResult{}, err
	}
	defer v.World.Close()
	w, wire, sink := v.World, v.Wire, v.Sink
	runtime.GC()
	m0, f0, r0 := mallocs(), wire(), sink.Packets()
	c0 := cpuTime()
	start := time.Now()
	for wire()-f0 < packets {
		w.Run(100 * time.Microsecond)
	}
	el := time.Since(start)
	n := wire() - f0
	r := BenchResult{Path: "virtual", Size: 64, Queues: 4, Packets: n, Seconds: el.Seconds(),
		PPS: float64(n) / el.Seconds(), AllocsPerPacket: float64(mallocs()-m0) / float64(n),
		Drops: n - (sink.Packets() - r0)}
	r.setCPU(cpuTime() - c0)
	return r, nil
}

// OffloadConfigs are the configurations vnic bench offload compares, each
// the features turned off on both devices.
var OffloadConfigs = []struct {
	Name string
	Off  ethtool.Features
}{
	{"all-on", 0},
	{"tso-off", ethtool.TSOMask},
	{"gso-off", ethtool.TSOMask | ethtool.GSO},
	{"gro-off", ethtool.GRO},
	{"all-off", ethtool.TSOMask | ethtool.GSO | ethtool.GRO | ethtool.LRO | ethtool.SG | ethtool.RxCsum | ethtool.IPCsum | ethtool.HWCsum},
}

// OffloadResult is one configuration's bulk TCP run.
type OffloadResult struct {
	Config      string  `json:"config"`
	Gbps        float64 `json:"gbps"` // payload
	Bytes       uint64  `json:"bytes"`
	Seconds     float64 `json:"seconds"`
	WirePackets uint64  `json:"wire_packets"`
	Interrupts  uint64  `json:"interrupts"`
	StackPkts   uint64  `json:"stack_packets"` // packets the receiving stack handled
	CPUPerGB    float64 `json:"cpu_seconds_per_gb"`
	Ratio       float64 `json:"ratio_to_all_on"`
}

// BenchOffload sends sends bulk TCP sends of 64 KiB from h1 to h2 (one
// CPU and one queue each, a 100 Gb/s cable) in virtual time with the
// features of config off on both devices, charging costs: the offloads move
// per-packet work from the modelled CPUs into the device, and the figures
// show what that buys. Throughput is payload over virtual time; CPU time is
// the modelled busy time of both hosts.
func BenchOffload(config string, off ethtool.Features, costs hw.CostModel, sends uint64) (OffloadResult, error) {
	w, err := Build(Config{
		Time: VirtualTime, Seed: 1, Costs: Costs(costs),
		Hosts: []HostConfig{
			{Name: "h1", CPUs: 1, Devices: []DeviceConfig{{Queues: 1, RxRing: 4096, TxRing: 4096, ITRUsecs: 20}}},
			{Name: "h2", CPUs: 1, Devices: []DeviceConfig{{Queues: 1, RxRing: 4096, TxRing: 4096, ITRUsecs: 20}}},
		},
		Cables: []CableConfig{{A: "h1/vnic0", B: "h2/vnic0", SpeedMbps: 100000}},
	})
	if err != nil {
		return OffloadResult{}, err
	}
	defer w.Close()
	w.Run(time.Millisecond)
	a, b := w.Hosts[0].Devices[0], w.Hosts[1].Devices[0]
	for _, d := range []*Device{a, b} {
		if _, err := d.Netdev.SetWantedFeatures(off, 0); err != nil {
			return OffloadResult{}, err
		}
	}
	sink := stack.NewBulkSink(false)
	sink.SendACKs = true
	b.Host.Stack.AddProtocol(stack.EthPIPv4, sink.Handle)
	bulk, err := a.Host.Stack.NewBulk(stack.BulkConfig{Dev: a.Netdev, DstMAC: b.Netdev.Addr(),
		Src: [4]byte{198, 18, 0, 1}, Dst: [4]byte{198, 19, 0, 1}, SPort: 40000, DPort: 5201, Count: sends,
		Window: 4 << 20})
	if err != nil {
		return OffloadResult{}, err
	}
	a.Host.Stack.AddProtocol(stack.EthPIPv4, (&stack.BulkMux{Senders: []*stack.Bulk{bulk}}).Handle)
	total := sends * stack.MaxBulkSend
	irqs := func() uint64 {
		return a.HW.MSIX().Count(0) + a.HW.MSIX().Count(1) + b.HW.MSIX().Count(0) + b.HW.MSIX().Count(1)
	}
	busy := func() time.Duration {
		var d time.Duration
		for _, h := range w.Hosts {
			for _, c := range h.CPUs {
				s := c.Stats()
				d += s.Busy[0] + s.Busy[1] + s.Busy[2]
			}
		}
		return d
	}
	i0, b0, t0 := irqs(), busy(), w.Clock.Now()
	bulk.Start()
	for sink.Stats().Bytes < total && w.Clock.Now()-t0 < 60*time.Second {
		w.Run(100 * time.Microsecond)
	}
	el := w.Clock.Now() - t0
	st := sink.Stats()
	if st.Bytes != total || st.Bad != 0 {
		return OffloadResult{}, fmt.Errorf("topo: bench offload %s: received %d of %d bytes, %d bad, receiver missed %d frames",
			config, st.Bytes, total, st.Bad, b.Adapter.HWStats().MPC)
	}
	wire, _, _, _ := w.Cables[0].Wire.Stats()
	cpu := busy() - b0
	return OffloadResult{Config: config, Gbps: float64(total) * 8 / el.Seconds() / 1e9, Bytes: total, Seconds: el.Seconds(),
		WirePackets: wire, Interrupts: irqs() - i0, StackPkts: st.Packets, CPUPerGB: cpu.Seconds() / (float64(total) / 1e9)}, nil
}

// VirtualLoad is the virtual-time bench's topology, warmed up: two cabled
// hosts with 4 CPUs and 4 queues each, pktgen offering 12 Mpps of 64-byte
// frames from h1 to a sink on h2 (vnic bench nic's virtual row and the
// driver's BenchmarkVirtualTime).
type VirtualLoad struct {
	World *World
	Sink  *stack.Sink
}

// Wire counts the frames that crossed the cable.
func (v *VirtualLoad) Wire() uint64 { f, _, _, _ := v.World.Cables[0].Wire.Stats(); return f }

// NewVirtualLoad builds the load and runs it for a warm-up millisecond;
// the caller closes World.
func NewVirtualLoad() (*VirtualLoad, error) {
	w, err := Build(Config{
		Time: VirtualTime, Seed: 1, Costs: Costs(hw.DefaultCosts),
		Hosts: []HostConfig{
			{Name: "h1", CPUs: 4, Devices: []DeviceConfig{{Queues: 4}}},
			{Name: "h2", CPUs: 4, Devices: []DeviceConfig{{Queues: 4}}},
		},
		Cables: []CableConfig{{A: "h1/vnic0", B: "h2/vnic0", SpeedMbps: 10000}},
	})
	if err != nil {
		return nil, err
	}
	w.Run(time.Millisecond)
	a, d := w.Hosts[0].Devices[0], w.Hosts[1].Devices[0]
	sink := stack.NewSink(0)
	d.Host.Stack.AddProtocol(stack.EthPIPv4, sink.Handle)
	for q := 0; q < 4; q++ {
		pg, err := a.Host.Stack.NewPktgen(stack.PktgenConfig{
			Dev: a.Netdev, CPU: q, DstMAC: d.Netdev.Addr(), SrcIP: [4]byte{198, 18, byte(q), 1}, DstIP: [4]byte{198, 19, 0, 1},
			Size: 60, Flows: 64, Rate: 3_000_000, Burst: 32, Queue: q,
		})
		if err != nil {
			w.Close()
			return nil, err
		}
		pg.Start()
	}
	w.Run(time.Millisecond) // warm up
	return &VirtualLoad{World: w, Sink: sink}, nil
}
