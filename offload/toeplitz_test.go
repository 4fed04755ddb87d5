package offload

import (
	"encoding/binary"
	"math/rand"
	"net/netip"
	"testing"
)

// toeplitzRef is the bit-by-bit definition, kept slow on purpose.
func toeplitzRef(key, input []byte) uint32 {
	var result uint32
	// 32-bit sliding window over the key, plus the bit position of its next bit.
	window := binary.BigEndian.Uint32(key[0:4])
	next := 32
	for _, b := range input {
		for bit := 7; bit >= 0; bit-- {
			if b&(1<<bit) != 0 {
				result ^= window
			}
			var nb uint32
			if next/8 < len(key) {
				nb = uint32(key[next/8]>>(7-next%8)) & 1
			}
			window = window<<1 | nb
			next++
		}
	}
	return result
}

type rssVector struct {
	dst, src           string
	dport, sport       uint16
	hashIP, hashIPPort uint32
}

// hw-model.md §4.2, the Microsoft RSS verification suite.
var rssIPv4Vectors = []rssVector{
	{"161.142.100.80", "66.9.149.187", 1766, 2794, 0x323e8fc2, 0x51ccc178},
	{"65.69.140.83", "199.92.111.2", 4739, 14230, 0xd718262a, 0xc626b0ea},
	{"12.22.207.184", "24.19.198.95", 38024, 12898, 0xd2d0a5de, 0x5c2b394a},
	{"209.142.163.6", "38.27.205.30", 2217, 48228, 0x82989176, 0xafc7327f},
	{"202.188.127.2", "153.39.163.191", 1303, 44251, 0x5d1809c5, 0x10e828a2},
}

var rssIPv6Vectors = []rssVector{
	{"3ffe:2501:200:3::1", "3ffe:2501:200:1fff::7", 1766, 2794, 0x2cc18cd5, 0x40207d3d},
	{"ff02::1", "3ffe:501:8::260:97ff:fe40:efab", 4739, 14230, 0x0f0c461c, 0xdde51bbf},
	{"fe80::200:f8ff:fe21:67cf", "3ffe:1900:4545:3:200:f8ff:fe21:67cf", 38024, 44251, 0x4b61e985, 0x02d1feef},
}

func vectorInput(v rssVector, ports bool) []byte {
	src := netip.MustParseAddr(v.src).AsSlice()
	dst := netip.MustParseAddr(v.dst).AsSlice()
	in := append(append([]byte{}, src...), dst...)
	if ports {
		in = binary.BigEndian.AppendUint16(in, v.sport)
		in = binary.BigEndian.AppendUint16(in, v.dport)
	}
	return in
}

func TestToeplitzVectors(t *testing.T) {
	tz := NewToeplitz(DefaultRSSKey[:])
	for _, set := range [][]rssVector{rssIPv4Vectors, rssIPv6Vectors} {
		for _, v := range set {
			for _, c := range []struct {
				ports bool
				want  uint32
			}{{false, v.hashIP}, {true, v.hashIPPort}} {
				in := vectorInput(v, c.ports)
				if got := tz.Hash(in); got != c.want {
					t.Errorf("Hash(%s -> %s, ports=%v) = %#08x, want %#08x", v.src, v.dst, c.ports, got, c.want)
				}
				if got := toeplitzRef(DefaultRSSKey[:], in); got != c.want {
					t.Errorf("reference(%s -> %s, ports=%v) = %#08x, want %#08x", v.src, v.dst, c.ports, got, c.want)
				}
			}
		}
	}
	// HashIPv4 must agree with Hash.
	for _, v := range rssIPv4Vectors {
		src := netip.MustParseAddr(v.src).As4()
		dst := netip.MustParseAddr(v.dst).As4()
		if got := tz.HashIPv4(src, dst, v.sport, v.dport, true); got != v.hashIPPort {
			t.Errorf("HashIPv4 ports: %#x want %#x", got, v.hashIPPort)
		}
		if got := tz.HashIPv4(src, dst, 0, 0, false); got != v.hashIP {
			t.Errorf("HashIPv4: %#x want %#x", got, v.hashIP)
		}
	}
	// hw-model.md §4.2 worked example: the first TCP flow uses RETA entry 120.
	if idx := rssIPv4Vectors[0].hashIPPort & 0x7f; idx != 120 {
		t.Fatalf("RETA index %d, want 120", idx)
	}
}

func TestToeplitzRandomAgainstReference(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	key := make([]byte, RSSKeySize)
	for i := 0; i < 50; i++ {
		r.Read(key)
		tz := NewToeplitz(key)
		for j := 0; j < 20; j++ {
			in := make([]byte, r.Intn(MaxToeplitzInput+1))
			r.Read(in)
			if got, want := tz.Hash(in), toeplitzRef(key, in); got != want {
				t.Fatalf("key %x input %x: got %#x want %#x", key, in, got, want)
			}
		}
	}
}

func TestToeplitzNoAllocs(t *testing.T) {
	tz := NewToeplitz(DefaultRSSKey[:])
	in := vectorInput(rssIPv4Vectors[0], true)
	var sink uint32
	if n := testing.AllocsPerRun(100, func() { sink ^= tz.Hash(in) }); n != 0 {
		t.Fatalf("Hash allocates %v times", n)
	}
	_ = sink
}

func FuzzToeplitz(f *testing.F) {
	f.Add(DefaultRSSKey[:], vectorInput(rssIPv4Vectors[0], true))
	f.Fuzz(func(t *testing.T, key, in []byte) {
		if len(key) != RSSKeySize || len(in) > MaxToeplitzInput {
			return
		}
		if got, want := NewToeplitz(key).Hash(in), toeplitzRef(key, in); got != want {
			t.Fatalf("got %#x want %#x", got, want)
		}
	})
}

func BenchmarkToeplitzIPv4Ports(b *testing.B) {
	tz := NewToeplitz(DefaultRSSKey[:])
	src := netip.MustParseAddr("198.18.0.1").As4()
	dst := netip.MustParseAddr("198.18.0.2").As4()
	b.ReportAllocs()
	var sink uint32
	for i := 0; i < b.N; i++ {
		sink ^= tz.HashIPv4(src, dst, uint16(i), 80, true)
	}
	_ = sink
}
