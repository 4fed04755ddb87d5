package driver

import (
	"sync/atomic"

	"vnic/hw"
	"vnic/stack"
)

// rxHeadroom is where the device writes a packet in a receive page: the
// skb's headroom (IGB_SKB_PAD, NET_SKB_PAD + NET_IP_ALIGN), so that an
// skb built over the page has what one allocated for a copy has.
const rxHeadroom = stack.NetSKBPad + stack.NetIPAlign

// rxPage is one receive buffer of a ring: DMA memory the device writes a
// packet into, which the stack then takes as the skb's data (build_skb)
// and gives back when the skb is freed.
type rxPage struct {
	reg  hw.Region
	pool *pagePool
	next *rxPage // the pool's return list
}

// Release is stack.Page's: the skb built over the page was freed.
func (p *rxPage) Release() { p.pool.put(p) }

// data is the region of the page the device writes (after the headroom).
func (p *rxPage) data() hw.Region {
	return hw.Region{Addr: p.reg.Addr + rxHeadroom, Buf: p.reg.Buf[rxHeadroom:]}
}

// pagePool is a receive ring's page_pool: the pages on the ring, a stock
// of spares, and the pages out in skbs. A page freed by the stack comes
// back lock-free (one compare-and-swap, from any goroutine); the ring's
// poll, its only taker, takes the returns whole when its stock is empty
// (no ABA: nothing pops one at a time). It makes a new page, up to max
// beyond the ring, only when none has come back, and when it cannot the
// poll copies the packet instead (igb's reuse-or-copy), so a stack that
// holds many packets never starves the ring.
//
// Pages out in skbs outlive the ring: after close, each is freed to the
// DMA arena as it comes back (page_pool's inflight release).
type pagePool struct {
	dma    *hw.DMA
	size   int // bytes per page: headroom and the device's buffer
	back   atomic.Pointer[rxPage]
	stock  []*rxPage // the poll's only
	spares int       // pages made beyond the ring's, at most max
	max    int
	closed atomic.Bool
}

func newPagePool(dma *hw.DMA, bufSize, max int) *pagePool {
	return &pagePool{dma: dma, size: rxHeadroom + bufSize, max: max}
}

// alloc makes a page in DMA memory.
func (pp *pagePool) alloc() (*rxPage, error) {
	reg, err := pp.dma.Alloc(pp.size, 0)
	if err != nil {
		return nil, err
	}
	return &rxPage{reg: reg, pool: pp}, nil
}

// get returns a page for the ring to swap in, nil if none can be had
// (the caller copies instead).
func (pp *pagePool) get() *rxPage {
	if len(pp.stock) == 0 {
		for p := pp.back.Swap(nil); p != nil; {
			next := p.next
			p.next = nil
			pp.stock = append(pp.stock, p)
			p = next
		}
	}
	if n := len(pp.stock); n > 0 {
		p := pp.stock[n-1]
		pp.stock[n-1] = nil
		pp.stock = pp.stock[:n-1]
		return p
	}
	if pp.spares >= pp.max {
		return nil
	}
	p, err := pp.alloc()
	if err != nil {
		return nil // the arena is full: copy, as before any spare
	}
	pp.spares++
	return p
}

// put takes a page back from the stack.
func (pp *pagePool) put(p *rxPage) {
	if pp.closed.Load() {
		pp.dma.Free(p.reg)
		return
	}
	for {
		old := pp.back.Load()
		p.next = old
		if pp.back.CompareAndSwap(old, p) {
			break
		}
	}
	// Closed meanwhile: the close may have drained the list before this
	// page joined it, so drain again (the swap makes each page one
	// drainer's).
	if pp.closed.Load() {
		pp.drain()
	}
}

// drain frees every returned page to the arena.
func (pp *pagePool) drain() {
	for p := pp.back.Swap(nil); p != nil; {
		next := p.next
		pp.dma.Free(p.reg)
		p = next
	}
}

// close frees the stock and the returns, and every page the ring gives
// it (free, the ring's own pages); pages still out in skbs are freed as
// they come back.
func (pp *pagePool) close(ring []*rxPage) {
	pp.closed.Store(true)
	for _, p := range ring {
		if p != nil {
			pp.dma.Free(p.reg)
		}
	}
	for _, p := range pp.stock {
		pp.dma.Free(p.reg)
	}
	pp.stock = nil
	pp.drain()
}
