package ring

import "testing"

// slow reference implementations: walk the ring one slot at a time.

func usedRef(head, tail, n uint32) uint32 {
	c := uint32(0)
	for i := head; i != tail; i = (i + 1) % n {
		c++
	}
	return c
}

func ownedRef(i, head, tail, n uint32) bool {
	for j := head; j != tail; j = (j + 1) % n {
		if j == i {
			return true
		}
	}
	return false
}

func TestIndexAgainstReference(t *testing.T) {
	for _, n := range []uint32{8, 16, 24, 64, 128, 136} {
		for head := uint32(0); head < n; head++ {
			if got, want := Next(head, n), (head+1)%n; got != want {
				t.Fatalf("Next(%d,%d) = %d, want %d", head, n, got, want)
			}
			for k := uint32(0); k < 3*n; k += 5 {
				if got, want := Add(head, k, n), (head+k)%n; got != want {
					t.Fatalf("Add(%d,%d,%d) = %d, want %d", head, k, n, got, want)
				}
			}
			for tail := uint32(0); tail < n; tail++ {
				u := usedRef(head, tail, n)
				if got := Used(head, tail, n); got != u {
					t.Fatalf("Used(%d,%d,%d) = %d, want %d", head, tail, n, got, u)
				}
				if got := Unused(head, tail, n); got != n-1-u {
					t.Fatalf("Unused(%d,%d,%d) = %d, want %d", head, tail, n, got, n-1-u)
				}
				for i := uint32(0); i < n; i++ {
					if got, want := Owned(i, head, tail, n), ownedRef(i, head, tail, n); got != want {
						t.Fatalf("Owned(%d,%d,%d,%d) = %v, want %v", i, head, tail, n, got, want)
					}
				}
			}
		}
	}
}

// TestIndexEverySize checks every ring size the device accepts (8 to 4096
// descriptors, multiples of 8) against the reference, at the edges and at
// pseudo-random head/tail pairs.
func TestIndexEverySize(t *testing.T) {
	x := uint32(12345)
	rnd := func(n uint32) uint32 { x = x*1664525 + 1013904223; return (x >> 8) % n }
	for n := uint32(8); n <= 4096; n += 8 {
		pairs := [][2]uint32{{0, 0}, {0, n - 1}, {n - 1, 0}, {n - 1, n - 1}, {1, 0}, {n / 2, n/2 - 1}}
		for k := 0; k < 40; k++ {
			pairs = append(pairs, [2]uint32{rnd(n), rnd(n)})
		}
		for _, p := range pairs {
			head, tail := p[0], p[1]
			u := usedRef(head, tail, n)
			if Used(head, tail, n) != u || Unused(head, tail, n) != n-1-u {
				t.Fatalf("n %d head %d tail %d: used %d unused %d, want %d", n, head, tail, Used(head, tail, n), Unused(head, tail, n), u)
			}
			i := rnd(n)
			if Owned(i, head, tail, n) != ownedRef(i, head, tail, n) {
				t.Fatalf("n %d: Owned(%d, %d, %d)", n, i, head, tail)
			}
			if Next(n-1, n) != 0 || Add(head, n, n) != head {
				t.Fatalf("n %d: wrap", n)
			}
		}
		if c, ok := Count(n * DescSize); !ok || c != n {
			t.Fatalf("Count(%d)", n*DescSize)
		}
	}
}

func TestEmptyAndFull(t *testing.T) {
	const n = 8
	if Used(3, 3, n) != 0 || Unused(3, 3, n) != n-1 {
		t.Fatal("head == tail must be empty")
	}
	// Full: tail one behind head.
	if Used(3, 2, n) != n-1 || Unused(3, 2, n) != 0 {
		t.Fatal("tail+1 == head must be full with n-1 used")
	}
}

func TestCount(t *testing.T) {
	tests := []struct {
		len  uint32
		n    uint32
		good bool
	}{
		{0, 0, false}, {16, 0, false}, {127, 0, false}, {128, 8, true},
		{4096, 256, true}, {4096 + 64, 0, false}, {65536, 4096, true},
	}
	for _, tc := range tests {
		n, ok := Count(tc.len)
		if n != tc.n || ok != tc.good {
			t.Errorf("Count(%d) = %d,%v want %d,%v", tc.len, n, ok, tc.n, tc.good)
		}
	}
}
