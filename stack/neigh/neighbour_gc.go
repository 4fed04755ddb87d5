package neigh

import (
	"time"

	"vnic/stack"
)

// Garbage collection, as net/core/neighbour.c does it: a new entry may
// force a collection (neigh_alloc and neigh_forced_gc), and a periodic
// work every base_reachable_time/2 takes what has gone unused
// (neigh_periodic_work). Both see only the entries on the GC list (every
// one not PERMANENT) and never take one a timer holds (INCOMPLETE,
// REACHABLE, DELAY, PROBE: Linux's NUD_IN_TIMER, a reference).

// nudInTimer: states whose timer holds a reference to the entry.
const nudInTimer = NUDIncomplete | NUDReachable | NUDDelay | NUDProbe

// Linux's fixed intervals: a forced collection looks at entries updated
// more than 5 s ago and runs at most once in 5 s from GCThresh2; the
// reachable time is drawn again every 300 s.
const (
	gcForcedAge = 5 * time.Second
	gcRandEvery = 300 * time.Second
)

// gcState is the table's collection bookkeeping (guarded by its lock).
type gcState struct {
	head, tail *entry
	entries    int           // entries on the list (gc_entries)
	failed     int           // of them FAILED or NOARP: taken whatever their age
	lastFlush  time.Duration // the last forced collection (last_flush)
	lastRand   time.Duration // the last reachable-time draw (last_rand)
	origin     time.Duration // the periodic work's first run; then every base/2
	timer      stack.Timer
	armed      bool
}

// gcInit starts the bookkeeping: the first periodic run falls a reachable
// time after the table is made, as neigh_table_init queues it.
func (t *Table) gcInit() {
	now := t.clock.Now()
	t.gc.lastFlush, t.gc.lastRand, t.gc.origin = now, now, now+t.reach
	t.gc.timer = t.clock.NewTimer(t.periodic)
}

// doomed: a state the collections take at any age.
func doomed(s NUDState) bool { return s == NUDFailed || s == NUDNoARP }

// admit is neigh_alloc's limit for a new entry at now: from GCThresh3, or
// from GCThresh2 when the last flush is more than 5 s old, a forced
// collection runs; at GCThresh3 one that frees nothing refuses the entry
// (counted in table_fulls). Locked.
func (t *Table) admit(now time.Duration) bool {
	p, k := t.params, t.gc.entries
	if k >= p.GCThresh3 || (k >= p.GCThresh2 && now > t.gc.lastFlush+gcForcedAge) {
		if !t.forcedGC(now) && k >= p.GCThresh3 {
			t.tableFulls.Add(1)
			return false
		}
	}
	return true
}

// forcedGC is neigh_forced_gc: oldest update first, it removes entries no
// timer holds that are FAILED or NOARP or were last updated more than 5 s
// ago, until the list is down to GCThresh2. It reports whether it freed
// any. Locked.
func (t *Table) forcedGC(now time.Duration) bool {
	t.forcedGCRuns.Add(1)
	budget := t.gc.entries - t.params.GCThresh2
	tref := now - gcForcedAge
	shrunk := 0
	for n, next := t.gc.head, (*entry)(nil); n != nil; n = next {
		next = n.gcNext
		if n.State&nudInTimer != 0 {
			continue
		}
		if n.updated >= tref && t.gc.failed == 0 {
			break // the list is in update order: the rest are younger
		}
		if doomed(n.State) || n.updated < tref {
			t.free(n)
			shrunk++
		}
		if shrunk >= budget {
			break
		}
	}
	t.gc.lastFlush = now
	return shrunk > 0
}

// periodic is neigh_periodic_work: every 300 s the reachable time is
// drawn again; from GCThresh1 entries on, each one no timer holds that is
// FAILED, or unused (its last use or confirmation) for GCStaleTime, is
// removed. It runs again base_reachable_time/2 later while there are
// entries to look at; an idle table has no timer running (Linux's work
// would find nothing), and the next entry re-arms it on the same grid.
func (t *Table) periodic() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.periodicGCRuns.Add(1)
	now := t.clock.Now()
	p := t.params
	if now > t.gc.lastRand+gcRandEvery {
		t.gc.lastRand = now
		t.reach = t.randReach()
	}
	if len(t.entries) >= p.GCThresh1 {
		for n, next := t.gc.head, (*entry)(nil); n != nil; n = next {
			next = n.gcNext
			if n.State&nudInTimer != 0 {
				continue
			}
			if n.Used < n.Confirmed && n.Confirmed <= now {
				n.Used = n.Confirmed
			}
			if n.State == NUDFailed || now >= n.Used+p.GCStaleTime {
				t.free(n)
			}
		}
	}
	t.gc.armed = false
	t.gcArm(now)
}

// free removes an entry a collection took. No timer holds it, so it has
// no queue (only INCOMPLETE entries queue). Locked.
func (t *Table) free(n *entry) { t.remove(n) }

// gcArm starts the periodic work's timer at the next point of its grid
// (origin, then every base_reachable_time/2) when there are entries to
// look at and it is not running. Locked.
func (t *Table) gcArm(now time.Duration) {
	if t.gc.armed || t.gc.entries == 0 {
		return
	}
	next, half := t.gc.origin, t.params.BaseReachable/2
	if now >= next {
		next += ((now-next)/half + 1) * half
	}
	t.gc.armed = true
	t.gc.timer.Reset(next - now)
}

// gcAdd puts a new entry at the list's tail. Locked.
func (t *Table) gcAdd(n *entry, now time.Duration) {
	n.onGC = true
	n.gcPrev, n.gcNext = t.gc.tail, nil
	if t.gc.tail != nil {
		t.gc.tail.gcNext = n
	} else {
		t.gc.head = n
	}
	t.gc.tail = n
	t.gc.entries++
	if n.gcDoomed = doomed(n.State); n.gcDoomed {
		t.gc.failed++
	}
	t.gcArm(now)
}

// gcUnlink takes n off the list. Locked.
func (t *Table) gcUnlink(n *entry) {
	if !n.onGC {
		return
	}
	if n.gcPrev != nil {
		n.gcPrev.gcNext = n.gcNext
	} else {
		t.gc.head = n.gcNext
	}
	if n.gcNext != nil {
		n.gcNext.gcPrev = n.gcPrev
	} else {
		t.gc.tail = n.gcPrev
	}
	n.gcPrev, n.gcNext, n.onGC = nil, nil, false
	t.gc.entries--
	if n.gcDoomed {
		t.gc.failed--
	}
}

// gcTouch follows n's change of state: the list stays in update order,
// and a PERMANENT entry leaves it. Locked.
func (t *Table) gcTouch(n *entry) {
	if !n.onGC {
		return
	}
	t.gcUnlink(n)
	if n.State != NUDPermanent {
		t.gcAdd(n, n.updated)
	}
}
