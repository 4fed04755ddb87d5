package hw

import (
	"bytes"
	"encoding/binary"
	"testing"

	"vnic/header"
	"vnic/offload"
	"vnic/ring"
	"vnic/test/pkt"
)

func tcpFrame(dst []byte, seq uint32, flags uint8, payload []byte, id uint16) []byte {
	return pkt.TCP(pkt.TCPSpec{DstMAC: [6]byte(dst), SrcMAC: [6]byte{2, 0, 0, 0, 0, 9}, Src: pkt.IPA, Dst: pkt.IPB,
		SPort: 1234, DPort: 80, Seq: seq, Ack: 1, Flags: flags, Window: 1000, ID: id, DF: true, Payload: payload})
}

func udpFrame(dst []byte, payload []byte, withCsum bool) []byte {
	return pkt.UDP(pkt.UDPSpec{DstMAC: [6]byte(dst), Src: pkt.IPA, Dst: pkt.IPB, SPort: 5, DPort: 6,
		Payload: payload, NoChecksum: !withCsum})
}

func valid(f []byte) bool {
	ip := header.IPv4(f[14:])
	return ip.ChecksumValid() && header.L4ChecksumValid(ip, ip[ip.HeaderLen():ip.TotalLen()])
}

// sendCtx queues a context descriptor and one data descriptor per 2 KiB
// chunk of f with the given command and options, then rings the doorbell.
func (r *rig) sendCtx(q int, c ring.TxContext, f []byte, cmd, popts, paylen uint32) {
	idx := c.Idx
	tr := r.tx[q]
	ring.TxDesc(tr.desc.Buf[tr.tail*16:]).SetContext(c)
	tr.tail = ring.Next(tr.tail, tr.n)
	for off := 0; off < len(f); off += 2048 {
		end := min(off+2048, len(f))
		copy(tr.bufs[tr.tail].Buf, f[off:end])
		c := cmd | ring.TxCmdIFCS
		if end == len(f) {
			c |= ring.TxCmdEOP | ring.TxCmdRS
		}
		ring.TxDesc(tr.desc.Buf[tr.tail*16:]).SetData(ring.TxData{Addr: tr.bufs[tr.tail].Addr, Len: uint16(end - off), Cmd: c, POpts: popts, Idx: idx, PayLen: paylen})
		tr.tail = ring.Next(tr.tail, tr.n)
	}
	r.doorbell(q)
}

var tcpCtx = ring.TxContext{MACLen: 14, IPLen: 20, L4Len: 20, TUCmd: ring.TxTUCmdIPv4 | ring.TxTUCmdL4TCP}

func TestTxChecksumInsertion(t *testing.T) {
	r := newRig(t, false)
	cap := &captureSink{}
	r.dev.Connect(cap)
	r.txRing(0, 64)
	// TCP: the IPv4 checksum zeroed, the TCP field seeded with the
	// pseudo-header sum (with length), as a driver sends CHECKSUM_PARTIAL.
	want := tcpFrame(bcastMAC, 7, header.TCPAck, bytes.Repeat([]byte{0xab}, 501), 9)
	f := append([]byte(nil), want...)
	ip := header.IPv4(f[14:])
	ip.SetChecksum(0)
	header.TCP(f[34:]).SetChecksum(header.Fold(header.PseudoHeaderIPv4(ip.Src(), ip.Dst(), 6, uint16(len(f)-34))))
	r.sendCtx(0, tcpCtx, f, 0, ring.TxPOptIXSM|ring.TxPOptTXSM, uint32(len(f)))
	if len(cap.frames) != 1 || !bytes.Equal(cap.frames[0], want) {
		t.Fatal("TCP checksums not inserted as software computes them")
	}
	// UDP whose checksum comes out 0 goes as 0xFFFF.
	u := udpFrame(bcastMAC, make([]byte, 40), false)
	uip := header.IPv4(u[14:])
	seed := header.Fold(header.PseudoHeaderIPv4(uip.Src(), uip.Dst(), 17, uint16(len(u)-34)))
	// Choose two payload bytes so the sum folds to 0xFFFF (checksum 0).
	header.UDP(u[34:]).SetChecksum(seed)
	s := header.Fold(header.Sum(u[34:], 0))
	binary.BigEndian.PutUint16(u[42:], 0xFFFF-s)
	udpCtx := ring.TxContext{MACLen: 14, IPLen: 20, L4Len: 8, TUCmd: ring.TxTUCmdIPv4 | ring.TxTUCmdL4UDP, Idx: 1}
	r.sendCtx(0, udpCtx, u, 0, ring.TxPOptTXSM, uint32(len(u)))
	if got := header.UDP(cap.frames[1][34:]).Checksum(); got != 0xFFFF || !valid(cap.frames[1]) {
		t.Fatalf("UDP checksum %#x, want 0xffff", got)
	}
	if r.rd(VTXCSO) != 3 {
		t.Fatalf("VTXCSO %d, want 3", r.rd(VTXCSO))
	}
}

func TestTxChecksumWithoutContext(t *testing.T) {
	r := newRig(t, false)
	cap := &captureSink{}
	r.dev.Connect(cap)
	r.txRing(0, 16)
	f := tcpFrame(bcastMAC, 7, header.TCPAck, make([]byte, 10), 9)
	header.TCP(f[34:]).SetChecksum(0x1234)
	r.send(0, f)
	tr := r.tx[0]
	// Rewrite the one data descriptor with POPTS TXSM and no context.
	ring.TxDesc(tr.desc.Buf[0:16]).SetData(ring.TxData{Addr: tr.bufs[0].Addr, Len: uint16(len(f)), Cmd: ring.TxCmdEOP | ring.TxCmdRS, POpts: ring.TxPOptTXSM, PayLen: uint32(len(f))})
	r.doorbell(0)
	if r.rd(VTXCTE) != 1 || header.TCP(cap.frames[0][34:]).Checksum() != 0x1234 {
		t.Fatal("a checksum request without a context must go out untouched and be counted")
	}
}

func TestTSO(t *testing.T) {
	r := newRig(t, false)
	cap := &captureSink{}
	r.dev.Connect(cap)
	r.txRing(0, 256)
	payload := make([]byte, 10000)
	for i := range payload {
		payload[i] = byte(i)
	}
	f := tcpFrame(bcastMAC, 1000, header.TCPAck|header.TCPPsh, payload, 50)
	ip := header.IPv4(f[14:])
	header.TCP(f[34:]).SetChecksum(header.Fold(header.PseudoHeaderIPv4(ip.Src(), ip.Dst(), 6, 0)))
	// The reference: software segmentation of the same super-frame.
	var want [][]byte
	offload.SegmentTCPv4(f, 14, 20, 20, 1448, false, make([]byte, 4096), func(s []byte) { want = append(want, append([]byte(nil), s...)) })
	c := tcpCtx
	c.MSS = 1448
	r.sendCtx(0, c, f, ring.TxCmdTSE, ring.TxPOptIXSM|ring.TxPOptTXSM, uint32(len(payload)))
	if len(cap.frames) != 7 || len(want) != 7 {
		t.Fatalf("%d segments on the wire, want 7", len(cap.frames))
	}
	for i := range want {
		if !bytes.Equal(cap.frames[i], want[i]) || !valid(cap.frames[i]) {
			t.Fatalf("segment %d differs from software GSO", i)
		}
	}
	if gptc, tsctc, seg := r.rd(GPTC), r.rd(TSCTC), r.rd(VTSOSG); gptc != 7 || tsctc != 1 || seg != 7 {
		t.Fatalf("GPTC %d TSCTC %d VTSOSG %d", gptc, tsctc, seg)
	}
	// A context with MSS 0 fails: counted, nothing sent, DD written back.
	c.MSS = 0
	r.sendCtx(0, c, f, ring.TxCmdTSE, ring.TxPOptTXSM, uint32(len(payload)))
	if len(cap.frames) != 7 || r.rd(TSCTFC) != 1 || r.rd(TDH(0)) != r.tx[0].tail {
		t.Fatalf("bad context: %d frames, TSCTFC %d", len(cap.frames), r.rd(TSCTFC))
	}
}

func TestRxChecksumVerdicts(t *testing.T) {
	good := tcpFrame(rigMAC, 1, header.TCPAck, make([]byte, 20), 1)
	badTCP := append([]byte(nil), good...)
	badTCP[60] ^= 1
	badIP := append([]byte(nil), good...)
	badIP[14+10] ^= 1
	frag := tcpFrame(rigMAC, 1, header.TCPAck, make([]byte, 20), 1)
	header.IPv4(frag[14:]).SetFlagsFrag(header.IPv4MF)
	header.IPv4(frag[14:]).UpdateChecksum()
	udpNone := udpFrame(rigMAC, make([]byte, 20), false)
	udpGood := udpFrame(rigMAC, make([]byte, 20), true)
	arp := frame(rigMAC, 60, [4]byte{}, 0)
	header.Ethernet(arp).SetType(header.EtherTypeARP)
	const ipcs, l4cs, udpcs, ipe, tcpe = ring.RxStatIPCS, ring.RxStatL4CS, ring.RxStatUDPCS, ring.RxErrIPE, ring.RxErrTCPE
	tests := []struct {
		name   string
		f      []byte
		rxcsum uint32
		want   uint32
	}{
		{"good TCP", good, RxcsumIPOFLD | RxcsumTUOFLD, ipcs | l4cs},
		{"bad TCP", badTCP, RxcsumIPOFLD | RxcsumTUOFLD, ipcs | l4cs | tcpe},
		{"bad IP header", badIP, RxcsumIPOFLD | RxcsumTUOFLD, ipcs | ipe | l4cs},
		{"fragment", frag, RxcsumIPOFLD | RxcsumTUOFLD, ipcs},
		{"UDP without checksum", udpNone, RxcsumIPOFLD | RxcsumTUOFLD, ipcs},
		{"good UDP", udpGood, RxcsumIPOFLD | RxcsumTUOFLD, ipcs | l4cs | udpcs},
		{"not IP", arp, RxcsumIPOFLD | RxcsumTUOFLD, 0},
		{"offload off", badTCP, 0, 0},
		{"L4 only", badIP, RxcsumTUOFLD, l4cs},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, false)
			r.rxRing(0, 16, 2048)
			r.wr(RXCSUM, tc.rxcsum)
			r.dev.Receive(tc.f)
			d := r.rx[0].descAt(0)
			got := d.Status() &^ (ring.RxStatDD | ring.RxStatEOP)
			if got != tc.want {
				t.Fatalf("status %#x, want %#x", got, tc.want)
			}
			if errs := got & (ipe | tcpe); (errs != 0) != (r.rd(VRXCSE) == 1) {
				t.Fatal("VRXCSE")
			}
		})
	}
}

func TestLRO(t *testing.T) {
	setup := func(itr uint32) *rig {
		r := newRig(t, false)
		r.msix()
		r.rxRing(0, 64, 2048)
		r.wr(RSCCTL(0), RscctlEn|3<<RscctlMaxDescShift)
		r.wr(EITR(1), itr<<2)
		r.wr(RXCSUM, RxcsumIPOFLD|RxcsumTUOFLD)
		return r
	}
	seg := func(k int, flags uint8) []byte {
		p := bytes.Repeat([]byte{byte(k)}, 1000)
		return tcpFrame(rigMAC, uint32(5000+1000*k), header.TCPAck|flags, p, uint16(k))
	}
	t.Run("four in order, flushed by the timer", func(t *testing.T) {
		r := setup(50)
		for k := 0; k < 4; k++ {
			r.dev.Receive(seg(k, 0))
		}
		if got := len(r.reap(0)); got != 0 {
			t.Fatalf("%d packets before the timer", got)
		}
		r.clk.RunFor(us(50))
		d := r.rx[0].descAt(1) // 4054 bytes: two buffers, EOP on the second
		got := r.reap(0)
		if len(got) != 1 || len(got[0]) != 54+4000 || !valid(got[0]) || d.RSCCount() != 4 {
			t.Fatalf("%d packets, RSCCNT %d", len(got), d.RSCCount())
		}
		if header.IPv4(got[0][14:]).TotalLen() != 4040 || !bytes.Equal(got[0][54+3000:54+3010], bytes.Repeat([]byte{3}, 10)) {
			t.Fatal("aggregate content")
		}
		if gprc, ag, fl := r.rd(GPRC), r.rd(VLROAG), r.rd(VLROFL); gprc != 4 || ag != 3 || fl != 1 {
			t.Fatalf("GPRC %d VLROAG %d VLROFL %d", gprc, ag, fl)
		}
	})
	t.Run("PSH ends it, a gap splits it", func(t *testing.T) {
		r := setup(50)
		r.dev.Receive(seg(0, 0))
		r.dev.Receive(seg(1, header.TCPPsh))
		r.dev.Receive(seg(3, 0)) // gap: a new aggregate
		r.dev.Receive(seg(5, 0)) // gap again
		r.clk.RunFor(us(100))
		got := r.reap(0)
		if len(got) != 3 || len(got[0]) != 54+2000 || header.TCP(got[0][34:]).Flags()&header.TCPPsh == 0 {
			t.Fatalf("%d packets", len(got))
		}
	})
	t.Run("no throttle, no coalescing", func(t *testing.T) {
		r := setup(0)
		for k := 0; k < 3; k++ {
			r.dev.Receive(seg(k, 0))
		}
		if got := r.reap(0); len(got) != 3 || r.rd(VLROAG) != 0 {
			t.Fatalf("%d packets", len(got))
		}
	})
	t.Run("clearing RSCEN flushes", func(t *testing.T) {
		r := setup(500)
		r.dev.Receive(seg(0, 0))
		r.dev.Receive(seg(1, 0))
		r.wr(RSCCTL(0), 0)
		if got := r.reap(0); len(got) != 1 {
			t.Fatalf("%d packets after RSCEN off", len(got))
		}
	})
	t.Run("max descriptors", func(t *testing.T) {
		r := setup(500)
		r.wr(RSCCTL(0), RscctlEn|1<<RscctlMaxDescShift) // 4 buffers: 8 KiB
		for k := 0; k < 10; k++ {
			r.dev.Receive(seg(k, 0))
		}
		r.clk.RunFor(us(600))
		got := r.reap(0)
		total := 0
		for _, p := range got {
			if len(p) > 4*2048 || !valid(p) {
				t.Fatalf("aggregate of %d bytes", len(p))
			}
			total += len(p) - 54
		}
		if total != 10000 {
			t.Fatalf("payload %d", total)
		}
	})
}

// TestTSOMatchesGSORandom: the device's TSO and software segmentation give
// the same bytes for random MSS, payload, flags, options and IDs.
func TestTSOMatchesGSORandom(t *testing.T) {
	rnd := uint64(42)
	next := func(n int) int { rnd = rnd*6364136223846793005 + 1442695040888963407; return int(rnd>>33) % n }
	for i := 0; i < 60; i++ {
		r := newRig(t, false)
		cap := &captureSink{}
		r.dev.Connect(cap)
		r.txRing(0, 256)
		s := pkt.TCPSpec{Src: pkt.IPA, Dst: pkt.IPB, SPort: uint16(next(65536)), DPort: 80, Seq: uint32(next(1 << 30)),
			Ack: 7, Flags: uint8(next(256)) | header.TCPAck, ID: uint16(next(65536)), DF: next(2) == 0, TTL: uint8(1 + next(255)),
			Payload: pkt.Payload(1+next(30000), uint32(i))}
		if next(2) == 0 {
			s.Options = pkt.TimestampOption(uint32(next(1000)), 5)
		}
		if next(3) == 0 {
			s.IPOptions = []byte{1, 1, 1, 0}
		}
		f := pkt.TCP(s)
		fr, _ := pkt.Parse(f)
		fr.TCP.SetChecksum(header.Fold(header.PseudoHeaderIPv4(fr.IP.Src(), fr.IP.Dst(), 6, 0)))
		ipl, l4l := fr.IP.HeaderLen(), fr.TCP.HeaderLen()
		mss := 1 + next(1460)
		var want [][]byte
		offload.SegmentTCPv4(f, 14, ipl, l4l, mss, false, make([]byte, 65536), func(seg []byte) {
			w := append([]byte(nil), seg...)
			if len(w) < MinFrame {
				w = append(w, make([]byte, MinFrame-len(w))...) // PSP padding
			}
			want = append(want, w)
		})
		c := ring.TxContext{MACLen: 14, IPLen: uint16(ipl), L4Len: uint8(l4l), MSS: uint16(mss), TUCmd: ring.TxTUCmdIPv4 | ring.TxTUCmdL4TCP}
		r.sendCtx(0, c, f, ring.TxCmdTSE, ring.TxPOptIXSM|ring.TxPOptTXSM, uint32(len(f)-14-ipl-l4l))
		if len(cap.frames) != len(want) {
			t.Fatalf("case %d: %d segments, want %d", i, len(cap.frames), len(want))
		}
		for k := range want {
			if !bytes.Equal(cap.frames[k], want[k]) {
				t.Fatalf("case %d segment %d differs", i, k)
			}
		}
	}
}
