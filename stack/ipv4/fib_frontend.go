package ipv4

import (
	"fmt"
	"net/netip"
	"slices"
	"syscall"

	"vnic/header"
	"vnic/stack"
	"vnic/stack/ipv4/fib"
	"vnic/stack/rtnetlink"
)

// RouteAdd is ip route add (or replace): a user route in r.Table (main
// when 0). Unicast routes need a device or a gateway reachable on-link;
// the local table belongs to the kernel's address code only for local
// and broadcast types made there.
func (in *Inet) RouteAdd(r fib.Route, replace bool) error {
	if replace {
		return in.RouteAddHow(r, fib.How{Replace: true, Create: true})
	}
	return in.RouteAddHow(r, fib.How{Excl: true, Create: true})
}

// RouteAddHow is RouteAdd with RTM_NEWROUTE's flags: replace, exclusive,
// append, create (fib.How): ip route add, replace, change, append and
// prepend.
func (in *Inet) RouteAddHow(r fib.Route, how fib.How) error {
	if r.Table == fib.TableUnspec {
		r.Table = fib.TableMain
	}
	if r.Type == fib.RTNUnspec {
		r.Type = fib.RTNUnicast
	}
	if r.Protocol == fib.ProtoUnspec {
		r.Protocol = fib.ProtoBoot
	}
	if r.Len > 32 {
		return fmt.Errorf("stack: route: prefix length %d: %w", r.Len, syscall.EINVAL)
	}
	// fib_valid_prefsrc: local in the route's table's domain, or in the
	// local table.
	if r.PrefSrc != ([4]byte{}) && !in.isLocalIn(r.Table, r.PrefSrc) && !in.IsLocalAddr(r.PrefSrc) {
		return fmt.Errorf("stack: route: preferred source %v is not local: %w", netip.AddrFrom4(r.PrefSrc), syscall.EINVAL)
	}
	switch r.Type {
	case fib.RTNUnicast, fib.RTNLocal, fib.RTNBroadcast:
		if r.NhID != 0 {
			// The nexthop object has its device and gateway (fib takes
			// them in); the route's scope is universe.
			if r.Scope == fib.ScopeNowhere || r.Scope == 0 {
				r.Scope = fib.ScopeUniverse
			}
			break
		}
		if len(r.Multipath) > 0 {
			// Each path is checked as a single nexthop (fib_check_nh).
			r.Multipath = slices.Clone(r.Multipath)
			for i := range r.Multipath {
				p := &r.Multipath[i]
				if p.Gateway == ([4]byte{}) {
					if p.Dev == nil {
						return fmt.Errorf("stack: route: a path with no device and no gateway: %w", syscall.ENODEV)
					}
					if !p.Dev.IsUp() {
						return errNexthopDevDown
					}
					continue
				}
				dev, err := in.checkGateway(r.Table, p.Dev, p.Gateway, p.OnLink)
				if err != nil {
					return err
				}
				p.Dev = dev
			}
			if r.Scope == fib.ScopeNowhere || r.Scope == 0 {
				r.Scope = fib.ScopeUniverse
			}
			r.Dev, r.Gateway = nil, [4]byte{}
			if len(r.Multipath) == 1 {
				// One path is a route's single nexthop (fib_nhs 1).
				p := r.Multipath[0]
				r.Dev, r.Gateway, r.OnLink, r.Multipath = p.Dev, p.Gateway, p.OnLink, nil
			}
			break
		}
		if r.Gateway != ([4]byte{}) {
			dev, err := in.checkGateway(r.Table, r.Dev, r.Gateway, r.OnLink)
			if err != nil {
				return err
			}
			r.Dev = dev
			if r.Scope == fib.ScopeNowhere || r.Scope == 0 {
				r.Scope = fib.ScopeUniverse
			}
		} else {
			if r.Dev == nil {
				return fmt.Errorf("stack: route: no device and no gateway: %w", syscall.ENODEV)
			}
			if r.Scope != fib.ScopeHost && r.Type != fib.RTNLocal && !r.Dev.IsUp() {
				return errNexthopDevDown // fib_check_nh_nongw
			}
			if r.Scope == fib.ScopeNowhere {
				r.Scope = fib.ScopeLink
				if r.Type == fib.RTNLocal {
					r.Scope = fib.ScopeHost
				}
			}
		}
	default:
		if r.Scope == fib.ScopeNowhere {
			r.Scope = fib.ScopeUniverse
		}
		r.Dev, r.Gateway = nil, [4]byte{}
	}
	if r.Dev != nil {
		in.Attach(r.Dev)
	}
	if err := in.fib.InsertHow(&r, how); err != nil {
		return err
	}
	if r.Type == fib.RTNLocal {
		// inet_rtm_newroute: a local route not of an address's making;
		// source validation can no longer trust the address list alone.
		in.customLocal.Store(true)
	}
	if r.Dev != nil {
		in.Attach(r.Dev) // a nexthop object's device
	}
	in.notify(InetEvent{Kind: EventNewRoute, Route: r.Copy(), Dev: r.Dev})
	return nil
}

// checkGateway is fib_check_nh for a gateway: not a local address, and
// (unless onlink) reached by a link-scope route through dev, whose device
// it returns (dev when given).
func (in *Inet) checkGateway(table uint32, dev *stack.NetDevice, gw [4]byte, onlink bool) (*stack.NetDevice, error) {
	if in.IsLocalAddr(gw) || in.isLocalIn(table, gw) {
		return nil, fmt.Errorf("stack: route: gateway %v is a local address: %w", netip.AddrFrom4(gw), syscall.EINVAL)
	}
	if onlink {
		if dev == nil {
			return nil, fmt.Errorf("stack: route: onlink needs a device: %w", syscall.EINVAL)
		}
		if !dev.IsUp() {
			return nil, &fib.Error{Errno: syscall.ENETDOWN, Msg: "Nexthop device is not up"}
		}
		return dev, nil
	}
	// fib_check_nh_v4_gw: in the route's table when it is not main (a
	// VRF's, say), at link scope as the rules' lookup is, and through the
	// rules when that table has nothing (or refuses).
	fl := fib.FlowKey{Dst: gw, Oif: ifindexOf(dev), Scope: fib.ScopeLink}
	var res fib.Result
	var err error = syscall.ENETUNREACH
	if table != fib.TableMain && table != fib.TableUnspec {
		res, err = in.fib.LookupTable(table, &fl)
	}
	if err != nil {
		res, err = in.fib.Lookup(&fl)
	}
	if err != nil || res.Type != fib.RTNUnicast || res.Route.Gateway != ([4]byte{}) || dev != nil && res.Route.Dev != dev {
		return nil, fmt.Errorf("stack: route: nexthop %v has invalid gateway: %w", netip.AddrFrom4(gw), syscall.ENETUNREACH)
	}
	if !res.Route.Dev.IsUp() {
		return nil, syscall.ENETDOWN
	}
	return res.Route.Dev, nil
}

// errNexthopDevDown is fib_check_nh_nongw's refusal of a device that is
// down.
var errNexthopDevDown = &fib.Error{Errno: syscall.ENETDOWN, Msg: "Device for nexthop is not up"}

// RouteDel is ip route del: the first route of r.Table (main when 0) at
// r's prefix that r's other set fields match; Scope ScopeNowhere matches
// any scope.
func (in *Inet) RouteDel(r fib.Route) (fib.Route, error) {
	if r.Table == fib.TableUnspec {
		r.Table = fib.TableMain
	}
	gone, err := in.fib.Delete(&r)
	if err != nil {
		return gone, err
	}
	in.notify(InetEvent{Kind: EventDelRoute, Route: gone, Dev: gone.Dev})
	return gone, nil
}

// Routes returns table id's routes (every table for TableUnspec).
func (in *Inet) Routes(id uint32) []fib.Route { return in.fib.Dump(id) }

// FibLookup runs a lookup (ip route get's first half).
func (in *Inet) FibLookup(fl fib.FlowKey) (fib.Result, error) { return in.fib.Lookup(&fl) }

// FibStats returns how many lookups ran and how many found no route.
func (in *Inet) FibStats() (lookups, misses uint64) {
	return in.fib.Stats()
}

func ifindexOf(d *stack.NetDevice) int {
	if d == nil {
		return 0
	}
	return d.Ifindex()
}

// fibMagic is fib_magic: a kernel route made for an address on d, added
// (NLM_F_CREATE|NLM_F_APPEND: an equal one already there is left alone)
// or deleted, of type typ to dst/l with the source of prim (the subnet's
// primary address) and metric, each change notified.
func (in *Inet) fibMagic(add bool, d *stack.NetDevice, typ fib.RouteType, dst [4]byte, l int, prim IfAddr, metric uint32) {
	r := fib.Route{Table: fib.TableLocal, Dst: dst, Len: uint8(l), Type: typ, Scope: fib.ScopeLink, Protocol: fib.ProtoKernel,
		Priority: metric, PrefSrc: prim.Local, Dev: d}
	if typ == fib.RTNUnicast {
		r.Table = fib.TableMain
	}
	if t := d.L3mdevTable(); t != 0 {
		r.Table = t // a VRF slave's address routes are in the VRF's table
	}
	if typ == fib.RTNLocal {
		r.Scope = fib.ScopeHost
	}
	if add {
		if in.fib.InsertHow(&r, fib.How{Create: true, Append: true}) == nil {
			in.notify(InetEvent{Kind: EventNewRoute, Route: r.Copy(), Dev: d})
		}
		return
	}
	if gone, err := in.fib.Delete(&r); err == nil {
		in.notify(InetEvent{Kind: EventDelRoute, Route: gone, Dev: d})
	}
}

// fibAddIfaddr is fib_add_ifaddr: address a's local route and, on a
// device that is up, the broadcast route of a given broadcast address,
// and for a primary address (not a /32 of itself) the connected prefix
// route (with the address's metric; the whole prefix local on the
// loopback; none with noprefixroute) and below /31 the subnet's
// broadcast route. A neighbour entry for a new broadcast address that is
// not valid goes (arp_invalidate).
func (in *Inet) fibAddIfaddr(d *stack.NetDevice, a IfAddr) {
	prim, ok := primaryOf(in.Addrs(d), a)
	if !ok {
		return
	}
	in.fibMagic(true, d, fib.RTNLocal, a.Local, 32, prim, 0)
	if !d.IsUp() {
		return
	}
	if a.Broadcast != ([4]byte{}) && !header.IPv4IsLbcast(a.Broadcast) {
		in.fibMagic(true, d, fib.RTNBroadcast, a.Broadcast, 32, prim, 0)
		in.arpInvalidate(d, a.Broadcast)
	}
	pfx := a.prefix()
	if header.IPv4IsZeronet(pfx) || a.Secondary || pfx == a.Local && a.PrefixLen == 32 {
		return
	}
	if !a.NoPrefixRoute {
		typ := fib.RTNUnicast
		if d.IsLoopback() {
			typ = fib.RTNLocal
		}
		in.fibMagic(true, d, typ, pfx, a.PrefixLen, prim, a.Metric)
	}
	if a.PrefixLen < 31 {
		brd := header.IPv4FromUint32(header.IPv4Uint32(pfx) | ^header.IPv4Mask(a.PrefixLen))
		in.fibMagic(true, d, fib.RTNBroadcast, brd, 32, prim, 0)
		in.arpInvalidate(d, brd)
	}
}

// fibModifyPrefixMetric is fib_modify_prefix_metric: the prefix route of
// primary address a moves to metric (the new one added, then the old one
// deleted).
func (in *Inet) fibModifyPrefixMetric(d *stack.NetDevice, a IfAddr, metric uint32) {
	pfx := a.prefix()
	if !d.IsUp() || a.Secondary || a.NoPrefixRoute || header.IPv4IsZeronet(pfx) || pfx == a.Local && a.PrefixLen == 32 {
		return
	}
	typ := fib.RTNUnicast
	if d.IsLoopback() {
		typ = fib.RTNLocal
	}
	in.fibMagic(true, d, typ, pfx, a.PrefixLen, a, metric)
	in.fibMagic(false, d, typ, pfx, a.PrefixLen, a, a.Metric)
}

// fibDelIfaddr is fib_del_ifaddr for address ifa, deleted from d (before:
// d's addresses with it, rest: without): its prefix route (a primary's),
// then the broadcast and local routes no address left on d still needs,
// and when the address is the host's no more, the main table's routes
// with it as preferred source.
func (in *Inet) fibDelIfaddr(d *stack.NetDevice, ifa IfAddr, before, rest []IfAddr) {
	const (
		localOK = 1 << iota
		brdOK
		brd0OK
		brd1OK
	)
	prim, ok := primaryOf(before, ifa)
	if !ok {
		return
	}
	mask := header.IPv4Mask(ifa.PrefixLen)
	anyA := ifa.prefix()
	brd := header.IPv4FromUint32(header.IPv4Uint32(anyA) | ^mask)
	subnet := false
	if !ifa.Secondary && !header.IPv4IsZeronet(anyA) && (anyA != ifa.Local || ifa.PrefixLen < 32) {
		if !ifa.NoPrefixRoute {
			typ := fib.RTNUnicast
			if d.IsLoopback() {
				typ = fib.RTNLocal
			}
			in.fibMagic(false, d, typ, anyA, ifa.PrefixLen, prim, 0)
		}
		subnet = true
	}
	okBits := 0
	samePrefsrc := false
	var prim1 *IfAddr
	for i := range rest {
		a := &rest[i]
		if a.Secondary {
			if a.subnet(prim) {
				prim1 = &prim
			} else {
				if !samePrefsrc {
					continue
				}
				if prim1 == nil || !a.subnet(*prim1) {
					p, ok := primaryOf(rest, *a)
					if !ok {
						continue
					}
					prim1 = &p
				}
				if prim1.Local != prim.Local {
					continue
				}
			}
		} else {
			if prim.Local != a.Local {
				continue
			}
			prim1 = a
			if !prim.same(*a) {
				samePrefsrc = true
			}
		}
		if ifa.Local == a.Local {
			okBits |= localOK
		}
		if ifa.Broadcast == a.Broadcast {
			okBits |= brdOK
		}
		if brd == a.Broadcast {
			okBits |= brd1OK
		}
		if anyA == a.Broadcast {
			okBits |= brd0OK
		}
		if prim1 == a && a.PrefixLen < 31 {
			// A primary's subnet broadcasts.
			any1 := a.prefix()
			brd1 := header.IPv4FromUint32(header.IPv4Uint32(any1) | ^header.IPv4Mask(a.PrefixLen))
			if !header.IPv4IsZeronet(any1) {
				if ifa.Broadcast == brd1 || ifa.Broadcast == any1 {
					okBits |= brdOK
				}
				if brd == brd1 || brd == any1 {
					okBits |= brd1OK
				}
				if anyA == brd1 || anyA == any1 {
					okBits |= brd0OK
				}
			}
		}
	}
	if okBits&brdOK == 0 {
		in.fibMagic(false, d, fib.RTNBroadcast, ifa.Broadcast, 32, prim, 0)
	}
	if subnet && ifa.PrefixLen < 31 {
		if okBits&brd1OK == 0 {
			in.fibMagic(false, d, fib.RTNBroadcast, brd, 32, prim, 0)
		}
		if okBits&brd0OK == 0 {
			in.fibMagic(false, d, fib.RTNBroadcast, anyA, 32, prim, 0)
		}
	}
	if okBits&localOK == 0 {
		in.fibMagic(false, d, fib.RTNLocal, ifa.Local, 32, prim, 0)
		if !in.isLocalIn(d.L3mdevTable(), ifa.Local) {
			// fib_sync_down_addr and fib_flush: the address is no
			// longer local in d's domain (the host's, or its VRF's), so
			// that domain's routes that prefer it as source go too (not
			// notified): the main table's, or the VRF's.
			table := d.L3mdevTable()
			if table == 0 {
				table = fib.TableMain
			}
			in.fib.RemoveWhere(func(r *fib.Route) bool { return r.Table == table && r.PrefSrc == ifa.Local })
		}
	}
}

// disableIP is fib_disable_ip: d went down (force false) or lost its last
// address (force): the routes through it die (fib_sync_down_dev, then
// fib_flush, which notifies no one) and its neighbours go (arp_ifdown).
func (in *Inet) disableIP(d *stack.NetDevice, force bool) {
	in.fib.SyncDownDev(d, force)
	if t := in.ARP(d); t != nil {
		for _, n := range t.Entries() {
			t.Delete(n.Addr)
		}
	}
}

// The congestion control algorithms a route's RTAX_CC_ALGO may name:
// those Linux always has (vnic has no TCP, so the name is only carried).
var ccAlgos = map[string]bool{"reno": true, "cubic": true}

// convertMetrics is ip_metrics_convert for a new route's RTA_METRICS:
// an algorithm must be known, RTAX_MTU is cut to 65520 (IP_MAX_MTU),
// RTAX_ADVMSS to 65495 and RTAX_HOPLIMIT to 255, and RTAX_FEATURES takes
// only the user's bits.
func convertMetrics(m rtnetlink.Metrics) (fib.Metrics, error) {
	if m.CC != "" && !ccAlgos[m.CC] {
		return fib.Metrics{}, &fib.Error{Errno: syscall.EINVAL, Msg: "Unknown tcp congestion algorithm"}
	}
	if m.Val[rtnetlink.RTAXFeatures]&^rtnetlink.RTAXFeatureMask != 0 {
		return fib.Metrics{}, &fib.Error{Errno: syscall.EINVAL, Msg: "Unknown flag set in feature mask in metrics attribute"}
	}
	m.Val[rtnetlink.RTAXMTU] = min(m.Val[rtnetlink.RTAXMTU], 65535-15)
	m.Val[rtnetlink.RTAXAdvMSS] = min(m.Val[rtnetlink.RTAXAdvMSS], 65535-40)
	m.Val[rtnetlink.RTAXHopLimit] = min(m.Val[rtnetlink.RTAXHopLimit], 255)
	return fib.Metrics(m), nil
}
