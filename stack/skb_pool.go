package stack

import (
	"sync/atomic"
	"unsafe"
)

// SKBPool hands out skbs of a few buffer sizes and takes them back; after
// warm-up it does not allocate.
//
// Alloc takes its size class's lock. A consumer that allocates a packet at
// a time on one goroutine (a driver's RX ring, a pktgen) has an SKBCache
// instead, which allocates without a lock. Freeing never locks: an skb
// goes back to the free list of the home it came from (its class, or its
// cache) with one compare-and-swap, and the home takes its whole list when
// it runs dry.
type SKBPool struct {
	classes [len(skbClassSizes)]skbClass
	dropped Counter

	mu     mutex       // guards caches and idle
	caches []*SKBCache // every cache made: Live counts their skbs
	idle   []*SKBCache // released, for NewCache to hand out again
}

// skbClassSizes are the buffer sizes: a standard frame, a jumbo frame, and a
// 64 KiB GSO/GRO super-packet with headers.
var skbClassSizes = [...]int{2048 + NetSKBPad + NetIPAlign, 9216 + 64 + NetSKBPad + NetIPAlign, 65536 + 512}

// skbHome is where freed skbs go back: a free list that any goroutine
// pushes onto lock-free (one compare-and-swap) and that its owner takes
// whole (nothing pops one entry at a time, so a compare-and-swap cannot be
// fooled by an skb that left and came back: no ABA); and how many skbs
// call it home, free or not.
type skbHome struct {
	back  atomic.Pointer[SKB] // linked through SKB.next
	owned atomic.Int64
}

func (h *skbHome) push(s *SKB) { h.pushChain(s, s) }

// pushChain pushes the list from first to last (linked through next).
func (h *skbHome) pushChain(first, last *SKB) {
	for {
		old := h.back.Load()
		last.next = old
		if h.back.CompareAndSwap(old, first) {
			return
		}
	}
}

// takeAll empties the free list and returns its skbs appended to to, the
// latest freed last (the next to be handed out: still in the CPU's cache).
func (h *skbHome) takeAll(to []*SKB) []*SKB {
	if h.back.Load() == nil {
		return to
	}
	first := h.back.Swap(nil)
	if first != nil && first.next == nil {
		return append(to, first) // one skb (a packet at a time): nothing to reverse
	}
	n := len(to)
	for s := first; s != nil; {
		next := s.next
		s.next = nil
		to = append(to, s)
		s = next
	}
	for i, j := n, len(to)-1; i < j; i, j = i+1, j-1 {
		to[i], to[j] = to[j], to[i]
	}
	return to
}

// freeCount counts the free list: it takes it for the count and puts it
// back (the owner finds it empty meanwhile, as if nothing had been freed).
func (h *skbHome) freeCount() int64 {
	first := h.back.Swap(nil)
	if first == nil {
		return 0
	}
	n, last := int64(1), first
	for last.next != nil {
		n, last = n+1, last.next
	}
	h.pushChain(first, last)
	return n
}

// move rehomes the skbs of list from one home to another.
func move(list []*SKB, from, to *skbHome) {
	for _, s := range list {
		s.home = to
	}
	from.owned.Add(-int64(len(list)))
	to.owned.Add(int64(len(list)))
}

type skbClass struct {
	home skbHome // the skbs Alloc hands out (a cache's have their own)
	size int
	mu   mutex
	free []*SKB // guarded by mu
}

// NewSKBPool returns an empty pool.
func NewSKBPool() *SKBPool {
	p := &SKBPool{}
	for i, sz := range skbClassSizes {
		p.classes[i].size = sz
	}
	return p
}

// setVirtual switches the pool's locks off on a virtual-time host.
func (p *SKBPool) setVirtual(v bool) {
	p.mu.off = v
	for i := range p.classes {
		p.classes[i].mu.off = v
	}
}

// class returns the smallest class whose buffers hold need bytes, nil if
// none does; the standard class without a search.
func (p *SKBPool) class(need int) *skbClass {
	if need <= skbClassSizes[0] {
		return &p.classes[0]
	}
	for i := 1; i < len(p.classes); i++ {
		if need <= p.classes[i].size {
			return &p.classes[i]
		}
	}
	return nil
}

// Alloc returns an skb with room for size bytes after NetSKBPad of
// headroom (netdev_alloc_skb), or nil if size exceeds the largest class.
func (p *SKBPool) Alloc(size int) *SKB {
	c := p.class(size + NetSKBPad)
	if c == nil {
		return nil
	}
	return p.allocClass(c)
}

func (p *SKBPool) allocClass(c *skbClass) *SKB {
	c.mu.Lock()
	if len(c.free) == 0 {
		p.reclaim(c)
	}
	var s *SKB
	if n := len(c.free); n > 0 {
		s = c.free[n-1]
		c.free[n-1] = nil
		c.free = c.free[:n-1]
	}
	c.mu.Unlock()
	if s == nil {
		s = p.newSKB(c)
		s.home = &c.home
		c.home.owned.Add(1)
	}
	s.init()
	return s
}

// reclaim moves the skbs freed back to c to c.free, and if there are
// none, for the standard class, those freed back to caches nobody owns
// now. Under c.mu.
func (p *SKBPool) reclaim(c *skbClass) {
	c.free = c.home.takeAll(c.free)
	if len(c.free) > 0 || c != &p.classes[0] {
		return
	}
	p.mu.Lock()
	for _, k := range p.idle {
		n := len(c.free)
		c.free = k.home.takeAll(c.free)
		move(c.free[n:], &k.home, &c.home)
	}
	p.mu.Unlock()
}

func (p *SKBPool) newSKB(c *skbClass) *SKB {
	return &SKB{buf: make([]byte, c.size), class: c, pool: p}
}

// metaStart and metaEnd bound the pointer-free fields a new skb has zeroed.
const (
	metaStart = unsafe.Offsetof(SKB{}.data)
	metaEnd   = unsafe.Offsetof(SKB{}.cb) + CBSize
)

// init makes s a fresh skb: the metadata zeroed in one clear (the
// pointers were cleared when it was freed), no headers, NetSKBPad of
// headroom.
func (s *SKB) init() {
	*(*[metaEnd - metaStart]byte)(unsafe.Add(unsafe.Pointer(s), metaStart)) = [metaEnd - metaStart]byte{}
	s.data, s.tail = NetSKBPad, NetSKBPad
	s.macHeader, s.networkHeader, s.transportHeader = -1, -1, -1
	s.live = true
}

// put takes a freed skb back: its pointers cleared (the pool keeps nothing
// alive), onto its home's free list.
func (p *SKBPool) put(s *SKB) {
	s.Dev, s.Owner, s.dst, s.fragList, s.nfct, s.wmem = nil, nil, nil, nil, nil, nil
	s.nf = NFState{}
	s.home.push(s)
}

// Live returns the number of skbs handed out and not yet freed: exact
// whenever no cache's owner is between an Alloc and its Flush.
func (p *SKBPool) Live() int {
	var n int64
	for i := range p.classes {
		c := &p.classes[i]
		c.mu.Lock()
		n += c.home.owned.Load() - int64(len(c.free)) - c.home.freeCount()
		c.mu.Unlock()
	}
	p.mu.Lock()
	for _, k := range p.caches {
		n += k.home.owned.Load() - k.stocked.Load() - k.home.freeCount()
	}
	p.mu.Unlock()
	return int(n)
}

// Dropped returns how many skbs were freed with Free (dropped).
func (p *SKBPool) Dropped() uint64 { return p.dropped.Load() }

// SKBCache is one consumer's stock of standard-size skbs (as Linux's
// per-CPU napi_alloc_cache): Alloc takes one with no lock and no atomic
// operation. Its skbs may be freed on any goroutine; they come back to the
// cache's own free list, which Alloc takes whole when the stock is empty,
// then a batch from the class's list (one lock a batch), and only then
// makes new ones.
//
// Only one goroutine at a time may use the cache (its owner: a NAPI poll,
// a pktgen's thread), and the owner calls Flush when it stops allocating
// for now (the end of a poll) so that SKBPool.Live sees its stock.
// Release it when the owner goes.
type SKBCache struct {
	home    skbHome
	stocked atomic.Int64 // len(stock) at the last Flush
	pool    *SKBPool
	stock   []*SKB
}

// The cache takes skbCacheBatch skbs at a time from its class and gives
// back to it what it holds beyond skbCacheMax.
const (
	skbCacheBatch = 64
	skbCacheMax   = 512
)

// NewCache returns a cache of p, a released one if there is one.
func (p *SKBPool) NewCache() *SKBCache {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.idle); n > 0 {
		k := p.idle[n-1]
		p.idle = p.idle[:n-1]
		return k
	}
	k := &SKBCache{pool: p, stock: make([]*SKB, 0, skbCacheMax+skbCacheBatch)}
	p.caches = append(p.caches, k)
	return k
}

// Alloc is SKBPool.Alloc from the cache; sizes beyond the standard class
// come from the pool.
func (k *SKBCache) Alloc(size int) *SKB {
	if size+NetSKBPad > skbClassSizes[0] {
		return k.pool.Alloc(size)
	}
	n := len(k.stock)
	if n == 0 {
		k.refill()
		n = len(k.stock)
	}
	s := k.stock[n-1]
	k.stock = k.stock[:n-1]
	s.init()
	return s
}

// Flush publishes the stock for SKBPool.Live.
func (k *SKBCache) Flush() {
	if n := int64(len(k.stock)); k.stocked.Load() != n {
		k.stocked.Store(n)
	}
}

// refill fills the empty stock: what was freed back to the cache, else a
// batch from the class, made new where the class has too few.
func (k *SKBCache) refill() {
	k.stock = k.home.takeAll(k.stock)
	c := &k.pool.classes[0]
	if len(k.stock) > skbCacheMax {
		// More came back than the cache keeps: the rest to the class.
		extra := k.stock[skbCacheMax:]
		c.mu.Lock()
		move(extra, &k.home, &c.home)
		c.free = append(c.free, extra...)
		c.mu.Unlock()
		clear(extra)
		k.stock = k.stock[:skbCacheMax]
	}
	if len(k.stock) == 0 {
		c.mu.Lock()
		if len(c.free) < skbCacheBatch {
			k.pool.reclaim(c)
		}
		take := c.free[max(len(c.free)-skbCacheBatch, 0):]
		k.stock = append(k.stock, take...)
		move(take, &c.home, &k.home)
		clear(take)
		c.free = c.free[:len(c.free)-len(take)]
		c.mu.Unlock()
		for len(k.stock) < skbCacheBatch {
			s := k.pool.newSKB(c)
			s.home = &k.home
			k.home.owned.Add(1)
			k.stock = append(k.stock, s)
		}
	}
	k.Flush()
}

// Release gives the cache back to the pool: its stock (and what was
// freed back to it) joins the class's list, and skbs still out come back
// to it when they are freed, for the pool to reclaim or a later NewCache
// to use.
func (k *SKBCache) Release() {
	k.stock = k.home.takeAll(k.stock)
	c := &k.pool.classes[0]
	c.mu.Lock()
	move(k.stock, &k.home, &c.home)
	c.free = append(c.free, k.stock...)
	c.mu.Unlock()
	clear(k.stock)
	k.stock = k.stock[:0]
	k.Flush()
	p := k.pool
	p.mu.Lock()
	p.idle = append(p.idle, k)
	p.mu.Unlock()
}
