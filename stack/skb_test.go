package stack

import (
	"strings"
	"testing"
	"unsafe"
)

func TestSKBPushPullPut(t *testing.T) {
	p := NewSKBPool()
	s := p.Alloc(100)
	if s.Headroom() != NetSKBPad || s.Len() != 0 {
		t.Fatalf("fresh skb: headroom %d len %d", s.Headroom(), s.Len())
	}
	s.Reserve(NetIPAlign)
	copy(s.Put(20), "0123456789abcdefghij")
	if s.Len() != 20 {
		t.Fatal("put")
	}
	h := s.Push(14)
	if len(h) != 14 || s.Len() != 34 || s.Headroom() != NetSKBPad+NetIPAlign-14 {
		t.Fatalf("push: len %d headroom %d", s.Len(), s.Headroom())
	}
	if b := s.Pull(14); b == nil || s.Len() != 20 || string(b[:4]) != "0123" {
		t.Fatal("pull")
	}
	// Pulling more than len fails and leaves the skb alone.
	if b := s.Pull(21); b != nil || s.Len() != 20 {
		t.Fatal("over-pull changed the skb")
	}
	s.Trim(5)
	if string(s.Data()) != "01234" {
		t.Fatal("trim")
	}
	for _, f := range []func(){
		func() { s.Push(s.Headroom() + 1) },
		func() { s.Put(s.Tailroom() + 1) },
		func() { s.Reserve(1) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("no panic on overrun")
				}
			}()
			f()
		}()
	}
	s.Consume()
	if p.Live() != 0 {
		t.Fatal("live skb after consume")
	}
	defer func() {
		if recover() == nil {
			t.Error("double free did not panic")
		}
	}()
	s.Free()
}

func TestSKBPoolClassesAndReuse(t *testing.T) {
	p := NewSKBPool()
	small, jumbo, gso := p.Alloc(1500), p.Alloc(9100), p.Alloc(65000)
	if small == nil || jumbo == nil || gso == nil || p.Alloc(70000) != nil {
		t.Fatal("size classes")
	}
	if small.Tailroom() < 1500 || jumbo.Tailroom() < 9100 || gso.Tailroom() < 65000 {
		t.Fatal("tailroom")
	}
	small.Free()
	jumbo.Consume()
	gso.Consume()
	if p.Dropped() != 1 || p.Live() != 0 {
		t.Fatalf("dropped %d live %d", p.Dropped(), p.Live())
	}
	again := p.Alloc(60)
	if again != small || again.Len() != 0 || again.MACHeader() != nil || again.Dev != nil {
		t.Fatal("a reused skb must come back clean")
	}
	again.Consume()
}

func TestSKBPoolNoAllocs(t *testing.T) {
	p := NewSKBPool()
	p.Alloc(100).Consume()
	if n := testing.AllocsPerRun(1000, func() {
		s := p.Alloc(1514)
		s.Reserve(NetIPAlign)
		s.Put(1514)
		s.Push(0)
		s.Consume()
	}); n != 0 {
		t.Fatalf("%v allocations per skb", n)
	}
}

func BenchmarkSKBAllocFree(b *testing.B) {
	p := NewSKBPool()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		s := p.Alloc(1514)
		s.Put(60)
		s.Consume()
	}
}

// A layer's control-block view is 8-byte aligned and CBSize bytes long.
func TestControlBlockAligned(t *testing.T) {
	var s SKB
	if uintptr(s.CB())%8 != 0 || unsafe.Sizeof(s.cb) != CBSize {
		t.Errorf("control block misaligned or not %d bytes", CBSize)
	}
}

type testPage struct{ released int }

func (p *testPage) Release() { p.released++ }

// BuildOver: the page's bytes are the packet until the skb is freed, then
// the page is released once and the skb has its own buffer again; building
// over a used skb, or outside the page, is a bug.
func TestBuildOver(t *testing.T) {
	p := NewSKBPool()
	page := make([]byte, 256)
	copy(page[100:], "wire")
	pg := &testPage{}
	s := p.Alloc(64)
	own := s.Tailroom() + s.Headroom()
	s.BuildOver(page, 100, pg)
	copy(s.Put(4), "wire")
	if s.Headroom() != 100 || s.Tailroom() != 152 || string(s.Data()) != "wire" {
		t.Fatalf("headroom %d tailroom %d data %q", s.Headroom(), s.Tailroom(), s.Data())
	}
	s.Push(2)[0] = 'x'
	if page[98] != 'x' {
		t.Fatal("a push did not write into the page")
	}
	s.Free()
	if pg.released != 1 {
		t.Fatalf("released %d times", pg.released)
	}
	s = p.Alloc(64)
	if got := s.Tailroom() + s.Headroom(); got != own {
		t.Fatalf("the skb's buffer after the page: %d bytes, want its own %d", got, own)
	}
	for _, tc := range []struct {
		name  string
		setup func(*SKB)
		off   int
	}{
		{"not empty", func(s *SKB) { s.Put(1) }, 0},
		{"already over a page", func(s *SKB) { s.BuildOver(page, 0, pg) }, 0},
		{"a MAC header set", func(s *SKB) { s.ResetMACHeader() }, 0},
		{"off past the page", func(*SKB) {}, 257},
		{"negative off", func(*SKB) {}, -1},
	} {
		s := p.Alloc(64)
		tc.setup(s)
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", tc.name)
				}
			}()
			s.BuildOver(page, tc.off, pg)
		}()
		s.Free()
	}
	if n := p.Live(); n != 1 {
		t.Fatalf("%d skbs live, want 1", n)
	}
}

// TestSKBBugsPanic: reserving on a non-empty skb, putting past the
// tailroom and pushing past the headroom panic with Linux's names for them.
func TestSKBBugsPanic(t *testing.T) {
	p := NewSKBPool()
	for _, tc := range []struct {
		name string
		do   func(s *SKB)
		want string
	}{
		{"reserve", func(s *SKB) { s.Put(1); s.Reserve(1) }, "stack: skb_reserve(1) on len 1 tailroom "},
		{"put", func(s *SKB) { s.Put(s.Tailroom() + 1) }, "stack: skb_over_panic: put "},
		{"push", func(s *SKB) { s.Push(NetSKBPad + 1) }, "stack: skb_under_panic: push 65 with headroom 64"},
	} {
		s := p.Alloc(100)
		func() {
			defer func() {
				err, ok := recover().(error)
				if !ok || !strings.HasPrefix(err.Error(), tc.want) {
					t.Errorf("%s: panicked with %v, want %q…", tc.name, err, tc.want)
				}
			}()
			tc.do(s)
		}()
		s.Consume()
	}
}
