package fib

import "vnic/stack"

// fibInfo is a fib_info: what the routes of one table with the same
// type, protocol, scope, preferred source, metric, metrics and nexthop
// have in common, held once for all of them (fib_create_info finds an
// equal one through fib_find_info and takes a reference instead of
// making another) and freed with the last route holding it. The
// nexthop's cached decisions and its exceptions live here, so routes
// sharing a nexthop share them as fib_nh's nh_pcpu_rth_output and
// nhc_exceptions are shared: a path MTU learnt through one route is the
// other's too.
//
// A multipath route's info is its own (each path has an info of its
// own, holding that path's caches), as is each multipath member's.
type fibInfo struct {
	key   infoKey
	refs  int
	cache Cache
	aux   leafAux // what the leaf of a route alone on its key points at (trie.go)
}

// infoKey is what fib_find_info compares. A route through a nexthop
// object is keyed by the object's id (its device and gateway are the
// object's, and change with it).
type infoKey struct {
	table    uint32
	typ      RouteType
	protocol uint8
	scope    Scope
	onLink   bool
	prefSrc  [4]byte
	gateway  [4]byte
	priority uint32
	nhID     uint32
	realms   uint32
	dev      *stack.NetDevice
	metrics  Metrics
}

// shares reports whether r's info can be shared: a single nexthop.
func (r *Route) sharesInfo() bool { return len(r.paths) == 0 }

func infoKeyOf(r *Route) infoKey {
	k := infoKey{table: r.Table, typ: r.Type, protocol: r.Protocol, scope: r.Scope, prefSrc: r.PrefSrc,
		priority: r.Priority, nhID: r.NhID, metrics: r.Metrics}
	if r.NhID == 0 {
		k.dev, k.gateway, k.onLink, k.realms = r.Dev, r.Gateway, r.OnLink, r.Realms
	}
	return k
}

// holdInfo gives r, about to enter a table, its info: an equal one's,
// with a reference more, or a new one.
func (f *Tables) holdInfo(r *Route) {
	if !r.sharesInfo() {
		r.fi = newFibInfo()
		return
	}
	k := infoKeyOf(r)
	if fi := f.infos[k]; fi != nil {
		fi.refs++
		r.fi = fi
		return
	}
	fi := newFibInfo()
	fi.key = k
	if f.infos == nil {
		f.infos = map[infoKey]*fibInfo{}
	}
	f.infos[k] = fi
	r.fi = fi
}

// releaseInfo drops the reference of r, which left its table, on its
// info; the last one takes the info out of the hash (r keeps it: its
// cached decisions may still point there, and they are stale by genid).
func (f *Tables) releaseInfo(r *Route) {
	fi := r.fi
	if fi == nil {
		return
	}
	if fi.refs--; fi.refs == 0 && r.sharesInfo() && f.infos[fi.key] == fi {
		delete(f.infos, fi.key)
	}
}

// InfoCount is how many shared fib_infos the tables hold (a multipath
// route's own is not counted).
func (f *Tables) InfoCount() int {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return len(f.infos)
}

// newFibInfo is an info held once, its leaf aux pointing back at it.
func newFibInfo() *fibInfo {
	fi := &fibInfo{refs: 1}
	fi.aux.fi = fi
	return fi
}
