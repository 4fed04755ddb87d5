package stack

import (
	"math/big"
	"testing"
)

// The kernel's sequences: prandom_seed_state then prandom_u32_state as
// include/linux/prandom.h and lib/random32.c have them, compiled with gcc
// (the vectors are its output).
func TestPrandomKernelVectors(t *testing.T) {
	tests := []struct {
		seed uint64
		want [6]uint32
	}{
		{0, [6]uint32{1574944, 268744, 1109394980, 8552980, 826355289, 2421007874}},
		{1, [6]uint32{276959246, 18909696, 2298495022, 9442690, 3222971081, 2202869889}},
		{42, [6]uint32{3053367555, 794645456, 722109529, 489076602, 564259759, 537591597}},
		{0xdeadbeefcafebabe, [6]uint32{684879509, 3132732351, 2586055741, 2550436196, 2357712626, 3437776391}},
	}
	for _, tc := range tests {
		var p prandom
		p.seedState(tc.seed)
		for i, w := range tc.want {
			if g := p.u32(); g != w {
				t.Errorf("seed %d draw %d: %d, want %d", tc.seed, i, g, w)
			}
		}
	}
}

// crandomRef is get_crandom in exact integers.
func crandomRef(value, last, rho uint32) uint32 {
	r := new(big.Int).SetUint64(uint64(rho) + 1)
	a := new(big.Int).Mul(new(big.Int).SetUint64(uint64(value)), new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 32), r))
	a.Add(a, new(big.Int).Mul(new(big.Int).SetUint64(uint64(last)), r))
	return uint32(a.Rsh(a, 32).Uint64())
}

func TestCrandomAgainstReference(t *testing.T) {
	for _, rho := range []uint32{0, 1, 1 << 31, 0xfffffffe, 0xffffffff} {
		var p, q prandom
		p.seedState(7)
		q.seedState(7)
		c := crandom{rho: rho, last: 12345}
		last := uint32(12345)
		for i := range 1000 {
			g := c.get(&p)
			v := q.u32()
			want := v
			if rho != 0 {
				want = crandomRef(v, last, rho)
				last = want
			}
			if g != want {
				t.Fatalf("rho %#x draw %d: %d, want %d", rho, i, g, want)
			}
		}
		if rho == 0xffffffff && c.last != 12345 {
			t.Errorf("full correlation moved: %d", c.last)
		}
	}
}

func TestPrandomBelow(t *testing.T) {
	var p prandom
	p.seedState(3)
	for range 10000 {
		if v := p.below(13); v >= 13 {
			t.Fatalf("%d", v)
		}
	}
}

func BenchmarkPrandom(b *testing.B) {
	var p prandom
	p.seedState(1)
	var x uint32
	for range b.N {
		x ^= p.u32()
	}
	sinkU32 = x
}

var sinkU32 uint32
