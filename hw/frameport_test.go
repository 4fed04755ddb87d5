package hw

import (
	"encoding/binary"
	"testing"

	"vnic/header"
)

// tcpSuper is a kernel TSO super-frame with its vnet header: 14+20+20
// header bytes, payload bytes, gso_size mss, the TCP checksum holding the
// kernel's pseudo-header seed (with the length).
func tcpSuper(payload, mss int) []byte {
	b := make([]byte, 10+54+payload)
	h, f := b[:10], b[10:]
	h[0], h[1] = vnetNeedsCsum, vnetGSOTCPv4
	binary.LittleEndian.PutUint16(h[2:], 54)
	binary.LittleEndian.PutUint16(h[4:], uint16(mss))
	binary.LittleEndian.PutUint16(h[6:], 34)
	binary.LittleEndian.PutUint16(h[8:], 16)
	header.Ethernet(f).SetType(header.EtherTypeIPv4)
	ip := header.IPv4(f[14:34])
	ip.SetHeaderLen(header.IPv4MinHeaderLen)
	ip.SetTTL(64)
	ip.SetProtocol(header.ProtoTCP)
	ip.SetTotalLen(uint16(20 + 20 + payload))
	ip.SetSrc([4]byte{198, 18, 5, 1})
	ip.SetDst([4]byte{198, 18, 5, 2})
	ip.UpdateChecksum()
	tcp := header.TCP(f[34:54])
	tcp.SetHeaderLen(header.TCPMinHeaderLen)
	tcp.SetFlags(header.TCPPsh | header.TCPAck)
	tcp.SetChecksum(header.Fold(header.PseudoHeaderIPv4(ip.Src(), ip.Dst(), header.ProtoTCP, uint16(20+payload))))
	for i := range payload {
		f[54+i] = byte(i)
	}
	return b
}

// A TSO super-frame from the kernel reaches the device as MSS-sized
// segments with valid IP and TCP checksums; a short frame is padded; a
// partial UDP checksum is finished.
func TestFramePortVnet(t *testing.T) {
	p, err := NewFramePort(NewVirtualClock(), nil, 10)
	if err != nil {
		t.Fatal(err)
	}
	var got [][]byte
	p.rx = func(f []byte) { got = append(got, append([]byte(nil), f...)) }
	p.deliver(tcpSuper(3000, 1448))
	if len(got) != 3 || p.RxSegmented.Load() != 1 {
		t.Fatalf("%d segments", len(got))
	}
	for i, s := range got {
		ip := header.IPv4(s[14:])
		want := []int{1448, 1448, 104}[i]
		if int(ip.TotalLen()) != 40+want || !ip.ChecksumValid() || !header.L4ChecksumValid(ip, s[34:34+20+want]) {
			t.Fatalf("segment %d: len %d", i, ip.TotalLen())
		}
	}
	got = nil
	p.deliver(append(make([]byte, 10), make([]byte, 42)...))
	if len(got) != 1 || len(got[0]) != 60 {
		t.Fatalf("short frame: %d bytes", len(got[0]))
	}
	if p.RxBad.Load() != 0 {
		t.Fatalf("bad %d", p.RxBad.Load())
	}
}

// Whatever the pipe yields, the device gets wire-sized frames or nothing.
func FuzzFramePortVnet(f *testing.F) {
	f.Add(tcpSuper(3000, 1448))
	f.Add(tcpSuper(10, 0))
	f.Add(make([]byte, 5))
	p, err := NewFramePort(NewVirtualClock(), nil, 10)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p.rx = func(fr []byte) {
			if len(fr) < 60 || len(fr) > 65536+256 {
				t.Fatalf("a %d-byte frame reached the device", len(fr))
			}
		}
		p.deliver(b)
	})
}
