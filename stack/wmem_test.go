package stack

import (
	"errors"
	"testing"
	"time"
)

// Every way an skb joins or leaves a send buffer keeps the account exact.
func TestWmemCharges(t *testing.T) {
	p := NewSKBPool()
	w := NewWmem(1 << 20)
	o := &SockOwner{UID: 5, Wmem: w}
	size := p.Alloc(64).Truesize()
	for _, tc := range []struct {
		name string
		run  func(t *testing.T) (charged int, free func())
	}{
		{"set owner, free", func(t *testing.T) (int, func()) {
			s := p.Alloc(64)
			s.SetOwner(o)
			return size, s.Free
		}},
		{"owner twice", func(t *testing.T) (int, func()) {
			s := p.Alloc(64)
			s.SetOwner(o)
			s.SetOwner(o)
			return size, s.Consume
		}},
		{"owner without a buffer", func(t *testing.T) (int, func()) {
			s := p.Alloc(64)
			s.SetOwner(&SockOwner{UID: 5})
			return 0, s.Consume
		}},
		{"fragment inherits", func(t *testing.T) (int, func()) {
			s, f := p.Alloc(64), p.Alloc(9000)
			s.SetOwner(o)
			f.CopyMeta(s)
			if f.Owner != o {
				t.Error("a fragment lost its owner")
			}
			return size + f.Truesize(), func() { s.Consume(); f.Consume() }
		}},
		{"through scratch metadata", func(t *testing.T) (int, func()) {
			s, f := p.Alloc(64), p.Alloc(64)
			s.SetOwner(o)
			var meta SKB // as ip_output's fast fragmentation keeps it
			meta.CopyMeta(s)
			f.CopyMeta(&meta)
			return 2 * size, func() { s.Consume(); f.Consume() }
		}},
		{"orphaned", func(t *testing.T) (int, func()) {
			s := p.Alloc(64)
			s.SetOwner(o)
			s.Orphan()
			if s.Owner != o {
				t.Error("Orphan took the owner")
			}
			return 0, s.Consume
		}},
		{"copy of an uncharged skb", func(t *testing.T) (int, func()) {
			s, f := p.Alloc(64), p.Alloc(64)
			s.Owner = o // set directly: not charged
			f.CopyMeta(s)
			return 0, func() { s.Consume(); f.Consume() }
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, free := tc.run(t)
			if got := w.Alloc(); got != want {
				t.Errorf("charged %d, want %d", got, want)
			}
			free()
			if got := w.Alloc(); got != 0 {
				t.Errorf("%d left after the free", got)
			}
		})
	}
}

// A waiter goes on when the buffer drains to half, and stop ends a wait.
func TestWmemWait(t *testing.T) {
	p := NewSKBPool()
	w := NewWmem(3 * 2370)
	o := &SockOwner{Wmem: w}
	var held []*SKB
	for w.Room() {
		s := p.Alloc(64)
		s.SetOwner(o)
		held = append(held, s)
	}
	if len(held) != 3 {
		t.Fatalf("%d skbs fill 7110 bytes of 2370, want 3", len(held))
	}
	done := make(chan error, 1)
	go func() { done <- w.Wait(func() error { return nil }) }()
	for i := 0; w.Waiting() == 0; i++ {
		if i == 5000 {
			t.Fatal("no waiter")
		}
		time.Sleep(time.Millisecond)
	}
	held[0].Consume() // 4740 of 7110: more than half, the waiter sleeps on
	held[1].Consume() // 2370: half or less, it wakes
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	errStop := errors.New("stop")
	held[0] = p.Alloc(64)
	held[0].SetOwner(o)
	held[1] = p.Alloc(64)
	held[1].SetOwner(o)
	if err := w.Wait(func() error { return errStop }); !errors.Is(err, errStop) {
		t.Errorf("a stopped wait: %v", err)
	}
	for _, s := range held {
		s.Consume()
	}
	if w.Alloc() != 0 || w.Waiting() != 0 {
		t.Errorf("alloc %d waiting %d", w.Alloc(), w.Waiting())
	}
}
