package driver_test

import (
	"encoding/binary"
	"testing"
	"time"

	"vnic/driver"
	"vnic/header"
	"vnic/hw"
	"vnic/internal/topo"
	"vnic/stack"
)

// The per-packet paths allocate nothing in steady state (DESIGN §7). Each
// test warms the path up (the skb pool, the rings, the cable's buffers
// reach their size), then measures batches of packets with
// testing.AllocsPerRun. AllocsPerRun reports whole allocations per run, so
// with allocRuns runs a result of 0 means fewer than allocRuns allocations
// in all the measured batches together: anything done per packet or per
// batch (per poll, per doorbell) shows.
const (
	allocRuns  = 20
	allocWarm  = 20 // warm-up batches
	allocBatch = 32 // packets per batch
)

// noAllocs warms batch up, then measures it and fails if it allocates.
func noAllocs(t *testing.T, what string, batch func()) {
	t.Helper()
	for i := 0; i < allocWarm; i++ {
		batch()
	}
	if n := testing.AllocsPerRun(allocRuns, batch); n != 0 {
		t.Fatalf("%s: %v allocations per batch of packets in steady state, want 0", what, n)
	}
}

// TestRxNoAllocs: a frame received from the wire through the device's RX
// engine, the interrupt, the driver's poll (skb, refill) and the stack up
// to the protocol handler allocates nothing, in every receive mode.
func TestRxNoAllocs(t *testing.T) {
	for _, tc := range []struct {
		name  string
		mode  string
		batch int           // LegacyBatch
		run   time.Duration // the world's time per batch of frames
	}{
		{"napi", driver.RxModeNAPI.String(), 0, 200 * time.Microsecond},
		{"legacy", driver.RxModeLegacy.String(), 0, 200 * time.Microsecond},
		{"legacy batch 1", driver.RxModeLegacy.String(), 1, 200 * time.Microsecond},
		{"quota", driver.RxModeQuota.String(), 0, 200 * time.Microsecond},
		{"tick", driver.RxModeTick.String(), 0, driver.TickPeriod},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(c *topo.Config) {
				c.Costs = topo.Costs(hw.DefaultCosts)
				d := &c.Hosts[1].Devices[0]
				d.RxMode, d.LegacyBatch = tc.mode, tc.batch
			})
			sink := stack.NewSink(0)
			e.b.Host.Stack.AddProtocol(stack.EthPIPv4, sink.Handle)
			frames := make([][]byte, allocBatch)
			for i := range frames {
				frames[i] = udpFrame(e.b.Netdev.Addr(), e.a.Netdev.Addr(), 60+i*45, i)
			}
			batch := func() {
				for _, f := range frames {
					inject(e.b, f)
				}
				e.w.Run(tc.run)
			}
			noAllocs(t, "rx", batch)
			want := uint64((allocWarm + 1 + allocRuns) * allocBatch)
			if got := sink.Packets(); got != want {
				t.Fatalf("the stack received %d of %d frames", got, want)
			}
		})
	}
}

// TestTxChecksumOffloadNoAllocs: CHECKSUM_PARTIAL TCP and UDP packets
// through dev_queue_xmit, start_xmit (a context descriptor with TXSM) and
// the device's TX engine, which inserts the checksums, allocate nothing.
func TestTxChecksumOffloadNoAllocs(t *testing.T) {
	for _, tc := range []struct {
		name  string
		proto uint8
	}{{"tcp", header.ProtoTCP}, {"udp", header.ProtoUDP}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(c *topo.Config) { c.Costs = topo.Costs(hw.DefaultCosts) })
			sink := stack.NewSink(0)
			e.b.Host.Stack.AddProtocol(stack.EthPIPv4, sink.Handle)
			tmpl := l4Frame(e.b.Netdev.Addr(), e.a.Netdev.Addr(), tc.proto, 1000)
			batch := func() {
				for i := 0; i < allocBatch; i++ {
					xmitOffloaded(t, e.a, tmpl, tc.proto, 0)
				}
				e.w.Run(200 * time.Microsecond)
			}
			noAllocs(t, "tx checksum offload", batch)
			want := uint64((allocWarm + 1 + allocRuns) * allocBatch)
			if got := sink.Packets(); got != want {
				t.Fatalf("the peer received %d of %d packets", got, want)
			}
			// The device filled in every checksum: none was finished in
			// software, and the peer's device found none wrong.
			if off := e.a.Host.Stack.OffloadStats(); off.CsumHelp != 0 || off.GSOPackets != 0 {
				t.Fatalf("software fallbacks on the sender: %+v", off)
			}
			if n := e.b.Adapter.QueueStats(0).CsumErrors; n != 0 {
				t.Fatalf("the peer saw %d bad checksums", n)
			}
		})
	}
}

// TestTxTSONoAllocs: GSO TCP super-packets through dev_queue_xmit and
// start_xmit (a TSO context descriptor, the checksum reseeded) and the
// device's segmentation allocate nothing.
func TestTxTSONoAllocs(t *testing.T) {
	const mss, segs = 1448, 45
	e := newEnv(t, func(c *topo.Config) { c.Costs = topo.Costs(hw.DefaultCosts) })
	sink := stack.NewSink(0)
	e.b.Host.Stack.AddProtocol(stack.EthPIPv4, sink.Handle)
	tmpl := l4Frame(e.b.Netdev.Addr(), e.a.Netdev.Addr(), header.ProtoTCP, mss*segs)
	const perBatch = 4 // 4 × 64 KiB: 184 of the 256 TX descriptors
	batch := func() {
		for i := 0; i < perBatch; i++ {
			xmitOffloaded(t, e.a, tmpl, header.ProtoTCP, mss)
		}
		e.w.Run(time.Millisecond)
	}
	noAllocs(t, "tso", batch)
	supers := uint64((allocWarm + 1 + allocRuns) * perBatch)
	if hs := e.a.Adapter.HWStats(); hs.TSCTC != supers || hs.GPTC != supers*segs {
		t.Fatalf("TSO contexts %d, frames %d; want %d and %d", hs.TSCTC, hs.GPTC, supers, supers*segs)
	}
	if off := e.a.Host.Stack.OffloadStats(); off.GSOPackets != 0 || off.CsumHelp != 0 {
		t.Fatalf("software fallbacks on the sender: %+v", off)
	}
	if n := e.b.Adapter.QueueStats(0).CsumErrors; n != 0 {
		t.Fatalf("the peer saw %d bad checksums", n)
	}
	if sink.Packets() == 0 {
		t.Fatal("the peer's stack received nothing")
	}
}

// l4Frame returns an Ethernet/IPv4/TCP (20-byte header) or UDP frame with
// payload bytes, its L4 checksum field holding the pseudo-header sum as a
// CHECKSUM_PARTIAL sender leaves it.
func l4Frame(dst, src stack.MAC, proto uint8, payload int) []byte {
	l4 := 8
	if proto == header.ProtoTCP {
		l4 = 20
	}
	f := make([]byte, 14+20+l4+payload)
	copy(f[0:6], dst[:])
	copy(f[6:12], src[:])
	binary.BigEndian.PutUint16(f[12:14], stack.EthPIPv4)
	ip := header.IPv4(f[14:])
	ip[0] = 0x45
	ip.SetTotalLen(uint16(20 + l4 + payload))
	binary.BigEndian.PutUint16(ip[6:8], header.IPv4DF)
	ip[8], ip[9] = 64, proto
	sip, dip := [4]byte{198, 18, 0, 1}, [4]byte{198, 19, 0, 1}
	copy(ip[12:16], sip[:])
	copy(ip[16:20], dip[:])
	ip.UpdateChecksum()
	th := f[34:]
	binary.BigEndian.PutUint16(th[0:], 40000)
	binary.BigEndian.PutUint16(th[2:], 5201)
	seed := header.Fold(header.PseudoHeaderIPv4(sip, dip, proto, uint16(l4+payload)))
	if proto == header.ProtoTCP {
		tcp := header.TCP(th)
		tcp.SetSeq(1)
		tcp[12] = 5 << 4
		tcp.SetFlags(header.TCPAck)
		binary.BigEndian.PutUint16(tcp[14:], 65535)
		tcp.SetChecksum(seed)
	} else {
		udp := header.UDP(th)
		udp.SetLength(uint16(8 + payload))
		udp.SetChecksum(seed)
	}
	for i := 34 + l4; i < len(f); i++ {
		f[i] = byte(i * 7)
	}
	return f
}

// xmitOffloaded sends a copy of frame through dev_queue_xmit on d as
// CHECKSUM_PARTIAL; mss > 0 makes it a GSO super-packet of mss-byte
// segments.
func xmitOffloaded(t *testing.T, d *topo.Device, frame []byte, proto uint8, mss int) {
	skb := d.Host.Stack.Pool().Alloc(len(frame) + stack.NetIPAlign)
	skb.Reserve(stack.NetIPAlign)
	copy(skb.Put(len(frame)), frame)
	skb.Dev = d.Netdev
	skb.Protocol = stack.EthPIPv4
	skb.ResetMACHeader()
	off := header.UDPChecksumOffset
	if proto == header.ProtoTCP {
		off = header.TCPChecksumOffset
	}
	skb.SetPartial(14+20, off)
	if mss > 0 {
		payload := len(frame) - 14 - 20 - 20
		skb.GSOSize, skb.GSOSegs, skb.GSOType = uint16(mss), uint16((payload+mss-1)/mss), stack.GSOTCPv4
	}
	if err := stack.DevQueueXmit(skb); err != nil {
		t.Fatal(err)
	}
}
