package neigh_test

import (
	"math/rand"
	"runtime"
	"testing"
	"time"

	"vnic/stack"
	"vnic/stack/neigh"
)

// addrN is the n-th address of 198.18.0.0/15.
func addrN(n int) [4]byte { return [4]byte{198, 18 + byte(n>>16&1), byte(n >> 8), byte(n)} }

// learn is an ARP request aimed at the host from addrN(n): the entry is
// made (STALE) if the table takes it.
func (r *neighRig) learn(n int) {
	r.tab.Update(addrN(n), stack.MAC{2, 0, 0, byte(n >> 16), byte(n >> 8), byte(n)}, neigh.FromRequest, true)
}

// at runs the clock to d after the rig's start.
func (r *neighRig) at(d time.Duration) { r.run(r.start + d - r.now()) }

func (r *neighRig) has(n int) bool { _, ok := r.tab.Lookup(addrN(n)); return ok }

// TestNeighGCThresholds: neigh_alloc's limits, step by step. Entries no
// timer holds go oldest first; a forced collection above gc_thresh2 waits
// 5 s after the last flush; at gc_thresh3 one that frees nothing refuses
// the entry (table_fulls); static entries do not count and are never
// taken; entries a timer holds (INCOMPLETE) are not taken, FAILED ones are
// at any age.
func TestNeighGCThresholds(t *testing.T) {
	type step struct {
		at       time.Duration
		do       func(r *neighRig)
		entries  int
		fulls    uint64
		forced   uint64
		gone, in []int // addresses (by number) absent and present after
	}
	fill := func(from, to int, gap time.Duration) func(r *neighRig) {
		return func(r *neighRig) {
			for i := from; i < to; i++ {
				r.learn(i)
				r.run(gap)
			}
		}
	}
	learn := func(n int) func(r *neighRig) { return func(r *neighRig) { r.learn(n) } }
	cases := []struct {
		name  string
		setup func(r *neighRig)
		steps []step
	}{
		{name: "thresholds", steps: []step{
			// 1024 entries in 1.024 s: no forced collection within 5 s of
			// the table's start below gc_thresh3.
			{at: 0, do: fill(0, 1024, time.Millisecond), entries: 1024},
			// Full, all younger than 5 s: refused.
			{at: 2 * time.Second, do: learn(5000), entries: 1024, fulls: 1, forced: 1, gone: []int{5000}},
			// Known addresses are updated, not allocated.
			{at: 2 * time.Second, do: learn(7), entries: 1024, fulls: 1, forced: 1},
			// At 7 s all are older than 5 s: down to gc_thresh2, oldest
			// first, then the new one.
			{at: 7 * time.Second, do: learn(5001), entries: 513, fulls: 1, forced: 2, gone: []int{0, 511}, in: []int{512, 1023, 5001}},
			// Above gc_thresh2 but within 5 s of the flush: no collection.
			{at: 7 * time.Second, do: learn(5002), entries: 514, fulls: 1, forced: 2},
			// 5 s after the flush: two go (514 − 512), then the new one.
			{at: 12*time.Second + time.Millisecond, do: learn(5003), entries: 513, fulls: 1, forced: 3, gone: []int{512, 513}, in: []int{514, 5003}},
		}},
		{name: "static entries are exempt", steps: []step{
			{at: 0, do: func(r *neighRig) {
				for i := 0; i < 2000; i++ {
					r.tab.AddStatic(addrN(10000+i), macB)
				}
			}, entries: 2000},
			{at: 0, do: fill(0, 1024, 0), entries: 3024},
			{at: time.Second, do: learn(5000), entries: 3024, fulls: 1, forced: 1},
			{at: 10 * time.Second, do: learn(5001), entries: 2513, fulls: 1, forced: 2, in: []int{10000, 11999, 5001}},
			{at: 10 * time.Second, do: func(r *neighRig) { r.tab.AddStatic(addrN(20000), macB) }, entries: 2514, fulls: 1, forced: 2},
		}},
		{name: "timers hold, FAILED goes", steps: []step{
			{at: 0, do: func(r *neighRig) {
				for i := 0; i < 1024; i++ {
					skb := r.h.Pool().Alloc(1)
					skb.Put(1)
					r.tab.Output(addrN(256+i), skb)
				}
			}, entries: 1024},
			// 1024 INCOMPLETE: all held by their timers.
			{at: time.Second, do: learn(5000), entries: 1024, fulls: 1, forced: 1},
			// FAILED after 3 s: the forced collection takes them whatever
			// their age, 1024 − 512 of them.
			{at: 3500 * time.Millisecond, do: learn(5001), entries: 513, fulls: 1, forced: 2, in: []int{5001}},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newNeighRig(t, neigh.Params{})
			for i, s := range c.steps {
				r.at(s.at)
				s.do(r)
				r.log = nil
				st := r.tab.Stats()
				if got := len(r.tab.Entries()); got != s.entries || st.TableFulls != s.fulls || st.ForcedGCRuns != s.forced {
					t.Fatalf("step %d: %d entries, %d table fulls, %d forced runs; want %d, %d, %d", i, got, st.TableFulls, st.ForcedGCRuns, s.entries, s.fulls, s.forced)
				}
				for _, n := range s.gone {
					if r.has(n) {
						t.Errorf("step %d: %v still there", i, addrN(n))
					}
				}
				for _, n := range s.in {
					if !r.has(n) {
						t.Errorf("step %d: %v gone", i, addrN(n))
					}
				}
			}
		})
	}
}

// TestNeighGCPeriodic: neigh_periodic_work runs a reachable time after
// the table starts, then every base_reachable_time/2 (15 s); from
// gc_thresh1 entries on it removes what no timer holds that is FAILED or
// unused for gc_stale_time (60 s) — at the first run past that, to the
// nanosecond — and never a static entry.
func TestNeighGCPeriodic(t *testing.T) {
	const half = 15 * time.Second
	// run is the first periodic run at or after d (origin: the first).
	run := func(origin, d time.Duration) time.Duration {
		if d <= origin {
			return origin
		}
		return origin + (d-origin+half-1)/half*half
	}
	cases := []struct {
		name   string
		p      neigh.Params
		setup  func(r *neighRig)
		wantAt func(origin time.Duration) time.Duration // when addrN(1) goes; 0: never
		left   int                                      // entries left at the end
	}{
		{name: "stale at gc_thresh1", setup: func(r *neighRig) {
			for i := 1; i <= 128; i++ {
				r.learn(i)
			}
		}, wantAt: func(o time.Duration) time.Duration { return run(o, 60*time.Second) }},
		{name: "below gc_thresh1 kept", setup: func(r *neighRig) {
			for i := 1; i <= 127; i++ {
				r.learn(i)
			}
		}, left: 127},
		{name: "failed at the first run", p: neigh.Params{GCThresh1: 1}, setup: func(r *neighRig) {
			skb := r.h.Pool().Alloc(1)
			skb.Put(1)
			r.tab.Output(addrN(1), skb)
		}, wantAt: func(o time.Duration) time.Duration { return run(o, 3*time.Second) }},
		{name: "a confirmation is a use", p: neigh.Params{GCThresh1: 1}, setup: func(r *neighRig) {
			r.learn(1)
			r.at(50 * time.Second)
			r.tab.Confirm(addrN(1))
		}, wantAt: func(o time.Duration) time.Duration { return run(o, 110*time.Second) }},
		{name: "static kept", p: neigh.Params{GCThresh1: 1}, setup: func(r *neighRig) {
			r.tab.AddStatic(addrN(2), macB)
			r.learn(1)
		}, wantAt: func(o time.Duration) time.Duration { return run(o, 60*time.Second) }, left: 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newNeighRig(t, c.p)
			origin := r.tab.ReachableTime()
			c.setup(r)
			if c.wantAt != nil {
				at := c.wantAt(origin)
				r.at(at - 1)
				if !r.has(1) {
					t.Fatalf("gone before %v", at)
				}
				r.at(at)
				if r.has(1) {
					t.Fatalf("still there at %v (first run %v)", at, origin)
				}
				if got, want := r.tab.Stats().PeriodicGCRuns, uint64((at-origin)/half+1); got != want {
					t.Fatalf("%d periodic runs by %v, want %d", got, at, want)
				}
			}
			r.at(10 * time.Minute)
			if got := len(r.tab.Entries()); got != c.left {
				t.Fatalf("%d entries left, want %d", got, c.left)
			}
		})
	}
}

// TestNeighGCFlood: 500,000 requests aimed at the host from random
// sources in 198.18.0.0/15, a microsecond apart: the table stops at
// gc_thresh3, each refused source is one table_full (a forced collection
// that freed nothing: every entry is younger than 5 s), and the heap does
// not grow with the flood.
func TestNeighGCFlood(t *testing.T) {
	const flood = 500000
	r := newNeighRig(t, neigh.Params{})
	rnd := rand.New(rand.NewSource(13))
	srcs := make([]int, flood)
	for i := range srcs {
		srcs[i] = rnd.Intn(1 << 17)
	}
	// The first 1024 distinct sources get entries; every later request
	// from another source is refused.
	kept, fulls := map[int]bool{}, uint64(0)
	for _, s := range srcs {
		if !kept[s] {
			if len(kept) < 1024 {
				kept[s] = true
			} else {
				fulls++
			}
		}
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i, s := range srcs {
		r.learn(s)
		r.run(time.Microsecond)
		if i%10000 == 0 {
			if n := len(r.tab.Entries()); n > 1024 {
				t.Fatalf("after %d requests: %d entries", i+1, n)
			}
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(srcs)
	st := r.tab.Stats()
	if n := len(r.tab.Entries()); n != 1024 || st.TableFulls != fulls || st.ForcedGCRuns != fulls {
		t.Fatalf("%d entries, %d table fulls, %d forced runs; want 1024, %d, %d", n, st.TableFulls, st.ForcedGCRuns, fulls, fulls)
	}
	for s := range kept {
		if !r.has(s) {
			t.Fatalf("%v refused", addrN(s))
		}
	}
	grew := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("%d requests: 1024 entries, %d table fulls, heap grew %d KiB", flood, fulls, grew>>10)
	if grew > 4<<20 {
		t.Fatalf("heap grew %d KiB over the flood", grew>>10)
	}
}
