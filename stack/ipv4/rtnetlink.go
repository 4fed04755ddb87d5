package ipv4

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"slices"
	"syscall"
	"time"

	"vnic/header"
	"vnic/stack"
	"vnic/stack/ipv4/fib"
	"vnic/stack/neigh"
	"vnic/stack/rtnetlink"
)

// RTM_F_CLONED: a route get's answer is a decision, not a table entry.
// RTM_F_FIB_MATCH: a route get asks for the table entry instead.
const (
	rtmFCloned   = 0x200
	rtmFFibMatch = 0x2000
)

// rtnlRegister puts IPv4's messages in the host's rtnetlink table
// (devinet_init, ip_fib_init, ip_rt_init, neigh_init for ARP) and sends
// its address, route and neighbour changes to the host's listeners.
func (in *Inet) rtnlRegister() {
	h := in.host
	rtnetlink.Register(h, rtnetlink.RTMGetAddr, nil, nil)
	rtnetlink.RegisterDumper(h, rtnetlink.RTMGetAddr, in.rtmDumpAddr)
	rtnetlink.Register(h, rtnetlink.RTMNewAddr, in.rtmNewAddr, nil)
	rtnetlink.Register(h, rtnetlink.RTMDelAddr, in.rtmNewAddr, nil)
	rtnetlink.Register(h, rtnetlink.RTMGetRoute, in.rtmGetRoute, nil)
	rtnetlink.RegisterDumper(h, rtnetlink.RTMGetRoute, in.rtmDumpRoute)
	rtnetlink.Register(h, rtnetlink.RTMNewRoute, in.rtmNewRoute, nil)
	rtnetlink.Register(h, rtnetlink.RTMDelRoute, in.rtmNewRoute, nil)
	rtnetlink.Register(h, rtnetlink.RTMGetNeigh, in.rtmGetNeigh, nil)
	rtnetlink.RegisterDumper(h, rtnetlink.RTMGetNeigh, in.rtmDumpNeigh)
	rtnetlink.Register(h, rtnetlink.RTMNewNeigh, in.rtmNewNeigh, nil)
	rtnetlink.Register(h, rtnetlink.RTMDelNeigh, in.rtmNewNeigh, nil)
	in.rtnlRegisterRules()
	in.rtnlRegisterNexthops()
	in.Subscribe(in.rtnlNotify)
}

// rtnlNotify is rtmsg_ifa, rtmsg_fib and neigh_notify. A message nobody
// listens to is not built (a full table loaded at once would build a
// notification a route for no one).
func (in *Inet) rtnlNotify(ev InetEvent) {
	h := in.host
	var group uint32
	var typ uint16
	var msg func() []byte
	switch ev.Kind {
	case EventNewAddr, EventDelAddr:
		group, typ, msg = rtnetlink.RTMGrpIPv4Addr, rtnetlink.RTMNewAddr, func() []byte { return AddrMsgOf(ev.Addr).Marshal() }
		if ev.Kind == EventDelAddr {
			typ = rtnetlink.RTMDelAddr
		}
	case EventNewRoute, EventDelRoute:
		group, typ, msg = rtnetlink.RTMGrpIPv4Rt, rtnetlink.RTMNewRoute, func() []byte { return RouteMsgOf(ev.Route).Marshal() }
		if ev.Kind == EventDelRoute {
			typ = rtnetlink.RTMDelRoute
		}
	case EventNewNeigh, EventDelNeigh:
		group, typ, msg = rtnetlink.RTMGrpNeigh, rtnetlink.RTMNewNeigh, func() []byte { return NeighMsgOf(ev.Dev, ev.Neigh).Marshal() }
		if ev.Kind == EventDelNeigh {
			typ = rtnetlink.RTMDelNeigh
		}
	default:
		return
	}
	if rtnetlink.Listening(h, group) {
		rtnetlink.Notify(h, group, typ, msg())
	}
}

// rtmDumpAddr is inet_dump_ifaddr.
func (in *Inet) rtmDumpAddr(h *stack.Host, _ rtnetlink.Request, cb *rtnetlink.Callback, add func(rtnetlink.Message) bool) (bool, error) {
	return dumpByDevice(h, cb, add, func(d *stack.NetDevice) (int, func(int) rtnetlink.Message) {
		as := in.Addrs(d)
		return len(as), func(i int) rtnetlink.Message {
			return rtnetlink.Reply(rtnetlink.RTMNewAddr, AddrMsgOf(as[i]).Marshal())
		}
	}), nil
}

// dumpByDevice is a dump over the host's devices in ifindex order, each
// with n messages made one at a time by at; the callback keeps the place
// (ifindex, index within it), as inet_dump_ifaddr keeps s_idx and
// s_ip_idx, so a batch resumes where the last one stopped.
func dumpByDevice(h *stack.Host, cb *rtnetlink.Callback, add func(rtnetlink.Message) bool, items func(*stack.NetDevice) (n int, at func(int) rtnetlink.Message)) bool {
	devs := slices.SortedFunc(slices.Values(h.Devices()), func(a, b *stack.NetDevice) int { return a.Ifindex() - b.Ifindex() })
	for _, d := range devs {
		idx := int64(d.Ifindex())
		if idx < cb.Args[0] {
			continue
		}
		if idx > cb.Args[0] {
			cb.Args[0], cb.Args[1] = idx, 0
		}
		n, at := items(d)
		for ; cb.Args[1] < int64(n); cb.Args[1]++ {
			if !add(at(int(cb.Args[1]))) {
				return false
			}
		}
		cb.Args[0], cb.Args[1] = idx+1, 0
	}
	return true
}

// rtmNewAddr is inet_rtm_newaddr and inet_rtm_deladdr.
func (in *Inet) rtmNewAddr(h *stack.Host, req rtnetlink.Request) ([]rtnetlink.Message, error) {
	var m rtnetlink.AddrMsg
	if err := m.Unmarshal(req.Body); err != nil {
		return nil, rtnetlink.Errorf(syscall.EINVAL, "%v", err)
	}
	d := rtnetlink.DevByIndex(h, int(m.Index))
	if d == nil {
		return nil, rtnetlink.Errorf(syscall.ENODEV, "Cannot find device")
	}
	local := m.Local
	if !local.IsValid() {
		local = m.Address
	}
	if !local.IsValid() || !local.Is4() || m.PrefixLen > 32 {
		return nil, rtnetlink.Errorf(syscall.EINVAL, "an IPv4 address and a prefix length up to 32 are needed")
	}
	a := IfAddr{Local: local.As4(), PrefixLen: int(m.PrefixLen), Metric: m.Metric, NoPrefixRoute: m.Flags&rtnetlink.IFAFNoPrefixRoute != 0}
	if m.Address.Is4() {
		a.Address = m.Address.As4() // without IFA_ADDRESS a delete matches any subnet
	}
	if req.Type == rtnetlink.RTMDelAddr {
		if err := in.DelIfAddr(d, a); err != nil {
			return nil, rtnetlink.Errorf(syscall.EADDRNOTAVAIL, "ipv4: Address not found.")
		}
		return nil, nil
	}
	if m.Broadcast.Is4() {
		a.Broadcast = m.Broadcast.As4()
	}
	if o, ok := in.FindAddr(d, a); ok {
		// inet_rtm_newaddr on an existing address: with NLM_F_REPLACE
		// (ip addr change, replace) only its metric changes.
		if req.Flags&rtnetlink.FlagExcl != 0 || req.Flags&rtnetlink.FlagReplace == 0 {
			return nil, rtnetlink.Errorf(syscall.EEXIST, "ipv4: Address already assigned.")
		}
		in.SetAddrMetric(d, o, a.Metric)
		return nil, nil
	}
	return nil, rtnetlink.KernErr(in.AddIfAddr(d, a))
}

// rtmDumpRoute is inet_dump_fib: every table.
func (in *Inet) rtmDumpRoute(h *stack.Host, req rtnetlink.Request, cb *rtnetlink.Callback, add func(rtnetlink.Message) bool) (bool, error) {
	// inet_dump_fib with ip_valid_fib_dump_req's filters: a table (which
	// must exist) and an output device.
	var filter rtnetlink.RouteMsg
	if len(req.Body) >= 12 {
		if err := filter.Unmarshal(req.Body); err != nil {
			return true, rtnetlink.Errorf(syscall.EINVAL, "%v", err)
		}
	}
	if filter.Table != fib.TableUnspec && !in.fib.HasTable(filter.Table) {
		return true, rtnetlink.Errorf(syscall.ENOENT, "ipv4: FIB table does not exist")
	}
	var dev *stack.NetDevice
	if filter.Oif != 0 {
		if dev = rtnetlink.DevByIndex(h, int(filter.Oif)); dev == nil {
			return true, rtnetlink.Errorf(syscall.ENODEV, "ipv4: Invalid filter: device does not exist")
		}
	}
	if filter.Flags&rtmFCloned != 0 {
		// ip_valid_fib_dump_req: RTM_F_CLONED dumps the exceptions
		// instead of the routes.
		return in.dumpExceptions(filter.Table, dev, cb, add), nil
	}
	// The cursor lives in the callback's args between batches.
	c := fib.DumpCursor{Table: uint32(cb.Args[0]), Key: uint32(cb.Args[1]), Len: uint8(cb.Args[2]), Idx: int(cb.Args[3])}
	done := in.fib.DumpFrom(filter.Table, &c, func(rt fib.Route) bool {
		if dev != nil && rt.Dev != dev {
			return true
		}
		return add(rtnetlink.Reply(rtnetlink.RTMNewRoute, RouteMsgOf(rt).Marshal()))
	})
	cb.Args[0], cb.Args[1], cb.Args[2], cb.Args[3] = int64(c.Table), int64(c.Key), int64(c.Len), int64(c.Idx)
	return done, nil
}

// rtmNewRoute is inet_rtm_newroute and inet_rtm_delroute
// (rtm_to_fib_config's checks first).
func (in *Inet) rtmNewRoute(h *stack.Host, req rtnetlink.Request) ([]rtnetlink.Message, error) {
	var m rtnetlink.RouteMsg
	if err := m.Unmarshal(req.Body); err != nil {
		return nil, rtnetlink.Errorf(syscall.EINVAL, "%v", err)
	}
	if m.TOS&3 != 0 {
		// rtm_to_fib_config: a route keys on the DSCP, never the ECN bits.
		return nil, rtnetlink.Errorf(syscall.EINVAL, "Invalid dsfield (tos): ECN bits must be 0")
	}
	rt := fib.Route{Table: m.Table, Len: m.DstLen, TOS: m.TOS, Type: fib.RouteType(m.Type), Scope: fib.Scope(m.Scope),
		Protocol: m.Protocol, Priority: m.Priority, Metrics: fib.Metrics(m.Metrics), OnLink: m.Flags&rtnetlink.RTMFOnLink != 0, Realms: m.Flow}
	if m.Dst.IsValid() {
		rt.Dst = m.Dst.As4()
	}
	if m.DstLen > 32 || header.IPv4Uint32(rt.Dst)&^header.IPv4Mask(int(m.DstLen)) != 0 {
		// fib_valid_key_len: host bits set past the prefix length.
		return nil, rtnetlink.Errorf(syscall.EINVAL, "Invalid prefix for given prefix length.")
	}
	gw, err := gatewayOf(m.Gateway, m.Via)
	if err != nil {
		return nil, err
	}
	rt.Gateway = gw
	if m.PrefSrc.IsValid() {
		rt.PrefSrc = m.PrefSrc.As4()
	}
	if m.Oif != 0 {
		if rt.Dev = rtnetlink.DevByIndex(h, int(m.Oif)); rt.Dev == nil {
			return nil, rtnetlink.Errorf(syscall.ENODEV, "Cannot find device")
		}
	}
	rt.NhID = m.NhID
	for _, hop := range m.Multipath {
		p := fib.Path{Weight: hop.Weight, OnLink: hop.Flags&rtnetlink.RTMFOnLink != 0, Realms: hop.Flow}
		if p.Gateway, err = gatewayOf(hop.Gateway, hop.Via); err != nil {
			if req.Type == rtnetlink.RTMDelRoute {
				return nil, syscall.ESRCH // fib_nh_match: no path has such a gateway
			}
			return nil, err
		}
		if hop.Ifindex != 0 {
			if p.Dev = rtnetlink.DevByIndex(h, int(hop.Ifindex)); p.Dev == nil {
				return nil, rtnetlink.Errorf(syscall.ENODEV, "Cannot find device")
			}
		}
		rt.Multipath = append(rt.Multipath, p)
	}
	if len(rt.Multipath) > 0 && rt.NhID != 0 {
		return nil, rtnetlink.Errorf(syscall.EINVAL, "Nexthop specification and nexthop id are mutually exclusive")
	}
	if req.Type == rtnetlink.RTMDelRoute {
		_, err := in.RouteDel(rt)
		return nil, rtnetlink.KernErr(err)
	}
	if rt.NhID != 0 && (rt.Dev != nil || rt.Gateway != ([4]byte{})) {
		return nil, rtnetlink.Errorf(syscall.EINVAL, "Nexthop specification and nexthop id are mutually exclusive")
	}
	if rt.Table == fib.TableLocal && rt.Type != fib.RTNLocal && rt.Type != fib.RTNBroadcast {
		return nil, rtnetlink.Errorf(syscall.EINVAL, "the local table takes local and broadcast routes only")
	}
	if rt.Metrics, err = convertMetrics(m.Metrics); err != nil {
		return nil, fibNlErr(err) // fib_create_info's metrics, before the nexthops
	}
	how := fib.How{Replace: req.Flags&rtnetlink.FlagReplace != 0, Excl: req.Flags&rtnetlink.FlagExcl != 0,
		Append: req.Flags&rtnetlink.FlagAppend != 0, Create: req.Flags&rtnetlink.FlagCreate != 0}
	err = in.RouteAddHow(rt, how)
	if e, _ := rtnetlink.UnwrapErrno(err); e == syscall.ENETUNREACH {
		return nil, rtnetlink.Errorf(e, "Nexthop has invalid gateway.")
	}
	return nil, fibNlErr(err)
}

// gatewayOf is a nexthop's gateway from RTA_GATEWAY or RTA_VIA
// (fib_gw_from_via): an IPv4 RTA_VIA is a gateway; an IPv6 one is refused
// as a kernel built without IPv6 refuses it, for vnic has none.
func gatewayOf(gw, via netip.Addr) ([4]byte, error) {
	switch {
	case gw.IsValid() && via.IsValid():
		return [4]byte{}, rtnetlink.Errorf(syscall.EINVAL, "Nexthop configuration can not contain both GATEWAY and VIA")
	case via.Is6():
		return [4]byte{}, rtnetlink.Errorf(syscall.EINVAL, "IPv6 support not enabled in kernel")
	case via.IsValid():
		return via.As4(), nil
	case gw.IsValid():
		return gw.As4(), nil
	}
	return [4]byte{}, nil
}

// rtmGetRoute is inet_rtm_getroute for one destination: an output
// decision, or an input one when RTA_IIF names the arrival device.
func (in *Inet) rtmGetRoute(h *stack.Host, req rtnetlink.Request) ([]rtnetlink.Message, error) {
	var m rtnetlink.RouteMsg
	if err := m.Unmarshal(req.Body); err != nil {
		return nil, rtnetlink.Errorf(syscall.EINVAL, "%v", err)
	}
	if !m.Dst.IsValid() {
		return nil, rtnetlink.Errorf(syscall.EINVAL, "need a destination")
	}
	out := rtnetlink.RouteMsg{DstLen: 32, Dst: m.Dst, Flags: rtmFCloned, Table: fib.TableMain}
	var d *Rtable
	var src [4]byte
	if m.Src.IsValid() {
		src = m.Src.As4()
	}
	if m.Iif != 0 {
		dev := rtnetlink.DevByIndex(h, int(m.Iif))
		if dev == nil {
			return nil, rtnetlink.Errorf(syscall.ENODEV, "Cannot find device")
		}
		var err error
		if d, err = in.RouteInputGet(m.Dst.As4(), src, m.TOS, m.Mark, dev); err != nil {
			return nil, rtnetlink.KernErr(err)
		}
		out.Iif = m.Iif
		if m.Src.IsValid() {
			out.Src, out.SrcLen = m.Src, 32
		}
	} else {
		// inet_rtm_getroute's flow: the mark, the uid (RTA_UID, else the
		// requester's), the protocol and ports rules may select on.
		uid := req.UID
		if m.HasUID {
			uid = m.UID
		}
		fl := fib.FlowKey{Dst: m.Dst.As4(), Src: src, TOS: m.TOS, Oif: int(m.Oif), Mark: m.Mark, UID: uid,
			Proto: m.IPProto, Sport: m.Sport, Dport: m.Dport}
		var err error
		if d, err = in.routeOutput(&fl); err != nil {
			return nil, rtnetlink.KernErr(err)
		}
		// rt_fill_info: the source asked for as RTA_SRC, the one chosen as
		// RTA_PREFSRC only when it is another.
		if m.Src.IsValid() {
			out.Src, out.SrcLen = m.Src, 32
		}
		if !m.Src.IsValid() || fl.Src != src {
			out.PrefSrc = netip.AddrFrom4(fl.Src)
		}
		out.UID, out.HasUID = uid, true // an output decision's flow uid
	}
	if m.Flags&rtmFFibMatch != 0 {
		// fibmatch: the table entry the decision came from, as a dump
		// shows it (local and main answer as one table without rules).
		if d.Route == nil {
			return nil, rtnetlink.Errorf(syscall.EINVAL, "the decision has no table entry")
		}
		fm := RouteMsgOf(d.Route.Entry().Copy())
		if fm.Table == fib.TableLocal && !in.fib.CustomRules() {
			fm.Table = fib.TableMain
		}
		return []rtnetlink.Message{rtnetlink.Reply(rtnetlink.RTMNewRoute, fm.Marshal())}, nil
	}
	out.Type = uint8(d.Type)
	out.Mark = m.Mark
	// rt_fill_info: the TOS of the route that matched (a lookup keys on
	// the flow's TOS bits, a route without TOS matches any).
	if d.Route != nil {
		out.TOS = d.Route.TOS
	}
	// rt_fill_info: the decision's RTCF_* flags ride in rtm_flags' high
	// half (ip prints them as "cache <local,brd>").
	out.Flags |= d.Flags &^ 0xffff
	if d.Route != nil {
		out.Table = d.Route.Table
	} else if m.Iif == 0 {
		out.Table = fib.TableUnspec // an output decision made without a table (rt_fill_info: table 0)
	} else if (d.Type == fib.RTNLocal || d.Type == fib.RTNBroadcast) && !header.IPv4IsLbcast(m.Dst.As4()) {
		out.Table = fib.TableLocal // an input decision from the local table
	} else {
		out.Table = fib.TableUnspec // the limited broadcast, a group: no lookup
	}
	if out.Table == fib.TableLocal && !in.fib.CustomRules() {
		// Without policy rules Linux keeps local and main in one trie:
		// a decision from either reports main (a rule added unmerges
		// them: fib_unmerge).
		out.Table = fib.TableMain
	}
	if d.Dev != nil {
		out.Oif = uint32(d.Dev.Ifindex())
	}
	if d.Gateway != ([4]byte{}) {
		out.Gateway = netip.AddrFrom4(d.Gateway)
	}
	if d.Route != nil {
		out.Metrics = rtnetlink.Metrics(d.Route.Metrics) // the decision's metrics are its route's
		out.Flow = d.Realms                              // rt_fill_info: the dst's tclassid
	}
	// rt_fill_info: a decision bound to an exception reports its MTU
	// (locked if it is) and, in RTA_CACHEINFO, the time left.
	return []rtnetlink.Message{rtnetlink.Reply(rtnetlink.RTMNewRoute, exceptionBody(out, d))}, nil
}

// RTAX numbers of the metrics an exception sets, and RTA_CACHEINFO.
const (
	rtaxLock     = 1
	rtaxMTU      = 2
	rtaCacheInfo = 12
	userHZ       = 100 // USER_HZ: rta_cacheinfo's times are in clock ticks
)

// appendCacheInfo adds RTA_CACHEINFO (struct rta_cacheinfo, 32 bytes)
// with rta_expires, the time left in clock ticks (jiffies_to_clock_t), to
// a route message's body; rtnetlink.RouteMsg has no field for it.
func appendCacheInfo(body []byte, left time.Duration) []byte {
	var a [4 + 32]byte
	binary.NativeEndian.PutUint16(a[0:], uint16(len(a)))
	binary.NativeEndian.PutUint16(a[2:], rtaCacheInfo)
	binary.NativeEndian.PutUint32(a[4+8:], uint32(int32(left/(time.Second/userHZ))))
	return append(body, a[:]...)
}

// rtmDumpNeigh is neigh_dump_info for the ARP tables.
func (in *Inet) rtmDumpNeigh(h *stack.Host, _ rtnetlink.Request, cb *rtnetlink.Callback, add func(rtnetlink.Message) bool) (bool, error) {
	return dumpByDevice(h, cb, add, func(d *stack.NetDevice) (int, func(int) rtnetlink.Message) {
		t := in.ARP(d)
		if t == nil {
			return 0, nil
		}
		es := t.Entries()
		return len(es), func(i int) rtnetlink.Message {
			return rtnetlink.Reply(rtnetlink.RTMNewNeigh, NeighMsgOf(d, es[i]).Marshal())
		}
	}), nil
}

// neighRequest reads a neighbour request: its device and destination
// must be there (else ENODEV with noDev, EINVAL with noDst: the words of
// the handler's kernel twin).
func neighRequest(h *stack.Host, req rtnetlink.Request, noDev, noDst string) (rtnetlink.NeighMsg, *stack.NetDevice, error) {
	var m rtnetlink.NeighMsg
	if err := m.Unmarshal(req.Body); err != nil {
		return m, nil, rtnetlink.Errorf(syscall.EINVAL, "%v", err)
	}
	d := rtnetlink.DevByIndex(h, int(m.Index))
	if d == nil {
		return m, nil, rtnetlink.Errorf(syscall.ENODEV, "%s", noDev)
	}
	if !m.Dst.IsValid() {
		return m, nil, rtnetlink.Errorf(syscall.EINVAL, "%s", noDst)
	}
	return m, d, nil
}

// rtmNewNeigh is neigh_add and neigh_delete for ARP.
func (in *Inet) rtmNewNeigh(h *stack.Host, req rtnetlink.Request) ([]rtnetlink.Message, error) {
	m, d, err := neighRequest(h, req, "Cannot find device", "an IPv4 destination is needed")
	if err != nil {
		return nil, err
	}
	if req.Type == rtnetlink.RTMDelNeigh {
		if !in.NeighDel(d, m.Dst) {
			return nil, syscall.ENOENT
		}
		return nil, nil
	}
	var mac *stack.MAC
	if m.LLAddr != nil {
		if len(m.LLAddr) < 6 {
			return nil, rtnetlink.Errorf(syscall.EINVAL, "Invalid link address")
		}
		mac = (*stack.MAC)(m.LLAddr[:6])
	}
	t := in.Attach(d).arp
	if _, ok := t.Lookup(m.Dst.As4()); ok && req.Flags&rtnetlink.FlagExcl != 0 {
		return nil, syscall.EEXIST // neigh_add with NLM_F_EXCL
	}
	err = t.Admin(m.Dst.As4(), mac, neigh.NUDState(m.State), req.Flags&rtnetlink.FlagCreate != 0)
	if errors.Is(err, neigh.ErrNoLLAddr) {
		return nil, rtnetlink.Errorf(syscall.EINVAL, "No link layer address given")
	}
	return nil, rtnetlink.KernErr(err)
}

// rtmGetNeigh is neigh_get for ARP: the entry for one address on one
// device, whatever its state.
func (in *Inet) rtmGetNeigh(h *stack.Host, req rtnetlink.Request) ([]rtnetlink.Message, error) {
	m, d, err := neighRequest(h, req, "Unknown device ifindex", "Network address not specified")
	if err != nil {
		return nil, err
	}
	if t := in.ARP(d); t != nil {
		if n, ok := t.Lookup(m.Dst.As4()); ok {
			return []rtnetlink.Message{rtnetlink.Reply(rtnetlink.RTMNewNeigh, NeighMsgOf(d, n).Marshal())}, nil
		}
	}
	return nil, rtnetlink.Errorf(syscall.ENOENT, "Neighbour entry not found")
}

// AddrMsgOf is inet_fill_ifaddr for a.
func AddrMsgOf(a IfAddr) rtnetlink.AddrMsg {
	m := rtnetlink.AddrMsg{PrefixLen: uint8(a.PrefixLen), Scope: uint8(a.Scope), Index: uint32(a.Ifindex), Flags: rtnetlink.IFAFPermanent,
		Local: netip.AddrFrom4(a.Local), Address: netip.AddrFrom4(a.Address), Label: a.Label, Metric: a.Metric}
	if a.Secondary {
		m.Flags |= rtnetlink.IFAFSecondary
	}
	if a.NoPrefixRoute {
		m.Flags |= rtnetlink.IFAFNoPrefixRoute
	}
	if a.Broadcast != ([4]byte{}) {
		m.Broadcast = netip.AddrFrom4(a.Broadcast)
	}
	return m
}

// RouteMsgOf is fib_dump_info for r.
func RouteMsgOf(r fib.Route) rtnetlink.RouteMsg {
	m := rtnetlink.RouteMsg{DstLen: r.Len, TOS: r.TOS, Table: r.Table, Protocol: r.Protocol, Scope: uint8(r.Scope), Type: uint8(r.Type),
		Priority: r.Priority, HasPrio: r.Priority != 0, Metrics: rtnetlink.Metrics(r.Metrics), Flow: r.Realms}
	if r.Len > 0 {
		m.Dst = netip.AddrFrom4(r.Dst)
	}
	if r.Gateway != ([4]byte{}) {
		m.Gateway = netip.AddrFrom4(r.Gateway)
	}
	if r.PrefSrc != ([4]byte{}) {
		m.PrefSrc = netip.AddrFrom4(r.PrefSrc)
	}
	if r.Dev != nil {
		m.Oif = uint32(r.Dev.Ifindex())
	}
	if r.OnLink {
		m.Flags |= rtnetlink.RTMFOnLink
	}
	m.Flags |= uint32(r.NHFlags) // fib_nexthop_info: dead, linkdown
	m.NhID = r.NhID
	for _, p := range r.Multipath {
		h := rtnetlink.RtNexthop{Weight: p.Weight, Flags: p.Flags, Flow: p.Realms}
		if p.Dev != nil {
			h.Ifindex = int32(p.Dev.Ifindex())
		}
		if p.Gateway != ([4]byte{}) {
			h.Gateway = netip.AddrFrom4(p.Gateway)
		}
		if p.OnLink {
			h.Flags |= rtnetlink.RTMFOnLink
		}
		m.Multipath = append(m.Multipath, h)
	}
	if len(m.Multipath) == 1 {
		// fib_dump_info: a group of one path dumps as a single nexthop.
		h := m.Multipath[0]
		m.Gateway, m.Oif, m.Flow, m.Multipath = h.Gateway, uint32(h.Ifindex), h.Flow, nil
		m.Flags |= uint32(h.Flags)
	}
	if r.NexthopBlackhole() {
		// fib_dump_info: a blackhole nexthop makes the route a
		// blackhole (through the loopback, the nexthop's device).
		m.Type = uint8(fib.RTNBlackhole)
	}
	return m
}

// NeighMsgOf is neigh_fill_info for n on d.
func NeighMsgOf(d *stack.NetDevice, n neigh.Neighbour) rtnetlink.NeighMsg {
	m := rtnetlink.NeighMsg{Index: int32(d.Ifindex()), State: uint16(n.State), Type: 1, Dst: netip.AddrFrom4(n.Addr)}
	if n.MAC != (stack.MAC{}) || n.State&(neigh.NUDIncomplete|neigh.NUDFailed|neigh.NUDNone) == 0 {
		m.LLAddr = net.HardwareAddr(n.MAC[:])
	}
	return m
}

// dumpExceptions is fib_dump_info_fnhe over every route of table (all for
// TableUnspec): each live exception with a decision bound to it, as
// rt_fill_info fills it without a flow (no source, no uid), through dev
// if given. cb.Args[0] counts what went in earlier batches.
func (in *Inet) dumpExceptions(table uint32, dev *stack.NetDevice, cb *rtnetlink.Callback, add func(rtnetlink.Message) bool) bool {
	xs := in.fib.BoundExceptions(table, in.fnheGenid.Load(), in.host.Clock().Now())
	for i := int(cb.Args[0]); i < len(xs); i++ {
		x := xs[i]
		d := asRt(x.Out)
		if dev != nil && d.Dev != dev {
			continue
		}
		m := rtnetlink.RouteMsg{DstLen: 32, Dst: netip.AddrFrom4(x.Daddr), Table: x.Route.Table, Type: uint8(d.Type),
			Protocol: x.Route.Protocol, Flags: rtmFCloned | d.Flags&^0xffff, Metrics: rtnetlink.Metrics(x.Route.Metrics)}
		if m.Table == fib.TableLocal {
			m.Table = fib.TableMain
		}
		if d.Dev != nil {
			m.Oif = uint32(d.Dev.Ifindex())
		}
		if d.Gateway != ([4]byte{}) {
			m.Gateway = netip.AddrFrom4(d.Gateway)
		}
		if !add(rtnetlink.Reply(rtnetlink.RTMNewRoute, exceptionBody(m, d))) {
			cb.Args[0] = int64(i)
			return false
		}
	}
	cb.Args[0] = int64(len(xs))
	return true
}

// exceptionBody is m with what the decision's exception adds (rt_fill_info:
// the MTU, locked if it is, and RTA_CACHEINFO's time left).
func exceptionBody(m rtnetlink.RouteMsg, d *Rtable) []byte {
	pmtu, locked, left, ok := d.Exception()
	if !ok {
		return m.Marshal()
	}
	if pmtu != 0 {
		m.Metrics.Val[rtaxMTU] = pmtu
		if locked {
			m.Metrics.Val[rtaxLock] |= 1 << rtaxMTU
		}
	}
	return appendCacheInfo(m.Marshal(), left)
}
