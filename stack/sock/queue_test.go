package sock

import (
	"errors"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"vnic/hw"
)

// bound is how long a test waits for a goroutine before it gives up: a
// lost wake-up fails the test instead of hanging the binary. It is no
// claim about speed: a correct run returns at once.
const bound = 10 * time.Second

func drain(q *Queue[int]) []int {
	var got []int
	for {
		m, ok := q.Recv()
		if !ok {
			return got
		}
		got = append(got, m)
	}
}

// drops reads the queue's drop counter (no accessor exports it).
func drops(q *Queue[int]) uint64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.drops
}

// The queue holds at most its limit: pushes beyond it are dropped and
// counted, those queued come out oldest first, and an empty queue answers
// Recv with false. Room freed by a Recv takes a later push again.
func TestQueueLimitDropsKeepOrder(t *testing.T) {
	for _, c := range []struct {
		limit, pushes int
		want          []int
		drops         uint64
	}{
		{limit: 0, pushes: 3, want: nil, drops: 3},
		{limit: 1, pushes: 1, want: []int{0}, drops: 0},
		{limit: 3, pushes: 3, want: []int{0, 1, 2}, drops: 0},
		{limit: 3, pushes: 7, want: []int{0, 1, 2}, drops: 4},
		{limit: 8, pushes: 5, want: []int{0, 1, 2, 3, 4}, drops: 0},
	} {
		var q Queue[int]
		q.Init(c.limit)
		if _, ok := q.Recv(); ok {
			t.Fatalf("limit %d: Recv on a new queue succeeded", c.limit)
		}
		for i := 0; i < c.pushes; i++ {
			q.Push(i)
		}
		if got := drain(&q); !slices.Equal(got, c.want) {
			t.Errorf("limit %d, %d pushes: got %v, want %v", c.limit, c.pushes, got, c.want)
		}
		if d := drops(&q); d != c.drops {
			t.Errorf("limit %d, %d pushes: %d drops, want %d", c.limit, c.pushes, d, c.drops)
		}
	}
	var q Queue[int]
	q.Init(2)
	q.Push(1)
	q.Push(2)
	q.Push(3) // dropped
	if m, ok := q.Recv(); !ok || m != 1 {
		t.Fatalf("first Recv %d %v", m, ok)
	}
	q.Push(4) // room again
	if got := drain(&q); !slices.Equal(got, []int{2, 4}) {
		t.Fatalf("after freeing room: %v, want [2 4]", got)
	}
	if d := drops(&q); d != 1 {
		t.Fatalf("%d drops, want 1", d)
	}
}

// Close keeps what is queued for Recv and drops every later push,
// counted.
func TestQueueCloseDropsLaterPushes(t *testing.T) {
	var q Queue[int]
	q.Init(4)
	q.Push(1)
	q.Close()
	q.Push(2)
	q.Push(3)
	if got := drain(&q); !slices.Equal(got, []int{1}) {
		t.Fatalf("after close: %v, want [1]", got)
	}
	if d := drops(&q); d != 2 {
		t.Fatalf("%d drops, want 2", d)
	}
}

// On the virtual clock Wait never blocks: an empty queue answers EAGAIN at
// once, whatever the deadline (nothing can arrive while the caller waits),
// and a queued message comes back oldest first.
func TestQueueWaitVirtual(t *testing.T) {
	clk := hw.NewVirtualClock()
	var q Queue[int]
	q.Init(4)
	for _, deadline := range []time.Time{{}, hw.VirtualEpoch, hw.VirtualEpoch.Add(time.Hour)} {
		if m, err := q.Wait(clk, deadline, "recv"); !errors.Is(err, syscall.EAGAIN) {
			t.Fatalf("deadline %v: empty Wait %d %v, want EAGAIN", deadline, m, err)
		}
	}
	if clk.Pending() {
		t.Fatal("a virtual Wait armed a timer")
	}
	q.Push(7)
	q.Push(8)
	for _, want := range []int{7, 8} {
		if m, err := q.Wait(clk, hw.VirtualEpoch.Add(time.Hour), "recv"); err != nil || m != want {
			t.Fatalf("Wait %d %v, want %d", m, err, want)
		}
	}
	if _, err := q.Wait(clk, hw.VirtualEpoch.Add(time.Hour), "recv"); !errors.Is(err, syscall.EAGAIN) {
		t.Fatalf("drained Wait %v, want EAGAIN", err)
	}
}

// waitFor runs q.Wait on a goroutine and returns its answer, failing the
// test if none comes within bound (a lost wake-up would otherwise sleep
// until the deadline, or for ever).
func waitFor(t *testing.T, q *Queue[int], clk *hw.RealClock, deadline time.Time) (int, error) {
	t.Helper()
	type answer struct {
		m   int
		err error
	}
	done := make(chan answer, 1)
	go func() {
		m, err := q.Wait(clk, deadline, "recv")
		done <- answer{m, err}
	}()
	select {
	case a := <-done:
		return a.m, a.err
	case <-time.After(bound):
		t.Fatalf("Wait did not return within %v", bound)
		return 0, nil
	}
}

// sleepSignal is the lock of a queue's cond: Queue.Wait takes the queue's
// mutex itself, so the cond's lock is released only by cond.Wait, and its
// Unlock says that a waiter is asleep (already on the cond's list, so a
// Broadcast from then on reaches it).
type sleepSignal struct {
	*sync.Mutex
	asleep chan struct{}
	once   sync.Once
}

func (l *sleepSignal) Unlock() {
	l.Mutex.Unlock()
	l.once.Do(func() { close(l.asleep) })
}

// whenAsleep arranges for fn to run on another goroutine once a waiter
// sleeps on q.
func whenAsleep(q *Queue[int], fn func()) {
	l := &sleepSignal{Mutex: &q.mu, asleep: make(chan struct{})}
	q.cond = sync.NewCond(l)
	go func() {
		<-l.asleep
		fn()
	}()
}

// On a real clock: a deadline already passed is ETIMEDOUT (and a queued
// message still wins over it); a sleeping Wait is woken by a push from
// another goroutine and returns the message, and by Close with EBADF,
// long before its deadline.
func TestQueueWaitReal(t *testing.T) {
	clk := hw.NewRealClock()
	t.Run("deadline passed", func(t *testing.T) {
		var q Queue[int]
		q.Init(4)
		if m, err := waitFor(t, &q, clk, time.Now().Add(-time.Second)); !errors.Is(err, syscall.ETIMEDOUT) {
			t.Fatalf("Wait %d %v, want ETIMEDOUT", m, err)
		}
		q.Push(5)
		if m, err := waitFor(t, &q, clk, time.Now().Add(-time.Second)); err != nil || m != 5 {
			t.Fatalf("queued message past its deadline: %d %v, want 5", m, err)
		}
	})
	t.Run("woken by push", func(t *testing.T) {
		var q Queue[int]
		q.Init(4)
		whenAsleep(&q, func() { q.Push(42) })
		if m, err := waitFor(t, &q, clk, time.Now().Add(time.Hour)); err != nil || m != 42 {
			t.Fatalf("Wait %d %v, want 42", m, err)
		}
	})
	t.Run("woken by close", func(t *testing.T) {
		var q Queue[int]
		q.Init(4)
		whenAsleep(&q, q.Close)
		if m, err := waitFor(t, &q, clk, time.Now().Add(time.Hour)); !errors.Is(err, syscall.EBADF) {
			t.Fatalf("Wait %d %v, want EBADF", m, err)
		}
	})
}

// countLocker is a mutex that counts how often it was taken: the timer's
// wake-up takes it once.
type countLocker struct {
	sync.Mutex
	n int
}

func (l *countLocker) Lock() { l.Mutex.Lock(); l.n++ }

func (l *countLocker) count() int { l.Mutex.Lock(); defer l.Mutex.Unlock(); return l.n }

// Timer fires at the deadline mapped onto the host's clock, not
// before, once, and wakes the cond's waiter under its lock; a deadline
// already passed fires on the next event; a stopped timer does not fire.
func TestTimerWakesWaiter(t *testing.T) {
	clk := hw.NewVirtualClock()
	var mu countLocker
	cond := sync.NewCond(&mu)
	waiting, woke := make(chan struct{}), make(chan struct{})
	go func() {
		mu.Lock()
		close(waiting)
		cond.Wait()
		mu.Unlock()
		close(woke)
	}()
	<-waiting
	// The waiter is in cond.Wait once its lock is free: taking it (through
	// the counting Locker, as the timer will) proves that.
	mu.Lock()
	//lint:ignore SA2001 the lock taken and released is the synchronisation
	mu.Unlock()
	base := mu.count()
	tm := Timer(clk, hw.VirtualEpoch.Add(10*time.Millisecond), &mu, cond)
	clk.RunUntil(10*time.Millisecond - 1)
	if n := mu.count() - base; n != 0 {
		t.Fatalf("fired %d times before the deadline", n)
	}
	clk.RunUntil(time.Second)
	if n := mu.count() - base; n != 1 {
		t.Fatalf("fired %d times by the deadline, want 1", n)
	}
	select {
	case <-woke:
	case <-time.After(bound):
		t.Fatal("the waiter was not woken")
	}
	if tm.Stop() {
		t.Fatal("a fired timer was still armed")
	}

	base = mu.count()
	Timer(clk, hw.VirtualEpoch, &mu, cond) // long past
	if !clk.Step() || mu.count()-base != 1 {
		t.Fatalf("past deadline: fired %d times, want 1", mu.count()-base)
	}

	base = mu.count()
	tm = Timer(clk, hw.VirtualEpoch.Add(2*time.Second), &mu, cond)
	if !tm.Stop() {
		t.Fatal("a new timer was not armed")
	}
	clk.RunFor(time.Hour)
	if n := mu.count() - base; n != 0 {
		t.Fatalf("a stopped timer fired %d times", n)
	}
}
