package hw

import (
	"errors"
	"fmt"
	"math/bits"
	"sort"
	"sync"
	"sync/atomic"
)

// DMA is a host's bus-addressed memory arena. Drivers allocate coherent
// regions from it (rings, buffers); devices reach it only through Slice,
// which checks that every byte of the access lies in a mapped region: an
// IOMMU. Addresses start at DMABase, so bus address 0 is never valid.
//
// Allocation is first-fit with coalescing at 64-byte granularity; it runs at
// open and stop time, never per packet.
type DMA struct {
	mu  sync.Mutex
	mem []byte
	// mapped has one bit per 64-byte granule; atomic, as the devices read
	// it while a driver maps and unmaps (a page pool's pages, a ring freed
	// while another device of the host runs).
	mapped []atomic.Uint64
	free   []span // sorted, coalesced free granule spans
	inUse  int    // bytes allocated
	allocs int    // live regions

	// OnFree, when set, is told about every region before it is freed; the
	// contract checker uses it to flag buffers freed while a device owns them.
	OnFree func(addr uint64, size int)

	// unmaps counts Free calls: a device that validated a region once
	// (its descriptor ring) trusts it while the count stands still.
	unmaps atomic.Uint64

	win windows // streaming mappings (dma_map.go)
}

type span struct{ start, n int } // in granules

const (
	// DMABase is the bus address of the first byte of every arena.
	DMABase   = 0x1000_0000
	granule   = 64
	granShift = 6
)

// ErrDMANoMemory is returned when an allocation does not fit.
var ErrDMANoMemory = errors.New("hw: dma: out of memory")

// NewDMA returns an arena of size bytes (rounded up to 64).
func NewDMA(size int) *DMA {
	g := (size + granule - 1) / granule
	return &DMA{
		mem:    make([]byte, g*granule),
		mapped: make([]atomic.Uint64, (g+63)/64),
		free:   []span{{0, g}},
	}
}

// Region is an allocated, mapped piece of DMA memory.
type Region struct {
	Addr uint64 // bus address
	Buf  []byte // CPU view of the same bytes
}

// Alloc returns a zeroed region of at least size bytes, 64-byte aligned
// (or align-aligned, a power of two ≥ 64).
func (d *DMA) Alloc(size, align int) (Region, error) {
	if size <= 0 {
		return Region{}, fmt.Errorf("hw: dma: bad size %d", size)
	}
	if align < granule {
		align = granule
	}
	if align&(align-1) != 0 {
		return Region{}, fmt.Errorf("hw: dma: alignment %d not a power of two", align)
	}
	n := (size + granule - 1) / granule
	ag := align / granule
	d.mu.Lock()
	defer d.mu.Unlock()
	start, ok := takeSpan(&d.free, n, ag)
	if ok {
		d.setMapped(start, n, true)
		buf := d.mem[start*granule : (start+n)*granule : (start+n)*granule]
		clear(buf)
		d.inUse += n * granule
		d.allocs++
		return Region{Addr: DMABase + uint64(start)*granule, Buf: buf[:size:size]}, nil
	}
	return Region{}, fmt.Errorf("%w: %d bytes", ErrDMANoMemory, size)
}

// Free unmaps and releases a region returned by Alloc.
func (d *DMA) Free(r Region) {
	if r.Buf == nil {
		return
	}
	if d.OnFree != nil {
		d.OnFree(r.Addr, len(r.Buf))
	}
	start := int((r.Addr - DMABase) >> granShift)
	n := (len(r.Buf) + granule - 1) / granule
	d.mu.Lock()
	defer d.mu.Unlock()
	d.setMapped(start, n, false)
	d.unmaps.Add(1)
	d.inUse -= n * granule
	d.allocs--
	putSpan(&d.free, start, n)
}

// takeSpan takes n units aligned to align from the first free span that
// holds them (first fit), splitting it.
func takeSpan(free *[]span, n, align int) (int, bool) {
	for i, s := range *free {
		start := (s.start + align - 1) / align * align
		if start+n > s.start+s.n {
			continue
		}
		var repl []span
		if start > s.start {
			repl = append(repl, span{s.start, start - s.start})
		}
		if end := s.start + s.n; start+n < end {
			repl = append(repl, span{start + n, end - start - n})
		}
		*free = append((*free)[:i], append(repl, (*free)[i+1:]...)...)
		return start, true
	}
	return 0, false
}

// putSpan gives n units at start back, coalescing with its neighbours.
func putSpan(free *[]span, start, n int) {
	f := *free
	i := sort.Search(len(f), func(i int) bool { return f[i].start > start })
	f = append(f, span{})
	copy(f[i+1:], f[i:])
	f[i] = span{start, n}
	if i+1 < len(f) && f[i].start+f[i].n == f[i+1].start {
		f[i].n += f[i+1].n
		f = append(f[:i+1], f[i+2:]...)
	}
	if i > 0 && f[i-1].start+f[i-1].n == f[i].start {
		f[i-1].n += f[i].n
		f = append(f[:i], f[i+1:]...)
	}
	*free = f
}

func (d *DMA) setMapped(start, n int, on bool) {
	for g := start; g < start+n; g++ {
		if on {
			d.mapped[g/64].Or(1 << (g % 64))
		} else {
			d.mapped[g/64].And(^(uint64(1) << (g % 64)))
		}
	}
}

// InUse returns the bytes and regions currently allocated.
func (d *DMA) InUse() (bytes, regions int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.inUse, d.allocs
}

// Size is the arena size in bytes.
func (d *DMA) Size() int { return len(d.mem) }

// Slice is the device's access path: it returns the n bytes at bus address
// addr, or ok == false when any byte lies outside the arena or in an
// unmapped granule. It never panics and never allocates.
func (d *DMA) Slice(addr uint64, n int) (b []byte, ok bool) {
	if n <= 0 || addr < DMABase {
		return nil, false
	}
	if addr >= MapBase {
		return d.sliceMapped(addr, n)
	}
	off := addr - DMABase
	if off >= uint64(len(d.mem)) || uint64(n) > uint64(len(d.mem))-off {
		return nil, false
	}
	first, last := int(off>>granShift), int((off+uint64(n)-1)>>granShift)
	if first>>6 == last>>6 {
		// Within one bitmap word (a descriptor, a frame's buffer).
		mask := (uint64(2)<<(last-first) - 1) << (first & 63)
		if d.mapped[first>>6].Load()&mask != mask {
			return nil, false
		}
	} else if !d.allMapped(first, last) {
		return nil, false
	}
	return d.mem[off : off+uint64(n) : off+uint64(n)], true
}

// Unmaps returns how many regions have been freed (unmapped) so far: while
// it stands still, an access Slice allowed is still allowed.
func (d *DMA) Unmaps() uint64 { return d.unmaps.Load() }

// allMapped checks granules [first, last] with whole-word tests.
func (d *DMA) allMapped(first, last int) bool {
	for g := first; g <= last; {
		w, b := g/64, g%64
		span := last - g + 1
		if span > 64-b {
			span = 64 - b
		}
		var mask uint64
		if span == 64 {
			mask = ^uint64(0)
		} else {
			mask = (uint64(1)<<span - 1) << b
		}
		if d.mapped[w].Load()&mask != mask {
			return false
		}
		g += span
	}
	return true
}

// mappedGranules counts mapped granules; tests use it.
func (d *DMA) mappedGranules() int {
	c := 0
	for i := range d.mapped {
		w := &d.mapped[i]
		c += bits.OnesCount64(w.Load())
	}
	return c
}
