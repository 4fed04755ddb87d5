package hw

import (
	"fmt"
	"sync/atomic"
)

// Streaming mappings (dma_map_single through an IOMMU): a driver maps a
// buffer of the host's own memory, an skb's data, for the device to read
// or write, instead of copying it into the coherent arena; the device
// reaches it through Slice like any DMA memory, and unmapping ends that.
//
// The bus addresses of mappings are windows above the arena: window w
// is MapBase + w<<WindowShift, and one buffer of at most WindowSize
// bytes is mapped in it at a time. A driver reserves its windows with
// its ring (one per descriptor: the mapping lives with the descriptor,
// as igb's tx_buffer_info keeps its dma address) and maps and unmaps per
// packet, which costs a store: no lock, no allocation. The mapping and
// the device's access are ordered as the descriptor is: written before
// the tail doorbell, unmapped after the write-back is seen.
const (
	// MapBase is the bus address of window 0 (above any arena).
	MapBase = 0x1_0000_0000_0000
	// WindowShift: windows are 64 KiB apart, the largest buffer one
	// descriptor can address.
	WindowShift = 16
	// WindowSize is the most one window maps.
	WindowSize = 1 << WindowShift

	winChunkShift = 8 // windows per table chunk: 256
	maxWindows    = 1 << 16
)

type winChunk [1 << winChunkShift][]byte

// windows is a DMA's mapping table: chunks made as reservations need
// them and never freed, so a reader needs no lock.
type windows struct {
	chunks [maxWindows >> winChunkShift]atomic.Pointer[winChunk]
	free   []span // reservable windows, guarded by DMA.mu
	init   bool
}

// Windows is a reserved run of mapping windows.
type Windows struct {
	d     *DMA
	first int
	n     int
}

// ReserveWindows reserves n consecutive windows (at ring setup).
func (d *DMA) ReserveWindows(n int) (Windows, error) {
	if n <= 0 || n > maxWindows {
		return Windows{}, fmt.Errorf("hw: dma: bad window count %d", n)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	w := &d.win
	if !w.init {
		w.free, w.init = []span{{0, maxWindows}}, true
	}
	first, ok := takeSpan(&w.free, n, 1)
	if !ok {
		return Windows{}, fmt.Errorf("%w: %d mapping windows", ErrDMANoMemory, n)
	}
	for c := first >> winChunkShift; c <= (first+n-1)>>winChunkShift; c++ {
		if w.chunks[c].Load() == nil {
			w.chunks[c].Store(new(winChunk))
		}
	}
	return Windows{d: d, first: first, n: n}, nil
}

// Release unmaps every window of ws and gives them back (at ring
// teardown, the device's queue disabled).
func (ws *Windows) Release() {
	if ws.d == nil {
		return
	}
	for i := 0; i < ws.n; i++ {
		ws.Unmap(i)
	}
	d := ws.d
	d.mu.Lock()
	putSpan(&d.win.free, ws.first, ws.n)
	d.mu.Unlock()
	*ws = Windows{}
}

// Len is the number of windows reserved.
func (ws *Windows) Len() int { return ws.n }

func (ws *Windows) slot(i int) *[]byte {
	w := ws.first + i
	return &ws.d.win.chunks[w>>winChunkShift].Load()[w&(1<<winChunkShift-1)]
}

// Map maps buf in window i and returns its bus address. A buffer larger
// than WindowSize, or a window out of range, is a driver bug: it panics.
func (ws *Windows) Map(i int, buf []byte) uint64 {
	if uint(i) >= uint(ws.n) || len(buf) > WindowSize {
		panic(fmt.Sprintf("hw: dma: map of %d bytes in window %d of %d", len(buf), i, ws.n))
	}
	*ws.slot(i) = buf
	return MapBase + uint64(ws.first+i)<<WindowShift
}

// Unmap ends window i's mapping (dma_unmap_single); an unmapped window
// is left alone. The contract checker hears of it as of a freed region.
func (ws *Windows) Unmap(i int) {
	p := ws.slot(i)
	if *p == nil {
		return
	}
	if f := ws.d.OnFree; f != nil {
		f(MapBase+uint64(ws.first+i)<<WindowShift, len(*p))
	}
	*p = nil
}

// sliceMapped is Slice for a window's bus address.
func (d *DMA) sliceMapped(addr uint64, n int) ([]byte, bool) {
	off := addr - MapBase
	w, o := off>>WindowShift, off&(WindowSize-1)
	if w >= maxWindows {
		return nil, false
	}
	c := d.win.chunks[w>>winChunkShift].Load()
	if c == nil {
		return nil, false
	}
	b := c[w&(1<<winChunkShift-1)]
	if o+uint64(n) > uint64(len(b)) {
		return nil, false
	}
	return b[o : o+uint64(n) : o+uint64(n)], true
}
