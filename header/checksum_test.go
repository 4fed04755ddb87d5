package header

import (
	"encoding/binary"
	"math/rand"
	"testing"
)

// checksumRef is RFC 1071 word by word.
func checksumRef(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}

func TestChecksumAgainstReference(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	for n := 0; n < 300; n++ {
		b := make([]byte, n)
		for i := 0; i < 4; i++ {
			r.Read(b)
			if i == 3 {
				for j := range b {
					b[j] = 0xff
				}
			}
			if got, want := Checksum(b), checksumRef(b); got != want {
				t.Fatalf("len %d: got %#x want %#x", n, got, want)
			}
		}
	}
}

func TestChecksumKnownIPv4Header(t *testing.T) {
	// A well-known example header with checksum 0xb861.
	h := []byte{0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7}
	if got := Checksum(h); got != 0xb861 {
		t.Fatalf("got %#x want 0xb861", got)
	}
	binary.BigEndian.PutUint16(h[10:], 0xb861)
	if got := Checksum(h); got != 0 {
		t.Fatalf("verify gives %#x, want 0", got)
	}
}

func TestUpdate16(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	h := make([]byte, 20)
	for i := 0; i < 1000; i++ {
		r.Read(h)
		binary.BigEndian.PutUint16(h[10:], 0)
		binary.BigEndian.PutUint16(h[10:], Checksum(h))
		old := binary.BigEndian.Uint16(h[8:])
		nv := uint16(r.Intn(65536))
		binary.BigEndian.PutUint16(h[8:], nv)
		got := Update16(binary.BigEndian.Uint16(h[10:]), old, nv)
		binary.BigEndian.PutUint16(h[10:], 0)
		want := Checksum(h)
		// 0x0000 and 0xffff are the same value in ones-complement.
		if got != want && !(got^want == 0xffff && (got == 0 || want == 0)) {
			t.Fatalf("Update16 got %#x want %#x", got, want)
		}
	}
}

func FuzzChecksum(f *testing.F) {
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := Checksum(b), checksumRef(b); got != want {
			t.Fatalf("got %#x want %#x", got, want)
		}
	})
}

func BenchmarkChecksum1500(b *testing.B) {
	buf := make([]byte, 1500)
	b.SetBytes(1500)
	b.ReportAllocs()
	var sink uint16
	for i := 0; i < b.N; i++ {
		sink ^= Checksum(buf)
	}
	_ = sink
}

func TestChecksumAlignments(t *testing.T) {
	r := rand.New(rand.NewSource(9))
	buf := make([]byte, 4096+8)
	r.Read(buf)
	for _, n := range []int{0, 1, 7, 31, 32, 33, 63, 64, 65, 1499, 1500, 1501, 4096} {
		for off := 0; off < 8; off++ {
			b := buf[off : off+n]
			if got, want := Checksum(b), checksumRef(b); got != want {
				t.Fatalf("len %d offset %d: %#x want %#x", n, off, got, want)
			}
		}
	}
}

// FuzzUpdate16 checks the incremental update against a full recompute.
func FuzzUpdate16(f *testing.F) {
	f.Add([]byte{0x45, 0, 0, 20, 0, 0, 0, 0, 64, 6, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8}, uint16(63), 4)
	f.Fuzz(func(t *testing.T, h []byte, nv uint16, field int) {
		if len(h) < 20 || len(h)%2 != 0 || field < 0 || 2*field+2 > len(h) || field == 5 {
			return
		}
		binary.BigEndian.PutUint16(h[10:], 0)
		binary.BigEndian.PutUint16(h[10:], Checksum(h))
		old := binary.BigEndian.Uint16(h[2*field:])
		binary.BigEndian.PutUint16(h[2*field:], nv)
		got := Update16(binary.BigEndian.Uint16(h[10:]), old, nv)
		binary.BigEndian.PutUint16(h[10:], got)
		if Checksum(h) != 0 && Checksum(h) != 0xffff {
			t.Fatalf("incremental update does not verify: %#x", Checksum(h))
		}
	})
}

func TestIPv4AddrWords(t *testing.T) {
	for _, c := range []struct {
		a    [4]byte
		l    int
		v, m uint32
	}{
		{[4]byte{198, 18, 0, 1}, 15, 0xc6120001, 0xfffe0000},
		{[4]byte{0, 0, 0, 0}, 0, 0, 0},
		{[4]byte{255, 255, 255, 255}, 32, 0xffffffff, 0xffffffff},
	} {
		if got := IPv4Uint32(c.a); got != c.v {
			t.Errorf("IPv4Uint32(%v) = %#x, want %#x", c.a, got, c.v)
		}
		if got := IPv4FromUint32(c.v); got != c.a {
			t.Errorf("IPv4FromUint32(%#x) = %v", c.v, got)
		}
		if got := IPv4Mask(c.l); got != c.m {
			t.Errorf("IPv4Mask(%d) = %#x, want %#x", c.l, got, c.m)
		}
	}
}

// l4ChecksumRef is the TCP/UDP checksum over the pseudo-header laid out in
// bytes, as RFC 793 draws it, then the segment.
func l4ChecksumRef(ip IPv4, l4 []byte) uint16 {
	src, dst := ip.Src(), ip.Dst()
	ph := append(append(append([]byte(nil), src[:]...), dst[:]...), 0, ip.Protocol(), byte(len(l4)>>8), byte(len(l4)))
	return checksumRef(append(ph, l4...))
}

func TestL4Checksum(t *testing.T) {
	r := rand.New(rand.NewSource(4))
	for _, proto := range []uint8{ProtoTCP, ProtoUDP} {
		for n := 8; n < 200; n += 7 {
			ip := ipv4Sample()
			ip.SetProtocol(proto)
			r.Read(ip[12:20])
			l4 := make([]byte, n)
			r.Read(l4)
			off := TCPChecksumOffset
			if proto == ProtoUDP {
				off = UDPChecksumOffset
			}
			if n < off+2 {
				continue
			}
			l4[off], l4[off+1] = 0, 0
			want := l4ChecksumRef(ip, l4)
			got := L4Checksum(ip, l4)
			if proto == ProtoUDP && want == 0 {
				want = 0xffff
			}
			if got != want {
				t.Fatalf("proto %d len %d: %#04x, want %#04x", proto, n, got, want)
			}
			binary.BigEndian.PutUint16(l4[off:], got)
			if !L4ChecksumValid(ip, l4) {
				t.Fatalf("proto %d len %d: does not verify", proto, n)
			}
			l4[n-1]++
			if L4ChecksumValid(ip, l4) {
				t.Fatalf("proto %d len %d: a changed byte still verifies", proto, n)
			}
		}
	}
	// UDP without a checksum is valid whatever it carries.
	ip := ipv4Sample()
	if !L4ChecksumValid(ip, []byte{0, 1, 0, 2, 0, 9, 0, 0, 0x55}) {
		t.Fatal("UDP checksum 0 refused")
	}
}

func BenchmarkL4ChecksumValid1480(b *testing.B) {
	ip := ipv4Sample()
	ip.SetProtocol(ProtoTCP)
	l4 := make([]byte, 1480)
	TCP(l4).SetChecksum(L4Checksum(ip, l4))
	b.SetBytes(int64(len(l4)))
	b.ReportAllocs()
	n := 0
	for i := 0; i < b.N; i++ {
		if L4ChecksumValid(ip, l4) {
			n++
		}
	}
	sinkInt = n
}
