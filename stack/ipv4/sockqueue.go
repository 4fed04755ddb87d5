package ipv4

import (
	"fmt"
	"sync"
	"syscall"
	"time"
	"vnic/stack"
)

// sockQueue is a socket's bounded receive queue of messages, read without
// waiting (recv) or waiting until a deadline on a real-time host (wait).
type sockQueue[T any] struct {
	mu     sync.Mutex
	cond   *sync.Cond
	q      []T
	limit  int
	drops  uint64
	closed bool
}

func (s *sockQueue[T]) init(limit int) {
	s.cond = sync.NewCond(&s.mu)
	s.limit = limit
}

// push queues m; a full or closed queue drops it (counted).
func (s *sockQueue[T]) push(m T) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || len(s.q) >= s.limit {
		s.drops++
		return
	}
	s.q = append(s.q, m)
	s.cond.Broadcast()
}

// recv returns the oldest message without waiting.
func (s *sockQueue[T]) recv() (T, bool) {
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

// close wakes waiters; later pushes are dropped.
func (s *sockQueue[T]) close() {
	s.mu.Lock()
	s.closed = true
	s.cond.Broadcast()
	s.mu.Unlock()
}

// wait returns the oldest message, waiting until deadline — only on a
// real-time host: on the virtual clock nothing arrives while the caller
// waits, so it answers EAGAIN at once (run the clock, then read).
func (s *sockQueue[T]) wait(clk stack.Clock, deadline time.Time, what string) (T, error) {
	var zero T
	if clk.Virtual() {
		if m, ok := s.recv(); ok {
			return m, nil
		}
		return zero, fmt.Errorf("stack: %s: nothing queued: %w", what, syscall.EAGAIN)
	}
	t := sockTimer(clk, deadline, &s.mu, s.cond)
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

// sockTimer arms a timer on the host's clock that wakes cond's waiters
// (under mu) at deadline, so a waiter sees the deadline pass
// (sock_rcvtimeo's schedule_timeout).
func sockTimer(clk stack.Clock, deadline time.Time, mu sync.Locker, cond *sync.Cond) stack.Timer {
	t := clk.NewTimer(func() {
		mu.Lock()
		cond.Broadcast()
		mu.Unlock()
	})
	t.Reset(max(clk.At(deadline)-clk.Now(), 0))
	return t
}
