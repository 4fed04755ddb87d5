package stack

import (
	"reflect"
	"sync"
	"testing"
	"unsafe"
)

// hasPointers reports whether values of t hold pointers the collector
// scans.
func hasPointers(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Pointer, reflect.UnsafePointer, reflect.Slice, reflect.Map, reflect.Chan,
		reflect.Func, reflect.Interface, reflect.String:
		return true
	case reflect.Array:
		return t.Len() > 0 && hasPointers(t.Elem())
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			if hasPointers(t.Field(i).Type) {
				return true
			}
		}
	}
	return false
}

// The fields init clears in one go hold no pointers, and every pointer
// field lies outside them (put clears those).
func TestSKBMetaRangePointerFree(t *testing.T) {
	st := reflect.TypeFor[SKB]()
	for i := 0; i < st.NumField(); i++ {
		f := st.Field(i)
		in := f.Offset >= metaStart && f.Offset < metaEnd
		if in && hasPointers(f.Type) {
			t.Errorf("field %s holds pointers inside the cleared range", f.Name)
		}
		if !in && !hasPointers(f.Type) {
			t.Errorf("field %s holds no pointers but lies outside the cleared range: a new skb would keep its value", f.Name)
		}
	}
	if metaEnd != unsafe.Sizeof(SKB{}) {
		t.Errorf("the cleared range ends at %d, the struct at %d", metaEnd, unsafe.Sizeof(SKB{}))
	}
}

// dirty sets every field of s a layer could set to something non-zero.
func dirty(s *SKB, dev *NetDevice, other *SKB) {
	meta := (*[metaEnd - metaStart]byte)(unsafe.Add(unsafe.Pointer(s), metaStart))
	for i := range meta {
		meta[i] = 1 // true for a bool, non-zero for a number
	}
	s.live = true // the free below must see a live skb
	s.data, s.tail = NetSKBPad, NetSKBPad+10
	s.Dev, s.Owner, s.dst, s.fragList, s.nfct = dev, &SockOwner{UID: 1}, &Dst{}, other, dev
	s.nf = NFState{Hook: NFForward, In: dev, Out: dev, okfn: func(*SKB) {}, QueueNum: 3, index: 2}
}

// A freed skb keeps no references, and one handed out again is exactly a
// new skb, whichever path it went through.
func TestSKBReuseIsFresh(t *testing.T) {
	p := NewSKBPool()
	want := *p.newSKB(&p.classes[0])
	want.init()
	for _, tc := range []struct {
		name  string
		alloc func(p *SKBPool, k *SKBCache) *SKB
	}{
		{"pool", func(p *SKBPool, _ *SKBCache) *SKB { return p.Alloc(100) }},
		{"cache", func(_ *SKBPool, k *SKBCache) *SKB { return k.Alloc(100) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := p.NewCache()
			defer k.Release()
			s := tc.alloc(p, k)
			s.Free()
			var others []*SKB // the cache's stock, handed out before s comes back
			for {
				again := tc.alloc(p, k)
				if again == s {
					break
				}
				others = append(others, again)
			}
			dev := &NetDevice{}
			other := p.Alloc(5000) // of another class: s stays at the head of its list
			dirty(s, dev, other)
			s.Consume() // frees other too, through the chain
			if s.home.back.Load() != s {
				t.Fatal("a freed skb is not at the head of its home's free list")
			}
			v := reflect.ValueOf(s).Elem()
			for i := 0; i < v.NumField(); i++ {
				switch f := v.Type().Field(i); f.Name {
				case "buf", "class", "pool", "home", "next":
				default:
					if hasPointers(f.Type) && !v.Field(i).IsZero() {
						t.Errorf("freed skb keeps %s", f.Name)
					}
				}
			}
			if again := tc.alloc(p, k); again != s {
				t.Fatal("the freed skb did not come back")
			}
			got := *s
			got.buf, got.class, got.pool, got.home = want.buf, want.class, want.pool, want.home
			if !reflect.DeepEqual(got, want) {
				t.Errorf("reused skb %+v, want %+v", got, want)
			}
			s.Consume()
			for _, o := range others {
				o.Consume()
			}
			k.Flush()
			if n := p.Live(); n != 0 {
				t.Errorf("%d live", n)
			}
		})
	}
}

func TestSKBCacheAccounting(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, p *SKBPool, k *SKBCache)
	}{
		{"live counts cache skbs", func(t *testing.T, p *SKBPool, k *SKBCache) {
			var out []*SKB
			for i := 0; i < 3*skbCacheBatch+5; i++ {
				out = append(out, k.Alloc(1514))
			}
			k.Flush()
			if n := p.Live(); n != len(out) {
				t.Errorf("live %d, want %d", n, len(out))
			}
			out[0].Free()
			for _, s := range out[1:] {
				s.Consume()
			}
			if n, d := p.Live(), p.Dropped(); n != 0 || d != 1 { // the stock as flushed: a free adds none
				t.Errorf("live %d dropped %d, want 0 and 1", n, d)
			}
		}},
		{"large sizes from the pool", func(t *testing.T, p *SKBPool, k *SKBCache) {
			s := k.Alloc(9000)
			if s == nil || s.Tailroom() < 9000 || s.home != &p.classes[1].home || k.Alloc(70000) != nil {
				t.Fatal("a jumbo skb must come from its class, an oversized one not at all")
			}
			s.Consume()
		}},
		{"no hoarding", func(t *testing.T, p *SKBPool, k *SKBCache) {
			var out []*SKB
			for i := 0; i < 2*skbCacheMax; i++ {
				out = append(out, k.Alloc(60))
			}
			for _, s := range out {
				s.Consume()
			}
			k.Alloc(60).Consume()
			if len(k.stock) > skbCacheMax {
				t.Errorf("cache keeps %d skbs, at most %d", len(k.stock), skbCacheMax)
			}
			// What the cache gave back serves the pool without new skbs.
			c := &p.classes[0]
			before := len(c.free)
			if before < skbCacheMax-1 {
				t.Errorf("class holds %d free skbs, want at least %d", before, skbCacheMax-1)
			}
		}},
		{"released cache reused", func(t *testing.T, p *SKBPool, k *SKBCache) {
			out := k.Alloc(60)
			k.Release()
			if k2 := p.NewCache(); k2 != k {
				t.Fatal("NewCache made a new cache with a released one idle")
			}
			out.Consume() // freed after the release: back to its cache
			if again := k.Alloc(60); again != out {
				t.Error("an skb freed to a reused cache was not handed out first")
			} else {
				again.Consume()
			}
			k.Flush()
			if n := p.Live(); n != 0 {
				t.Errorf("live %d", n)
			}
		}},
		{"idle cache reclaimed", func(t *testing.T, p *SKBPool, k *SKBCache) {
			out := k.Alloc(60)
			k.Release()
			out.Consume()
			// The pool drains the idle cache's list before making skbs.
			got := p.Alloc(60)
			for i := 0; got != out && i < skbCacheBatch; i++ {
				got = p.Alloc(60) // the cache's stock, given back to the class, first
			}
			if got != out {
				t.Error("the skb freed to an idle cache was not reclaimed")
			}
			if p.NewCache() != k {
				t.Fatal("the idle cache was lost")
			}
		}},
		{"frees on other goroutines", func(t *testing.T, p *SKBPool, k *SKBCache) {
			const n, workers = 20000, 4
			ch := make(chan *SKB, 256)
			var wg sync.WaitGroup
			for w := 0; w < workers; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for s := range ch {
						s.Consume()
					}
				}()
			}
			seen := map[*SKB]bool{}
			for i := 0; i < n; i++ {
				s := k.Alloc(60)
				seen[s] = true
				copy(s.Put(4), "abcd")
				ch <- s
			}
			close(ch)
			wg.Wait()
			k.Flush()
			if live := p.Live(); live != 0 {
				t.Errorf("live %d after every skb came back", live)
			}
			// The skbs in circulation are bounded by what was in flight.
			if len(seen) > 256+workers+2*skbCacheBatch+skbCacheMax {
				t.Errorf("%d distinct skbs for at most %d in flight", len(seen), 256+workers)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := NewSKBPool()
			k := p.NewCache()
			tc.run(t, p, k)
		})
	}
}

func TestSKBCacheNoAllocs(t *testing.T) {
	p := NewSKBPool()
	k := p.NewCache()
	k.Alloc(100).Consume()
	if n := testing.AllocsPerRun(1000, func() {
		s := k.Alloc(1514)
		s.Reserve(NetIPAlign)
		s.Put(1514)
		s.Consume()
	}); n != 0 {
		t.Fatalf("%v allocations per skb", n)
	}
}

func BenchmarkSKBCacheAllocFree(b *testing.B) {
	p := NewSKBPool()
	k := p.NewCache()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		s := k.Alloc(1514)
		s.Put(60)
		s.Consume()
	}
}
