package offload_test

import (
	"fmt"
	"testing"

	"vnic/header"
	"vnic/offload"
	"vnic/test/pkt"
)

// lroRun feeds frames through TCPLRO the way the device does.
func lroRun(t *testing.T, max int, frames [][]byte) []offload.LROResult {
	t.Helper()
	var open *offload.LROOpen
	var out []offload.LROResult
	for _, f := range frames {
		fr, err := pkt.Parse(f)
		if err != nil {
			t.Fatal(err)
		}
		r := offload.TCPLRO(open, fr.IP, fr.TCP, len(fr.Payload), len(f), max, fr.ChecksumsValid())
		out = append(out, r)
		switch r {
		case offload.LROStart, offload.LROFlushStart:
			open = &offload.LROOpen{Key: offload.GROFlowKey(fr.IP, fr.TCP), NextSeq: fr.TCP.Seq() + uint32(len(fr.Payload)),
				Options: fr.TCP.Options(), Len: len(f), Max: max}
		case offload.LROAppend:
			open.NextSeq += uint32(len(fr.Payload))
			open.Len += len(fr.Payload)
		default:
			open = nil
		}
	}
	return out
}

func TestTCPLRORules(t *testing.T) {
	p := func(k int, mod func(*pkt.TCPSpec)) []byte { return groPkt(uint32(1000*k), 1000, uint16(k), mod) }
	flag := func(f uint8) func(*pkt.TCPSpec) { return func(s *pkt.TCPSpec) { s.Flags |= f } }
	S, A, AF, FS, FP, P := offload.LROStart, offload.LROAppend, offload.LROAppendFlush, offload.LROFlushStart, offload.LROFlushPass, offload.LROPass
	bad := p(1, nil)
	bad[60] ^= 0xff
	tests := []struct {
		name   string
		max    int
		frames [][]byte
		want   []offload.LROResult
	}{
		{"in order", 65536, [][]byte{p(0, nil), p(1, nil), p(2, nil), p(3, nil)}, []offload.LROResult{S, A, A, A}},
		{"PSH ends", 65536, [][]byte{p(0, nil), p(1, flag(header.TCPPsh))}, []offload.LROResult{S, AF}},
		{"PSH alone passes", 65536, [][]byte{p(0, flag(header.TCPPsh))}, []offload.LROResult{P}},
		{"gap", 65536, [][]byte{p(0, nil), p(2, nil)}, []offload.LROResult{S, FS}},
		{"retransmission", 65536, [][]byte{p(0, nil), p(0, nil)}, []offload.LROResult{S, FS}},
		{"other flow", 65536, [][]byte{p(0, nil), p(1, func(s *pkt.TCPSpec) { s.SPort = 9 })}, []offload.LROResult{S, FS}},
		{"FIN", 65536, [][]byte{p(0, nil), p(1, flag(header.TCPFin))}, []offload.LROResult{S, FP}},
		{"SYN", 65536, [][]byte{p(0, nil), p(1, flag(header.TCPSyn))}, []offload.LROResult{S, FP}},
		{"RST", 65536, [][]byte{p(0, nil), p(1, flag(header.TCPRst))}, []offload.LROResult{S, FP}},
		{"URG", 65536, [][]byte{p(0, nil), p(1, flag(header.TCPUrg))}, []offload.LROResult{S, FP}},
		{"ECE", 65536, [][]byte{p(0, nil), p(1, flag(header.TCPEce))}, []offload.LROResult{S, FP}},
		{"pure ACK", 65536, [][]byte{p(0, nil), groPkt(1000, 0, 1, nil)}, []offload.LROResult{S, FP}},
		{"bad checksum", 65536, [][]byte{p(0, nil), bad}, []offload.LROResult{S, FP}},
		{"options differ", 65536, [][]byte{p(0, nil), p(1, func(s *pkt.TCPSpec) { s.Options = pkt.TimestampOption(99, 20) })}, []offload.LROResult{S, FS}},
		{"size bound", 3000, [][]byte{p(0, nil), p(1, nil), p(2, nil), p(3, nil)}, []offload.LROResult{S, A, FS, A}},
		{"exactly full", 2066, [][]byte{p(0, nil), p(1, nil), p(2, nil)}, []offload.LROResult{S, AF, S}},
		{"IP options pass", 65536, [][]byte{p(0, func(s *pkt.TCPSpec) { s.IPOptions = []byte{1, 1, 1, 1} })}, []offload.LROResult{P}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := lroRun(t, tc.max, tc.frames); fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func FuzzTCPLRO(f *testing.F) {
	f.Add(groPkt(0, 100, 0, nil), groPkt(100, 100, 1, nil), 5000)
	f.Fuzz(func(t *testing.T, a, b []byte, max int) {
		fa, err1 := pkt.Parse(a)
		fb, err2 := pkt.Parse(b)
		if err1 != nil || err2 != nil || fa.TCP == nil || fb.TCP == nil || max <= 0 {
			return
		}
		open := &offload.LROOpen{Key: offload.GROFlowKey(fa.IP, fa.TCP), NextSeq: fa.TCP.Seq() + uint32(len(fa.Payload)),
			Options: fa.TCP.Options(), Len: len(a), Max: max}
		r := offload.TCPLRO(open, fb.IP, fb.TCP, len(fb.Payload), len(b), max, true)
		if (r == offload.LROAppend || r == offload.LROAppendFlush) && open.Len+len(fb.Payload) > max {
			t.Fatalf("%v past the size bound", r)
		}
		if r == offload.LROStart || r == offload.LROPass {
			t.Fatalf("%v with an aggregate open", r)
		}
	})
}

// BenchmarkTCPLRO is the device's per-frame LRO decision for a frame that
// continues the open aggregate (flow key, eligibility, sequence, options).
func BenchmarkTCPLRO(b *testing.B) {
	a, _ := pkt.Parse(groPkt(0, 1448, 0, nil))
	c, _ := pkt.Parse(groPkt(1448, 1448, 1, nil))
	open := &offload.LROOpen{Key: offload.GROFlowKey(a.IP, a.TCP), NextSeq: 1448, Options: a.TCP.Options(), Len: 1514, Max: 65536}
	b.ReportAllocs()
	n := 0
	for i := 0; i < b.N; i++ {
		if offload.TCPLRO(open, c.IP, c.TCP, 1448, 1514, 65536, true) == offload.LROAppend {
			n++
		}
	}
	if n != b.N {
		b.Fatalf("%d of %d appended", n, b.N)
	}
}
