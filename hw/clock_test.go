package hw

import (
	"testing"
	"time"
)

func TestVirtualClockOrder(t *testing.T) {
	c := NewVirtualClock()
	var got []string
	mk := func(name string) Timer { return c.NewTimer(func() { got = append(got, name+"@"+c.Now().String()) }) }
	a, b, x := mk("a"), mk("b"), mk("x")
	a.Reset(10 * time.Microsecond)
	b.Reset(5 * time.Microsecond)
	x.Reset(5 * time.Microsecond) // same instant as b: scheduled later, runs later
	c.RunFor(20 * time.Microsecond)
	want := []string{"b@5µs", "x@5µs", "a@10µs"}
	if len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("got %v want %v", got, want)
	}
	if c.Now() != 20*time.Microsecond {
		t.Fatalf("now %v", c.Now())
	}
	// Reset moves a pending timer; Stop cancels.
	a.Reset(time.Microsecond)
	a.Reset(3 * time.Microsecond)
	b.Reset(2 * time.Microsecond)
	if !b.Stop() || b.Stop() {
		t.Fatal("Stop must report armed once")
	}
	got = nil
	c.RunFor(10 * time.Microsecond)
	if len(got) != 1 || got[0] != "a@23µs" {
		t.Fatalf("got %v", got)
	}
}

func TestVirtualTimerNoAllocs(t *testing.T) {
	c := NewVirtualClock()
	n := 0
	tm := c.NewTimer(func() { n++ })
	if a := testing.AllocsPerRun(100, func() { tm.Reset(time.Microsecond); c.Step() }); a != 0 {
		t.Fatalf("%v allocs per timer cycle", a)
	}
}

// TestEventHeapAgainstSort schedules, moves and cancels timers at random
// and checks they fire in (time, scheduling order) order.
func TestEventHeapAgainstSort(t *testing.T) {
	c := NewVirtualClock()
	type rec struct {
		at  time.Duration
		seq int
	}
	var fired []rec
	timers := make([]Timer, 200)
	want := map[int]time.Duration{}
	seq := 0
	order := map[int]int{}
	for i := range timers {
		timers[i] = c.NewTimer(func() { fired = append(fired, rec{c.Now(), order[i]}) })
	}
	r := uint64(1)
	next := func() uint64 { r = r*6364136223846793005 + 1442695040888963407; return r >> 33 }
	for k := 0; k < 2000; k++ {
		i := int(next() % 200)
		switch next() % 3 {
		case 0, 1:
			d := time.Duration(next()%50) * time.Microsecond
			timers[i].Reset(d)
			seq++
			order[i] = seq
			want[i] = d
		case 2:
			timers[i].Stop()
			delete(want, i)
		}
	}
	c.RunFor(time.Second)
	if len(fired) != len(want) {
		t.Fatalf("fired %d, want %d", len(fired), len(want))
	}
	for k := 1; k < len(fired); k++ {
		a, b := fired[k-1], fired[k]
		if a.at > b.at || (a.at == b.at && a.seq > b.seq) {
			t.Fatalf("out of order at %d: %+v then %+v", k, a, b)
		}
	}
}
