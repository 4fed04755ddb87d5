package conntrack

import (
	"sync"
	"sync/atomic"
	"time"

	"vnic/stack"
)

// The garbage collector's pacing (nf_conntrack_core.c's GC_SCAN_*): runs
// between 1 s and 60 s apart, sooner the sooner entries are due, each
// entry's remaining time clamped to 300 s, with a bias of 100 entries at
// the upper bound.
const (
	gcIntervalMin   = time.Second
	gcIntervalMax   = 60 * time.Second
	gcIntervalClamp = 300 * time.Second
	gcInitialCount  = 100
)

// gcWork is the garbage collector (struct conntrack_gc_work): it runs on
// the host's clock while the table holds entries, removes the expired ones
// and, after a packet found the table full with nothing to evict, the
// entries early_drop may evict (gc_worker_can_early_drop). Linux's worker
// runs for as long as the module is loaded; vnic's stops while the table
// is empty, so that an idle host's virtual clock runs out of events.
type gcWork struct {
	mu        sync.Mutex
	timer     stack.Timer
	armed     bool
	earlyDrop atomic.Bool
	runs      atomic.Uint64
}

// kick arms the collector when the first entry arrives.
func (g *gcWork) kick(n *Net) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.armed {
		return
	}
	if g.timer == nil {
		g.timer = n.clock.NewTimer(func() { n.gcWorker() })
	}
	g.armed = true
	g.timer.Reset(gcIntervalMax)
}

// gcWorker is gc_worker: one pass over every bucket. Entries that expired
// are deleted; when a full table had nothing to evict, so are those
// early_drop could take. The next pass comes after the average time the
// entries seen have left (between gcIntervalMin and gcIntervalMax).
func (n *Net) gcWorker() {
	g := &n.gc
	g.runs.Add(1)
	now := n.clock.Now()
	early := g.earlyDrop.Swap(false)
	next := gcIntervalMax
	count := gcInitialCount
	var victims []*Conn
	tab := n.tab.Load()
	for i := range tab.b {
		victims = victims[:0]
		l := i % conntrackLocks
		n.locks[l].Lock()
		for h := tab.b[i].Load(); h != nil; h = h.next.Load() {
			if h.dir() != Original {
				continue
			}
			ct := h.ct
			if ct.expired(now) || (early && ct.canEarlyDrop()) {
				victims = append(victims, ct)
				continue
			}
			left := min(max(time.Duration(ct.expires.Load())-now, gcIntervalMin), gcIntervalClamp)
			count++
			next += (left - next) / time.Duration(count)
		}
		n.locks[l].Unlock()
		for _, ct := range victims {
			n.Delete(ct)
		}
	}
	next = min(max(next, gcIntervalMin), gcIntervalMax)
	g.mu.Lock()
	defer g.mu.Unlock()
	if n.count.Load() == 0 {
		g.armed = false
		return
	}
	g.armed = true
	g.timer.Reset(next)
}

// canEarlyDrop is gc_worker_can_early_drop: not ASSURED, or a protocol
// state early_drop may take (TCP closing).
func (c *Conn) canEarlyDrop() bool {
	if c.Status()&StatusAssured == 0 {
		return true
	}
	if c.l4 == protoTCP {
		c.mu.Lock()
		defer c.mu.Unlock()
		return tcpCanEarlyDrop(c.proto.tcp.state)
	}
	return false
}
