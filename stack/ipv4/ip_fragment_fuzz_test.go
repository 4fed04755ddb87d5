package ipv4

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	"vnic/header"
	"vnic/hw"
	"vnic/stack"
)

// FuzzReassembly feeds ip_defrag a sequence of fragments of one datagram
// in the order the input chooses, repeats and drops included, some of
// them damaged (moved 8 bytes, or with MF flipped). Whatever the order:
// nothing panics; a datagram that comes out is well formed; when no
// fragment was damaged, a datagram comes out exactly when every fragment
// has arrived and it equals the original; once the timers ran no queue,
// byte or skb is left.
func FuzzReassembly(f *testing.F) {
	f.Add(uint16(3000), uint8(20), []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18})
	f.Add(uint16(1000), uint8(5), []byte{7, 3, 1, 0, 5, 2, 6, 4, 3})
	f.Add(uint16(500), uint8(0), []byte{0x81, 1, 2, 0})
	f.Add(uint16(200), uint8(3), []byte{0x41, 0, 1, 2, 3})
	f.Add(uint16(64), uint8(1), []byte{1, 1, 0, 0, 1})
	f.Fuzz(func(t *testing.T, size uint16, chunk uint8, order []byte) {
		if len(order) > 64 {
			order = order[:64]
		}
		clk := hw.NewVirtualClock()
		h := stack.NewHost("h", clk, []stack.CPU{hw.NewCPU(0, clk, hw.CostModel{})}, stack.HostConfig{})
		in, err := InetInit(h, InetConfig{Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		n := 1 + int(size)%4000
		step := 8 * (1 + int(chunk)%64)
		k := (n + step - 1) / step
		payload := make([]byte, n)
		for i := range payload {
			payload[i] = byte(i*7 + 3)
		}
		frag := func(i int, damage byte) *stack.SKB {
			off := i * step
			end := min(off+step, n)
			mf := end < n
			switch {
			case damage&0x80 != 0 && off+8 < n:
				off += 8
				end = min(off+step, n)
			case damage&0x40 != 0:
				mf = !mf
			}
			b := make([]byte, 20+end-off)
			b[0], b[8], b[9] = 0x45, 64, IPProtoUDP
			binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
			binary.BigEndian.PutUint16(b[4:], 0x4711)
			ff := uint16(off / 8)
			if mf {
				ff |= IPMF
			}
			binary.BigEndian.PutUint16(b[6:], ff)
			copy(b[12:], []byte{198, 18, 0, 2, 198, 18, 0, 1})
			copy(b[20:], payload[off:end])
			header.IPv4(b).UpdateChecksum()
			s := in.host.Pool().Alloc(len(b))
			if s == nil {
				t.Fatal("pool empty")
			}
			copy(s.Put(len(b)), b)
			s.Dev = in.lo
			s.ResetNetworkHeader()
			return s
		}
		damaged := false
		seen := map[int]bool{}
		outs := 0
		for _, o := range order {
			i := int(o&0x3f) % k
			if o&0xc0 != 0 {
				damaged = true
			}
			seen[i] = true
			out := in.defrag(frag(i, o&0xc0), defragLocalDeliver)
			if out == nil {
				continue
			}
			outs++
			d := out.Data()
			iph := header.IPv4(d)
			if len(d) < 20 || int(iph.TotalLen()) != len(d) || !iph.ChecksumValid() || iph.IsFragment() {
				t.Fatalf("reassembled header % x, %d bytes", d[:min(len(d), 20)], len(d))
			}
			if !damaged {
				if outs == 1 && len(seen) != k {
					t.Fatalf("a datagram before all %d fragments came (%d)", k, len(seen))
				}
				if !bytes.Equal(d[20:], payload) {
					t.Fatalf("reassembled payload differs (%d bytes, want %d)", len(d)-20, n)
				}
				seen = map[int]bool{}
			}
			out.Free()
		}
		if !damaged && outs == 0 && len(seen) == k {
			t.Fatalf("all %d fragments came and nothing was reassembled", k)
		}
		clk.RunFor(31 * time.Second)
		if in.FragQueues() != 0 || in.FragMem() != 0 {
			t.Fatalf("after the timeout: %d queues, %d bytes", in.FragQueues(), in.FragMem())
		}
		if live := in.host.Pool().Live(); live != 0 {
			t.Fatalf("%d skbs live", live)
		}
	})
}
