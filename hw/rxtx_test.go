package hw

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"vnic/header"
	"vnic/offload"
	"vnic/ring"
)

var bcastMAC = []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

func TestRxByteExactAllSizes(t *testing.T) {
	r := newRig(t, false)
	r.rxRing(0, 64, 2048)
	for n := 60; n <= 1514; n++ {
		f := frame(rigMAC, n, [4]byte{198, 18, 0, 1}, uint16(n))
		r.dev.Receive(f)
		got := r.reap(0)
		if len(got) != 1 || !bytes.Equal(got[0], f) {
			t.Fatalf("size %d: got %d frames", n, len(got))
		}
	}
	if g := r.rd(GPRC); g != 1514-60+1 {
		t.Fatalf("GPRC %d", g)
	}
}

func TestRxMultiDescriptor(t *testing.T) {
	r := newRig(t, false)
	r.rxRing(0, 64, 1024)
	r.wr(RCTL, r.rd(RCTL)|RctlLPE)
	r.wr(RLPML, 9018)
	f := frame(rigMAC, 9014, [4]byte{198, 18, 0, 1}, 7)
	r.dev.Receive(f)
	if head := r.rd(RDH(0)); head != 9 {
		t.Fatalf("a 9014-byte frame in 1 KiB buffers used %d descriptors, want 9", head)
	}
	got := r.reap(0)
	if len(got) != 1 || !bytes.Equal(got[0], f) {
		t.Fatal("chained frame differs")
	}
}

func TestRxFilter(t *testing.T) {
	other := []byte{0x02, 0, 0, 0, 0, 0x77}
	mcast := mustMAC("01:00:5e:00:00:01")
	mcastOther := mustMAC("01:00:5e:00:00:02")
	tests := []struct {
		name   string
		rctl   uint32
		mta    bool // program mcast into the MTA
		dst    []byte
		accept bool
	}{
		{"own unicast", 0, false, rigMAC, true},
		{"other unicast", 0, false, other, false},
		{"other unicast, UPE", RctlUPE, false, other, true},
		{"broadcast, BAM", RctlBAM, false, bcastMAC, true},
		{"broadcast, no BAM", 0, false, bcastMAC, false},
		{"broadcast, MPE only", RctlMPE, false, bcastMAC, false},
		{"multicast not in MTA", 0, false, mcast, false},
		{"multicast in MTA", 0, true, mcast, true},
		{"other multicast, different hash", 0, true, mcastOther, false},
		{"multicast, MPE", RctlMPE, false, mcastOther, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, false)
			r.rxRing(0, 16, 2048)
			r.wr(RCTL, RctlEN|tc.rctl)
			if tc.mta {
				h := MTAHash(mcast, 0)
				r.wr(MTA0+4*(h>>5), 1<<(h&31))
			}
			r.dev.Receive(frame(tc.dst, 60, [4]byte{198, 18, 0, 1}, 1))
			got := len(r.reap(0))
			if (got == 1) != tc.accept {
				t.Fatalf("received %d, accept %v", got, tc.accept)
			}
			if flt := r.rd(VRXFLT); (flt == 1) == tc.accept {
				t.Fatalf("VRXFLT %d", flt)
			}
		})
	}
}

func TestRxLengthErrors(t *testing.T) {
	r := newRig(t, false)
	r.rxRing(0, 64, 2048)
	r.dev.Receive(frame(rigMAC, 1518, [4]byte{}, 0)) // with a VLAN tag: fits
	r.dev.Receive(frame(rigMAC, 1519, [4]byte{}, 0)) // oversize
	r.dev.Receive(frame(rigMAC, 59, [4]byte{}, 0))   // runt
	r.dev.Receive(frame(rigMAC, 9000, [4]byte{}, 0)) // jumbo without LPE
	if n := len(r.reap(0)); n != 1 {
		t.Fatalf("received %d, want 1", n)
	}
	if roc, ruc, rlec, tpr := r.rd(ROC), r.rd(RUC), r.rd(RLEC), r.rd(TPR); roc != 2 || ruc != 1 || rlec != 3 || tpr != 4 {
		t.Fatalf("ROC %d RUC %d RLEC %d TPR %d", roc, ruc, rlec, tpr)
	}
	// LPE with RLPML 9018 takes the jumbo frame, not one byte more.
	r = newRig(t, false)
	r.rxRing(0, 16, 10240)
	r.wr(RCTL, r.rd(RCTL)|RctlLPE)
	r.wr(RLPML, 9018)
	r.dev.Receive(frame(rigMAC, 9018, [4]byte{}, 0))
	r.dev.Receive(frame(rigMAC, 9019, [4]byte{}, 0))
	if n := len(r.reap(0)); n != 1 || r.rd(ROC) != 1 {
		t.Fatal("LPE/RLPML")
	}
}

func TestRxExhaustionAndRecovery(t *testing.T) {
	r := newRig(t, false)
	r.msix()
	r.rxRing(0, 16, 2048) // 15 usable descriptors
	r.clk.RunFor(us(1))
	for i := 0; i < 20; i++ {
		r.dev.Receive(frame(bcastMAC, 60, [4]byte{}, 0))
	}
	if mpc, rnbc, rqdpc := r.rd(MPC), r.rd(RNBC), r.rd(RQDPC(0)); mpc != 5 || rnbc != 5 || rqdpc != 5 {
		t.Fatalf("MPC %d RNBC %d RQDPC %d, want 5 each", mpc, rnbc, rqdpc)
	}
	if r.rd(ICR)&IcrRXO == 0 {
		t.Fatal("no RXO cause")
	}
	if got := len(r.reap(0)); got != 15 {
		t.Fatalf("reaped %d", got)
	}
	r.dev.Receive(frame(bcastMAC, 60, [4]byte{}, 0))
	if got := len(r.reap(0)); got != 1 {
		t.Fatalf("after refill: %d", got)
	}
}

func TestRxQueueAndReceiverDisabled(t *testing.T) {
	r := newRig(t, false)
	r.rxRing(0, 16, 2048)
	r.wr(RXDCTL(0), 0)
	r.dev.Receive(frame(bcastMAC, 60, [4]byte{}, 0))
	r.wr(RXDCTL(0), DctlEnable)
	r.wr(RCTL, 0)
	r.dev.Receive(frame(bcastMAC, 60, [4]byte{}, 0))
	if d := r.rd(VRXDIS); d != 2 {
		t.Fatalf("VRXDIS %d, want 2", d)
	}
}

// rssFrame builds a TCP/IPv4 frame for a verification-suite tuple.
func rssFrame(dst []byte, src, dstIP string, sport, dport uint16) []byte {
	f := make([]byte, 60)
	eth := header.Ethernet(f)
	eth.SetDst([6]byte(dst))
	eth.SetType(header.EtherTypeIPv4)
	ip := header.IPv4(eth.Payload())
	ip.SetHeaderLen(header.IPv4MinHeaderLen)
	ip.SetTotalLen(46)
	ip.SetTTL(64)
	ip.SetProtocol(header.ProtoTCP)
	ip.SetSrc(netip.MustParseAddr(src).As4())
	ip.SetDst(netip.MustParseAddr(dstIP).As4())
	th := header.TCP(ip[header.IPv4MinHeaderLen:])
	th.SetSrcPort(sport)
	th.SetDstPort(dport)
	return f
}

func (r *rig) programRSS(key []byte, reta [128]byte) {
	for i := 0; i < 10; i++ {
		r.wr(RSSRK0+4*uint32(i), binary.LittleEndian.Uint32(key[4*i:]))
	}
	for i := 0; i < 32; i++ {
		r.wr(RETA0+4*uint32(i), binary.LittleEndian.Uint32(reta[4*i:]))
	}
	r.wr(RXCSUM, RxcsumPCSD)
	r.wr(MRQC, MrqcEnableRSS|MrqcIPv4|MrqcIPv4TCP)
}

func TestRSSSteeringAndResteer(t *testing.T) {
	r := newRig(t, false)
	for q := 0; q < 4; q++ {
		r.rxRing(q, 16, 2048)
	}
	var reta [128]byte
	for i := range reta {
		reta[i] = byte(i % 4)
	}
	r.programRSS(offload.DefaultRSSKey[:], reta)
	type tuple struct {
		src, dst     string
		sport, dport uint16
		hash         uint32
	}
	flows := []tuple{
		{"66.9.149.187", "161.142.100.80", 2794, 1766, 0x51ccc178},
		{"199.92.111.2", "65.69.140.83", 14230, 4739, 0xc626b0ea},
		{"24.19.198.95", "12.22.207.184", 12898, 38024, 0x5c2b394a},
		{"38.27.205.30", "209.142.163.6", 48228, 2217, 0xafc7327f},
		{"153.39.163.191", "202.188.127.2", 44251, 1303, 0x10e828a2},
	}
	check := func(reta [128]byte) {
		for _, fl := range flows {
			r.dev.Receive(rssFrame(rigMAC, fl.src, fl.dst, fl.sport, fl.dport))
			want := int(reta[fl.hash&0x7f])
			for q := 0; q < 4; q++ {
				rr := r.rx[q]
				d := rr.descAt(rr.ntc)
				n := len(r.reap(q))
				if q != want {
					if n != 0 {
						t.Fatalf("flow %s landed on queue %d, want %d", fl.src, q, want)
					}
					continue
				}
				if n != 1 {
					t.Fatalf("flow %s not on queue %d", fl.src, q)
				}
				if d.RSSHash() != fl.hash || d.RSSType() != ring.RSSTypeIPv4TCP {
					t.Fatalf("write-back hash %#x type %d, want %#x type 1", d.RSSHash(), d.RSSType(), fl.hash)
				}
			}
		}
	}
	check(reta)
	// Re-steer: rotate every entry.
	for i := range reta {
		reta[i] = byte((i + 1) % 4)
	}
	r.programRSS(offload.DefaultRSSKey[:], reta)
	check(reta)
	// Without PCSD there is no RSS: everything on queue 0, RSS type 0.
	r.wr(RXCSUM, 0)
	r.dev.Receive(rssFrame(rigMAC, flows[3].src, flows[3].dst, flows[3].sport, flows[3].dport))
	if d := r.rx[0].descAt(r.rx[0].ntc); len(r.reap(0)) != 1 || d.RSSType() != 0 {
		t.Fatal("RSS without PCSD")
	}
}

func TestTxFramesAndStats(t *testing.T) {
	r := newRig(t, false)
	r.msix()
	r.txRing(0, 64)
	var sent [][]byte
	sizes := []int{14, 59, 60, 61, 1514, 4000}
	for _, n := range sizes {
		f := frame(bcastMAC, n, [4]byte{}, 0)
		sent = append(sent, f)
		r.send(0, f)
	}
	r.doorbell(0)
	tap := &captureSink{}
	_ = tap
	if r.out.Frames != uint64(len(sizes)) {
		t.Fatalf("sent %d frames", r.out.Frames)
	}
	if tdh := r.rd(TDH(0)); tdh != r.tx[0].tail {
		t.Fatalf("TDH %d TDT %d", tdh, r.tx[0].tail)
	}
	// DD on every descriptor with RS (the last of each packet).
	for i := uint32(0); i < r.tx[0].tail; i++ {
		d := ring.TxDesc(r.tx[0].desc.Buf[i*16 : i*16+16])
		if (d.CmdTypeLen()&ring.TxCmdRS != 0) != d.Done() {
			t.Fatalf("descriptor %d: RS %v DD %v", i, d.CmdTypeLen()&ring.TxCmdRS != 0, d.Done())
		}
	}
	if gptc, bptc := r.rd(GPTC), r.rd(BPTC); gptc != 6 || bptc != 6 {
		t.Fatalf("GPTC %d BPTC %d", gptc, bptc)
	}
	// Short frames are padded to 60 (PSP): 60+60+60+61+1514+4000 + 6 FCS.
	want := uint32(60 + 60 + 60 + 61 + 1514 + 4000 + 6*4)
	if got := r.rd(GOTCL); got != want {
		t.Fatalf("GOTC %d, want %d", got, want)
	}
	_ = sent
}

type captureSink struct{ frames [][]byte }

func (c *captureSink) Transmit(f []byte) time.Duration {
	c.frames = append(c.frames, append([]byte(nil), f...))
	return 0
}

func TestTxBytesOnTheWire(t *testing.T) {
	r := newRig(t, false)
	cap := &captureSink{}
	r.dev.Connect(cap)
	r.txRing(0, 16)
	f := frame(bcastMAC, 3000, [4]byte{198, 18, 0, 1}, 5)
	r.send(0, f)
	r.send(0, frame(bcastMAC, 40, [4]byte{}, 0))
	r.doorbell(0)
	if len(cap.frames) != 2 || !bytes.Equal(cap.frames[0], f) || len(cap.frames[1]) != 60 {
		t.Fatalf("wire: %d frames", len(cap.frames))
	}
	// An incomplete packet (no EOP yet) is not sent.
	tr := r.tx[0]
	ring.TxDesc(tr.desc.Buf[tr.tail*16:]).SetData(ring.TxData{Addr: tr.bufs[tr.tail].Addr, Len: 100})
	tr.tail = ring.Next(tr.tail, tr.n)
	r.doorbell(0)
	if len(cap.frames) != 2 {
		t.Fatal("sent a packet without EOP")
	}
}

func TestPHYLoopback(t *testing.T) {
	r := newRig(t, false)
	r.rxRing(0, 16, 2048)
	r.txRing(0, 16)
	r.wr(MDIC, 1<<MdicPhyShift|PhyBMCR<<MdicRegShift|MdicOpWrite|BmcrLoopback)
	f := frame(rigMAC, 200, [4]byte{198, 18, 0, 1}, 3)
	r.send(0, f)
	r.doorbell(0)
	got := r.reap(0)
	if len(got) != 1 || !bytes.Equal(got[0], f) || r.out.Frames != 0 {
		t.Fatalf("loopback: %d frames back, %d on the cable", len(got), r.out.Frames)
	}
}

func TestDMAFaultStopsQueue(t *testing.T) {
	r := newRig(t, false)
	r.msix()
	r.rxRing(0, 16, 2048)
	r.txRing(0, 16)
	// A TX descriptor pointing outside the arena.
	tr := r.tx[0]
	ring.TxDesc(tr.desc.Buf[0:16]).SetData(ring.TxData{Addr: 0xdead0000_0000, Len: 60, Cmd: ring.TxCmdEOP | ring.TxCmdRS})
	tr.tail = 1
	r.doorbell(0)
	if r.rd(VDMAF) != 1 || r.rd(TXDCTL(0))&DctlEnable != 0 || r.rd(ICR)&IcrDOUTSYNC == 0 {
		t.Fatalf("TX fault: VDMAF %d TXDCTL %#x", r.rd(VDMAF), r.rd(TXDCTL(0)))
	}
	// An RX buffer address of 0.
	r.rx[0].descAt(0).SetRead(0)
	r.dev.Receive(frame(bcastMAC, 60, [4]byte{}, 0))
	if r.rd(VDMAF) != 2 || r.rd(RXDCTL(0))&DctlEnable != 0 {
		t.Fatal("RX fault")
	}
	// A ring base that is not mapped.
	r.wr(RXDCTL(0), DctlEnable)
	r.wr(RDBAL(0), 0x80)
	r.dev.Receive(frame(bcastMAC, 60, [4]byte{}, 0))
	if r.rd(VDMAF) != 3 {
		t.Fatal("ring fault")
	}
}

// fuzzRig is a device with the contract checker on, MSI-X set up and one
// RX and one TX ring of 16 descriptors.
func fuzzRig(t *testing.T) *rig {
	r := newRig(t, true)
	r.msix()
	r.rxRing(0, 16, 2048)
	r.txRing(0, 16)
	return r
}

func FuzzDeviceDescriptors(f *testing.F) {
	f.Add([]byte{0}, uint16(4), uint16(60))
	f.Fuzz(func(t *testing.T, descs []byte, tail uint16, size uint16) {
		r := fuzzRig(t)
		copy(r.rx[0].desc.Buf, descs)
		copy(r.tx[0].desc.Buf, descs)
		r.wr(TDT(0), uint32(tail))
		r.wr(RDT(0), uint32(tail)) // the checker may flag; the device must not panic
		n := int(size%9100) + 1
		r.dev.Receive(frame(bcastMAC, max(n, 60), [4]byte{}, 0)[:n]) // runts too
		r.wr(TDT(0), uint32(tail)+1)
		r.clk.RunFor(us(100))
		if r.rd(VDMAF) > 4 {
			t.Fatalf("%d faults from a handful of operations", r.rd(VDMAF))
		}
	})
}

func FuzzMMIO(f *testing.F) {
	f.Add(uint32(CTRL), uint32(CtrlRST), uint32(EICS), uint32(1))
	f.Fuzz(func(t *testing.T, off1, v1, off2, v2 uint32) {
		r := fuzzRig(t)
		r.wr(off1, v1)
		r.wr(off2, v2)
		r.send(0, frame(bcastMAC, 60, [4]byte{}, 0))
		r.doorbell(0)
		r.dev.Receive(frame(bcastMAC, 60, [4]byte{}, 0))
		r.clk.RunFor(us(50))
		_ = r.rd(off1)
		_ = r.rd(off2)
	})
}

func TestCableLineRate(t *testing.T) {
	clk := NewVirtualClock()
	c := NewCable(clk, 10000)
	if got := c.SerializationTime(60); got != 67*time.Nanosecond {
		t.Fatalf("60-byte frame occupies %v, want 67.2ns", got)
	}
	dmaA, dmaB := NewDMA(16<<20), NewDMA(16<<20)
	da, _ := NewDevice(DeviceConfig{Name: "a", MAC: rigMAC}, clk, dmaA)
	db, _ := NewDevice(DeviceConfig{Name: "b", MAC: rigMAC}, clk, dmaB)
	a := &rig{t: t, clk: clk, dma: dmaA, dev: da}
	b := &rig{t: t, clk: clk, dma: dmaB, dev: db}
	c.Plug(da, db)
	b.rxRing(0, 4096, 2048)
	a.txRing(0, 4096)
	for i := 0; i < 4000; i++ {
		a.send(0, frame(bcastMAC, 60, [4]byte{}, 0))
	}
	t0 := clk.Now()
	a.doorbell(0)
	// 4000 frames of 60+24 wire bytes at 10 Gb/s: the last bit of the last
	// one arrives at 268.8 µs, 14.88 Mpps.
	clk.RunUntil(t0 + 268799*time.Nanosecond)
	if got := b.rd(GPRC); got != 3999 {
		t.Fatalf("at 268.799µs: %d frames, want 3999", got)
	}
	clk.RunUntil(t0 + 268800*time.Nanosecond)
	if got := b.rd(GPRC); got != 1 {
		t.Fatalf("at 268.8µs: %d more frames, want 1", got)
	}
	fa, _, fb, _ := c.Stats()
	if fa != 4000 || fb != 0 {
		t.Fatalf("cable carried %d/%d", fa, fb)
	}
}

// FuzzRxFrame feeds arbitrary frames to a device with RSS on: no panic, and
// every frame is accounted for in exactly one counter.
func FuzzRxFrame(f *testing.F) {
	f.Add(rssFrame(rigMAC, "66.9.149.187", "161.142.100.80", 2794, 1766))
	f.Add(frame(bcastMAC, 60, [4]byte{}, 0))
	f.Fuzz(func(t *testing.T, fr []byte) {
		r := newRig(t, false)
		for q := 0; q < 4; q++ {
			r.rxRing(q, 16, 2048)
		}
		var reta [128]byte
		for i := range reta {
			reta[i] = byte(i % 4)
		}
		r.programRSS(offload.DefaultRSSKey[:], reta)
		r.wr(MRQC, MrqcEnableRSS|MrqcIPv4|MrqcIPv4TCP|MrqcIPv4UDP)
		r.wr(RCTL, RctlEN|RctlUPE|RctlMPE|RctlBAM|RctlLPE)
		r.wr(RLPML, 16384)
		r.dev.Receive(fr)
		got := uint32(0)
		for q := 0; q < 4; q++ {
			got += uint32(len(r.reap(q)))
		}
		if sum := got + r.rd(MPC) + r.rd(RUC) + r.rd(ROC) + r.rd(VRXFLT) + r.rd(VRXDIS); sum != 1 {
			t.Fatalf("frame of %d bytes accounted %d times", len(fr), sum)
		}
	})
}

// Frames the driver queues while the link is down are taken off the ring
// (DD set, as the MAC consumes them) but never reach the wire, and VTXNL
// counts each; with the link back they go out again.
func TestTxWithoutLinkCounted(t *testing.T) {
	r := newRig(t, false)
	r.msix()
	r.txRing(0, 64)
	r.dev.SetCarrier(false)
	for i := 0; i < 3; i++ {
		r.send(0, frame(bcastMAC, 100, [4]byte{}, 0))
	}
	r.doorbell(0)
	if r.out.Frames != 0 || r.rd(VTXNL) != 3 {
		t.Fatalf("link down: %d frames on the wire, VTXNL %d; want 0 and 3", r.out.Frames, r.rd(VTXNL))
	}
	if tdh := r.rd(TDH(0)); tdh != r.tx[0].tail {
		t.Fatalf("link down: TDH %d TDT %d: the ring was not consumed", tdh, r.tx[0].tail)
	}
	r.dev.SetCarrier(true)
	r.send(0, frame(bcastMAC, 100, [4]byte{}, 0))
	r.doorbell(0)
	if r.out.Frames != 1 || r.rd(VTXNL) != 3 {
		t.Fatalf("link up: %d frames on the wire, VTXNL %d; want 1 and 3", r.out.Frames, r.rd(VTXNL))
	}
}
