package driver_test

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"vnic/hw"
	"vnic/internal/topo"
	"vnic/stack"
)

// The benchmarks build their topology, start its traffic and warm it up
// (skb pools, rings, queues at their size) before b.ResetTimer, and tear
// it down after b.StopTimer: the timed region holds b.N packets' work and
// nothing else, so ns/op, B/op and allocs/op are per packet. The
// AllocsPerRun tests (alloc_test.go) hold the zero-allocation claim
// exactly; allocs/op here rounds down.

// benchHost is one real-time host with a device of queues queue pairs (one
// CPU each, 1024-descriptor rings) whose wire ends in port.
func benchHost(b *testing.B, queues int, port hw.Port) *topo.Device {
	b.Helper()
	w, err := topo.Build(topo.Config{
		Costs: topo.Costs(hw.DefaultCosts),
		Hosts: []topo.HostConfig{{Name: "b", CPUs: queues, Devices: []topo.DeviceConfig{{Queues: queues, RxRing: 1024, TxRing: 1024}}}},
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { w.Close() })
	d := w.Hosts[0].Devices[0]
	d.HW.Connect(port)
	waitFor(b, "link up", func() bool { return d.Netdev.Carrier() })
	return d
}

// waitFor polls cond until it holds, for at most 30 s.
func waitFor(b *testing.B, what string, cond func() bool) {
	b.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			b.Fatalf("%s: timed out", what)
		}
		time.Sleep(20 * time.Microsecond) // without burning a core the CPUs need
	}
}

// rxBurst is how many frames the RX benchmark's wire hands the device at
// once.
const rxBurst = 32

// BenchmarkRxPath: device → driver → NAPI → netif_receive_skb → a null
// handler, real time; one op is one packet. 256 flows, so RSS spreads
// them; pps is what the handler received per second.
func BenchmarkRxPath(b *testing.B) {
	for _, size := range []int{64, 1514} {
		for _, q := range []int{1, 2} {
			b.Run(fmt.Sprintf("size=%d/queues=%d", size, q), func(b *testing.B) {
				b.ReportAllocs()
				d := benchHost(b, q, &hw.Sink{})
				sink := stack.NewSink(0)
				d.Host.Stack.AddProtocol(stack.EthPIPv4, sink.Handle)
				frames := make([][]byte, 256)
				for i := range frames {
					frames[i] = make([]byte, size-4)
					stack.BuildUDPFrame(frames[i], d.Netdev.Addr(), stack.MAC{2, 0, 0, 0, 0xee, 0xee},
						stack.FlowAddrs([4]byte{198, 18, 0, 1}, i), [4]byte{198, 19, 0, 1}, uint16(stack.PktgenSrcPort+i), stack.PktgenPort)
				}
				// The wire, with flow control: trains of rxBurst frames
				// arrive back to back (ReceiveBurst) while fewer than half
				// the RX descriptors are in flight, so the figure is the
				// driver's and stack's rate, not the drop rate of an
				// overrun.
				window := uint64(512 * q)
				var sent, missed uint64
				done := func() uint64 { return sink.Packets() + missed }
				receive := func(n int) {
					for n > 0 {
						k := min(n, rxBurst)
						for idle := 1; sent+uint64(k)-done() > window; idle++ {
							time.Sleep(20 * time.Microsecond)
							if idle%500 == 0 {
								// No room for 10 ms or more: frames the
								// device missed will never arrive. (Read
								// rarely: the statistics registers take the
								// device's lock the RX engine needs.)
								missed = d.Adapter.HWStats().MPC
							}
						}
						at := int(sent % 256) // 256 is a multiple of rxBurst: no wrap
						d.HW.ReceiveBurst(frames[at : at+k])
						sent += uint64(k)
						n -= k
					}
					waitFor(b, "rx", func() bool {
						missed = d.Adapter.HWStats().MPC
						return done() >= sent
					})
				}
				receive(8 * 1024 * q) // warm up
				got0 := sink.Packets()
				runtime.GC() // no collection started by the setup runs into the timed region
				b.ResetTimer()
				receive(b.N)
				b.StopTimer()
				b.ReportMetric(float64(sink.Packets()-got0)/b.Elapsed().Seconds(), "pps")
			})
		}
	}
}

// BenchmarkTxPath: dev_queue_xmit → qdisc → start_xmit → TX ring → device
// TX engine → a counting port, real time, one back-to-back pktgen per
// queue's CPU; one op is one packet.
func BenchmarkTxPath(b *testing.B) {
	for _, size := range []int{64, 1514} {
		for _, q := range []int{1, 2} {
			b.Run(fmt.Sprintf("size=%d/queues=%d", size, q), func(b *testing.B) {
				b.ReportAllocs()
				port := &hw.Sink{}
				d := benchHost(b, q, port)
				wire := func() uint64 {
					port.Lock()
					defer port.Unlock()
					return port.Frames
				}
				// pktgens makes one back-to-back pktgen per queue, sharing
				// n packets between them.
				pktgens := func(n int) []*stack.Pktgen {
					var pgs []*stack.Pktgen
					for i := 0; i < q; i++ {
						count := uint64(n / q)
						if i < n%q {
							count++
						}
						if count == 0 {
							continue // a pktgen of count 0 would not stop
						}
						pg, err := d.Host.Stack.NewPktgen(stack.PktgenConfig{
							Dev: d.Netdev, CPU: i, DstMAC: stack.MAC{2, 0, 0, 0, 0xee, 0xee},
							SrcIP: [4]byte{198, 18, byte(i), 1}, DstIP: [4]byte{198, 19, 0, 1},
							Size: size - 4, Flows: 256, Rate: 0, Burst: 64, Count: count, Queue: i,
						})
						if err != nil {
							b.Fatal(err)
						}
						pgs = append(pgs, pg)
					}
					return pgs
				}
				// send starts pgs and waits until the port has counted their
				// n packets.
				send := func(pgs []*stack.Pktgen, n int) {
					want := wire() + uint64(n)
					for _, pg := range pgs {
						pg.Start()
					}
					waitFor(b, "tx", func() bool { return wire() >= want })
				}
				warm := 8 * 1024 * q
				send(pktgens(warm), warm)
				pgs := pktgens(b.N)
				runtime.GC()
				b.ResetTimer()
				send(pgs, b.N)
				b.StopTimer()
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pps")
			})
		}
	}
}

// BenchmarkVirtualTime: two cabled hosts with 4 queues each under 12 Mpps
// of offered 64-byte frames in virtual time; one op is one frame on the
// wire; sim-pps is simulated frames per wall-clock second and
// delivered-pps those the receiving stack took.
func BenchmarkVirtualTime(b *testing.B) {
	b.ReportAllocs()
	v, err := topo.NewVirtualLoad()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { v.World.Close() })
	w, wire, sink := v.World, v.Wire, v.Sink
	f0, r0 := wire(), sink.Packets()
	runtime.GC()
	b.ResetTimer()
	for wire()-f0 < uint64(b.N) {
		w.Run(100 * time.Microsecond)
	}
	b.StopTimer()
	s := b.Elapsed().Seconds()
	b.ReportMetric(float64(wire()-f0)/s, "sim-pps")
	b.ReportMetric(float64(sink.Packets()-r0)/s, "delivered-pps")
}
