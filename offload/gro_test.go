package offload_test

import (
	"fmt"
	"testing"

	"vnic/header"
	"vnic/offload"
	"vnic/test/pkt"
)

const groMSS = 1000

// groPkt makes a TCP/IPv4 frame of one flow; mod adjusts it.
func groPkt(seq uint32, n int, id uint16, mod func(*pkt.TCPSpec)) []byte {
	s := pkt.TCPSpec{Src: pkt.IPA, Dst: pkt.IPB, SPort: 1000, DPort: 2000, Seq: seq, Ack: 5,
		Flags: header.TCPAck, ID: id, DF: true, Options: pkt.TimestampOption(10, 20), Payload: pkt.Payload(n, seq)}
	if mod != nil {
		mod(&s)
	}
	return pkt.TCP(s)
}

// groRun feeds frames through TCPGRO the way a GRO engine does with one
// held train per flow, and returns each decision.
func groRun(t *testing.T, frames [][]byte) []offload.GROResult {
	t.Helper()
	var held *offload.GROHeld
	var out []offload.GROResult
	for _, f := range frames {
		fr, err := pkt.Parse(f)
		if err != nil {
			t.Fatal(err)
		}
		r := offload.TCPGRO(held, fr.IP, fr.TCP, len(fr.Payload))
		out = append(out, r)
		hold := func() {
			held = &offload.GROHeld{IP: fr.IP, TCP: fr.TCP, Segs: 1, MSS: len(fr.Payload), Len: int(fr.IP.TotalLen()), Flags: fr.TCP.Flags()}
		}
		switch r {
		case offload.GROHold, offload.GROFlushHold:
			hold()
		case offload.GROMerge:
			held.Segs++
			held.Len += len(fr.Payload)
		case offload.GROMergeFlush, offload.GROFlushPass, offload.GROPass:
			held = nil
		}
	}
	return out
}

func TestTCPGRORules(t *testing.T) {
	seq := uint32(1_000_000)
	p := func(k, n int, mod func(*pkt.TCPSpec)) []byte {
		return groPkt(seq+uint32(k*groMSS), n, uint16(100+k), mod)
	}
	flag := func(f uint8) func(*pkt.TCPSpec) { return func(s *pkt.TCPSpec) { s.Flags |= f } }
	H, M, MF, FH, FP, P := offload.GROHold, offload.GROMerge, offload.GROMergeFlush, offload.GROFlushHold, offload.GROFlushPass, offload.GROPass
	tests := []struct {
		name   string
		frames [][]byte
		want   []offload.GROResult
	}{
		{"same data", [][]byte{p(0, groMSS, nil), p(1, groMSS, nil), p(2, groMSS, nil)}, []offload.GROResult{H, M, M}},
		{"large then small", [][]byte{p(0, groMSS, nil), p(1, 100, nil)}, []offload.GROResult{H, MF}},
		{"small then large", [][]byte{p(0, 100, nil), groPkt(seq+100, groMSS, 101, nil)}, []offload.GROResult{H, FH}},
		{"ack only", [][]byte{p(0, groMSS, nil), p(1, 0, nil)}, []offload.GROResult{H, FP}},
		{"ack only alone", [][]byte{p(0, 0, nil)}, []offload.GROResult{P}},
		{"PSH", [][]byte{p(0, groMSS, nil), p(1, groMSS, flag(header.TCPPsh))}, []offload.GROResult{H, MF}},
		{"FIN", [][]byte{p(0, groMSS, nil), p(1, groMSS, flag(header.TCPFin))}, []offload.GROResult{H, MF}},
		{"SYN", [][]byte{p(0, groMSS, nil), p(1, groMSS, flag(header.TCPSyn))}, []offload.GROResult{H, FP}},
		{"RST", [][]byte{p(0, groMSS, nil), p(1, groMSS, flag(header.TCPRst))}, []offload.GROResult{H, FP}},
		{"URG", [][]byte{p(0, groMSS, nil), p(1, groMSS, flag(header.TCPUrg))}, []offload.GROResult{H, FP}},
		{"CWR", [][]byte{p(0, groMSS, nil), p(1, groMSS, flag(header.TCPCwr))}, []offload.GROResult{H, FH}},
		{"PSH first passes", [][]byte{p(0, groMSS, flag(header.TCPPsh))}, []offload.GROResult{P}},
		{"different options", [][]byte{p(0, groMSS, nil), p(1, groMSS, func(s *pkt.TCPSpec) { s.Options = []byte{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1} })}, []offload.GROResult{H, FH}},
		{"different timestamp", [][]byte{p(0, groMSS, nil), p(1, groMSS, func(s *pkt.TCPSpec) { s.Options = pkt.TimestampOption(11, 20) })}, []offload.GROResult{H, FH}},
		{"different ack", [][]byte{p(0, groMSS, nil), p(1, groMSS, func(s *pkt.TCPSpec) { s.Ack = 6 })}, []offload.GROResult{H, FH}},
		{"gap", [][]byte{p(0, groMSS, nil), p(2, groMSS, func(s *pkt.TCPSpec) { s.ID = 101 })}, []offload.GROResult{H, FH}},
		{"retransmission", [][]byte{p(0, groMSS, nil), p(0, groMSS, func(s *pkt.TCPSpec) { s.ID = 101 })}, []offload.GROResult{H, FH}},
		{"TTL differs", [][]byte{p(0, groMSS, nil), p(1, groMSS, func(s *pkt.TCPSpec) { s.TTL = 63 })}, []offload.GROResult{H, FH}},
		{"TOS differs", [][]byte{p(0, groMSS, nil), p(1, groMSS, func(s *pkt.TCPSpec) { s.TOS = 4 })}, []offload.GROResult{H, FH}},
		{"IP ID fixed with DF", [][]byte{p(0, groMSS, nil), p(1, groMSS, func(s *pkt.TCPSpec) { s.ID = 100 })}, []offload.GROResult{H, M}},
		{"IP ID fixed without DF", [][]byte{p(0, groMSS, func(s *pkt.TCPSpec) { s.DF = false }), p(1, groMSS, func(s *pkt.TCPSpec) { s.ID = 100; s.DF = false })}, []offload.GROResult{H, FH}},
		{"IP ID jumps", [][]byte{p(0, groMSS, nil), p(1, groMSS, func(s *pkt.TCPSpec) { s.ID = 900 })}, []offload.GROResult{H, FH}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := groRun(t, tc.frames); fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestTCPGROSizeLimit(t *testing.T) {
	const mss = 1448
	var frames [][]byte
	for k := 0; k < 50; k++ {
		frames = append(frames, groPkt(uint32(k*mss), mss, uint16(k), nil))
	}
	got := groRun(t, frames)
	// 40 bytes of headers + 12 of options; 45 segments make 65212 bytes, a
	// 46th would pass 64 KiB: it starts a new train.
	for k, r := range got {
		want := offload.GROMerge
		switch k {
		case 0:
			want = offload.GROHold
		case 45:
			want = offload.GROFlushHold
		}
		if r != want {
			t.Fatalf("segment %d: %v, want %v", k, r, want)
		}
	}
}

func TestGROEligible(t *testing.T) {
	ok, _ := pkt.Parse(groPkt(1, 100, 1, nil))
	opts, _ := pkt.Parse(groPkt(1, 100, 1, func(s *pkt.TCPSpec) { s.IPOptions = []byte{1, 1, 1, 1} }))
	if !offload.GROEligible(ok.IP, ok.TCP) || offload.GROEligible(opts.IP, opts.TCP) {
		t.Fatal("eligibility: IPv4 options must pass up alone")
	}
}

func FuzzTCPGRO(f *testing.F) {
	f.Add(groPkt(1, 100, 1, nil), groPkt(101, 100, 2, nil))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		fa, err1 := pkt.Parse(a)
		fb, err2 := pkt.Parse(b)
		if err1 != nil || err2 != nil || fa.TCP == nil || fb.TCP == nil {
			return
		}
		held := &offload.GROHeld{IP: fa.IP, TCP: fa.TCP, Segs: 1, MSS: len(fa.Payload), Len: int(fa.IP.TotalLen()), Flags: fa.TCP.Flags()}
		r := offload.TCPGRO(held, fb.IP, fb.TCP, len(fb.Payload))
		if (r == offload.GROMerge || r == offload.GROMergeFlush) && (len(fb.Payload) == 0 || len(fb.Payload) > held.MSS) {
			t.Fatalf("%v for a payload of %d with MSS %d", r, len(fb.Payload), held.MSS)
		}
	})
}

func BenchmarkTCPGRO(b *testing.B) {
	a, _ := pkt.Parse(groPkt(0, 1448, 0, nil))
	c, _ := pkt.Parse(groPkt(1448, 1448, 1, nil))
	held := &offload.GROHeld{IP: a.IP, TCP: a.TCP, Segs: 1, MSS: 1448, Len: int(a.IP.TotalLen()), Flags: a.TCP.Flags()}
	b.ReportAllocs()
	n := 0
	for i := 0; i < b.N; i++ {
		if offload.TCPGRO(held, c.IP, c.TCP, 1448) == offload.GROMerge {
			n++
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "packets/s")
}
