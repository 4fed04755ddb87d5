package hw

import (
	"encoding/binary"
	"fmt"
	"testing"

	"vnic/header"
	"vnic/offload"
	"vnic/ring"
)

// benchDevice is a device with RSS over IPv4/TCP/UDP and both receive
// checksum offloads on: the classifier and the checksum verdict do all
// their work.
func benchDevice(b testing.TB) *Device {
	b.Helper()
	dev, err := NewDevice(DeviceConfig{Name: "b", MAC: rigMAC}, NewVirtualClock(), NewDMA(1<<20))
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		dev.Write32(RSSRK0+4*uint32(i), binary.LittleEndian.Uint32(offload.DefaultRSSKey[4*i:]))
	}
	for i := 0; i < 32; i++ {
		dev.Write32(RETA0+4*uint32(i), 0x03020100)
	}
	dev.Write32(MRQC, MrqcEnableRSS|MrqcIPv4|MrqcIPv4TCP|MrqcIPv4UDP)
	dev.Write32(RXCSUM, RxcsumPCSD|RxcsumIPOFLD|RxcsumTUOFLD)
	return dev
}

// benchTCPFrame is a 1514-byte TCP/IPv4 frame with valid checksums.
func benchTCPFrame(n int) []byte {
	f := rssFrame(rigMAC, "66.9.149.187", "161.142.100.80", 2794, 1766)
	f = append(f[:54], make([]byte, n-54)...)
	ip := header.IPv4(f[14:])
	ip.SetTotalLen(uint16(n - 14))
	ip[20+12] = 5 << 4
	ip.UpdateChecksum()
	l4 := f[34:]
	header.TCP(l4).SetChecksum(header.L4Checksum(ip, l4))
	return f
}

var sinkU32 uint32

// BenchmarkClassify is the RSS classifier (parse, Toeplitz, RETA) per frame.
func BenchmarkClassify(b *testing.B) {
	dev := benchDevice(b)
	f := benchTCPFrame(64)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		et, l3 := header.Ethernet(f).InnerType()
		q, h, _, _ := dev.classify(f, et, l3)
		sinkU32 += h + uint32(q)
	}
}

// BenchmarkRxChecksum is the receive checksum verdict on a 64- and a
// 1514-byte TCP frame.
func BenchmarkRxChecksum(b *testing.B) {
	dev := benchDevice(b)
	for _, n := range []int{64, 1514} {
		f := benchTCPFrame(n)
		b.Run(map[int]string{64: "size=64", 1514: "size=1514"}[n], func(b *testing.B) {
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				et, l3 := header.Ethernet(f).InnerType()
				sinkU32 += dev.rxChecksum(f, et, l3)
			}
		})
	}
}

// BenchmarkLROParse is LRO's header parse and eligibility check.
func BenchmarkLROParse(b *testing.B) {
	f := benchTCPFrame(1514)
	header.TCP(f[34:]).SetFlags(header.TCPAck)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_, _, n, ok := lroParse(f)
		if ok {
			sinkU32 += uint32(n)
		}
	}
}

// BenchmarkReceive is the whole receive engine for a 64-byte TCP frame:
// filter, RSS, checksum verdict, DMA to the ring and write-back.
func BenchmarkReceive(b *testing.B) {
	r := newRig(b, false)
	rr := r.rxRing(0, 256, 2048)
	for i := 0; i < 10; i++ {
		r.wr(RSSRK0+4*uint32(i), binary.LittleEndian.Uint32(offload.DefaultRSSKey[4*i:]))
	}
	r.wr(MRQC, MrqcEnableRSS|MrqcIPv4|MrqcIPv4TCP|MrqcIPv4UDP) // RETA all queue 0
	r.wr(RXCSUM, RxcsumPCSD|RxcsumIPOFLD|RxcsumTUOFLD)
	f := benchTCPFrame(64)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		r.dev.Receive(f)
		if i%128 == 127 {
			// Give the written-back descriptors back without copying.
			for k := 0; k < 128; k++ {
				rr.ntc = (rr.ntc + 1) % rr.n
			}
			r.post(0, 128)
		}
	}
	if r.rd(GPRC) == 0 || r.rd(MPC) != 0 {
		b.Fatal("frames dropped")
	}
}

// BenchmarkReceiveRealTime is BenchmarkReceive on a real-time device (its
// lock on) for 64-byte UDP frames as the driver's RX benchmark sends them,
// one at a time and in bursts of 32 (ReceiveBurst).
func BenchmarkReceiveRealTime(b *testing.B) {
	for _, burst := range []int{1, 32} {
		b.Run(fmt.Sprintf("burst=%d", burst), func(b *testing.B) {
			r := newRigOn(b, false, NewRealClock())
			r.msix()
			rr := r.rxRing(0, 1024, 2048)
			for i := 0; i < 10; i++ {
				r.wr(RSSRK0+4*uint32(i), binary.LittleEndian.Uint32(offload.DefaultRSSKey[4*i:]))
			}
			r.wr(MRQC, MrqcEnableRSS|MrqcIPv4|MrqcIPv4TCP|MrqcIPv4UDP) // RETA all queue 0
			r.wr(RXCSUM, RxcsumPCSD|RxcsumIPOFLD|RxcsumTUOFLD)
			frames := make([][]byte, burst)
			for i := range frames {
				frames[i] = frame(rigMAC, 60, [4]byte{198, 18, 0, byte(i)}, uint16(10000+i))
				header.IPv4(frames[i][14:]).UpdateChecksum()
			}
			b.ReportAllocs()
			for i := 0; i < b.N; i += burst {
				if burst == 1 {
					r.dev.Receive(frames[0])
				} else {
					r.dev.ReceiveBurst(frames)
				}
				if i%512 >= 512-burst {
					// Give the written-back descriptors back without copying.
					rr.ntc = (rr.ntc + 512) % rr.n
					r.post(0, 512)
				}
			}
			if r.rd(GPRC) == 0 || r.rd(MPC) != 0 {
				b.Fatal("frames dropped")
			}
		})
	}
}

// BenchmarkTxChecksums is the TX engine's IXSM and TXSM insertion on a
// 64-byte TCP frame.
func BenchmarkTxChecksums(b *testing.B) {
	dev := benchDevice(b)
	var t txQueue
	t.ctx[0] = ring.TxContext{MACLen: 14, IPLen: 20, L4Len: 20, TUCmd: ring.TxTUCmdIPv4 | ring.TxTUCmdL4TCP}
	t.ctxOK[0] = true
	f := benchTCPFrame(64)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		dev.insertChecksums(&t, 0, ring.TxPOptIXSM|ring.TxPOptTXSM, f)
	}
}
