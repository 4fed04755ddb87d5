package hw

import (
	"bytes"
	"encoding/binary"
	"testing"

	"vnic/header"
	"vnic/ring"
	"vnic/test/pkt"
)

// lroStream turns fuzz bytes into frames for the device: three bytes a
// frame, an opcode and a payload length. Most continue one TCP flow; the
// opcode bends one rule (PSH, FIN, a gap, another flow, other options, a
// new ACK and window, UDP, a broken TCP checksum), and short frames are
// padded to 60 bytes as on a wire.
func lroStream(data []byte) [][]byte {
	seq := uint32(7000)
	var out [][]byte
	for len(data) >= 3 && len(out) < 80 {
		op, n := data[0], int(binary.LittleEndian.Uint16(data[1:3]))%1449 // frames within 1514 bytes: none oversize
		data = data[3:]
		s := pkt.TCPSpec{DstMAC: [6]byte(rigMAC), Src: pkt.IPA, Dst: pkt.IPB, SPort: 1000, DPort: 2000, Seq: seq, Ack: 9,
			Window: 100, Flags: header.TCPAck, ID: uint16(len(out)), DF: true}
		main := true
		switch op % 10 {
		case 1:
			s.Flags |= header.TCPPsh
		case 2:
			s.Flags |= header.TCPFin
		case 3:
			s.Seq += 3
		case 4:
			s.SPort, main = 1001, false
		case 5:
			s.Options = pkt.TimestampOption(uint32(op), 1)
		case 6:
			s.Ack, s.Window = 10+uint32(op), 200
		case 7:
			u := pkt.UDP(pkt.UDPSpec{DstMAC: [6]byte(rigMAC), Src: pkt.IPA, Dst: pkt.IPB, SPort: 1, DPort: 2, Payload: make([]byte, n)})
			out = append(out, pad60(u))
			continue
		}
		s.Payload = pkt.Payload(n, s.Seq)
		f := pkt.TCP(s)
		if op&0x80 != 0 && n > 0 {
			f[len(f)-1] ^= 0xFF // the device's verdict: TCPE
		}
		out = append(out, pad60(f))
		if main {
			seq = s.Seq + uint32(n)
		}
	}
	return out
}

func pad60(f []byte) []byte {
	if len(f) < MinFrame {
		f = append(f, make([]byte, MinFrame-len(f))...)
	}
	return f
}

// reapLRO takes queue 0's written-back packets with their RSCCNT.
func (r *rig) reapLRO() (frames [][]byte, cnt []int) {
	rr := r.rx[0]
	var cur []byte
	k := uint32(0)
	for {
		d := rr.descAt(rr.ntc)
		if d.Status()&ring.RxStatDD == 0 {
			break
		}
		cur = append(cur, rr.bufs[rr.ntc].Buf[:d.Length()]...)
		if d.Status()&ring.RxStatEOP != 0 {
			frames, cur = append(frames, cur), nil
			cnt = append(cnt, max(1, int(d.RSCCount())))
		}
		rr.ntc = ring.Next(rr.ntc, rr.n)
		k++
	}
	if k > 0 {
		r.post(0, k)
	}
	return frames, cnt
}

// Whatever frames arrive, the device's LRO delivers each exactly once and
// in order: a frame it did not coalesce unchanged; an aggregate of k frames
// with valid IPv4 and TCP checksums, the first frame's headers (with the
// last ACK and window and the union of PSH), and a payload that, cut at
// the frames' boundaries, gives back each frame's payload.
func FuzzLROStream(f *testing.F) {
	f.Add([]byte{0, 0xe8, 3, 0, 0xe8, 3, 6, 0xe8, 3, 1, 0xe8, 3})          // three in order, a new ACK, PSH
	f.Add([]byte{0, 0xb4, 5, 4, 0x10, 0, 0, 0xb4, 5, 3, 0xb4, 5, 7, 8, 0}) // another flow, a gap, UDP
	f.Add([]byte{0, 0xe8, 3, 0x80, 0xe8, 3, 5, 0xe8, 3, 2, 0, 0, 0, 0, 0})
	r := newRig(f, false)
	r.msix()
	r.rxRing(0, 256, 2048)
	r.wr(RXCSUM, RxcsumIPOFLD|RxcsumTUOFLD)
	r.wr(EITR(1), 1000<<2) // the aggregation timer never fires: time stands
	f.Fuzz(func(t *testing.T, data []byte) {
		in := lroStream(data)
		var out [][]byte
		var cnt []int
		for _, fr := range in {
			r.wr(RSCCTL(0), RscctlEn|3<<RscctlMaxDescShift)
			r.dev.Receive(fr)
			o, c := r.reapLRO()
			out, cnt = append(out, o...), append(cnt, c...)
		}
		r.wr(RSCCTL(0), 0) // flushes the open aggregate
		o, c := r.reapLRO()
		out, cnt = append(out, o...), append(cnt, c...)
		next := 0
		for i, p := range out {
			k := cnt[i]
			if next+k > len(in) {
				t.Fatalf("packet %d holds %d frames, %d left", i, k, len(in)-next)
			}
			first := in[next]
			next += k
			if k == 1 {
				if !bytes.Equal(p, first) {
					t.Fatalf("frame %d delivered changed", next-1)
				}
				continue
			}
			agg, err := pkt.Parse(p)
			if err != nil || agg.TCP == nil || !agg.ChecksumsValid() {
				t.Fatalf("aggregate of frames %d+%d: %v, bad checksums", next-k, k, err)
			}
			f0, _ := pkt.Parse(first)
			last, _ := pkt.Parse(in[next-1])
			if agg.TCP.Seq() != f0.TCP.Seq() || agg.TCP.Ack() != last.TCP.Ack() || agg.TCP.Window() != last.TCP.Window() ||
				!bytes.Equal(agg.TCP.Options(), f0.TCP.Options()) || agg.IP.Src() != f0.IP.Src() || agg.TCP.SrcPort() != f0.TCP.SrcPort() {
				t.Fatalf("aggregate of frames %d+%d: headers differ from its frames", next-k, k)
			}
			rest := agg.Payload
			for j := next - k; j < next; j++ {
				fj, _ := pkt.Parse(in[j])
				if len(rest) < len(fj.Payload) || !bytes.Equal(rest[:len(fj.Payload)], fj.Payload) {
					t.Fatalf("aggregate of frames %d+%d: frame %d's payload differs", next-k, k, j)
				}
				rest = rest[len(fj.Payload):]
			}
			if len(rest) != 0 {
				t.Fatalf("aggregate of frames %d+%d: %d bytes left over", next-k, k, len(rest))
			}
		}
		if next != len(in) {
			t.Fatalf("%d of %d frames came out", next, len(in))
		}
	})
}

// An aggregate holds at most the 15 frames RSCCNT can report (the stream
// fuzzer found 16 small frames written back as 15).
func TestLROAtMost15Frames(t *testing.T) {
	r := newRig(t, false)
	r.msix()
	r.rxRing(0, 64, 2048)
	r.wr(RXCSUM, RxcsumIPOFLD|RxcsumTUOFLD)
	r.wr(EITR(1), 1000<<2)
	r.wr(RSCCTL(0), RscctlEn|3<<RscctlMaxDescShift)
	var data []byte
	for i := 0; i < 20; i++ {
		data = append(data, 0, 100, 0) // 100-byte payloads, in order
	}
	for _, f := range lroStream(data) {
		r.dev.Receive(f)
	}
	r.wr(RSCCTL(0), 0)
	frames, cnt := r.reapLRO()
	if len(frames) != 2 || cnt[0] != 15 || cnt[1] != 5 || len(frames[0]) != 54+1500 {
		t.Fatalf("%d packets of %v frames", len(frames), cnt)
	}
}
