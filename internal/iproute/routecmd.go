package iproute

import (
	"fmt"
	"net/netip"
	"strconv"

	mnl "github.com/mdlayher/netlink"

	"vnic/stack/ipv4/fib"
	"vnic/stack/rtnetlink"
)

func (c *cmd) route(args []string) error {
	if sel, ok := listCmd(args); ok {
		return c.routeList(sel, false)
	}
	word := args[0]
	var kind uint16
	var flags mnl.HeaderFlags = mnl.Acknowledge
	switch {
	case matches(word, "flush"):
		return c.routeList(args[1:], true)
	case matches(word, "get"):
		return c.routeGet(args[1:])
	case matches(word, "help"):
		return usageErr{routeUsage}
	case matches(word, "add"):
		kind, flags = rtnetlink.RTMNewRoute, flags|rtnetlink.FlagCreate|rtnetlink.FlagExcl
	case matches(word, "change"), word == "chg":
		kind, flags = rtnetlink.RTMNewRoute, flags|rtnetlink.FlagReplace
	case matches(word, "replace"):
		kind, flags = rtnetlink.RTMNewRoute, flags|rtnetlink.FlagCreate|rtnetlink.FlagReplace
	case matches(word, "prepend"):
		kind, flags = rtnetlink.RTMNewRoute, flags|rtnetlink.FlagCreate
	case matches(word, "append"):
		kind, flags = rtnetlink.RTMNewRoute, flags|rtnetlink.FlagCreate|rtnetlink.FlagAppend
	case matches(word, "test"):
		kind, flags = rtnetlink.RTMNewRoute, flags|rtnetlink.FlagExcl
	case matches(word, "delete"):
		kind = rtnetlink.RTMDelRoute
	case matches(word, "save"):
		return c.routeSave(args[1:])
	case matches(word, "restore"):
		return c.routeRestore()
	case matches(word, "showdump"):
		return c.routeShowdump()
	default:
		return &Error{Msg: fmt.Sprintf("Command \"%s\" is unknown, try \"ip route help\".", word), Code: exitUsage, Bare: true}
	}
	if c.g.family == famInet6 {
		return errIPv6
	}
	rest := args[1:]
	if len(rest) > 0 && matches(rest[0], "help") {
		return usageErr{routeUsage}
	}
	spec, err := ParseRoute(rest)
	if err != nil {
		if e, ok := err.(*Error); ok && e == errNoDst {
			// iproute_modify prints its usage without a destination.
			return usageErr{routeUsage}
		}
		return err
	}
	if spec.VRF != "" {
		if spec.Table, err = c.vrfTable(spec.VRF); err != nil {
			return err
		}
		spec.VRF = ""
	}
	m, err := spec.Message(kind, c.dev)
	if err != nil {
		return err
	}
	_, err = c.o.T.Route(kind, flags, m.Marshal())
	return err
}

// routeFilter is ip route's SELECTOR.
type routeFilter struct {
	table              uint32 // 0: every table
	oif                uint32
	via, src           netip.Addr
	proto, scope, typ  uint8
	hasProto, hasScope bool
	hasType            bool
	tos                uint8
	hasTOS             bool
	root, match        netip.Prefix // invalid: no such selector
	cloned             bool
	realm, realmMask   uint32 // realm(s): the halves of RTA_FLOW named
}

func (f *routeFilter) keep(r rtnetlink.RouteMsg) bool {
	if r.Flags&rtmFCloned != 0 && !f.cloned || r.Flags&rtmFCloned == 0 && f.cloned {
		return false
	}
	if f.table != 0 && r.Table != f.table {
		return false
	}
	if f.oif != 0 && r.Oif != f.oif {
		return false
	}
	if f.via.IsValid() && r.Gateway != f.via {
		return false
	}
	if f.src.IsValid() && r.PrefSrc != f.src {
		return false
	}
	if (r.Flow^f.realm)&f.realmMask != 0 {
		return false
	}
	if f.hasProto && r.Protocol != f.proto || f.hasScope && r.Scope != f.scope || f.hasType && r.Type != f.typ {
		return false
	}
	if f.hasTOS && r.TOS != f.tos {
		return false
	}
	dst := r.Dst
	if !dst.IsValid() {
		dst = netip.IPv4Unspecified()
	}
	if f.root.IsValid() {
		// root PREFIX: routes inside the prefix.
		if int(r.DstLen) < f.root.Bits() || !f.root.Contains(dst) {
			return false
		}
	}
	if f.match.IsValid() {
		// match PREFIX: routes covering the prefix.
		if int(r.DstLen) > f.match.Bits() || !netip.PrefixFrom(dst, int(r.DstLen)).Masked().Contains(f.match.Addr()) {
			return false
		}
	}
	return true
}

// parseRouteFilter reads a SELECTOR (iproute_list_flush_or_save).
func (c *cmd) parseRouteFilter(args []string) (routeFilter, error) {
	f := routeFilter{table: fib.TableMain}
	for i := 0; i < len(args); i++ {
		a := args[i]
		val := func() (string, error) { return nextArg(args, &i) }
		var v string
		var err error
		switch {
		case a == "table":
			if v, err = val(); err != nil {
				return f, err
			}
			t, ok := ParseTable(v)
			if !ok {
				return f, invarg("table id value is invalid\n", v)
			}
			f.table = t
		case a == "vrf":
			if v, err = val(); err != nil {
				return f, err
			}
			if f.table, err = c.vrfTable(v); err != nil {
				return f, err
			}
		case matches(a, "cached"), matches(a, "cloned"):
			f.cloned = true
		case a == "tos", matches(a, "dsfield"):
			if v, err = val(); err != nil {
				return f, err
			}
			n, e := strconv.ParseUint(v, 0, 8)
			if e != nil {
				return f, invarg("TOS value is invalid\n", v)
			}
			f.tos, f.hasTOS = uint8(n), true
		case matches(a, "protocol"):
			if v, err = val(); err != nil {
				return f, err
			}
			p, ok := ParseProto(v)
			if !ok {
				return f, invarg("invalid \"protocol\"\n", v)
			}
			f.proto, f.hasProto = p, true
		case matches(a, "scope"):
			if v, err = val(); err != nil {
				return f, err
			}
			s, ok := ParseScope(v)
			if !ok {
				return f, invarg("invalid \"scope\"\n", v)
			}
			f.scope, f.hasScope = uint8(s), true
		case matches(a, "type"):
			if v, err = val(); err != nil {
				return f, err
			}
			t, ok := fib.ParseRouteType(v)
			if !ok {
				return f, invarg("node type value is invalid\n", v)
			}
			f.typ, f.hasType = uint8(t), true
		case a == "dev", a == "oif":
			if v, err = val(); err != nil {
				return f, err
			}
			if f.oif, err = c.dev(v); err != nil {
				return f, err
			}
		case a == "via", a == "src":
			if v, err = val(); err != nil {
				return f, err
			}
			if v == "inet" && a == "via" {
				if v, err = val(); err != nil {
					return f, err
				}
			}
			if isIPv6(v) {
				return f, errIPv6
			}
			ad, e := netip.ParseAddr(v)
			if e != nil || !ad.Is4() {
				return f, &Error{Msg: fmt.Sprintf("inet prefix is expected rather than \"%s\".", v)}
			}
			if a == "via" {
				f.via = ad
			} else {
				f.src = ad
			}
		case matches(a, "realm"), a == "realms":
			if v, err = val(); err != nil {
				return f, err
			}
			var ok bool
			if f.realm, f.realmMask, ok = realmFilter(v); !ok {
				return f, invarg("invalid realms\n", v)
			}
		case a == "iif", a == "mark", a == "vrf", a == "from", a == "metric":
			return f, &Error{Msg: fmt.Sprintf("the \"%s\" selector is not supported by vnic.", a), Code: exitNL}
		case matches(a, "help"):
			return f, usageErr{routeUsage}
		default:
			if matches(a, "to") {
				if a, err = val(); err != nil {
					return f, err
				}
			}
			how := "exact"
			if matches(a, "root") || matches(a, "match") || matches(a, "exact") {
				how = a
				if a, err = val(); err != nil {
					return f, err
				}
			}
			if a == "all" || a == "any" {
				// No family: every route (ip route flush all).
				break
			}
			if isIPv6(a) {
				return f, errIPv6
			}
			p, err := ParsePrefix(a)
			if err != nil {
				return f, err
			}
			p = p.Masked()
			switch {
			case matches(how, "root"):
				f.root = p
			case matches(how, "match"):
				f.match = p
			default:
				f.root, f.match = p, p
			}
		}
	}
	return f, nil
}

// routes dumps the host's routes (iproute_dump_filter's request: the
// table and device a selector names ride in the request, as with the
// kernel's strict dump checking, and the answer is filtered here too).
func (c *cmd) routes(f routeFilter) ([]rtnetlink.RouteMsg, error) {
	out, _, err := c.routesCI(f)
	return out, err
}

// routesCI is routes with each message's RTA_CACHEINFO. ip route show
// cache asks for the exceptions (RTM_F_CLONED in the request, as
// iproute_dump_filter sets it).
func (c *cmd) routesCI(f routeFilter) ([]rtnetlink.RouteMsg, []CacheInfo, error) {
	req := rtnetlink.RouteMsg{Table: f.table, Oif: f.oif}
	if f.cloned {
		req.Flags |= rtmFCloned
	}
	msgs, err := c.o.T.Route(rtnetlink.RTMGetRoute, mnl.Dump, req.Marshal())
	if err != nil {
		return nil, nil, &nlErr{err: err, after: "Dump terminated"}
	}
	var out []rtnetlink.RouteMsg
	var cis []CacheInfo
	for _, m := range msgs {
		var r rtnetlink.RouteMsg
		if r.Unmarshal(m.Data) == nil && f.keep(r) {
			out = append(out, r)
			cis = append(cis, RouteCacheInfo(m.Data))
		}
	}
	return out, cis, nil
}

// routeList is ip route show, and flush when flush is set.
func (c *cmd) routeList(args []string, flush bool) error {
	if flush && len(args) == 0 {
		return &Error{Msg: "\"ip route flush\" requires arguments.", Bare: true}
	}
	if flush && len(args) == 1 && args[0] == "cache" && c.o.Sysctl != nil {
		// iproute_flush_cache: "-1" into the flush file; IPv4's cache
		// is all vnic has, so nothing follows.
		if err := c.o.Sysctl("net.ipv4.route.flush", "-1"); err != nil {
			return &Error{Msg: "Cannot flush routing cache", Bare: true, Code: exitFail}
		}
		return nil
	}
	if flush && len(args) == 1 && args[0] == "cache" {
		return &Error{Msg: "ip route flush cache is not supported by vnic's ip: it writes /proc/sys/net/ipv4/route/flush; vnic sysctl -w net.ipv4.route.flush=1 does.", Code: exitNL}
	}
	f, err := c.parseRouteFilter(args)
	if err != nil {
		return err
	}
	if _, err := c.links(); err != nil {
		return err
	}
	if flush {
		return c.routeFlush(f)
	}
	p := newOut(c.g)
	p.list()
	if c.g.family != famInet6 && c.g.family != famLink {
		rs, cis, err := c.routesCI(f)
		if err != nil {
			return err
		}
		for i, r := range rs {
			p.openObj("")
			c.printRouteCI(p, r, &f, cis[i])
			p.closeObj()
		}
	}
	p.done()
	c.write(p)
	return nil
}

func (c *cmd) routeFlush(f routeFilter) error {
	return c.flushRounds(rtnetlink.RTMDelRoute, "*** Flush remains incomplete after %d rounds. ***\n", "entries", func() ([][]byte, error) {
		rs, err := c.routes(f)
		if err != nil {
			return nil, err
		}
		// Each route as dumped goes back as RTM_DELROUTE: the kernel
		// deletes the entry every attribute of which matches.
		del := make([][]byte, len(rs))
		for i, r := range rs {
			del[i] = r.Marshal()
		}
		return del, nil
	})
}

// rtm_flags bits print_route names.
const (
	rtnhFDead          = 0x1
	rtnhFPervasive     = 0x2
	rtnhFLinkdown      = 0x10
	rtmFCloned         = 0x200
	rtmFFibMatch       = 0x2000 // RTM_F_FIB_MATCH: route get answers with the table entry
	rtmFOffloadFailed  = 0x20000000
	rtmFNotify         = 0x100
	rtnhFUnresolved    = 0x20
	rtmFOffload        = 0x4000
	rtmFTrap           = 0x8000
	routeFlagsAsCached = ^uint32(0xffff)
)

var routeFlagNames = []struct {
	bit  uint32
	name string
}{{rtnhFDead, "dead"}, {rtnetlink.RTMFOnLink, "onlink"}, {rtnhFPervasive, "pervasive"}, {rtmFNotify, "notify"},
	{rtnhFLinkdown, "linkdown"}, {rtnhFUnresolved, "unresolved"}, {rtmFOffload, "rt_offload"}, {rtmFTrap, "rt_trap"},
	{rtmFOffloadFailed, "rt_offload_failed"}}

// printRtFlags is print_rt_flags: a route's or a path's RTNH_F_* and
// RTM_F_* words, the "flags" array in JSON.
func printRtFlags(p *out, f uint32) {
	p.openArr("flags")
	for _, n := range routeFlagNames {
		if f&n.bit != 0 {
			p.fp("%s ", n.name)
			p.elem(n.name)
		}
	}
	p.closeArr()
}

// printRoute is print_route for an IPv4 route or route get's decision;
// f is the selector (nil for route get and monitor): what it fixes is not
// printed.
func (c *cmd) printRoute(p *out, r rtnetlink.RouteMsg, f *routeFilter) {
	c.printRouteCI(p, r, f, CacheInfo{})
}

// printRouteCI is printRoute with the message's RTA_CACHEINFO (a route
// get's decision: what is left of its exception's lifetime).
func (c *cmd) printRouteCI(p *out, r rtnetlink.RouteMsg, f *routeFilter, ci CacheInfo) {
	if f == nil {
		f = &routeFilter{}
	}
	cloned := r.Flags&rtmFCloned != 0
	if t := fib.RouteType(r.Type); t != fib.RTNUnicast || c.g.details > 0 {
		p.str("type", "%s ", t.String())
	}
	switch {
	case r.DstLen == 0:
		p.str("dst", "%s ", "default")
	case r.DstLen == 32:
		p.str("dst", "%s ", r.Dst.String())
	default:
		p.str("dst", "%s ", fmt.Sprintf("%v/%d", r.Dst, r.DstLen))
	}
	if r.Src.IsValid() && r.SrcLen > 0 {
		s := r.Src.String()
		if r.SrcLen != 32 {
			s = fmt.Sprintf("%v/%d", r.Src, r.SrcLen)
		}
		p.str("from", "from %s ", s)
	}
	if r.TOS != 0 {
		p.str("tos", "tos %s ", fmt.Sprintf("0x%02x", r.TOS))
	}
	if r.NhID != 0 {
		p.num("nhid", "nhid %d ", uint64(r.NhID))
	}
	if r.Gateway.IsValid() && !f.via.IsValid() {
		p.str("gateway", "via %s ", r.Gateway.String())
	}
	if r.Oif != 0 && f.oif == 0 {
		p.str("dev", "dev %s ", c.ifname(r.Oif))
	}
	if r.Table != 0 && (r.Table != fib.TableMain || c.g.details > 0) && f.table == 0 {
		p.str("table", "table %s ", TableName(r.Table))
	}
	if !cloned {
		if (r.Protocol != fib.ProtoBoot || c.g.details > 0) && !f.hasProto {
			p.str("protocol", "proto %s ", ProtoName(r.Protocol))
		}
		if (r.Scope != uint8(fib.ScopeUniverse) || c.g.details > 0) && !f.hasScope {
			p.str("scope", "scope %s ", fib.Scope(r.Scope).String())
		}
	}
	if r.PrefSrc.IsValid() {
		p.str("prefsrc", "src %s ", r.PrefSrc.String())
	}
	if r.HasPrio {
		p.num("metric", "metric %d ", uint64(r.Priority))
	}
	printRtFlags(p, r.Flags)
	if r.Mark != 0 {
		// print_route: small marks in decimal, others in hex.
		if p.json || r.Mark < 16 {
			p.num("mark", "mark %d ", uint64(r.Mark))
		} else {
			p.fp("mark %#x ", r.Mark)
		}
	}
	if r.Flow != 0 && f.realmMask != ^uint32(0) {
		printFlow(p, r.Flow)
	}
	if r.HasUID {
		p.num("uid", "uid %d ", uint64(r.UID))
	}
	if cloned {
		p.nl()
		p.fp("    cache ")
		names := cacheFlagNames(r.Flags & routeFlagsAsCached)
		p.openArr("cache")
		for _, n := range names {
			p.elem(n)
		}
		p.closeArr()
		if len(names) > 0 {
			p.fp("<")
			for i, n := range names {
				if i > 0 {
					p.fp(",")
				}
				p.fp("%s", n)
			}
			p.fp("> ")
		}
		// print_rta_cacheinfo: expires in seconds of USER_HZ ticks.
		if ci.Expires != 0 {
			p.num("expires", "expires %dsec ", uint64(ci.Expires/userHZ))
		}
	}
	if !r.Metrics.IsZero() {
		printMetrics(p, r.Metrics)
	}
	if r.Iif != 0 {
		p.str("iif", "iif %s ", c.ifname(r.Iif))
	}
	if len(r.Multipath) > 0 {
		// print_rta_multipath: a line per path.
		p.openArr("nexthops")
		for _, h := range r.Multipath {
			p.nl()
			p.fp("\tnexthop ")
			p.openObj("")
			if h.Gateway.IsValid() {
				p.str("gateway", "via %s ", h.Gateway.String())
			}
			if h.Flow != 0 {
				printFlow(p, h.Flow)
			}
			if h.Ifindex != 0 {
				p.str("dev", "dev %s ", c.ifname(uint32(h.Ifindex)))
			}
			p.num("weight", "weight %d ", uint64(h.Weight))
			printRtFlags(p, uint32(h.Flags))
			p.closeObj()
		}
		p.closeArr()
	}
	p.end()
}

// printMetrics is print_rta_metrics: each metric set or locked, in RTAX_*
// order, by its keyword, "lock" before a locked one's value; times in ms
// (rtt in 1/8, rttvar in 1/4 of one), shown in s from 1000 ms.
func printMetrics(p *out, x rtnetlink.Metrics) {
	p.openArr("metrics")
	p.openObj("")
	for t := rtnetlink.RTAXMTU; t <= rtnetlink.RTAXMax; t++ {
		v := x.Val[t]
		set := v != 0 || t == rtnetlink.RTAXCCAlgo && x.CC != ""
		if !set && !x.Locked(t) || t == rtnetlink.RTAXHopLimit && v == ^uint32(0) {
			continue
		}
		name := metricName(t)
		p.fp("%s ", name)
		if x.Locked(t) {
			p.fp("lock ")
		}
		switch t {
		case rtnetlink.RTAXFeatures:
			if v&rtnetlink.RTAXFeatureECN != 0 {
				p.fp("ecn ")
				p.jnull("ecn")
			}
			if v&^rtnetlink.RTAXFeatureECN != 0 {
				p.str("features", "%s ", fmt.Sprintf("%#x", v))
			}
		case rtnetlink.RTAXRTT, rtnetlink.RTAXRTTVar, rtnetlink.RTAXRTOMin:
			switch t {
			case rtnetlink.RTAXRTT:
				v /= 8
			case rtnetlink.RTAXRTTVar:
				v /= 4
			}
			switch {
			case p.json:
				p.num(name, "", uint64(v))
			case v >= 1000:
				p.fp("%ss ", strconv.FormatFloat(float64(v)/1e3, 'g', 6, 64))
			default:
				p.fp("%dms ", v)
			}
		case rtnetlink.RTAXCCAlgo:
			p.str("congestion", "%s ", x.CC)
		default:
			p.num(name, "%d ", uint64(v))
		}
	}
	p.closeObj()
	p.closeArr()
}

// metricName is ip's name for RTAX_* metric t (mx_names).
func metricName(t int) string {
	for _, mx := range routeMetrics {
		if mx.rtax == t {
			return mx.name
		}
	}
	return fmt.Sprintf("metric %d", t)
}

// cacheFlagNames names a decision's RTCF_* bits as ip's print_cache_flags
// does, in its order; bits it has no name for come last, in hex.
func cacheFlagNames(f uint32) []string {
	var names []string
	for _, n := range []struct {
		bit  uint32
		name string
	}{{0x80000000, "local"}, {0x40000000, "reject"}, {0x20000000, "mc"}, {0x10000000, "brd"}, {0x08000000, "dst-nat"},
		{0x00800000, "src-nat"}, {0x00400000, "masq"}, {0x00020000, "dst-direct"}, {0x04000000, "src-direct"},
		{0x00040000, "redirected"}, {0x01000000, "redirect"}, {0x00200000, "fastroute"}, {0x00010000, "notify"},
		{0x00080000, "proxy"}} {
		if f&n.bit != 0 {
			names = append(names, n.name)
			f &^= n.bit
		}
	}
	if f != 0 {
		names = append(names, fmt.Sprintf("%x", f))
	}
	return names
}

// routeGet is ip route get ADDRESS [ from ADDRESS iif STRING ]
// [ oif STRING ] [ tos TOS ].
func (c *cmd) routeGet(args []string) error {
	var m rtnetlink.RouteMsg
	m.DstLen = 32
	connected, fromGiven := false, false
	for i := 0; i < len(args); i++ {
		a := args[i]
		val := func() (string, error) { return nextArg(args, &i) }
		var v string
		var err error
		switch {
		case a == "from":
			if v, err = val(); err != nil {
				return err
			}
			if isIPv6(v) {
				return errIPv6
			}
			p, e := ParsePrefix(v)
			if e != nil || v == "default" {
				return &Error{Msg: fmt.Sprintf("inet prefix is expected rather than \"%s\".", v)}
			}
			m.Src, m.SrcLen = p.Addr(), uint8(p.Bits())
			fromGiven = true
		case a == "iif", a == "oif", a == "dev":
			if v, err = val(); err != nil {
				return err
			}
			idx, err := c.dev(v)
			if err != nil {
				return err
			}
			if a == "iif" {
				m.Iif = idx
			} else {
				m.Oif = idx
			}
		case a == "tos", matches(a, "dsfield"):
			if v, err = val(); err != nil {
				return err
			}
			n, e := strconv.ParseUint(v, 0, 8)
			if e != nil {
				return invarg("TOS value is invalid\n", v)
			}
			m.TOS = uint8(n)
		case a == "mark", a == "uid", a == "sport", a == "dport":
			if v, err = val(); err != nil {
				return err
			}
			bitsz := 32
			if a == "sport" || a == "dport" {
				bitsz = 16
			}
			n, e := strconv.ParseUint(v, 0, bitsz)
			if e != nil {
				return invarg(fmt.Sprintf("invalid %s value", a), v)
			}
			switch a {
			case "mark":
				m.Mark = uint32(n)
			case "uid":
				m.UID, m.HasUID = uint32(n), true
			case "sport":
				m.Sport = uint16(n)
			default:
				m.Dport = uint16(n)
			}
		case a == "ipproto":
			if v, err = val(); err != nil {
				return err
			}
			pr, ok := parseIPProto(v)
			if !ok {
				return invarg("Invalid \"ipproto\" value", v)
			}
			m.IPProto = pr
		case a == "fibmatch":
			m.Flags |= rtmFFibMatch
		case a == "connected":
			connected = true
		case a == "vrf":
			// iproute_get: the VRF is the output device.
			if v, err = val(); err != nil {
				return err
			}
			idx, err := c.ifindex(v)
			if err != nil {
				return err
			}
			if idx == 0 || !c.isVRF(idx) {
				return invarg("Invalid VRF\n", v)
			}
			m.Oif = idx
		case a == "notify", a == "as":
			return &Error{Msg: fmt.Sprintf("ip route get %s is not supported by vnic.", a), Code: exitNL}
		case matches(a, "help"):
			return usageErr{routeUsage}
		default:
			if a == "to" {
				if a, err = val(); err != nil {
					return err
				}
			}
			if isIPv6(a) {
				return errIPv6
			}
			p, e := ParsePrefix(a)
			if e != nil {
				return e
			}
			m.Dst = p.Addr()
			if p.Bits() == 0 {
				m.Dst = netip.IPv4Unspecified()
			}
		}
	}
	if !m.Dst.IsValid() {
		return &Error{Msg: "need at least a destination address", Bare: true}
	}
	if c.g.family == famInet6 {
		return errIPv6
	}
	if _, err := c.links(); err != nil {
		return err
	}
	b, err := c.getOne(rtnetlink.RTMGetRoute, m.Marshal())
	if err != nil {
		return err
	}
	var r rtnetlink.RouteMsg
	if err := r.Unmarshal(b); err != nil {
		return err
	}
	p := newOut(c.g)
	p.list()
	if connected && !fromGiven {
		// iproute2 6.1's connected: without a source, the answer must
		// have chosen one ("Failed to connect the route"); it is printed,
		// and the request asked again and its answer printed too. (ip
		// means to ask from the chosen source without the output device,
		// but edits its copy of the answer and sends its request again
		// unchanged: both answers are the same. vnic asks as ip asks.)
		if !r.PrefSrc.IsValid() {
			return &Error{Msg: "Failed to connect the route", Bare: true}
		}
		p.openObj("")
		c.printRoute(p, r, nil)
		p.closeObj()
		if b, err = c.getOne(rtnetlink.RTMGetRoute, m.Marshal()); err != nil {
			return err
		}
		r = rtnetlink.RouteMsg{}
		if err := r.Unmarshal(b); err != nil {
			return err
		}
	}
	p.openObj("")
	c.printRouteCI(p, r, nil, RouteCacheInfo(b))
	p.closeObj()
	p.done()
	c.write(p)
	return nil
}

// getOne sends a get request (not a dump) and returns the one answer's
// body.
func (c *cmd) getOne(typ uint16, body []byte) ([]byte, error) {
	msgs, err := c.o.T.Route(typ, 0, body)
	if err != nil {
		return nil, err
	}
	if len(msgs) != 1 {
		return nil, fmt.Errorf("ip: %d answers to one request", len(msgs))
	}
	return msgs[0].Data, nil
}
