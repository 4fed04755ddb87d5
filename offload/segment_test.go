package offload_test

import (
	"bytes"
	"math/rand"
	"testing"

	"vnic/header"
	"vnic/offload"
	"vnic/test/pkt"
)

// tsoInput makes a super-frame as a TSO context expects it: the TCP checksum
// field holds the pseudo-header seed without length.
func tsoInput(s pkt.TCPSpec) []byte {
	f := pkt.TCP(s)
	fr, _ := pkt.Parse(f)
	seed := header.Fold(header.PseudoHeaderIPv4(fr.IP.Src(), fr.IP.Dst(), header.ProtoTCP, 0))
	fr.TCP.SetChecksum(seed)
	return f
}

// segmentRef builds the expected segments one by one with the packet
// builder: the slow reference.
func segmentRef(s pkt.TCPSpec, mss int) [][]byte {
	var out [][]byte
	p := s.Payload
	for k, off := 0, 0; off < len(p) || (k == 0 && len(p) == 0); k, off = k+1, off+mss {
		end := min(off+mss, len(p))
		seg := s
		seg.Payload = p[off:end]
		seg.Seq = s.Seq + uint32(off)
		seg.ID = s.ID + uint16(k)
		if end < len(p) {
			seg.Flags &^= header.TCPFin | header.TCPPsh
		}
		if k > 0 {
			seg.Flags &^= header.TCPCwr
		}
		out = append(out, pkt.TCP(seg))
		if len(p) == 0 {
			break
		}
	}
	return out
}

func segment(t testing.TB, f []byte, ipLen, l4Len, mss int) [][]byte {
	var out [][]byte
	scratch := make([]byte, 65536+256)
	n, res := offload.SegmentTCPv4(f, 14, ipLen, l4Len, mss, false, scratch, func(seg []byte) {
		out = append(out, append([]byte(nil), seg...))
	})
	if res != offload.SegmentOK || n != len(out) {
		t.Fatalf("segment: %v n %d", res, n)
	}
	return out
}

// TestTSOGolden is hw-model.md §7.6.
func TestTSOGolden(t *testing.T) {
	const mss = 1000
	spec := pkt.TCPSpec{DstMAC: pkt.MACB, SrcMAC: pkt.MACA, Src: pkt.IPA, Dst: pkt.IPB, SPort: 40000, DPort: 5201,
		Seq: 0xfffff000, Ack: 77, Flags: header.TCPAck | header.TCPPsh | header.TCPFin | header.TCPCwr,
		ID: 0x1234, DF: true, Payload: pkt.Payload(3*mss+100, 1)}
	segs := segment(t, tsoInput(spec), 20, 20, mss)
	if len(segs) != 4 {
		t.Fatalf("%d segments, want 4", len(segs))
	}
	for k, s := range segs {
		fr, err := pkt.Parse(s)
		if err != nil || !fr.ChecksumsValid() {
			t.Fatalf("segment %d invalid: %v", k, err)
		}
		if fr.IP.ID() != 0x1234+uint16(k) || fr.TCP.Seq() != 0xfffff000+uint32(k*mss) {
			t.Errorf("segment %d: id %#x seq %#x", k, fr.IP.ID(), fr.TCP.Seq())
		}
		want := uint8(header.TCPAck)
		if k == 0 {
			want |= header.TCPCwr
		}
		if k == 3 {
			want |= header.TCPPsh | header.TCPFin
		}
		if fr.TCP.Flags() != want {
			t.Errorf("segment %d flags %#x, want %#x", k, fr.TCP.Flags(), want)
		}
		if int(fr.IP.TotalLen()) != 40+min(mss, 3*mss+100-k*mss) {
			t.Errorf("segment %d total length %d", k, fr.IP.TotalLen())
		}
	}
}

func randomSpec(r *rand.Rand) (pkt.TCPSpec, int) {
	s := pkt.TCPSpec{DstMAC: pkt.MACB, SrcMAC: pkt.MACA, Src: pkt.IPA, Dst: pkt.IPB,
		SPort: uint16(r.Intn(65536)), DPort: uint16(r.Intn(65536)), Seq: r.Uint32(), Ack: r.Uint32(),
		Flags: uint8(r.Intn(256)) | header.TCPAck, ID: uint16(r.Intn(65536)), DF: r.Intn(2) == 0,
		TTL: uint8(1 + r.Intn(255)), TOS: uint8(r.Intn(256))}
	if r.Intn(2) == 0 {
		s.Options = pkt.TimestampOption(r.Uint32(), r.Uint32())
	}
	if r.Intn(4) == 0 {
		s.IPOptions = []byte{1, 1, 1, 0} // NOPs, EOL
	}
	mss := 1 + r.Intn(2000)
	s.Payload = pkt.Payload(r.Intn(20000), r.Uint32())
	return s, mss
}

func TestSegmentAgainstReference(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	for i := 0; i < 300; i++ {
		s, mss := randomSpec(r)
		in := tsoInput(s)
		fr, _ := pkt.Parse(in)
		got := segment(t, in, fr.IP.HeaderLen(), fr.TCP.HeaderLen(), mss)
		want := segmentRef(s, mss)
		if len(got) != len(want) {
			t.Fatalf("case %d: %d segments, want %d", i, len(got), len(want))
		}
		for k := range got {
			if !bytes.Equal(got[k], want[k]) {
				t.Fatalf("case %d segment %d differs from the reference", i, k)
			}
		}
	}
}

func TestSegmentRefusals(t *testing.T) {
	s := pkt.TCPSpec{Src: pkt.IPA, Dst: pkt.IPB, Payload: make([]byte, 100)}
	f := tsoInput(s)
	scratch := make([]byte, 2000)
	tests := []struct {
		macLen, ipLen, l4Len, mss int
		want                      offload.SegmentResult
	}{
		{14, 20, 20, 0, offload.SegmentBadMSS},
		{14, 20, 20, 1980, offload.SegmentBadMSS},
		{14, 24, 20, 100, offload.SegmentBadHeaders},
		{14, 20, 24, 100, offload.SegmentBadHeaders},
		{14, 20, 2000, 100, offload.SegmentBadHeaders},
		{10, 20, 20, 100, offload.SegmentBadHeaders},
	}
	for _, tc := range tests {
		if _, res := offload.SegmentTCPv4(f, tc.macLen, tc.ipLen, tc.l4Len, tc.mss, false, scratch, func([]byte) { t.Fatal("emitted") }); res != tc.want {
			t.Errorf("%+v: %v", tc, res)
		}
	}
}

func TestSeedRemoveLength(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	for i := 0; i < 1000; i++ {
		var src, dst [4]byte
		r.Read(src[:])
		r.Read(dst[:])
		l := uint16(r.Intn(65536))
		with := header.Fold(header.PseudoHeaderIPv4(src, dst, 6, l))
		without := header.Fold(header.PseudoHeaderIPv4(src, dst, 6, 0))
		got := offload.SeedRemoveLength(with, l)
		if got != without && !(got^without == 0xffff && (got == 0 || without == 0)) {
			t.Fatalf("seed %#x - %d = %#x, want %#x", with, l, got, without)
		}
	}
}

func TestFinishChecksum(t *testing.T) {
	for _, udp := range []bool{false, true} {
		var f []byte
		if udp {
			f = pkt.UDP(pkt.UDPSpec{Src: pkt.IPA, Dst: pkt.IPB, SPort: 1, DPort: 2, Payload: pkt.Payload(333, 5)})
		} else {
			f = pkt.TCP(pkt.TCPSpec{Src: pkt.IPA, Dst: pkt.IPB, SPort: 1, DPort: 2, Payload: pkt.Payload(333, 5)})
		}
		fr, _ := pkt.Parse(f)
		want := append([]byte(nil), f...)
		off := header.TCPChecksumOffset
		if udp {
			off = header.UDPChecksumOffset
		}
		start := 14 + fr.IP.HeaderLen()
		// Seed the field with the pseudo-header sum (with length), as the
		// stack does for CHECKSUM_PARTIAL.
		seed := header.Fold(header.PseudoHeaderIPv4(fr.IP.Src(), fr.IP.Dst(), fr.IP.Protocol(), uint16(len(fr.L4))))
		f[start+off], f[start+off+1] = byte(seed>>8), byte(seed)
		if !offload.FinishChecksum(f, start, off, udp) || !bytes.Equal(f, want) {
			t.Fatalf("udp=%v: finished checksum differs", udp)
		}
	}
	if offload.FinishChecksum(make([]byte, 10), 8, 2, false) {
		t.Fatal("offset outside the frame accepted")
	}
}

func FuzzSegmentTCPv4(f *testing.F) {
	f.Add(int64(1), 100, 1000)
	f.Fuzz(func(t *testing.T, seed int64, mss, plen int) {
		r := rand.New(rand.NewSource(seed))
		s, _ := randomSpec(r)
		if mss <= 0 || mss > 9000 || plen < 0 || plen > 60000 {
			return
		}
		s.Payload = pkt.Payload(plen, 1)
		in := tsoInput(s)
		fr, _ := pkt.Parse(in)
		var got []byte
		next := s.Seq
		scratch := make([]byte, 70000)
		_, res := offload.SegmentTCPv4(in, 14, fr.IP.HeaderLen(), fr.TCP.HeaderLen(), mss, false, scratch, func(seg []byte) {
			sf, err := pkt.Parse(seg)
			if err != nil || !sf.ChecksumsValid() || sf.TCP.Seq() != next || len(sf.Payload) > mss {
				t.Fatalf("bad segment: %v", err)
			}
			next += uint32(len(sf.Payload))
			got = append(got, sf.Payload...)
		})
		if res != offload.SegmentOK || !bytes.Equal(got, s.Payload) {
			t.Fatalf("%v: payload not preserved", res)
		}
	})
}

func BenchmarkSegmentTCPv4(b *testing.B) {
	s := pkt.TCPSpec{Src: pkt.IPA, Dst: pkt.IPB, SPort: 1, DPort: 2, Flags: header.TCPAck, Payload: make([]byte, 65000)}
	in := tsoInput(s)
	scratch := make([]byte, 2000)
	b.ReportAllocs()
	b.SetBytes(int64(len(s.Payload)))
	segs := 0
	emit := func([]byte) { segs++ }
	for i := 0; i < b.N; i++ {
		offload.SegmentTCPv4(in, 14, 20, 20, 1448, false, scratch, emit)
	}
	b.ReportMetric(float64(segs)/b.Elapsed().Seconds(), "segments/s")
}

// TestOffloadNoAllocs: segmentation, GRO and LRO decisions and checksums
// allocate nothing.
func TestOffloadNoAllocs(t *testing.T) {
	s := pkt.TCPSpec{Src: pkt.IPA, Dst: pkt.IPB, SPort: 1, DPort: 2, Flags: header.TCPAck, Payload: make([]byte, 20000)}
	in := tsoInput(s)
	scratch := make([]byte, 2000)
	var sink int
	emit := func(seg []byte) { sink += len(seg) }
	a, _ := pkt.Parse(groPkt(0, 1448, 0, nil))
	c, _ := pkt.Parse(groPkt(1448, 1448, 1, nil))
	held := &offload.GROHeld{IP: a.IP, TCP: a.TCP, Segs: 1, MSS: 1448, Len: int(a.IP.TotalLen()), Flags: a.TCP.Flags()}
	open := &offload.LROOpen{Key: offload.GROFlowKey(a.IP, a.TCP), NextSeq: 1448, Options: a.TCP.Options(), Len: 1514, Max: 32768}
	tests := map[string]func(){
		"segment":  func() { offload.SegmentTCPv4(in, 14, 20, 20, 1448, true, scratch, emit) },
		"gro":      func() { sink += int(offload.TCPGRO(held, c.IP, c.TCP, 1448)) },
		"lro":      func() { sink += int(offload.TCPLRO(open, c.IP, c.TCP, 1448, 1514, 32768, true)) },
		"checksum": func() { sink += int(header.Checksum(in)) },
		"finish":   func() { offload.FinishChecksum(in, 34, header.TCPChecksumOffset, false) },
	}
	for name, fn := range tests {
		if n := testing.AllocsPerRun(50, fn); n != 0 {
			t.Errorf("%s: %v allocations", name, n)
		}
	}
	_ = sink
}

func TestSegmentPartialMatchesFull(t *testing.T) {
	// Partial-mode segments, finished as a device would, equal full ones.
	f := make([]byte, 14+40+5000)
	header.Ethernet(f).SetType(header.EtherTypeIPv4)
	ip := header.IPv4(f[14:])
	ip.SetHeaderLen(header.IPv4MinHeaderLen)
	ip.SetTotalLen(uint16(40 + 5000))
	ip.SetTTL(64)
	ip.SetProtocol(header.ProtoTCP)
	ip.SetSrc([4]byte{198, 18, 0, 1})
	ip.SetDst([4]byte{198, 19, 0, 1})
	th := header.TCP(f[34:])
	th.SetHeaderLen(header.TCPMinHeaderLen)
	th.SetFlags(header.TCPAck)
	th.SetChecksum(header.Fold(header.PseudoHeaderIPv4(ip.Src(), ip.Dst(), header.ProtoTCP, 0)))
	var full, part [][]byte
	offload.SegmentTCPv4(f, 14, 20, 20, 1448, false, make([]byte, 2000), func(s []byte) { full = append(full, append([]byte(nil), s...)) })
	offload.SegmentTCPv4(f, 14, 20, 20, 1448, true, make([]byte, 2000), func(s []byte) { part = append(part, append([]byte(nil), s...)) })
	for i := range full {
		offload.FinishChecksum(part[i], 34, header.TCPChecksumOffset, false)
		if string(part[i]) != string(full[i]) {
			t.Fatalf("segment %d differs", i)
		}
	}
}
