package ipv4

import (
	"fmt"
	"math/bits"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"vnic/stack"
)

// RouteType is a route's type (RTN_*), with rtnetlink's values.
type RouteType uint8

// The types.
const (
	RTNUnspec      RouteType = 0
	RTNUnicast     RouteType = 1
	RTNLocal       RouteType = 2
	RTNBroadcast   RouteType = 3
	RTNAnycast     RouteType = 4
	RTNMulticast   RouteType = 5
	RTNBlackhole   RouteType = 6
	RTNUnreachable RouteType = 7
	RTNProhibit    RouteType = 8
	RTNThrow       RouteType = 9
)

var routeTypeNames = map[RouteType]string{RTNUnspec: "unspec", RTNUnicast: "unicast", RTNLocal: "local", RTNBroadcast: "broadcast",
	RTNAnycast: "anycast", RTNMulticast: "multicast", RTNBlackhole: "blackhole", RTNUnreachable: "unreachable", RTNProhibit: "prohibit", RTNThrow: "throw"}

func (t RouteType) String() string {
	if s, ok := routeTypeNames[t]; ok {
		return s
	}
	return fmt.Sprintf("%d", uint8(t))
}

// ParseRouteType reads a type keyword of ip route.
func ParseRouteType(s string) (RouteType, bool) {
	for t, n := range routeTypeNames {
		if n == s {
			return t, true
		}
	}
	return 0, false
}

// Scope is a route's or address's scope (RT_SCOPE_*): how far the
// destination is.
type Scope uint8

// The scopes.
const (
	ScopeUniverse Scope = 0
	ScopeSite     Scope = 200
	ScopeLink     Scope = 253
	ScopeHost     Scope = 254
	ScopeNowhere  Scope = 255
)

func (s Scope) String() string {
	switch s {
	case ScopeUniverse:
		return "global"
	case ScopeSite:
		return "site"
	case ScopeLink:
		return "link"
	case ScopeHost:
		return "host"
	case ScopeNowhere:
		return "nowhere"
	}
	return fmt.Sprintf("%d", uint8(s))
}

// Routing table ids and route origins (RTPROT_*).
const (
	TableUnspec  = 0
	TableDefault = 253
	TableMain    = 254
	TableLocal   = 255

	ProtoUnspec = 0
	ProtoKernel = 2 // made by the kernel (addresses)
	ProtoBoot   = 3 // added by the administrator (ip route's default)
	ProtoStatic = 4
)

// Route is one routing entry: a fib_alias with its fib_info and single
// nexthop (multipath, nexthop objects and exceptions are the routing
// issue's).
type Route struct {
	Table    uint32
	Dst      [4]byte
	Len      uint8
	TOS      uint8
	Type     RouteType
	Scope    Scope
	Protocol uint8
	Priority uint32 // metric
	PrefSrc  [4]byte
	Gateway  [4]byte // zero: the destination is on-link
	Dev      *stack.NetDevice
	MTU      uint32 // RTAX_MTU, 0: the device's
	OnLink   bool

	cache *routeCache // set when the route enters a table
}

// routeCache holds a route's cached decisions (nh_rth_input,
// nh_pcpu_rth_output).
type routeCache struct{ in, out atomic.Pointer[stack.Dst] }

// Prefix returns the destination prefix.
func (r *Route) Prefix() netip.Prefix {
	return netip.PrefixFrom(netip.AddrFrom4(r.Dst), int(r.Len))
}

// Copy returns r's fields without its caches.
func (r *Route) Copy() Route {
	return Route{Table: r.Table, Dst: r.Dst, Len: r.Len, TOS: r.TOS, Type: r.Type, Scope: r.Scope, Protocol: r.Protocol,
		Priority: r.Priority, PrefSrc: r.PrefSrc, Gateway: r.Gateway, Dev: r.Dev, MTU: r.MTU, OnLink: r.OnLink}
}

// alive reports whether r's nexthop can be used: its device is up
// (fib_sync_down_dev marks it dead otherwise).
func (r *Route) alive() bool { return r.Dev == nil || r.Dev.IsUp() }

// fibTable is one table: routes by prefix length, then by masked
// destination; each list sorted as fib_alias: TOS descending, then
// priority ascending.
type fibTable struct {
	id     uint32
	lens   uint64 // bit l: some route has prefix length l
	byLen  [33]map[uint32][]*Route
	routes int
}

// fib is a namespace's tables (local, main, default, and any others).
type fib struct {
	mu              sync.RWMutex
	tables          map[uint32]*fibTable
	genid           atomic.Uint32 // bumped by every change: cached dsts check it
	lookups, misses stack.Counter
}

func (f *fib) init() {
	f.tables = map[uint32]*fibTable{}
	for _, id := range []uint32{TableLocal, TableMain, TableDefault} {
		f.tables[id] = &fibTable{id: id}
	}
}

// FlowKey is flowi4: what a route lookup is keyed by.
type FlowKey struct {
	Dst, Src [4]byte
	TOS      uint8
	Oif, Iif int
	Scope    Scope
	Proto    uint8
	Mark     uint32
}

// FibResult is fib_result: the matched route and what it says.
type FibResult struct {
	PrefixLen int
	Type      RouteType
	Scope     Scope
	Table     uint32
	Route     *Route // the alias and its nexthop
}

// errors for route types that refuse (fib_props[].error)
var typeErr = map[RouteType]syscall.Errno{
	RTNBlackhole: syscall.EINVAL, RTNUnreachable: syscall.EHOSTUNREACH, RTNProhibit: syscall.EACCES, RTNThrow: syscall.EAGAIN,
}

// lookup is fib_table_lookup on one table.
func (t *fibTable) lookup(fl *FlowKey) (*Route, int) {
	d := be32(fl.Dst)
	for lens := t.lens; lens != 0; {
		l := 63 - bits.LeadingZeros64(lens)
		lens &^= 1 << l
		list := t.byLen[l][d&maskOf(l)]
		for _, r := range list {
			if r.TOS != 0 && r.TOS != fl.TOS&^3 {
				continue
			}
			if r.Scope < fl.Scope {
				continue
			}
			if r.Type != RTNLocal && r.Type != RTNBroadcast && !r.alive() {
				continue
			}
			if fl.Oif != 0 && r.Dev != nil && r.Dev.Ifindex() != fl.Oif && r.Type == RTNUnicast {
				continue
			}
			return r, l
		}
	}
	return nil, 0
}

// Lookup is fib_lookup with the default rules: the local table, then
// main, then default (priorities 0, 32766, 32767); a throw route goes on
// to the next table. No match is ENETUNREACH; a refusing type returns
// its error with the result.
func (f *fib) Lookup(fl *FlowKey) (FibResult, error) {
	f.lookups.Add(1)
	f.mu.RLock()
	defer f.mu.RUnlock()
	for _, id := range [...]uint32{TableLocal, TableMain, TableDefault} {
		t := f.tables[id]
		r, l := t.lookup(fl)
		if r == nil {
			continue
		}
		if r.Type == RTNThrow {
			continue
		}
		res := FibResult{PrefixLen: l, Type: r.Type, Scope: r.Scope, Table: id, Route: r}
		if e, ok := typeErr[r.Type]; ok {
			return res, e
		}
		return res, nil
	}
	f.misses.Add(1)
	return FibResult{}, syscall.ENETUNREACH
}

// tableLookup finds the route one table holds for a (no key but the
// destination).
func (f *fib) tableLookup(id uint32, a [4]byte) *Route {
	f.mu.RLock()
	defer f.mu.RUnlock()
	t := f.tables[id]
	if t == nil {
		return nil
	}
	r, _ := t.lookup(&FlowKey{Dst: a})
	return r
}

// add inserts r (fib_table_insert). An entry with the same prefix, TOS,
// priority and table exists: EEXIST, or replaced when replace is set.
func (f *fib) insert(r *Route, replace bool) error {
	if r.Len > 32 {
		return fmt.Errorf("stack: route: prefix length %d: %w", r.Len, syscall.EINVAL)
	}
	r.Dst = from32(be32(r.Dst) & maskOf(int(r.Len)))
	r.cache = &routeCache{}
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.tables[r.Table]
	if t == nil {
		t = &fibTable{id: r.Table}
		f.tables[r.Table] = t
	}
	if t.byLen[r.Len] == nil {
		t.byLen[r.Len] = map[uint32][]*Route{}
	}
	key := be32(r.Dst)
	list := t.byLen[r.Len][key]
	for i, o := range list {
		if o.TOS == r.TOS && o.Priority == r.Priority && (o.Type == RTNLocal) == (r.Type == RTNLocal) && (r.Table != TableLocal || o.Type == r.Type) {
			if !replace {
				return fmt.Errorf("stack: route %v table %d: %w", r.Prefix(), r.Table, syscall.EEXIST)
			}
			list[i] = r
			f.genid.Add(1)
			return nil
		}
	}
	i := 0
	for i < len(list) && (list[i].TOS > r.TOS || list[i].TOS == r.TOS && list[i].Priority <= r.Priority) {
		i++
	}
	t.byLen[r.Len][key] = slices.Insert(slices.Clone(list), i, r)
	t.lens |= 1 << r.Len
	t.routes++
	f.genid.Add(1)
	return nil
}

// match says whether a delete request (fields left zero match anything,
// as fib_table_delete) selects r.
func (q *Route) match(r *Route) bool {
	return (q.TOS == 0 || q.TOS == r.TOS) && (q.Priority == 0 || q.Priority == r.Priority) &&
		(q.Type == RTNUnspec || q.Type == r.Type) && (q.Dev == nil || q.Dev == r.Dev) &&
		(q.Gateway == [4]byte{} || q.Gateway == r.Gateway) && (q.Protocol == 0 || q.Protocol == r.Protocol) &&
		(q.Scope == ScopeNowhere || q.Scope == r.Scope) && (q.PrefSrc == [4]byte{} || q.PrefSrc == r.PrefSrc)
}

// del removes the first route q matches (fib_table_delete); ESRCH when none.
func (f *fib) del(q *Route) (Route, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.tables[q.Table]
	if t == nil || q.Len > 32 || t.byLen[q.Len] == nil {
		return Route{}, fmt.Errorf("stack: route %v: %w", q.Prefix(), syscall.ESRCH)
	}
	key := be32(q.Dst) & maskOf(int(q.Len))
	list := t.byLen[q.Len][key]
	for i, r := range list {
		if q.match(r) {
			t.removeAt(q.Len, key, i)
			f.genid.Add(1)
			return r.Copy(), nil
		}
	}
	return Route{}, fmt.Errorf("stack: route %v: %w", q.Prefix(), syscall.ESRCH)
}

func (t *fibTable) removeAt(l uint8, key uint32, i int) {
	list := slices.Delete(slices.Clone(t.byLen[l][key]), i, i+1)
	if len(list) == 0 {
		delete(t.byLen[l], key)
		if len(t.byLen[l]) == 0 {
			t.lens &^= 1 << l
		}
	} else {
		t.byLen[l][key] = list
	}
	t.routes--
}

// removeKernel deletes the kernel routes an address made (fib_del_ifaddr).
func (f *fib) removeKernel(dev *stack.NetDevice, src [4]byte) []Route {
	return f.removeWhere(func(r *Route) bool { return r.Protocol == ProtoKernel && r.Dev == dev && r.PrefSrc == src })
}

// removeWhere deletes every route gone says should go, in every table,
// and returns them in notification order.
func (f *fib) removeWhere(gone func(*Route) bool) []Route {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Route
	for _, t := range f.tables {
		for l := 0; l <= 32; l++ {
			for key, list := range t.byLen[l] {
				for i := len(list) - 1; i >= 0; i-- {
					if gone(list[i]) {
						out = append(out, list[i].Copy())
						t.removeAt(uint8(l), key, i)
						list = t.byLen[l][key]
					}
				}
			}
		}
	}
	f.genid.Add(1)
	sortRoutes(out)
	return out
}

// sortRoutes orders routes as notifications about them go out: table
// descending (local first), then the longer prefix, then the address.
func sortRoutes(rs []Route) {
	slices.SortFunc(rs, func(a, b Route) int {
		switch {
		case a.Table != b.Table:
			return int(b.Table) - int(a.Table)
		case a.Len != b.Len:
			return int(b.Len) - int(a.Len)
		case be32(a.Dst) < be32(b.Dst):
			return -1
		case be32(a.Dst) > be32(b.Dst):
			return 1
		}
		return int(a.Type) - int(b.Type)
	})
}

// flushDev deletes every route through dev (fib_flush on unregister).
func (f *fib) flushDev(dev *stack.NetDevice) []Route {
	return f.removeWhere(func(r *Route) bool { return r.Dev == dev })
}

// dump returns table id's routes (every table for TableUnspec), most
// specific prefix first, then by address.
func (f *fib) dump(id uint32) []Route {
	f.mu.RLock()
	defer f.mu.RUnlock()
	var out []Route
	ids := make([]uint32, 0, len(f.tables))
	for tid := range f.tables {
		if id == TableUnspec || tid == id {
			ids = append(ids, tid)
		}
	}
	slices.Sort(ids)
	for _, tid := range ids {
		t := f.tables[tid]
		var rs []Route
		for l := 0; l <= 32; l++ {
			for _, list := range t.byLen[l] {
				for _, r := range list {
					rs = append(rs, r.Copy())
				}
			}
		}
		slices.SortStableFunc(rs, func(a, b Route) int {
			if be32(a.Dst) != be32(b.Dst) {
				if be32(a.Dst) < be32(b.Dst) {
					return -1
				}
				return 1
			}
			if a.Len != b.Len {
				return int(a.Len) - int(b.Len)
			}
			if a.TOS != b.TOS {
				return int(b.TOS) - int(a.TOS)
			}
			return int(a.Priority) - int(b.Priority)
		})
		out = append(out, rs...)
	}
	return out
}

// RouteAdd is ip route add (or replace): a user route in r.Table (main
// when 0). Unicast routes need a device or a gateway reachable on-link;
// the local table belongs to the kernel's address code only for local
// and broadcast types made there.
func (in *Inet) RouteAdd(r Route, replace bool) error {
	if r.Table == TableUnspec {
		r.Table = TableMain
	}
	if r.Type == RTNUnspec {
		r.Type = RTNUnicast
	}
	if r.Protocol == ProtoUnspec {
		r.Protocol = ProtoBoot
	}
	if r.Len > 32 {
		return fmt.Errorf("stack: route: prefix length %d: %w", r.Len, syscall.EINVAL)
	}
	if r.PrefSrc != ([4]byte{}) && !in.isLocalAddr(r.PrefSrc) {
		return fmt.Errorf("stack: route: preferred source %v is not local: %w", netip.AddrFrom4(r.PrefSrc), syscall.EINVAL)
	}
	switch r.Type {
	case RTNUnicast, RTNLocal, RTNBroadcast:
		if r.Gateway != ([4]byte{}) {
			if in.isLocalAddr(r.Gateway) {
				return fmt.Errorf("stack: route: gateway %v is a local address: %w", netip.AddrFrom4(r.Gateway), syscall.EINVAL)
			}
			if !r.OnLink {
				// fib_check_nh: the gateway must be reachable by a link-scope route.
				res, err := in.fib.Lookup(&FlowKey{Dst: r.Gateway, Oif: ifindexOf(r.Dev), Scope: ScopeLink})
				if err != nil || res.Type != RTNUnicast || res.Route.Gateway != ([4]byte{}) {
					return fmt.Errorf("stack: route: nexthop %v has invalid gateway: %w", netip.AddrFrom4(r.Gateway), syscall.ENETUNREACH)
				}
				if r.Dev == nil {
					r.Dev = res.Route.Dev
				} else if r.Dev != res.Route.Dev {
					return fmt.Errorf("stack: route: nexthop %v has invalid gateway: %w", netip.AddrFrom4(r.Gateway), syscall.ENETUNREACH)
				}
			} else if r.Dev == nil {
				return fmt.Errorf("stack: route: onlink needs a device: %w", syscall.EINVAL)
			}
			if r.Scope == ScopeNowhere || r.Scope == 0 {
				r.Scope = ScopeUniverse
			}
		} else {
			if r.Dev == nil {
				return fmt.Errorf("stack: route: no device and no gateway: %w", syscall.ENODEV)
			}
			if r.Scope == ScopeNowhere {
				r.Scope = ScopeLink
				if r.Type == RTNLocal {
					r.Scope = ScopeHost
				}
			}
		}
	default:
		if r.Scope == ScopeNowhere {
			r.Scope = ScopeUniverse
		}
		r.Dev, r.Gateway = nil, [4]byte{}
	}
	if r.Dev != nil {
		in.Attach(r.Dev)
	}
	if err := in.fib.insert(&r, replace); err != nil {
		return err
	}
	in.notify(InetEvent{Kind: EventNewRoute, Route: r.Copy(), Dev: r.Dev})
	return nil
}

// RouteDel is ip route del: the first route of r.Table (main when 0) at
// r's prefix that r's other set fields match; Scope ScopeNowhere matches
// any scope.
func (in *Inet) RouteDel(r Route) (Route, error) {
	if r.Table == TableUnspec {
		r.Table = TableMain
	}
	gone, err := in.fib.del(&r)
	if err != nil {
		return gone, err
	}
	in.notify(InetEvent{Kind: EventDelRoute, Route: gone, Dev: gone.Dev})
	return gone, nil
}

// Routes returns table id's routes (every table for TableUnspec).
func (in *Inet) Routes(id uint32) []Route { return in.fib.dump(id) }

// FibLookup runs a lookup (ip route get's first half).
func (in *Inet) FibLookup(fl FlowKey) (FibResult, error) { return in.fib.Lookup(&fl) }

// FibStats returns how many lookups ran and how many found no route.
func (in *Inet) FibStats() (lookups, misses uint64) {
	return in.fib.lookups.Load(), in.fib.misses.Load()
}

func ifindexOf(d *stack.NetDevice) int {
	if d == nil {
		return 0
	}
	return d.Ifindex()
}
