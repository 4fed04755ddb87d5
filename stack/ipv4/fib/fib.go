// Package fib is IPv4's forwarding information base: the routing tables
// (local, main, default and any other), their routes with type, scope,
// TOS, metric, preferred source and one nexthop, and the lookup with the
// default rules (local, main, default; throw goes on). It knows devices and
// the core's Dst (for the per-route decision cache) but no packets: the
// IPv4 routing code turns a Result into a decision.
package fib

import (
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"vnic/header"
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
	// Metrics are the route's RTA_METRICS (RTAX_MTU, 0: the device's
	// MTU; TCP reads its own: advmss, initcwnd, initrwnd, window, rto_min,
	// quickack, congctl).
	Metrics Metrics
	OnLink  bool
	// Realms are the nexthop's realms (RTA_FLOW, fib_nh's nh_tclassid:
	// from<<16 | to), carried to its decisions (dst tclassid) for route
	// get to show; a multipath route's are its paths'.
	Realms uint32
	// NhID names a nexthop object (ip route … nhid N): Dev, Gateway and
	// OnLink are its, copied in when the route enters the table and when
	// the nexthop is replaced.
	NhID uint32

	nhBlackhole bool // NhID is a blackhole nexthop: the route refuses (EINVAL)
	dead        bool // a path killed while its device stayed up (SyncDownDev with force)

	// NHFlags are a single-path route's RTNH_F_DEAD and RTNH_F_LINKDOWN
	// as a copy (Copy, a dump) finds them; a multipath route's paths
	// have theirs (Path.Flags), the route none (as Linux 6.18 dumps it).
	NHFlags uint8

	// Multipath lists a route's paths when NhID is a group (a copy for
	// dumps: the members' devices, gateways and weights).
	Multipath []Path
	// paths are the group's members as routes of their own, each with
	// its own decision cache (nh_rth_output per fib_nh): a lookup that
	// ends at the route picks one by the flow's hash.
	paths   []*Route
	weight  uint16
	totalWt int
	parent  *Route    // a path's route
	res     *resTable // a resilient group's buckets choose the path (resilient.go)

	fi *fibInfo // set when the route enters a table (info.go)
}

// Path is one path of a multipath route.
type Path struct {
	Dev     *stack.NetDevice
	Gateway [4]byte
	OnLink  bool
	Weight  uint16
	Flags   uint8  // RTNH_F_DEAD, RTNH_F_LINKDOWN (a copy's)
	Realms  uint32 // RTA_FLOW of the path
}

// Nexthop flags (RTNH_F_*) a dump shows.
const (
	NHFDead     = 0x01
	NHFLinkdown = 0x10
)

// nhFlags are the marks fib_sync_down_dev leaves on a nexthop, read off
// its device: dead when it is down (or the path was killed), linkdown too
// and without carrier. A host-scope route's nexthop is never marked.
func (r *Route) nhFlags() uint8 {
	var f uint8
	if r.Scope == ScopeHost || r.Dev == nil {
		return 0
	}
	if !r.alive() {
		f |= NHFDead | NHFLinkdown
	}
	if !r.Dev.CarrierOK() {
		f |= NHFLinkdown
	}
	return f
}

// setNexthop copies nexthop object nh into the route that names it.
func (r *Route) setNexthop(nh *Nexthop) {
	r.Dev, r.Gateway, r.OnLink, r.nhBlackhole = nh.Dev, nh.Gateway, nh.OnLink, nh.Blackhole
}

// setGroup makes the route's paths the members of group g (byID finds
// them): a route each, with its own cache.
func (r *Route) setGroup(g *Nexthop, byID map[uint32]*Nexthop) {
	r.Dev, r.Gateway, r.OnLink, r.nhBlackhole = nil, [4]byte{}, false, false
	r.paths, r.totalWt, r.res = nil, 0, g.res
	for _, m := range g.Group {
		nh := byID[m.ID]
		if nh == nil {
			continue
		}
		p := &Route{Table: r.Table, Dst: r.Dst, Len: r.Len, TOS: r.TOS, Type: r.Type, Scope: r.Scope, Protocol: r.Protocol,
			Priority: r.Priority, PrefSrc: r.PrefSrc, Metrics: r.Metrics, NhID: r.NhID, weight: m.Weight, fi: newFibInfo(), parent: r}
		p.setNexthop(nh)
		r.paths = append(r.paths, p)
		r.totalWt += int(m.Weight)
	}
}

// setPaths makes the route's paths the given ones (a route added with
// RTA_MULTIPATH, fib_create_info's fib_nhs).
func (r *Route) setPaths(ps []Path) {
	r.Dev, r.Gateway, r.OnLink = nil, [4]byte{}, false
	r.paths, r.totalWt = nil, 0
	for _, pt := range ps {
		p := &Route{Table: r.Table, Dst: r.Dst, Len: r.Len, TOS: r.TOS, Type: r.Type, Scope: r.Scope, Protocol: r.Protocol,
			Priority: r.Priority, PrefSrc: r.PrefSrc, Metrics: r.Metrics, Dev: pt.Dev, Gateway: pt.Gateway, OnLink: pt.OnLink, Realms: pt.Realms, weight: max(pt.Weight, 1), fi: newFibInfo(), parent: r}
		r.paths = append(r.paths, p)
		r.totalWt += int(p.weight)
	}
}

// Entry is the table entry a lookup result stands for: the multipath
// route a path belongs to, else the route itself (ip route get fibmatch).
func (r *Route) Entry() *Route {
	if r.parent != nil {
		return r.parent
	}
	return r
}

// CustomRules reports whether a rule was added or deleted (lookups go
// through the rules; without, local and main answer as one table, as
// Linux's merged trie).
func (f *Tables) CustomRules() bool {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.customRules
}

// HasCustomRules is CustomRules without the table lock: once set it
// stays set (fib4_has_custom_rules), so a packet's path may read it
// alone.
func (f *Tables) HasCustomRules() bool { return f.hasRules.Load() }

// usesDev reports whether the route or one of its paths goes through d.
func (r *Route) usesDev(d *stack.NetDevice) bool {
	if r.Dev == d {
		return true
	}
	for _, p := range r.paths {
		if p.Dev == d {
			return true
		}
	}
	return false
}

// pickPath is the path of multipath route r a flow takes
// (fib_select_path): with an output device, the first live path through it
// (fib_table_lookup's nh_sel); otherwise the hash's choice.
func (r *Route) pickPath(fl *FlowKey, policy int32) *Route {
	if fl.Oif != 0 {
		for _, p := range r.paths {
			if p.alive() && p.Dev != nil && p.Dev.Ifindex() == fl.Oif {
				return p
			}
		}
		return nil
	}
	return r.selectPath(fl, policy)
}

// selectPath is fib_select_multipath: the path whose share of the hash
// space (in proportion to its weight) the flow's hash falls in, among the
// live ones; nil when none lives.
func (r *Route) selectPath(fl *FlowKey, policy int32) *Route {
	h := fl.multipathHash(policy)
	if r.res != nil {
		return r.res.path(r.paths, h)
	}
	total := 0
	for _, p := range r.paths {
		if p.alive() && !fl.skipsLinkdown(p) {
			total += int(p.weight)
		}
	}
	if total == 0 {
		return nil
	}
	point := uint64(h&0x7fffffff) * uint64(total) >> 31
	acc := uint64(0)
	for _, p := range r.paths {
		if !p.alive() || fl.skipsLinkdown(p) {
			continue
		}
		acc += uint64(p.weight)
		if point < acc {
			return p
		}
	}
	return nil
}

// multipathHash is fib_multipath_hash: policy 0 (layer 3) mixes the
// source and destination addresses, policy 1 (layer 4) the protocol and
// ports too (a fixed function: the same flow takes the same path in every
// run).
func (fl *FlowKey) multipathHash(policy int32) uint32 {
	h := header.IPv4Uint32(fl.Src)*0x9e3779b1 ^ header.IPv4Uint32(fl.Dst)
	if policy == 1 {
		h = (h^uint32(fl.Proto))*0x85ebca6b ^ (uint32(fl.Sport)<<16 | uint32(fl.Dport))
	}
	h ^= h >> 15
	h *= 0x2c1b3c6d
	h ^= h >> 12
	h *= 0x297a2d39
	h ^= h >> 15
	return h
}

// NexthopBlackhole reports a route through a blackhole nexthop object
// (its dump shows type blackhole, as fib_dump_info sets it).
func (r *Route) NexthopBlackhole() bool { return r.nhBlackhole }

// Cache holds a route's cached decisions (nh_rth_input,
// nh_pcpu_rth_output): the routing code's, of its own type behind the
// core's Dst, and the nexthop's exceptions (nhc_exceptions, made when the
// first is learnt).
type Cache struct {
	In, Out atomic.Pointer[stack.Dst]
	exc     atomic.Pointer[fnheTable]
	excInit sync.Mutex
}

// Cache returns r's decision cache (nil before r enters a table).
func (r *Route) Cache() *Cache {
	if r.fi == nil {
		return nil
	}
	return &r.fi.cache
}

// Prefix returns the destination prefix.
func (r *Route) Prefix() netip.Prefix {
	return netip.PrefixFrom(netip.AddrFrom4(r.Dst), int(r.Len))
}

// Copy returns r's fields without its caches.
func (r *Route) Copy() Route {
	c := Route{Table: r.Table, Dst: r.Dst, Len: r.Len, TOS: r.TOS, Type: r.Type, Scope: r.Scope, Protocol: r.Protocol,
		Priority: r.Priority, PrefSrc: r.PrefSrc, Gateway: r.Gateway, Dev: r.Dev, Metrics: r.Metrics, OnLink: r.OnLink, Realms: r.Realms, NhID: r.NhID, nhBlackhole: r.nhBlackhole}
	if len(r.paths) > 0 {
		c.Multipath = r.pathList()
	} else {
		c.NHFlags = r.nhFlags()
	}
	return c
}

// alive reports whether r's nexthop can be used: its device is up
// (fib_sync_down_dev marks it dead otherwise).
func (r *Route) alive() bool { return !r.dead && (r.Dev == nil || r.Dev.IsUp()) }

// table is one table: an LC-trie (trie.go) whose leaves hold a key's
// routes, the longest prefix first and those of one prefix as fib_alias
// sorts them: TOS descending, then priority ascending.
type table struct {
	id     uint32
	trie   *trie
	routes int
}

func newTable(id uint32) *table { return &table{id: id, trie: newTrie()} }

// prefixRange is where a leaf's routes rs hold prefix length l: rs[lo:hi].
func prefixRange(rs []*Route, l uint8) (lo, hi int) {
	for lo < len(rs) && rs[lo].Len > l {
		lo++
	}
	for hi = lo; hi < len(rs) && rs[hi].Len == l; hi++ {
	}
	return lo, hi
}

// Tables are a namespace's tables (local, main, default, and any others).
type Tables struct {
	mu              sync.RWMutex
	tables          map[uint32]*table
	genid           atomic.Uint32 // bumped by every change: cached dsts check it
	lookups, misses stack.Counter
	rules           []*Rule      // policy rules by priority (rules.go)
	hashPolicy      atomic.Int32 // fib_multipath_hash_policy: 0 layer 3, 1 layer 4
	nh              nexthops     // nexthop objects (nexthop.go)
	// Loopback is the namespace's loopback device: a blackhole nexthop's.
	Loopback    *stack.NetDevice
	customRules bool        // a rule was added or deleted: lookups go through them
	hasRules    atomic.Bool // customRules, read without the lock (HasCustomRules)
	fixed       [len(fixedIDs)]*table
	l3mdevOf    L3mdevOf
	l3mdevRules bool // some rule is an l3mdev rule: flows are given their domain
	ignoreLD    func(*stack.NetDevice) bool
	infos       map[infoKey]*fibInfo // the shared fib_infos (info.go)
}

// fixedIDs are the tables the default rules look in, in their order.
var fixedIDs = [...]uint32{TableLocal, TableMain, TableDefault}

func (f *Tables) Init() {
	f.tables = map[uint32]*table{}
	for i, id := range fixedIDs {
		f.fixed[i] = newTable(id)
		f.tables[id] = f.fixed[i]
	}
	f.rules = defaultRules()
}

// FlowKey is flowi4: what a route lookup is keyed by.
type FlowKey struct {
	Dst, Src [4]byte
	TOS      uint8
	Oif, Iif int
	Scope    Scope
	Proto    uint8
	Mark     uint32
	UID      uint32
	Sport    uint16 // for rules with port ranges
	Dport    uint16

	// IgnoreLinkState is FIB_LOOKUP_IGNORE_LINKSTATE (source
	// validation): nexthops without carrier count whatever
	// ignore_routes_with_linkdown says.
	IgnoreLinkState bool

	l3mdev uint32                      // flowi_l3mdev as the L3 domain's table (rules.go)
	ignLD  func(*stack.NetDevice) bool // the tables' ignore_routes_with_linkdown, set by the lookup
}

// skipsLinkdown is fib_lookup_good_nhc's linkdown test: a nexthop
// marked linkdown (its device has no carrier; never a host-scope route's)
// is passed over when its device ignores routes with linkdown.
func (fl *FlowKey) skipsLinkdown(r *Route) bool {
	return fl.ignLD != nil && !fl.IgnoreLinkState && r.Dev != nil && r.Scope != ScopeHost && !r.Dev.CarrierOK() && fl.ignLD(r.Dev)
}

// Result is fib_result: the matched route and what it says.
type Result struct {
	PrefixLen int
	Type      RouteType
	Scope     Scope
	Table     uint32
	Route     *Route // the alias and its nexthop
	// RuleRealms are the realms of the rule that chose the table
	// (fib4_rule_action's res->tclassid): a decision takes the halves
	// its route's realms leave zero (set_class_tag).
	RuleRealms uint32
}

// ClassTag is set_class_tag: realms with their zero halves filled from
// tag's.
func ClassTag(realms, tag uint32) uint32 {
	if realms&0xffff == 0 {
		realms |= tag & 0xffff
	}
	if realms&0xffff0000 == 0 {
		realms |= tag & 0xffff0000
	}
	return realms
}

// typeRefuses is the error of a route type that refuses
// (fib_props[].error).
func typeRefuses(t RouteType) (syscall.Errno, bool) {
	switch t {
	case RTNBlackhole:
		return syscall.EINVAL, true
	case RTNUnreachable:
		return syscall.EHOSTUNREACH, true
	case RTNProhibit:
		return syscall.EACCES, true
	case RTNThrow:
		return syscall.EAGAIN, true
	}
	return 0, false
}

// lookup is fib_table_lookup on one table.
func (t *table) lookup(fl *FlowKey) hit {
	return hitOf(t.trie.lookup(header.IPv4Uint32(fl.Dst), fl))
}

// result is the Result of a hit in table id, and the error of a type
// that refuses; a multipath route answers with the path fl hashes to.
func (f *Tables) result(id uint32, h hit, fl *FlowKey) (Result, error) {
	res, err := h.result(id)
	if err == nil {
		f.pick(&res, h, fl)
	}
	return res, err
}

// result is h as found in table id, before a path is picked.
func (h hit) result(id uint32) (Result, error) {
	res := Result{PrefixLen: int(h.plen), Type: h.typ, Scope: h.scope, Table: id, Route: h.r}
	if e, ok := typeRefuses(h.typ); ok {
		return res, e
	}
	if !h.simple && h.r.nhBlackhole {
		return res, syscall.EINVAL
	}
	return res, nil
}

// pick replaces a multipath route by the path fl hashes to.
func (f *Tables) pick(res *Result, h hit, fl *FlowKey) {
	if !h.simple && len(h.r.paths) > 0 {
		res.Route = h.r.pickPath(fl, f.hashPolicy.Load())
	}
}

// acceptsSimple is accepts for a leaf's simple first route, read from
// the leaf and its info.
func (fl *FlowKey) acceptsSimple(l *leaf) bool {
	if l.tos != 0 && l.tos != fl.TOS&tosRTMask {
		return false
	}
	k := &l.aux.fi.key
	if k.scope < fl.Scope {
		return false
	}
	if k.dev == nil {
		return true
	}
	if t := RouteType(l.kind & leafTypeMask); t != RTNLocal && t != RTNBroadcast && !k.dev.IsUp() {
		return false
	}
	if fl.ignLD != nil && !fl.IgnoreLinkState && k.scope != ScopeHost && !k.dev.CarrierOK() && fl.ignLD(k.dev) {
		return false
	}
	return fl.Oif == 0 || k.dev.Ifindex() == fl.Oif
}

// accepts is the alias and nexthop test fib_table_lookup applies to a
// route whose prefix covers the destination.
func (fl *FlowKey) accepts(r *Route) bool {
	if r.TOS != 0 && r.TOS != fl.TOS&tosRTMask {
		return false
	}
	if r.Scope < fl.Scope {
		return false
	}
	if len(r.paths) > 0 {
		// A multipath route: some path lives (through the output device,
		// if the flow names one).
		return slices.ContainsFunc(r.paths, func(p *Route) bool {
			return p.alive() && !fl.skipsLinkdown(p) && (fl.Oif == 0 || p.Dev != nil && p.Dev.Ifindex() == fl.Oif)
		})
	}
	if r.Type != RTNLocal && r.Type != RTNBroadcast && !r.alive() {
		return false
	}
	if fl.skipsLinkdown(r) {
		return false
	}
	// fib_table_lookup: a flow with an output device takes only routes
	// through it, whatever their type (a local route's device is the one
	// holding the address).
	if fl.Oif != 0 && r.Dev != nil && r.Dev.Ifindex() != fl.Oif {
		return false
	}
	return true
}

// Lookup is fib_lookup. With the default rules local and main answer as
// one table, as Linux's merged trie does while no rule was added
// (fib_new_table aliases local to main; fib_unmerge splits them at the
// first rule): the longest prefix of either, local's first at the same
// length; then default (priority 32767). Once a rule was added or deleted
// it goes through the rules (rules.go), local (priority 0) before main. A
// throw route goes on to the next table or rule — from the merged pair,
// to default. No match is ENETUNREACH; a refusing type returns its error
// with the result.
func (f *Tables) Lookup(fl *FlowKey) (Result, error) {
	f.lookups.Add(1)
	f.mu.RLock()
	defer f.mu.RUnlock()
	fl.ignLD = f.ignoreLD
	if f.customRules {
		res, err := f.lookupRules(fl)
		if err == syscall.ENETUNREACH && res.Route == nil {
			f.misses.Add(1)
		}
		return res, err
	}
	i, r, sl := f.mergedLookup(fl)
	if r == nil || hitType(r, sl) == RTNThrow {
		i = 2
		if r, sl = f.fixed[2].trie.lookup(header.IPv4Uint32(fl.Dst), fl); r == nil || hitType(r, sl) == RTNThrow {
			f.misses.Add(1)
			return Result{}, syscall.ENETUNREACH
		}
	}
	if sl == nil {
		return f.result(fixedIDs[i], hitOf(r, nil), fl)
	}
	// The common case, read from the leaf.
	typ := RouteType(sl.kind & leafTypeMask)
	res := Result{PrefixLen: int(sl.plen), Type: typ, Scope: sl.aux.fi.key.scope, Table: fixedIDs[i], Route: r}
	if e, ok := typeRefuses(typ); ok {
		return res, e
	}
	return res, nil
}

// mergedLookup is a lookup in Linux's merged local and main trie: the
// longest prefix of either, local's at the same length; i is the table's
// index in fixed (0 local, 1 main). f.mu is held.
func (f *Tables) mergedLookup(fl *FlowKey) (i int, r *Route, sl *leaf) {
	key := header.IPv4Uint32(fl.Dst)
	r, sl = f.fixed[0].trie.lookup(key, fl)
	if r == nil || hitLen(r, sl) < 32 { // nothing is longer than a /32
		if mr, msl := f.fixed[1].trie.lookup(key, fl); mr != nil && (r == nil || hitLen(mr, msl) > hitLen(r, sl)) {
			return 1, mr, msl
		}
	}
	return 0, r, sl
}

// hitLen and hitType are a trie lookup's answer's prefix length and
// type: read from leaf sl when r is its simple first route. (Lookup does
// not build hitOf's struct for the comparison: measured, that costs it a
// fifth, BenchmarkLookup 94-100 against 118-119 ns.)
func hitLen(r *Route, sl *leaf) uint8 {
	if sl != nil {
		return sl.plen
	}
	return r.Len
}

func hitType(r *Route, sl *leaf) RouteType {
	if sl != nil {
		return RouteType(sl.kind & leafTypeMask)
	}
	return r.Type
}

// TableLookup is fib_table_lookup in table id for a (no key but the
// destination) as inet_addr_type, __ip_dev_find and their kin ask it:
// the route, or nil for none or a refusing type (blackhole, unreachable,
// prohibit and throw are errors to fib_table_lookup, so to them the
// address is unicast). While no rule was added, local's trie is main's
// too (fib_new_table aliases them), so in the local table a main route
// can answer: a longer unicast prefix in main makes an address of a local
// range unicast, a local or broadcast route added to main makes its
// addresses local or broadcast.
func (f *Tables) TableLookup(id uint32, a [4]byte) *Route {
	f.mu.RLock()
	defer f.mu.RUnlock()
	fl := &FlowKey{Dst: a, ignLD: f.ignoreLD}
	var r *Route
	switch t := f.tables[id]; {
	case id == TableLocal && !f.customRules:
		_, r, _ = f.mergedLookup(fl)
	case t != nil:
		r = t.lookup(fl).r
	}
	if r == nil {
		return nil
	}
	if _, refuses := typeRefuses(r.Type); refuses {
		return nil
	}
	return r
}

// LookupTable is fib_table_lookup on one table for the flow fl (its
// scope, output device and the rest as Lookup takes them): the route, or
// ENETUNREACH when the table has none or no such table exists, or the
// refusing type's error.
func (f *Tables) LookupTable(id uint32, fl *FlowKey) (Result, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	t := f.tables[id]
	if t == nil {
		return Result{}, syscall.ENETUNREACH
	}
	fl.ignLD = f.ignoreLD
	h := t.lookup(fl)
	if h.r == nil {
		return Result{}, syscall.ENETUNREACH
	}
	return f.result(id, h, fl)
}

// Insert adds r as ip route add (replace false: a route of its key is
// EEXIST) or ip route replace does (InsertHow).
func (f *Tables) Insert(r *Route, replace bool) error {
	if replace {
		return f.InsertHow(r, How{Replace: true, Create: true})
	}
	return f.InsertHow(r, How{Excl: true, Create: true})
}

// How says what InsertHow does when the table has routes with the new
// route's key (prefix, TOS, priority): RTM_NEWROUTE's NLM_F_* flags.
type How struct {
	Replace bool // NLM_F_REPLACE: the new route takes the first one's place
	Excl    bool // NLM_F_EXCL: refuse (EEXIST)
	Append  bool // NLM_F_APPEND: after them (else before: ip route prepend)
	Create  bool // NLM_F_CREATE: without such a route, make one (else ENOENT)
}

// InsertHow is fib_table_insert: with routes of r's key present, Excl
// refuses, Replace replaces the first, and otherwise r goes after
// (Append) or before them unless one of them is the same route (EEXIST).
// Without one, Create adds r in its place (TOS descending, then priority
// ascending) and its absence is ENOENT (ip route change of a missing
// route).
func (f *Tables) InsertHow(r *Route, how How) error {
	if r.Len > 32 {
		return fmt.Errorf("stack: route: prefix length %d: %w", r.Len, syscall.EINVAL)
	}
	r.Dst = header.IPv4FromUint32(header.IPv4Uint32(r.Dst) & header.IPv4Mask(int(r.Len)))
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.NhID != 0 {
		nh := f.nh.byID[r.NhID]
		switch {
		case nh == nil:
			return nhErr(syscall.EINVAL, "Nexthop id does not exist")
		case nh.IsGroup():
			r.setGroup(nh, f.nh.byID)
		default:
			r.setNexthop(nh)
		}
	} else if len(r.Multipath) > 0 {
		r.setPaths(r.Multipath)
	}
	t := f.tables[r.Table]
	if t == nil {
		if !how.Create {
			return fmt.Errorf("stack: route %v table %d: %w", r.Prefix(), r.Table, syscall.ENOENT)
		}
		t = newTable(r.Table)
		f.tables[r.Table] = t
	}
	key := header.IPv4Uint32(r.Dst)
	id, tp, found := t.trie.find(key)
	var leaf *leaf
	var all, list []*Route // the key's routes; those of r's length
	var lo int
	var buf [8]*Route
	if found {
		leaf = t.trie.leafOf(id)
		all = t.trie.routesOf(leaf, buf[:])
		var hi int
		lo, hi = prefixRange(all, r.Len)
		list = all[lo:hi]
	}
	sameKey := func(o *Route) bool {
		return o.TOS == r.TOS && o.Priority == r.Priority && (o.Type == RTNLocal) == (r.Type == RTNLocal) && (r.Table != TableLocal || o.Type == r.Type)
	}
	first := slices.IndexFunc(list, sameKey)
	var i int
	switch {
	case first >= 0 && how.Excl:
		return fmt.Errorf("stack: route %v table %d: %w", r.Prefix(), r.Table, syscall.EEXIST)
	case first >= 0 && how.Replace:
		f.releaseInfo(list[first])
		f.holdInfo(r)
		list[first] = r
		t.trie.setRoutes(leaf, all)
		f.genid.Add(1)
		return nil
	case first >= 0:
		last := first
		for j := first; j < len(list) && sameKey(list[j]); j++ {
			if list[j].sameAs(r) {
				return fmt.Errorf("stack: route %v table %d: %w", r.Prefix(), r.Table, syscall.EEXIST)
			}
			last = j
		}
		i = first
		if how.Append {
			i = last + 1
		}
	case !how.Create:
		return fmt.Errorf("stack: route %v table %d: %w", r.Prefix(), r.Table, syscall.ENOENT)
	default:
		for i < len(list) && (list[i].TOS > r.TOS || list[i].TOS == r.TOS && list[i].Priority <= r.Priority) {
			i++
		}
	}
	f.holdInfo(r)
	if leaf == nil {
		t.trie.insert(tp, key, r)
		t.trie.maybeCompact()
	} else {
		old := leaf.slen
		t.trie.setRoutes(leaf, slices.Insert(all, lo+i, r))
		t.trie.changed(id, old)
	}
	t.routes++
	f.genid.Add(1)
	return nil
}

// sameAs reports whether o and r are the same route (the alias and its
// fib_info), not merely of one key: what append and prepend refuse.
func (o *Route) sameAs(r *Route) bool {
	return o.Type == r.Type && o.Scope == r.Scope && o.Gateway == r.Gateway && o.Dev == r.Dev &&
		o.PrefSrc == r.PrefSrc && o.Metrics == r.Metrics && o.Protocol == r.Protocol && o.Realms == r.Realms
}

// match says whether a delete request selects r (fib_table_delete): the
// TOS exactly, and the fields and metrics the request sets (zero matches
// anything; ScopeNowhere any scope).
func (q *Route) match(r *Route) bool {
	return q.TOS == r.TOS && (q.Type == RTNUnspec || q.Type == r.Type) && (q.Scope == ScopeNowhere || q.Scope == r.Scope) &&
		(q.PrefSrc == [4]byte{} || q.PrefSrc == r.PrefSrc) && (q.Protocol == 0 || q.Protocol == r.Protocol) && q.nhMatch(r) && q.metricsMatch(r)
}

// nhMatch is fib_nh_match: the metric, then a nexthop id, else the
// device and gateway against the route's first path, else the request's
// paths against the route's in order (a device or gateway a path leaves
// out matches any; a request with more paths than the route matches on
// the route's, one with fewer does not match). A route naming a nexthop
// object matches only a request without nexthop attributes.
func (q *Route) nhMatch(r *Route) bool {
	if q.Priority != 0 && q.Priority != r.Priority {
		return false
	}
	if q.NhID != 0 {
		return r.NhID == q.NhID
	}
	if r.NhID != 0 {
		// A nexthop object's route matches on no nexthop attributes.
		return q.Dev == nil && q.Gateway == [4]byte{} && len(q.Multipath) == 0
	}
	paths := r.pathList()
	if q.Dev != nil || q.Gateway != ([4]byte{}) {
		p := paths[0]
		return (q.Dev == nil || q.Dev == p.Dev) && (q.Gateway == [4]byte{} || q.Gateway == p.Gateway) &&
			(q.Realms == 0 || q.Realms == p.Realms) // realms count only beside a device or gateway
	}
	if len(q.Multipath) == 0 {
		return true
	}
	if len(q.Multipath) < len(paths) {
		return false
	}
	for i, p := range paths {
		h := q.Multipath[i]
		if h.Dev != nil && h.Dev != p.Dev || h.Gateway != ([4]byte{}) && h.Gateway != p.Gateway || h.Realms != 0 && h.Realms != p.Realms {
			return false
		}
	}
	return true
}

// pathList is r's paths as Paths: its own nexthop for a single-path route.
func (r *Route) pathList() []Path {
	if len(r.paths) == 0 {
		return []Path{{Dev: r.Dev, Gateway: r.Gateway, OnLink: r.OnLink, Weight: 1, Realms: r.Realms}}
	}
	ps := make([]Path, len(r.paths))
	for i, p := range r.paths {
		ps[i] = Path{Dev: p.Dev, Gateway: p.Gateway, OnLink: p.OnLink, Weight: p.weight, Flags: p.nhFlags(), Realms: p.Realms}
	}
	return ps
}

// SetIgnoreLinkdown installs the host's ignore_routes_with_linkdown
// (IN_DEV_IGNORE_ROUTES_WITH_LINKDOWN of a device).
func (f *Tables) SetIgnoreLinkdown(ign func(*stack.NetDevice) bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ignoreLD = ign
	f.genid.Add(1)
}

// dumpCopy is r as a dump shows it: fib_dump_info marks a linkdown
// nexthop dead too when its device ignores routes with linkdown.
func (f *Tables) dumpCopy(r *Route) Route {
	c := r.Copy()
	if f.ignoreLD == nil {
		return c
	}
	if c.NHFlags&NHFLinkdown != 0 && c.Dev != nil && f.ignoreLD(c.Dev) {
		c.NHFlags |= NHFDead
	}
	for i := range c.Multipath {
		if p := &c.Multipath[i]; p.Flags&NHFLinkdown != 0 && p.Dev != nil && f.ignoreLD(p.Dev) {
			p.Flags |= NHFDead
		}
	}
	return c
}

// del removes the first route q matches (fib_table_delete); ESRCH when none.
func (f *Tables) Delete(q *Route) (Route, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.tables[q.Table]
	if t == nil || q.Len > 32 {
		return Route{}, fmt.Errorf("stack: route %v: %w", q.Prefix(), syscall.ESRCH)
	}
	if id, _, ok := t.trie.find(header.IPv4Uint32(q.Dst) & header.IPv4Mask(int(q.Len))); ok {
		var buf [8]*Route
		all := t.trie.routesOf(t.trie.leafOf(id), buf[:])
		lo, hi := prefixRange(all, q.Len)
		for _, r := range all[lo:hi] {
			if q.match(r) {
				c := r.Copy()
				f.removeRoute(t, id, r)
				t.trie.maybeCompact()
				f.genid.Add(1)
				return c, nil
			}
		}
	}
	return Route{}, fmt.Errorf("stack: route %v: %w", q.Prefix(), syscall.ESRCH)
}

// removeRoute deletes route r of leaf id, and the leaf when it was the
// last.
func (f *Tables) removeRoute(t *table, id uint32, r *Route) {
	l := t.trie.leafOf(id)
	old := l.slen
	t.trie.drop(l, r)
	f.releaseInfo(r)
	if l.first == nil {
		t.trie.remove(id, old)
	} else {
		t.trie.changed(id, old)
	}
	t.routes--
}

// eachRoute calls fn for every route of t, in key order; fn may change
// the routes' fields but not the table.
func (t *table) eachRoute(fn func(r *Route)) {
	var buf [8]*Route
	t.trie.walk(func(l *leaf) {
		for _, r := range t.trie.routesOf(l, buf[:]) {
			fn(r)
		}
	})
}

// removeKernel deletes the kernel routes an address made (fib_del_ifaddr).
func (f *Tables) RemoveKernel(dev *stack.NetDevice, src [4]byte) []Route {
	return f.RemoveWhere(func(r *Route) bool { return r.Protocol == ProtoKernel && r.Dev == dev && r.PrefSrc == src })
}

// removeWhere deletes every route gone says should go, in every table,
// and returns them in notification order.
func (f *Tables) RemoveWhere(gone func(*Route) bool) []Route {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.removeWhereLocked(gone)
}

func (f *Tables) removeWhereLocked(gone func(*Route) bool) []Route {
	var out []Route
	type doomed struct {
		id uint32
		r  *Route
	}
	for _, t := range f.tables {
		var buf [8]*Route
		var goners []doomed
		ids := t.trie.leafIDs()
		for _, id := range ids {
			rs := t.trie.routesOf(t.trie.leafOf(id), buf[:])
			for i := len(rs) - 1; i >= 0; i-- {
				if gone(rs[i]) {
					out = append(out, rs[i].Copy())
					goners = append(goners, doomed{id, rs[i]})
				}
			}
		}
		if len(goners) >= rebuildMin && 2*len(goners) >= t.routes {
			// Most of a big table goes (a device with the routes through
			// it, a flush): the rest is put in a new trie, which costs
			// what is left rather than a rebalance per route gone.
			for _, g := range goners {
				t.trie.drop(t.trie.leafOf(g.id), g.r)
				f.releaseInfo(g.r)
			}
			t.routes -= len(goners)
			t.trie = t.trie.rebuilt(ids)
			continue
		}
		for _, g := range goners {
			f.removeRoute(t, g.id, g.r)
		}
		t.trie.maybeCompact()
	}
	f.genid.Add(1)
	sortRoutes(out)
	return out
}

// rebuildMin is the fewest routes gone at once worth rebuilding a trie
// for.
const rebuildMin = 4096

// sortRoutes orders routes as notifications about them go out: table
// descending (local first), then the longer prefix, then the address.
func sortRoutes(rs []Route) {
	slices.SortFunc(rs, func(a, b Route) int {
		switch {
		case a.Table != b.Table:
			return int(b.Table) - int(a.Table)
		case a.Len != b.Len:
			return int(b.Len) - int(a.Len)
		case header.IPv4Uint32(a.Dst) < header.IPv4Uint32(b.Dst):
			return -1
		case header.IPv4Uint32(a.Dst) > header.IPv4Uint32(b.Dst):
			return 1
		}
		return int(a.Type) - int(b.Type)
	})
}

// SyncDownDev is fib_sync_down_dev and fib_flush for device d going down
// (force false) or losing its last address (force): every nexthop through
// d dies (a host-scope route's only with force), and the routes left
// without a live nexthop are deleted and returned (fib_flush sends no
// notification). Routes through nexthop objects are the nexthop code's.
func (f *Tables) SyncDownDev(d *stack.NetDevice, force bool) []Route {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.removeWhereLocked(func(r *Route) bool {
		if r.NhID != 0 || !r.usesDev(d) {
			return false
		}
		if len(r.paths) == 0 {
			return force || r.Scope != ScopeHost
		}
		live := 0
		for _, p := range r.paths {
			if p.Dev == d {
				p.dead = true
			}
			if p.alive() {
				live++
			}
		}
		return live == 0
	})
}

// SyncUp is fib_sync_up: the paths through d that SyncDownDev killed live
// again (once d is up).
func (f *Tables) SyncUp(d *stack.NetDevice) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, t := range f.tables {
		t.eachRoute(func(r *Route) {
			for _, p := range r.paths {
				if p.Dev == d {
					p.dead = false
				}
			}
		})
	}
	f.genid.Add(1)
}

// flushDev deletes every route through dev (fib_flush on unregister).
func (f *Tables) FlushDev(dev *stack.NetDevice) []Route {
	// A path through the device kills the whole route (fib_sync_down_dev
	// with force on unregister).
	return f.RemoveWhere(func(r *Route) bool { return r.usesDev(dev) })
}

// Dump returns table id's routes (every table for TableUnspec): DumpFrom's
// walk in one go (tables by id, addresses ascending, the shorter prefix
// first, each prefix's routes in their order).
func (f *Tables) Dump(id uint32) []Route {
	var out []Route
	var c DumpCursor
	f.DumpFrom(id, &c, func(r Route) bool {
		out = append(out, r)
		return true
	})
	return out
}

// Genid is the tables' generation: every change bumps it, and a cached
// decision made under another one is stale.
func (f *Tables) Genid() uint32 { return f.genid.Load() }

// BumpGenid makes every cached decision stale (rt_cache_flush's
// rt_genid_bump_ipv4).
func (f *Tables) BumpGenid() { f.genid.Add(1) }

// Stats returns how many lookups ran and how many found no route.
func (f *Tables) Stats() (lookups, misses uint64) { return f.lookups.Load(), f.misses.Load() }

// DumpCursor is where a dump goes on (a netlink_callback's args): the
// table, the key, the prefix length and the index among that prefix's
// routes of the next route to send.
type DumpCursor struct {
	Table, Key uint32
	Len        uint8
	Idx        int
}

// DumpFrom is Dump one batch at a time: it calls fn with each route of
// table id (every table for TableUnspec) in Dump's order from c on, until
// fn returns false, and leaves c at the route fn refused. It reports
// whether the dump is complete. The tables may change between calls, as
// between the batches of a kernel dump.
func (f *Tables) DumpFrom(id uint32, c *DumpCursor, fn func(Route) bool) bool {
	f.mu.RLock()
	defer f.mu.RUnlock()
	ids := make([]uint32, 0, len(f.tables))
	for tid := range f.tables {
		if (id == TableUnspec || tid == id) && tid >= c.Table {
			ids = append(ids, tid)
		}
	}
	slices.Sort(ids)
	for _, tid := range ids {
		if tid != c.Table {
			*c = DumpCursor{Table: tid}
		}
		var buf [8]*Route
		ok := f.tables[tid].trie.walkFrom(c.Key, func(leaf *leaf) bool {
			if leaf.key != c.Key {
				c.Key, c.Len, c.Idx = leaf.key, 0, 0
			}
			// The leaf holds the longest prefix first; the dump wants
			// the shortest first, each prefix's routes in their order.
			rs := f.tables[tid].trie.routesOf(leaf, buf[:])
			for hi := len(rs); hi > 0; {
				ln := rs[hi-1].Len
				lo := hi - 1
				for lo > 0 && rs[lo-1].Len == ln {
					lo--
				}
				if ln >= c.Len {
					if ln != c.Len {
						c.Len, c.Idx = ln, 0
					}
					for ; lo+c.Idx < hi; c.Idx++ {
						if !fn(f.dumpCopy(rs[lo+c.Idx])) {
							return false
						}
					}
					c.Len, c.Idx = ln+1, 0 // the next prefix length of this key
				}
				hi = lo
			}
			c.Len, c.Idx = 33, 0 // past every length: this key is done
			return true
		})
		if !ok {
			return false
		}
		c.Table = tid + 1
		c.Key, c.Len, c.Idx = 0, 0, 0
		if tid == ^uint32(0) {
			break
		}
	}
	return true
}

// HasTable reports whether table id exists.
func (f *Tables) HasTable(id uint32) bool {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.tables[id] != nil
}

// SetMultipathHashPolicy is net.ipv4.fib_multipath_hash_policy: 0 (layer
// 3) or 1 (layer 4); 2 (the inner header of an encapsulated packet) is
// layer 3 for vnic, which has no tunnels; 3 (custom fields) is not there.
func (f *Tables) SetMultipathHashPolicy(n int) error {
	switch n {
	case 0, 1, 2:
	case 3:
		return fmt.Errorf("fib: multipath hash policy 3 (custom fields): %w", syscall.EOPNOTSUPP)
	default:
		return fmt.Errorf("fib: multipath hash policy %d: want 0 to 3: %w", n, syscall.EINVAL)
	}
	f.hashPolicy.Store(int32(n))
	f.genid.Add(1) // cached decisions chose paths by the old hash
	return nil
}

// MultipathHashPolicy is the policy SetMultipathHashPolicy set.
func (f *Tables) MultipathHashPolicy() int { return int(f.hashPolicy.Load()) }
