package fib

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"vnic/stack"
)

// Nexthop exceptions (fib_nh_exception): what a nexthop learnt about one
// destination behind it — a path MTU from fragmentation needed, a
// gateway from a redirect — kept in a hash of FNHEHashSize chains made
// the first time one is learnt, as nhc_exceptions.
const (
	FNHEHashSize     = 2048 // FNHE_HASH_SIZE
	FNHEReclaimDepth = 5    // FNHE_RECLAIM_DEPTH
)

// Exception is one destination's exception as a decision binds it: its
// values when read (the live entry changes under its table's lock).
type Exception struct {
	Daddr   [4]byte
	Gateway [4]byte // a redirect's gateway (stack/ipv4's takeRedirect)
	PMTU    uint32
	// MTULocked: the reported MTU was below min_pmtu, so PMTU is
	// min_pmtu and no later report lowers it (fnhe_mtu_locked).
	MTULocked bool
	// Expires is the host-clock time it lapses at (0: never).
	Expires time.Duration
}

// fnhe is an entry in a chain.
type fnhe struct {
	Exception
	genid uint32        // the exceptions' generation it was made or bound under
	stamp time.Duration // last made, updated or bound (the oldest goes first)
	next  *fnhe
	out   atomic.Pointer[stack.Dst] // fnhe_rth_output: the decision bound to it
}

// fnheTable is a nexthop's exceptions.
type fnheTable struct {
	mu     sync.Mutex
	chains [FNHEHashSize]*fnhe
}

// ExceptionHash picks the chain of daddr under key (fnhe_hashfun: Linux
// uses siphash with a boot-time key; this is a keyed mix of our own).
func ExceptionHash(daddr [4]byte, key uint64) uint32 {
	x := (uint64(daddr[0])<<24 | uint64(daddr[1])<<16 | uint64(daddr[2])<<8 | uint64(daddr[3])) ^ key
	x = (x ^ x>>31) * 0x7fb5d329728ea185
	x = (x ^ x>>27) * 0x81dadef4bc2dd44d
	x ^= x >> 33
	return uint32(x) & (FNHEHashSize - 1)
}

// ExceptionUpdate is what update_or_create_fnhe is told: the chain
// (ExceptionHash), the destination, the MTU (0: keep the entry's), its
// lock, when it lapses, the generation and time now, and the depth past
// which a full chain loses its oldest entries (FNHEReclaimDepth plus a
// random share below it, as Linux draws one per creation).
type ExceptionUpdate struct {
	Hash      uint32
	Daddr, GW [4]byte
	PMTU      uint32
	Lock      bool
	Expires   time.Duration
	Genid     uint32
	Now       time.Duration
	MaxDepth  int
}

// UpdateException is update_or_create_fnhe on the nexthop whose cache c
// is: the destination's exception takes the new values, or is made at
// the head of its chain, first taking the oldest entries out while the
// chain is deeper than u.MaxDepth. A decision already bound to an
// updated entry is dropped, so the next lookup binds the new values;
// a new entry makes the nexthop's cached decisions stale for its
// destination only, since lookups look for an exception first.
func (c *Cache) UpdateException(u ExceptionUpdate) {
	t := c.exc.Load()
	if t == nil {
		c.excInit.Lock()
		if t = c.exc.Load(); t == nil {
			t = new(fnheTable)
			c.exc.Store(t)
		}
		c.excInit.Unlock()
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	head := &t.chains[u.Hash&(FNHEHashSize-1)]
	depth := 0
	var e *fnhe
	for e = *head; e != nil; e = e.next {
		if e.Daddr == u.Daddr {
			break
		}
		depth++
	}
	if e != nil {
		e.genid = u.Genid
		if u.GW != ([4]byte{}) {
			e.Gateway = u.GW
		}
		if u.PMTU != 0 {
			e.PMTU, e.MTULocked = u.PMTU, u.Lock
		}
		e.Expires = max(1, u.Expires)
		e.out.Store(nil)
	} else {
		for ; depth > u.MaxDepth; depth-- {
			removeOldest(head)
		}
		e = &fnhe{Exception: Exception{Daddr: u.Daddr, Gateway: u.GW, PMTU: u.PMTU, MTULocked: u.Lock, Expires: max(1, u.Expires)}, genid: u.Genid, next: *head}
		*head = e
	}
	e.stamp = u.Now
}

// removeOldest is fnhe_remove_oldest: the chain's least recently stamped
// entry goes.
func removeOldest(head **fnhe) {
	var oldest **fnhe
	for p := head; *p != nil; p = &(*p).next {
		if oldest == nil || (*p).stamp < (*oldest).stamp {
			oldest = p
		}
	}
	if oldest != nil {
		(*oldest).out.Store(nil)
		*oldest = (*oldest).next
	}
}

// BindException is find_exception and rt_bind_exception for an output
// decision to daddr: the destination's exception, taken out once past its
// expiry (then ok is false). An entry made under an older generation
// (net.ipv4.route.flush since) is emptied first, as Linux empties it when
// a decision binds it, and stays, empty, with its stamp renewed. out is
// the decision bound to it under genid, if any; the caller stores a new
// one with StoreBound.
func (c *Cache) BindException(hash uint32, daddr [4]byte, genid uint32, now time.Duration) (x Exception, out *stack.Dst, ok bool) {
	t := c.exc.Load()
	if t == nil {
		return Exception{}, nil, false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	head := &t.chains[hash&(FNHEHashSize-1)]
	for p := head; *p != nil; p = &(*p).next {
		e := *p
		if e.Daddr != daddr {
			continue
		}
		if e.Expires != 0 && now > e.Expires {
			// ip_del_fnhe
			e.out.Store(nil)
			*p = e.next
			return Exception{}, nil, false
		}
		if e.genid != genid {
			e.genid = genid
			e.Gateway, e.PMTU, e.Expires, e.MTULocked = [4]byte{}, 0, 0, false
			e.out.Store(nil)
		}
		e.stamp = now
		return e.Exception, e.out.Load(), true
	}
	return Exception{}, nil, false
}

// HasExceptions reports whether the nexthop ever learnt one.
func (c *Cache) HasExceptions() bool { return c.exc.Load() != nil }

// StoreBound caches d as the decision bound to daddr's exception (rt_bind_exception's
// fnhe_rth_output), if the entry is still there.
func (c *Cache) StoreBound(hash uint32, daddr [4]byte, d *stack.Dst) {
	t := c.exc.Load()
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for e := t.chains[hash&(FNHEHashSize-1)]; e != nil; e = e.next {
		if e.Daddr == daddr {
			e.out.Store(d)
			return
		}
	}
}

// Exceptions lists the nexthop's exceptions as they stand, chain by chain
// (ip route show cache's source; tests).
func (c *Cache) Exceptions() []Exception {
	t := c.exc.Load()
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []Exception
	for _, e := range t.chains {
		for ; e != nil; e = e.next {
			out = append(out, e.Exception)
		}
	}
	return out
}

// ChainLen is how many exceptions chain hash holds (tests of reclaim).
func (c *Cache) ChainLen(hash uint32) int {
	t := c.exc.Load()
	if t == nil {
		return 0
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for e := t.chains[hash&(FNHEHashSize-1)]; e != nil; e = e.next {
		n++
	}
	return n
}

// MTULocked reports RTAX_MTU's bit in RTAX_LOCK (ip route … mtu lock N).
func (x Metrics) MTULocked() bool { return x.Val[rtaxLock]&(1<<rtaxMTU) != 0 }

// rtaxLock is RTAX_LOCK's number.
const rtaxLock = 1

// Nexthops are the nexthops of the route r's lookup ended at: every path of
// its multipath route, else r (fib_info_nhc over fib_info_num_path).
func (r *Route) Nexthops() []*Route {
	if p := r.parent; p != nil {
		return p.paths
	}
	if len(r.paths) > 0 {
		return r.paths
	}
	return []*Route{r}
}

// BoundException is an exception with the decision bound to it, for a
// dump (ip route show cache).
type BoundException struct {
	Route *Route // the nexthop's route (a path of a multipath route)
	Exception
	Out *stack.Dst
}

// BoundExceptions lists, table by table in trie order, the exceptions of
// table id's routes (every table for TableUnspec) made or bound under
// generation genid (not emptied by a flush since) that have not lapsed at
// now and have a decision bound to them, as fnhe_dump_bucket lists them.
func (f *Tables) BoundExceptions(id uint32, genid uint32, now time.Duration) []BoundException {
	f.mu.RLock()
	defer f.mu.RUnlock()
	ids := make([]uint32, 0, len(f.tables))
	for tid := range f.tables {
		if id == TableUnspec || tid == id {
			ids = append(ids, tid)
		}
	}
	slices.Sort(ids)
	var out []BoundException
	for _, tid := range ids {
		f.tables[tid].eachRoute(func(r *Route) {
			for _, nh := range r.Nexthops() {
				out = nh.Cache().appendBound(out, nh, genid, now)
			}
		})
	}
	return out
}

// appendBound adds c's live bound exceptions to out.
func (c *Cache) appendBound(out []BoundException, r *Route, genid uint32, now time.Duration) []BoundException {
	if c == nil {
		return out
	}
	t := c.exc.Load()
	if t == nil {
		return out
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, e := range t.chains {
		for ; e != nil; e = e.next {
			if e.genid != genid || e.Expires != 0 && now > e.Expires {
				continue
			}
			if d := e.out.Load(); d != nil {
				out = append(out, BoundException{Route: r, Exception: e.Exception, Out: d})
			}
		}
	}
	return out
}
