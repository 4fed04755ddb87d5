package hw

import (
	"errors"
	"testing"
)

func TestDMAAllocFreeCoalesce(t *testing.T) {
	d := NewDMA(1 << 16)
	var regs []Region
	for i := 0; i < 16; i++ {
		r, err := d.Alloc(4096, 4096)
		if err != nil {
			t.Fatalf("alloc %d: %v", i, err)
		}
		if (r.Addr-DMABase)%4096 != 0 || len(r.Buf) != 4096 {
			t.Fatalf("bad region %#x len %d", r.Addr, len(r.Buf))
		}
		regs = append(regs, r)
	}
	if _, err := d.Alloc(64, 0); !errors.Is(err, ErrDMANoMemory) {
		t.Fatalf("full arena: err %v", err)
	}
	for i := 0; i < 16; i += 2 {
		d.Free(regs[i])
	}
	if _, err := d.Alloc(8192, 0); !errors.Is(err, ErrDMANoMemory) {
		t.Fatal("fragmented arena gave an 8 KiB region")
	}
	for i := 1; i < 16; i += 2 {
		d.Free(regs[i])
	}
	if b, n := d.InUse(); b != 0 || n != 0 || d.mappedGranules() != 0 {
		t.Fatalf("leak: %d bytes %d regions", b, n)
	}
	if r, err := d.Alloc(1<<16, 0); err != nil || r.Addr != DMABase {
		t.Fatalf("coalesced arena: %v %#x", err, r.Addr)
	}
}

func TestDMASliceBounds(t *testing.T) {
	d := NewDMA(1 << 14)
	r, _ := d.Alloc(1000, 0) // 16 granules: [DMABase, DMABase+1024)
	tests := []struct {
		addr uint64
		n    int
		ok   bool
	}{
		{r.Addr, 1000, true},
		{r.Addr, 1024, true}, // the rest of the last granule is mapped
		{r.Addr, 1025, false},
		{r.Addr + 1023, 1, true},
		{r.Addr + 1024, 1, false},
		{0, 16, false},
		{DMABase - 1, 2, false},
		{r.Addr, 0, false},
		{r.Addr, -1, false},
		{DMABase + 1<<14, 1, false},
		{^uint64(0) - 3, 8, false},
		{DMABase + 1<<14 - 1, 1 << 62, false},
	}
	for _, tc := range tests {
		b, ok := d.Slice(tc.addr, tc.n)
		if ok != tc.ok || (ok && len(b) != tc.n) {
			t.Errorf("Slice(%#x, %d) = len %d ok %v, want ok %v", tc.addr, tc.n, len(b), ok, tc.ok)
		}
	}
	d.Free(r)
	if _, ok := d.Slice(r.Addr, 1); ok {
		t.Fatal("freed memory still reachable by the device")
	}
}

func TestDMAZeroed(t *testing.T) {
	d := NewDMA(4096)
	r, _ := d.Alloc(4096, 0)
	for i := range r.Buf {
		r.Buf[i] = 0xAA
	}
	d.Free(r)
	r, _ = d.Alloc(4096, 0)
	for _, b := range r.Buf {
		if b != 0 {
			t.Fatal("Alloc returned dirty memory")
		}
	}
}

// Slice agrees with a granule-by-granule reference for accesses within
// one bitmap word and across words, around mapped regions with holes.
func FuzzDMASliceMapped(f *testing.F) {
	f.Add(uint16(0), uint16(64), uint16(100), uint16(5000))
	f.Add(uint16(4000), uint16(4100), uint16(4090), uint16(20))
	f.Fuzz(func(t *testing.T, hole, holeEnd, at, n uint16) {
		const size = 1 << 16
		d := NewDMA(size)
		r, err := d.Alloc(size, 0)
		if err != nil {
			t.Fatal(err)
		}
		// Unmap the granules of [hole, holeEnd).
		for g := int(hole) / granule; g*granule < int(holeEnd); g++ {
			d.mapped[g/64].And(^(uint64(1) << (g % 64)))
		}
		want := n > 0
		for b := int(at); b < int(at)+int(n); b++ {
			if b >= size || d.mapped[b/granule/64].Load()&(1<<(b/granule%64)) == 0 {
				want = false
			}
		}
		if _, ok := d.Slice(r.Addr+uint64(at), int(n)); ok != want {
			t.Errorf("hole [%d,%d): Slice(%d, %d) ok %v, want %v", hole, holeEnd, at, n, ok, want)
		}
	})
}
