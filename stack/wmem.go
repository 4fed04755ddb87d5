package stack

import (
	"sync"
	"sync/atomic"
)

// Wmem is a socket's send buffer (sk_wmem_alloc against sk_sndbuf): the
// truesize of the skbs it sent that are not freed yet, and the limit a
// sender waits under. An skb charged to it (SKB.SetOwner) gives its
// truesize back when it is freed, wherever that happens (sock_wfree: the
// driver's TX completion, a qdisc drop), and a sender waiting for room is
// woken once the buffer is no more than half full (sock_def_write_space).
type Wmem struct {
	alloc   atomic.Int64
	limit   atomic.Int64
	waiters atomic.Int32
	mu      sync.Mutex
	cond    *sync.Cond
	gen     uint64 // wake-ups, under mu: what a waiter watches
}

// NewWmem returns an empty send buffer of limit bytes.
func NewWmem(limit int) *Wmem {
	w := &Wmem{}
	w.cond = sync.NewCond(&w.mu)
	w.limit.Store(int64(limit))
	return w
}

// Alloc is the truesize charged now (sk_wmem_alloc_get).
func (w *Wmem) Alloc() int { return int(w.alloc.Load()) }

// Limit is the buffer's size (sk_sndbuf).
func (w *Wmem) Limit() int { return int(w.limit.Load()) }

// SetLimit changes the size; senders waiting are woken to look again.
func (w *Wmem) SetLimit(n int) {
	w.limit.Store(int64(n))
	w.Wake()
}

// Waiting is how many senders wait for room now.
func (w *Wmem) Waiting() int { return int(w.waiters.Load()) }

// Room reports whether a sender may allocate: less than the limit is in
// use (sock_alloc_send_pskb's test, before the skb's own size is known).
func (w *Wmem) Room() bool { return w.alloc.Load() < w.limit.Load() }

func (w *Wmem) uncharge(n int64) {
	left := w.alloc.Add(-n)
	if w.waiters.Load() > 0 && 2*left <= w.limit.Load() {
		w.Wake()
	}
}

// Wake wakes every waiter (the buffer drained, or the socket closed).
func (w *Wmem) Wake() {
	w.mu.Lock()
	w.gen++
	w.cond.Broadcast()
	w.mu.Unlock()
}

// Wait blocks until there is Room, stop returns an error (checked at the
// start and after every wake-up: a closed socket, a deadline passed), or
// never if there is room. The caller arranges for Wake when stop's answer
// may change (a close, a deadline timer).
func (w *Wmem) Wait(stop func() error) error {
	if w.Room() {
		return nil
	}
	w.waiters.Add(1)
	defer w.waiters.Add(-1)
	w.mu.Lock()
	defer w.mu.Unlock()
	for !w.Room() {
		if err := stop(); err != nil {
			return err
		}
		gen := w.gen
		for gen == w.gen && !w.Room() {
			w.cond.Wait()
		}
	}
	return nil
}
