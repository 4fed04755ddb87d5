// Package sock is the socket core protocols build their sockets on: a
// bounded receive queue of messages with drop counting, and waits that run
// on the host's clock (a deadline is mapped onto it; a virtual-time host
// never blocks, it answers EAGAIN).
package sock

import (
	"fmt"
	"sync"
	"syscall"
	"time"
	"vnic/stack"
)

// Queue is a socket's bounded receive queue of messages, read without
// waiting (Recv) or waiting until a deadline on a real-time host (Wait).
type Queue[T any] struct {
	mu     sync.Mutex
	cond   *sync.Cond
	q      []T
	limit  int
	drops  uint64
	closed bool
}

func (s *Queue[T]) Init(limit int) {
	s.cond = sync.NewCond(&s.mu)
	s.limit = limit
}

// Push queues m; a full or closed queue drops it (counted).
func (s *Queue[T]) Push(m T) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || len(s.q) >= s.limit {
		s.drops++
		return
	}
	s.q = append(s.q, m)
	s.cond.Broadcast()
}

// Recv returns the oldest message without waiting.
func (s *Queue[T]) Recv() (T, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var zero T
	if len(s.q) == 0 {
		return zero, false
	}
	m := s.q[0]
	s.q = s.q[1:]
	return m, true
}

// Close wakes waiters; later pushes are dropped.
func (s *Queue[T]) Close() {
	s.mu.Lock()
	s.closed = true
	s.cond.Broadcast()
	s.mu.Unlock()
}

// Wait returns the oldest message, waiting until deadline — only on a
// real-time host: on the virtual clock nothing arrives while the caller
// waits, so it answers EAGAIN at once (run the clock, then read).
func (s *Queue[T]) Wait(clk stack.Clock, deadline time.Time, what string) (T, error) {
	var zero T
	if clk.Virtual() {
		if m, ok := s.Recv(); ok {
			return m, nil
		}
		return zero, fmt.Errorf("stack: %s: nothing queued: %w", what, syscall.EAGAIN)
	}
	t := Timer(clk, deadline, &s.mu, s.cond)
	defer t.Stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.q) == 0 {
		if s.closed {
			return zero, fmt.Errorf("stack: %s: closed: %w", what, syscall.EBADF)
		}
		if clk.Now() >= clk.At(deadline) {
			return zero, fmt.Errorf("stack: %s: %w", what, syscall.ETIMEDOUT)
		}
		s.cond.Wait()
	}
	m := s.q[0]
	s.q = s.q[1:]
	return m, nil
}

// Timer arms a timer on the host's clock that wakes cond's waiters
// (under mu) at deadline, so a waiter sees the deadline pass
// (sock_rcvtimeo's schedule_timeout).
func Timer(clk stack.Clock, deadline time.Time, mu sync.Locker, cond *sync.Cond) stack.Timer {
	t := clk.NewTimer(func() {
		mu.Lock()
		cond.Broadcast()
		mu.Unlock()
	})
	t.Reset(max(clk.At(deadline)-clk.Now(), 0))
	return t
}
