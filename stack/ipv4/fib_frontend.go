package ipv4

import (
	"fmt"
	"net/netip"
	"slices"
	"syscall"

	"vnic/stack"
	"vnic/stack/ipv4/fib"
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
	if r.PrefSrc != ([4]byte{}) && !in.IsLocalAddr(r.PrefSrc) {
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
					continue
				}
				dev, err := in.checkGateway(p.Dev, p.Gateway, p.OnLink)
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
			dev, err := in.checkGateway(r.Dev, r.Gateway, r.OnLink)
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
	if r.Dev != nil {
		in.Attach(r.Dev) // a nexthop object's device
	}
	in.notify(InetEvent{Kind: EventNewRoute, Route: r.Copy(), Dev: r.Dev})
	return nil
}

// checkGateway is fib_check_nh for a gateway: not a local address, and
// (unless onlink) reached by a link-scope route through dev, whose device
// it returns (dev when given).
func (in *Inet) checkGateway(dev *stack.NetDevice, gw [4]byte, onlink bool) (*stack.NetDevice, error) {
	if in.IsLocalAddr(gw) {
		return nil, fmt.Errorf("stack: route: gateway %v is a local address: %w", netip.AddrFrom4(gw), syscall.EINVAL)
	}
	if onlink {
		if dev == nil {
			return nil, fmt.Errorf("stack: route: onlink needs a device: %w", syscall.EINVAL)
		}
		return dev, nil
	}
	res, err := in.fib.Lookup(&fib.FlowKey{Dst: gw, Oif: ifindexOf(dev), Scope: fib.ScopeLink})
	if err != nil || res.Type != fib.RTNUnicast || res.Route.Gateway != ([4]byte{}) || dev != nil && res.Route.Dev != dev {
		return nil, fmt.Errorf("stack: route: nexthop %v has invalid gateway: %w", netip.AddrFrom4(gw), syscall.ENETUNREACH)
	}
	return res.Route.Dev, nil
}

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
