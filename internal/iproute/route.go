package iproute

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"vnic/stack/ipv4/fib"
	"vnic/stack/rtnetlink"
)

// RouteSpec is a parsed ip route argument list: NODE_SPEC and INFO_SPEC.
type RouteSpec struct {
	Type     fib.RouteType // unicast unless given
	Dst      netip.Prefix
	TOS      uint8
	Table    uint32 // 0: main
	Protocol uint8  // 0: boot
	Scope    fib.Scope
	HasScope bool
	Metric   uint32
	Gateway  netip.Addr
	Dev      string
	Src      netip.Addr
	MTU      uint32
	OnLink   bool
	NhID     uint32 // nhid N: a nexthop object
	// Nexthops are a multipath route's paths (nexthop via … dev …
	// weight … [onlink], each).
	Nexthops []NexthopSpec
	// Set records the keywords given (what a delete matches on).
	Set map[string]bool
}

func garbage(w string) error { return duparg2("to", w) }

// NexthopSpec is one path of a multipath route.
type NexthopSpec struct {
	Gateway netip.Addr
	Dev     string
	Weight  uint16
	OnLink  bool
}

// parseNexthops reads ip route's multipath grammar (parse_nexthops): from
// args[0] == "nexthop" to the end, each "nexthop" opening a path of via,
// dev, weight and onlink.
func parseNexthops(args []string) ([]NexthopSpec, error) {
	var out []NexthopSpec
	for i := 0; i < len(args); i++ {
		if args[i] != "nexthop" {
			return nil, &Error{Msg: fmt.Sprintf("\"nexthop\" or end of line is expected instead of \"%s\"", args[i]), Code: exitUsage}
		}
		h := NexthopSpec{Weight: 1}
		for i+1 < len(args) && args[i+1] != "nexthop" {
			i++
			kw := args[i]
			val := func() (string, error) { return nextArg(args, &i) }
			switch kw {
			case "via":
				v, err := val()
				if err != nil {
					return nil, err
				}
				a, e := netip.ParseAddr(v)
				if e != nil || !a.Is4() {
					return nil, &Error{Msg: fmt.Sprintf("inet address is expected rather than \"%s\".", v)}
				}
				h.Gateway = a
			case "dev":
				v, err := val()
				if err != nil {
					return nil, err
				}
				h.Dev = v
			case "weight":
				v, err := val()
				if err != nil {
					return nil, err
				}
				n, e := strconv.ParseUint(v, 0, 16)
				if e != nil || n == 0 || n > 256 {
					return nil, invarg("\"weight\" is invalid\n", v)
				}
				h.Weight = uint16(n)
			case "onlink":
				h.OnLink = true
			default:
				return nil, &Error{Msg: fmt.Sprintf("\"nexthop\" or end of line is expected instead of \"%s\"", kw), Code: exitUsage}
			}
		}
		out = append(out, h)
	}
	return out, nil
}

// errNoDst is a route without a destination.
var errNoDst = &Error{Msg: "need at least a destination address", Bare: true}

// ParseRoute reads ROUTE: [TYPE] PREFIX [tos T] [table T] [proto P]
// [scope S] [metric M] [via ADDR] [dev NAME] [onlink] [src ADDR]
// [mtu [lock] N]. PREFIX is default, ADDR or ADDR/LEN; "to" may precede
// it.
func ParseRoute(args []string) (RouteSpec, error) {
	r := RouteSpec{Type: fib.RTNUnicast, Set: map[string]bool{}}
	haveDst := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		var v string
		var err error
		switch a {
		case "tos", "dsfield":
			if v, err = nextArg(args, &i); err != nil {
				return r, err
			}
			n, e := strconv.ParseUint(v, 0, 8)
			if e != nil {
				return r, invarg("\"tos\" value is invalid\n", v)
			}
			r.TOS = uint8(n)
		case "table":
			if v, err = nextArg(args, &i); err != nil {
				return r, err
			}
			t, ok := ParseTable(v)
			if !ok {
				return r, invarg("\"table\" value is invalid\n", v)
			}
			r.Table = t
		case "proto", "protocol":
			if v, err = nextArg(args, &i); err != nil {
				return r, err
			}
			p, ok := ParseProto(v)
			if !ok {
				return r, invarg("\"protocol\" value is invalid\n", v)
			}
			r.Protocol = p
		case "scope":
			if v, err = nextArg(args, &i); err != nil {
				return r, err
			}
			s, ok := ParseScope(v)
			if !ok {
				return r, invarg("invalid \"scope\" value\n", v)
			}
			r.Scope, r.HasScope = s, true
		case "metric", "priority", "preference":
			if v, err = nextArg(args, &i); err != nil {
				return r, err
			}
			n, e := strconv.ParseUint(v, 0, 32)
			if e != nil {
				return r, invarg("\"metric\" value is invalid\n", v)
			}
			r.Metric = uint32(n)
			a = "metric"
		case "via":
			if v, err = nextArg(args, &i); err != nil {
				return r, err
			}
			if v == "inet" {
				if v, err = nextArg(args, &i); err != nil {
					return r, err
				}
			}
			// get_addr in the route's family: an IPv6 gateway without
			// "inet6" is not an inet address.
			ad, e := netip.ParseAddr(v)
			if e != nil || !ad.Is4() {
				return r, &Error{Msg: fmt.Sprintf("inet address is expected rather than \"%s\".", v)}
			}
			r.Gateway = ad
		case "dev", "oif":
			if v, err = nextArg(args, &i); err != nil {
				return r, err
			}
			r.Dev = v
			a = "dev"
		case "onlink":
			r.OnLink = true
		case "nhid":
			if v, err = nextArg(args, &i); err != nil {
				return r, err
			}
			n, e := strconv.ParseUint(v, 0, 32)
			if e != nil {
				return r, invarg("\"id\" value is invalid\n", v)
			}
			r.NhID = uint32(n)
		case "src":
			if v, err = nextArg(args, &i); err != nil {
				return r, err
			}
			ad, e := netip.ParseAddr(v)
			if isIPv6(v) {
				return r, errIPv6
			}
			if e != nil || !ad.Is4() {
				return r, &Error{Msg: fmt.Sprintf("inet address is expected rather than \"%s\".", v)}
			}
			r.Src = ad
		case "mtu":
			if v, err = nextArg(args, &i); err != nil {
				return r, err
			}
			if v == "lock" {
				if v, err = nextArg(args, &i); err != nil {
					return r, err
				}
			}
			n, e := strconv.ParseUint(v, 0, 32)
			if e != nil || n < 68 {
				return r, invarg("\"mtu\" value is invalid\n", v)
			}
			r.MTU = uint32(n)
		case "nexthop":
			// The multipath paths take the rest of the line.
			if r.Nexthops, err = parseNexthops(args[i:]); err != nil {
				return r, err
			}
			r.Set["nexthop"] = true
			i = len(args)
			continue
		case "to":
			if v, err = nextArg(args, &i); err != nil {
				return r, err
			}
			if haveDst {
				return r, garbage(v)
			}
			if r.Dst, err = ParsePrefix(v); err != nil {
				return r, err
			}
			haveDst = true
		default:
			if t, ok := fib.ParseRouteType(a); ok && !haveDst && i+1 < len(args) {
				r.Type = t
				a = "type"
				break
			}
			if haveDst {
				return r, garbage(a)
			}
			if r.Dst, err = ParsePrefix(a); err != nil {
				return r, err
			}
			haveDst = true
			a = "to"
		}
		r.Set[a] = true
	}
	if !haveDst {
		return r, errNoDst
	}
	return r, nil
}

// ParsePrefix reads default, ADDR (a /32) or ADDR/LEN; the host bits are
// kept for the caller to judge.
func ParsePrefix(s string) (netip.Prefix, error) {
	switch s {
	case "default", "all", "any":
		return netip.PrefixFrom(netip.IPv4Unspecified(), 0), nil
	}
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil || !a.Is4() {
			return netip.Prefix{}, badPrefix(s)
		}
		return netip.PrefixFrom(a, 32), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil || !p.Addr().Is4() {
		return netip.Prefix{}, badPrefix(s)
	}
	return p, nil
}

func badPrefix(s string) error {
	if isIPv6(s) {
		return errIPv6
	}
	return &Error{Msg: fmt.Sprintf("any valid prefix is expected rather than \"%s\".", s)}
}

// ParseTable reads a table id or name.
func ParseTable(s string) (uint32, bool) {
	switch s {
	case "local":
		return fib.TableLocal, true
	case "main":
		return fib.TableMain, true
	case "default":
		return fib.TableDefault, true
	case "all", "unspec":
		return fib.TableUnspec, true
	}
	n, err := strconv.ParseUint(s, 0, 32)
	return uint32(n), err == nil
}

// TableName is rtnl_rttable_n2a.
func TableName(t uint32) string {
	switch t {
	case fib.TableLocal:
		return "local"
	case fib.TableMain:
		return "main"
	case fib.TableDefault:
		return "default"
	case fib.TableUnspec:
		return "unspec"
	}
	return strconv.FormatUint(uint64(t), 10)
}

var protoNames = map[uint8]string{0: "unspec", 1: "redirect", 2: "kernel", 3: "boot", 4: "static"}

// ParseProto reads a route protocol id or name.
func ParseProto(s string) (uint8, bool) {
	for k, v := range protoNames {
		if v == s {
			return k, true
		}
	}
	n, err := strconv.ParseUint(s, 0, 8)
	return uint8(n), err == nil
}

// ProtoName is rtnl_rtprot_n2a.
func ProtoName(p uint8) string {
	if s, ok := protoNames[p]; ok {
		return s
	}
	return strconv.Itoa(int(p))
}

// ParseScope reads a scope id or name.
func ParseScope(s string) (fib.Scope, bool) {
	switch s {
	case "global", "universe":
		return fib.ScopeUniverse, true
	case "site":
		return fib.ScopeSite, true
	case "link":
		return fib.ScopeLink, true
	case "host":
		return fib.ScopeHost, true
	case "nowhere":
		return fib.ScopeNowhere, true
	}
	n, err := strconv.ParseUint(s, 0, 8)
	return fib.Scope(n), err == nil
}

// Message is the rtnetlink message ip route sends for the spec: kind is
// RTM_NEWROUTE or RTM_DELROUTE, ifindex names devices. The scope and
// protocol defaults are ip's (link scope for a unicast route without a
// gateway, host for local, boot protocol for a new route); a delete
// matches any scope and, unless a type was given, any type.
func (r RouteSpec) Message(kind uint16, ifindex func(dev string) (uint32, error)) (rtnetlink.RouteMsg, error) {
	m := rtnetlink.RouteMsg{DstLen: uint8(r.Dst.Bits()), TOS: r.TOS, Table: r.Table, Protocol: r.Protocol, Type: uint8(r.Type),
		Priority: r.Metric, HasPrio: r.Set["metric"], MTU: r.MTU, Scope: uint8(fib.ScopeUniverse)}
	if m.Table == 0 {
		m.Table = fib.TableMain
		switch r.Type {
		case fib.RTNLocal, fib.RTNBroadcast, fib.RTNAnycast:
			// iproute2 puts these in the local table unless told.
			m.Table = fib.TableLocal
		}
	}
	if r.Dst.Bits() > 0 {
		m.Dst = r.Dst.Addr() // host bits as given: the kernel side judges them
	}
	m.Gateway, m.PrefSrc, m.NhID = r.Gateway, r.Src, r.NhID
	for _, h := range r.Nexthops {
		hop := rtnetlink.RtNexthop{Weight: h.Weight, Gateway: h.Gateway}
		if h.OnLink {
			hop.Flags |= rtnetlink.RTMFOnLink
		}
		if h.Dev != "" {
			idx, err := ifindex(h.Dev)
			if err != nil {
				return m, err
			}
			hop.Ifindex = int32(idx)
		}
		m.Multipath = append(m.Multipath, hop)
	}
	if r.OnLink {
		m.Flags |= rtnetlink.RTMFOnLink
	}
	if r.Dev != "" {
		var err error
		if m.Oif, err = ifindex(r.Dev); err != nil {
			return m, err
		}
	}
	switch {
	case r.HasScope:
		m.Scope = uint8(r.Scope)
	case kind == rtnetlink.RTMDelRoute:
		m.Scope = uint8(fib.ScopeNowhere)
	case r.Type == fib.RTNLocal:
		m.Scope = uint8(fib.ScopeHost)
	case (r.Type == fib.RTNUnicast || r.Type == fib.RTNBroadcast) && !r.Gateway.IsValid() && r.NhID == 0 && len(r.Nexthops) == 0:
		m.Scope = uint8(fib.ScopeLink)
	}
	if kind == rtnetlink.RTMNewRoute && m.Protocol == 0 {
		m.Protocol = fib.ProtoBoot
	}
	if kind == rtnetlink.RTMDelRoute && !r.Set["type"] {
		m.Type = 0
	}
	return m, nil
}
