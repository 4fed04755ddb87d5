package driver

import (
	"sync"
	"testing"

	"vnic/hw"
	"vnic/stack"
)

// The page pool: spares made only when nothing came back, at most max of
// them; pages given back on any goroutine reused; after close, the pages
// still out are freed to the arena as they come back, and nothing leaks.
func TestPagePool(t *testing.T) {
	d := hw.NewDMA(1 << 20)
	pp := newPagePool(d, 2048, 2)
	var ring []*rxPage
	for i := 0; i < 4; i++ {
		p, err := pp.alloc()
		if err != nil {
			t.Fatal(err)
		}
		ring = append(ring, p)
	}
	if got := len(ring[0].data().Buf); got != 2048 {
		t.Fatalf("a page's device buffer is %d bytes, want 2048", got)
	}
	if ring[0].data().Addr != ring[0].reg.Addr+rxHeadroom {
		t.Fatalf("the device writes at %#x, want headroom %d after %#x", ring[0].data().Addr, rxHeadroom, ring[0].reg.Addr)
	}
	a, b := pp.get(), pp.get()
	if a == nil || b == nil || pp.spares != 2 {
		t.Fatalf("two spares: %v %v, %d made", a, b, pp.spares)
	}
	if c := pp.get(); c != nil {
		t.Fatal("a third spare beyond max")
	}
	// Freed on other goroutines, then taken again without a new page.
	var wg sync.WaitGroup
	for _, p := range []*rxPage{a, b} {
		wg.Add(1)
		go func() { defer wg.Done(); p.Release() }()
	}
	wg.Wait()
	got := map[*rxPage]bool{pp.get(): true, pp.get(): true}
	if !got[a] || !got[b] || pp.spares != 2 {
		t.Fatalf("the returned pages were not reused (%d spares made)", pp.spares)
	}
	_, regions := d.InUse()
	if regions != 6 {
		t.Fatalf("%d regions in use, want 6 (4 on the ring, 2 spares)", regions)
	}
	// a goes back before the close, b after it.
	a.Release()
	pp.close(ring)
	if _, regions := d.InUse(); regions != 1 {
		t.Fatalf("after close: %d regions in use, want 1 (the page still out)", regions)
	}
	b.Release()
	if bytes, regions := d.InUse(); regions != 0 || bytes != 0 {
		t.Fatalf("after the last page came back: %d regions, %d bytes in use", regions, bytes)
	}
}

// A spare the arena cannot hold: get says none, and the ring copies.
func TestPagePoolArenaFull(t *testing.T) {
	d := hw.NewDMA(4096)
	pp := newPagePool(d, 2048, 8)
	if _, err := pp.alloc(); err != nil {
		t.Fatal(err)
	}
	if p := pp.get(); p != nil {
		t.Fatal("a spare from a full arena")
	}
	if pp.spares != 0 {
		t.Fatalf("%d spares counted", pp.spares)
	}
}

// An skb built over a page gives the page back when freed and has its
// own buffer again; the device's bytes are the packet.
func TestRxPageSKB(t *testing.T) {
	d := hw.NewDMA(1 << 16)
	pp := newPagePool(d, 2048, 4)
	pg, err := pp.alloc()
	if err != nil {
		t.Fatal(err)
	}
	copy(pg.data().Buf, "device bytes")
	pool := stack.NewSKBPool()
	skb := pool.Alloc(2048)
	skb.BuildOver(pg.reg.Buf, rxHeadroom, pg)
	skb.Put(12)
	if string(skb.Data()) != "device bytes" || skb.Headroom() != rxHeadroom {
		t.Fatalf("the skb holds %q with headroom %d", skb.Data(), skb.Headroom())
	}
	skb.Consume()
	if got := pp.get(); got != pg {
		t.Fatal("the page did not come back to its pool")
	}
	again := pool.Alloc(2048)
	if again.Tailroom() < 2048 {
		t.Fatalf("the skb's own buffer did not come back: tailroom %d", again.Tailroom())
	}
	again.Consume()
	if n := pool.Live(); n != 0 {
		t.Fatalf("%d skbs live", n)
	}
}
