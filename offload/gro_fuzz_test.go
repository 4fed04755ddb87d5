package offload_test

import (
	"bytes"
	"encoding/binary"
	"testing"

	"vnic/header"
	"vnic/offload"
	"vnic/test/pkt"
)

// groStream turns fuzz bytes into a train of TCP/IPv4 frames of one flow:
// three bytes a frame, an opcode and a payload length. Most frames continue
// the flow; the opcode bends one rule at a time (PSH, FIN, a sequence gap,
// a changed ACK, TTL or options, a fixed or jumping IP ID, CWR, SYN).
func groStream(data []byte) [][]byte {
	seq, id := uint32(1_000_000), uint16(100)
	var out [][]byte
	for len(data) >= 3 && len(out) < 80 {
		op, n := data[0], int(binary.LittleEndian.Uint16(data[1:3]))%1449
		data = data[3:]
		s := pkt.TCPSpec{Src: pkt.IPA, Dst: pkt.IPB, SPort: 1000, DPort: 2000, Seq: seq, Ack: 5, Window: 512,
			Flags: header.TCPAck, ID: id, DF: true, Options: pkt.TimestampOption(10, 20)}
		switch op % 12 {
		case 1:
			s.Flags |= header.TCPPsh
		case 2:
			s.Flags |= header.TCPFin
		case 3:
			s.Seq += uint32(op) // a gap (or, wrapped, a retransmission)
		case 4:
			s.Ack++
		case 5:
			s.TTL = 63
		case 6:
			s.Options = pkt.TimestampOption(11, 20)
		case 7:
			s.ID = id - 1 // neither the next ID nor a fixed one
		case 8:
			s.Flags |= header.TCPCwr
		case 9:
			s.Flags = header.TCPSyn | header.TCPAck
		case 10:
			s.Options = nil
		}
		s.Payload = pkt.Payload(n, s.Seq)
		out = append(out, pkt.TCP(s))
		seq = s.Seq + uint32(n)
		if op&0x80 == 0 {
			id++ // else the ID stays: fixed IDs with DF merge too
		}
	}
	return out
}

// groOut is a packet GRO passed up: its bytes and the input frames it holds.
type groOut struct {
	frame []byte
	first int // index of its first input frame
	segs  int
	mss   int
}

// groEngine follows TCPGRO's decisions over frames the way a GRO engine
// does with one held packet, merging bytes as dev_gro_receive would: the
// held packet grows by each merged payload, takes the merged FIN and PSH,
// and on flush gets its IPv4 length and both checksums recomputed.
func groEngine(t *testing.T, frames [][]byte) []groOut {
	var out []groOut
	var held *offload.GROHeld
	var hb []byte
	var hf groOut
	flush := func() {
		if held == nil {
			return
		}
		ip := header.IPv4(hb[header.EthernetHeaderLen:])
		ip.SetTotalLen(uint16(held.Len))
		ip.UpdateChecksum()
		l4 := hb[header.EthernetHeaderLen+ip.HeaderLen():]
		th := header.TCP(l4)
		th.SetChecksum(0)
		th.SetChecksum(header.L4Checksum(ip, l4))
		hf.frame, hf.segs = hb, held.Segs
		out = append(out, hf)
		held, hb = nil, nil
	}
	hold := func(i int, fr pkt.Frame, f []byte) {
		hb = append([]byte(nil), f...)
		ip := header.IPv4(hb[header.EthernetHeaderLen:])
		held = &offload.GROHeld{IP: ip, TCP: header.TCP(ip[ip.HeaderLen():]), Segs: 1, MSS: len(fr.Payload), Len: int(fr.IP.TotalLen()), Flags: fr.TCP.Flags()}
		hf = groOut{first: i, mss: len(fr.Payload)}
	}
	for i, f := range frames {
		fr, err := pkt.Parse(f)
		if err != nil || fr.TCP == nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if !offload.GROEligible(fr.IP, fr.TCP) {
			flush()
			out = append(out, groOut{frame: f, first: i, segs: 1})
			continue
		}
		switch r := offload.TCPGRO(held, fr.IP, fr.TCP, len(fr.Payload)); r {
		case offload.GROHold:
			hold(i, fr, f)
		case offload.GROMerge, offload.GROMergeFlush:
			hb = append(hb, fr.Payload...)
			held.Segs++
			held.Len += len(fr.Payload)
			th := header.TCP(hb[header.EthernetHeaderLen+held.IP.HeaderLen():])
			th.SetFlags(th.Flags() | fr.TCP.Flags()&(header.TCPFin|header.TCPPsh))
			if r == offload.GROMergeFlush {
				flush()
			}
		case offload.GROFlushHold:
			flush()
			hold(i, fr, f)
		case offload.GROFlushPass:
			flush()
			out = append(out, groOut{frame: f, first: i, segs: 1})
		case offload.GROPass:
			out = append(out, groOut{frame: f, first: i, segs: 1})
		}
	}
	flush()
	return out
}

// Whatever train of frames arrives, following GRO's decisions loses and
// reorders nothing; every merged packet is within GRO's limits, has valid
// checksums, and segmented again at its MSS gives back the payloads and
// sequence numbers of the frames it merged.
func FuzzGROStream(f *testing.F) {
	f.Add([]byte{0, 0xe8, 3, 0, 0xe8, 3, 0, 0xe8, 3, 1, 0x10, 0})       // three MSS frames, PSH
	f.Add([]byte{0, 0xe8, 3, 0, 0x64, 0, 0, 0xe8, 3, 3, 0xe8, 3})       // a short frame ends it, a gap
	f.Add([]byte{0x80, 0xe8, 3, 0x80, 0xe8, 3, 0x80, 0xe8, 3, 2, 0, 0}) // fixed IDs, FIN
	f.Add([]byte{0, 0xe8, 3, 4, 0xe8, 3, 5, 0xe8, 3, 6, 0xe8, 3, 7, 0xe8, 3, 8, 0xe8, 3, 9, 0, 0, 10, 0xe8, 3})
	scratch := make([]byte, 65536+256)
	f.Fuzz(func(t *testing.T, data []byte) {
		in := groStream(data)
		out := groEngine(t, in)
		next := 0
		for _, o := range out {
			if o.first != next {
				t.Fatalf("packet of frame %d after frame %d: reordered or lost", o.first, next)
			}
			next += o.segs
			if o.segs == 1 {
				if !bytes.Equal(o.frame, in[o.first]) {
					t.Fatalf("frame %d passed up changed", o.first)
				}
				continue
			}
			fr, err := pkt.Parse(o.frame)
			if err != nil || !fr.ChecksumsValid() {
				t.Fatalf("merged packet of frames %d+%d: %v, checksums valid %v", o.first, o.segs, err, err == nil && fr.ChecksumsValid())
			}
			if o.segs > offload.GROMaxSegs || int(fr.IP.TotalLen()) >= offload.GROMaxSize {
				t.Fatalf("merged %d segments, %d bytes", o.segs, fr.IP.TotalLen())
			}
			// Segment it again (the seed without length, as TSO wants).
			th := header.TCP(fr.L4)
			th.SetChecksum(header.Fold(header.PseudoHeaderIPv4(fr.IP.Src(), fr.IP.Dst(), header.ProtoTCP, 0)))
			k := 0
			_, res := offload.SegmentTCPv4(o.frame, header.EthernetHeaderLen, fr.IP.HeaderLen(), th.HeaderLen(), o.mss, false, scratch, func(seg []byte) {
				sf, err := pkt.Parse(seg)
				orig, _ := pkt.Parse(in[o.first+k])
				if err != nil || !sf.ChecksumsValid() || !bytes.Equal(sf.Payload, orig.Payload) || sf.TCP.Seq() != orig.TCP.Seq() {
					t.Fatalf("segment %d of frames %d+%d differs from its frame", k, o.first, o.segs)
				}
				k++
			})
			if res != offload.SegmentOK || k != o.segs {
				t.Fatalf("resegmenting frames %d+%d: %v, %d segments", o.first, o.segs, res, k)
			}
		}
		if next != len(in) {
			t.Fatalf("%d of %d frames came out", next, len(in))
		}
	})
}

// The stream's seeds do merge: three full frames and a PSH one are one
// packet of four segments.
func TestGROStreamMerges(t *testing.T) {
	out := groEngine(t, groStream([]byte{0, 0xe8, 3, 0, 0xe8, 3, 0, 0xe8, 3, 1, 0x10, 0}))
	if len(out) != 1 || out[0].segs != 4 || out[0].mss != 1000 {
		t.Fatalf("%d packets, first of %d segments", len(out), out[0].segs)
	}
}
