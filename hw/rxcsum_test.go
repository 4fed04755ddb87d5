package hw

import (
	"encoding/binary"
	"testing"

	"vnic/header"
)

// checkSums compares the receive engine's fast sums with the header
// package's reference on one IPv4 packet.
func checkSums(t *testing.T, pkt []byte) {
	t.Helper()
	ip := header.IPv4(pkt)
	if !ip.IsValid() || !ip.TotalLenValid() {
		return
	}
	ip = ip[:ip.TotalLen()]
	if got, want := ipv4HeaderSumOK(ip), ip.ChecksumValid(); got != want {
		t.Errorf("header % x: fast sum says %v, reference %v", []byte(ip[:ip.HeaderLen()]), got, want)
	}
	l4 := ip[ip.HeaderLen():]
	if ip.Protocol() == header.ProtoUDP && len(l4) >= header.UDPHeaderLen && header.UDP(l4).Checksum() == 0 {
		return // no checksum: never summed (L4ChecksumValid says valid)
	}
	if got, want := l4SumOK(ip, l4), header.L4ChecksumValid(ip, l4); got != want {
		t.Errorf("segment of %d bytes: fast sum says %v, reference %v", len(l4), got, want)
	}
}

func TestRxChecksumSums(t *testing.T) {
	tcp := benchTCPFrame(1514)[14:]
	tcpOpts := append([]byte{}, tcp...)
	tcpOpts[0] = 0x46 // a header with one word of options
	header.IPv4(tcpOpts).UpdateChecksum()
	udp := append([]byte{}, frame(rigMAC, 200, [4]byte{198, 18, 0, 1}, 7)[14:]...)
	header.IPv4(udp).UpdateChecksum()
	u := header.UDP(udp[20:])
	u.SetLength(uint16(len(u)))
	u.SetChecksum(header.L4Checksum(header.IPv4(udp), u))
	for _, tc := range []struct {
		name string
		pkt  []byte
		mod  func(b []byte)
	}{
		{"tcp good", tcp, nil},
		{"tcp bad header sum", tcp, func(b []byte) { b[10] ^= 1 }},
		{"tcp bad segment sum", tcp, func(b []byte) { b[100] ^= 0x80 }},
		{"tcp odd length", tcp, func(b []byte) { binary.BigEndian.PutUint16(b[2:], uint16(len(b)-1)) }},
		{"options good", tcpOpts, nil},
		{"options bad", tcpOpts, func(b []byte) { b[21] ^= 4 }},
		{"udp good", udp, nil},
		{"udp bad", udp, func(b []byte) { b[40] ^= 1 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := append([]byte{}, tc.pkt...)
			if tc.mod != nil {
				tc.mod(b)
			}
			checkSums(t, b)
		})
	}
}

func FuzzRxChecksumSums(f *testing.F) {
	f.Add(benchTCPFrame(64)[14:])
	f.Add(benchTCPFrame(1514)[14:])
	f.Add(frame(rigMAC, 80, [4]byte{198, 18, 0, 1}, 7)[14:])
	f.Fuzz(func(t *testing.T, pkt []byte) { checkSums(t, pkt) })
}

// onesSumValid agrees with folding on sums of every size.
func TestOnesSumValid(t *testing.T) {
	for _, s := range []uint64{0, 1, 0xFFFF, 0x1FFFE, 0xFFFF0000, 0xFFFFFFFF, 1 << 63, ^uint64(0), 0x12345678_9ABCDEF0, 0xFFFE_0001} {
		if got, want := onesSumValid(s), header.Fold(s) == 0xFFFF; got != want {
			t.Errorf("%#x: %v, folding says %v", s, got, want)
		}
	}
}

func FuzzOnesSumValid(f *testing.F) {
	f.Add(uint64(0xFFFF))
	f.Fuzz(func(t *testing.T, s uint64) {
		if got, want := onesSumValid(s), header.Fold(s) == 0xFFFF; got != want {
			t.Errorf("%#x: %v, folding says %v", s, got, want)
		}
	})
}
