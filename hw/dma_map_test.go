package hw

import (
	"errors"
	"testing"
)

func TestWindowsMapSlice(t *testing.T) {
	d := NewDMA(4096)
	ws, err := d.ReserveWindows(300) // more than one table chunk
	if err != nil {
		t.Fatal(err)
	}
	buf := []byte("0123456789abcdef")
	addr := ws.Map(299, buf)
	if want := MapBase + uint64(299)<<WindowShift; addr != want {
		t.Fatalf("window 299 at %#x, want %#x", addr, want)
	}
	for _, tc := range []struct {
		name string
		addr uint64
		n    int
		want string // "" for a refused access
	}{
		{"whole", addr, 16, "0123456789abcdef"},
		{"inside", addr + 4, 3, "456"},
		{"the last byte", addr + 15, 1, "f"},
		{"past the end", addr + 15, 2, ""},
		{"offset past the buffer", addr + 16, 1, ""},
		{"an unmapped window", addr - WindowSize, 1, ""},
		{"a window never reserved", MapBase + uint64(maxWindows-1)<<WindowShift, 1, ""},
		{"beyond every window", MapBase + uint64(maxWindows)<<WindowShift, 1, ""},
		{"zero bytes", addr, 0, ""},
	} {
		b, ok := d.Slice(tc.addr, tc.n)
		if ok != (tc.want != "") || string(b) != tc.want {
			t.Errorf("%s: Slice = %q, %v; want %q", tc.name, b, ok, tc.want)
		}
	}
	// The device writes through the mapping into the driver's buffer.
	b, _ := d.Slice(addr, 2)
	copy(b, "XY")
	if string(buf[:2]) != "XY" {
		t.Errorf("a write through the window left %q", buf[:2])
	}
	if len(b) != cap(b) {
		t.Errorf("Slice's capacity %d reaches past its length %d", cap(b), len(b))
	}
	ws.Unmap(299)
	if _, ok := d.Slice(addr, 1); ok {
		t.Error("an unmapped window is still reachable")
	}
	ws.Unmap(299) // again: nothing
}

func TestWindowsReserveRelease(t *testing.T) {
	d := NewDMA(4096)
	var freed []uint64
	d.OnFree = func(addr uint64, size int) { freed = append(freed, addr) }
	a, err := d.ReserveWindows(maxWindows - 10)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.ReserveWindows(11); !errors.Is(err, ErrDMANoMemory) {
		t.Fatalf("11 windows of 10 left: %v, want ErrDMANoMemory", err)
	}
	b, err := d.ReserveWindows(10)
	if err != nil {
		t.Fatal(err)
	}
	if b.first != maxWindows-10 {
		t.Errorf("the second run starts at %d, want %d", b.first, maxWindows-10)
	}
	a.Map(0, make([]byte, 1))
	a.Map(7, make([]byte, WindowSize))
	a.Release()
	if len(freed) != 2 || freed[0] != MapBase || freed[1] != MapBase+7<<WindowShift {
		t.Errorf("OnFree heard %#x, want the two mapped windows", freed)
	}
	if a.Len() != 0 {
		t.Errorf("a released run still has %d windows", a.Len())
	}
	a.Release() // again: nothing
	c, err := d.ReserveWindows(maxWindows - 10)
	if err != nil || c.first != 0 {
		t.Fatalf("after the release: %v at %d", err, c.first)
	}
	for _, n := range []int{0, -1, maxWindows + 1} {
		if _, err := d.ReserveWindows(n); err == nil {
			t.Errorf("ReserveWindows(%d) succeeded", n)
		}
	}
}

func TestWindowsMapMisuse(t *testing.T) {
	d := NewDMA(4096)
	ws, err := d.ReserveWindows(2)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		i    int
		n    int
	}{{"a window out of range", 2, 1}, {"a negative window", -1, 1}, {"a buffer larger than a window", 0, WindowSize + 1}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", tc.name)
				}
			}()
			ws.Map(tc.i, make([]byte, tc.n))
		}()
	}
}

// Mapping and unmapping per packet allocate nothing.
func TestWindowsZeroAllocs(t *testing.T) {
	d := NewDMA(4096)
	ws, err := d.ReserveWindows(64)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1514)
	if n := testing.AllocsPerRun(1000, func() {
		addr := ws.Map(5, buf)
		if _, ok := d.Slice(addr, len(buf)); !ok {
			t.Fatal("not mapped")
		}
		ws.Unmap(5)
	}); n != 0 {
		t.Errorf("%v allocations per map, slice and unmap", n)
	}
}

func BenchmarkWindowsMapSliceUnmap(b *testing.B) {
	d := NewDMA(4096)
	ws, err := d.ReserveWindows(1024)
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 1514)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		w := i & 1023
		addr := ws.Map(w, buf)
		if _, ok := d.Slice(addr, len(buf)); !ok {
			b.Fatal("not mapped")
		}
		ws.Unmap(w)
	}
}
