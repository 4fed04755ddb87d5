package ctl

import (
	"fmt"
	"net"
	"net/netip"
	"syscall"

	"github.com/mdlayher/netlink"

	"vnic/ethtool"
	"vnic/internal/iproute"
	"vnic/stack"
	"vnic/stack/ipv4"
	"vnic/stack/ipv4/fib"
	"vnic/stack/neigh"
)

// rtnetlink group bits (RTMGRP_*), as a CtrlCmdRouteBind carries them.
const (
	RTMGrpLink     = 0x1
	RTMGrpNeigh    = 0x4
	RTMGrpIPv4Addr = 0x10
	RTMGrpIPv4Rt   = 0x40
)

// RTM_F_CLONED: a route get's answer is a decision, not a table entry.
const rtmFCloned = 0x200

// Rtnl serves rtnetlink (links, IPv4 addresses, routes, neighbours) for
// the hosts of a running topology.
type Rtnl struct {
	// Host finds a namespace by name (nil: none).
	Host func(name string) *stack.Host
	// Exec, when set, runs a request where the simulation may be touched
	// (the virtual clock's goroutine).
	Exec func(func())
	srv  *Server
}

// Attach installs r on s and subscribes to every host's changes.
func (r *Rtnl) Attach(s *Server, hosts []*stack.Host) {
	r.srv = s
	s.SetRouteService(r)
	for _, h := range hosts {
		h := h
		if in := ipv4.Of(h); in != nil {
			in.Subscribe(func(ev ipv4.InetEvent) { r.event(h, ev) })
		}
		h.RegisterNetdevNotifier(func(ev stack.NetdevEvent, d *stack.NetDevice) {
			if ev == stack.NetdevChange {
				s.NotifyRoute(h.Name(), RTMGrpLink, iproute.RTMNewLink, linkMsg(d).Marshal())
			}
		})
	}
}

func (r *Rtnl) event(h *stack.Host, ev ipv4.InetEvent) {
	ns := h.Name()
	switch ev.Kind {
	case ipv4.EventNewAddr:
		r.srv.NotifyRoute(ns, RTMGrpIPv4Addr, iproute.RTMNewAddr, addrMsg(ev.Addr).Marshal())
	case ipv4.EventDelAddr:
		r.srv.NotifyRoute(ns, RTMGrpIPv4Addr, iproute.RTMDelAddr, addrMsg(ev.Addr).Marshal())
	case ipv4.EventNewRoute:
		r.srv.NotifyRoute(ns, RTMGrpIPv4Rt, iproute.RTMNewRoute, routeMsg(ev.Route).Marshal())
	case ipv4.EventDelRoute:
		r.srv.NotifyRoute(ns, RTMGrpIPv4Rt, iproute.RTMDelRoute, routeMsg(ev.Route).Marshal())
	case ipv4.EventNewNeigh:
		r.srv.NotifyRoute(ns, RTMGrpNeigh, iproute.RTMNewNeigh, neighMsg(ev.Dev, ev.Neigh).Marshal())
	case ipv4.EventDelNeigh:
		r.srv.NotifyRoute(ns, RTMGrpNeigh, iproute.RTMDelNeigh, neighMsg(ev.Dev, ev.Neigh).Marshal())
	}
}

// Namespace implements RouteService.
func (r *Rtnl) Namespace(name string) error {
	if r.Host(name) == nil {
		return fmt.Errorf("no host %q", name)
	}
	return nil
}

func errMsg(errno syscall.Errno, format string, args ...any) error {
	return &ethtool.Error{Op: "rtnetlink", Errno: errno, Msg: fmt.Sprintf(format, args...)}
}

// Handle implements RouteService.
func (r *Rtnl) Handle(ns string, h netlink.Header, body []byte) (out []netlink.Message, err error) {
	host := r.Host(ns)
	if host == nil {
		return nil, errMsg(syscall.ENOENT, "no host %q", ns)
	}
	run := func() { out, err = r.handle(host, h, body) }
	if r.Exec != nil {
		r.Exec(run)
	} else {
		run()
	}
	return out, err
}

func reply(typ uint16, body []byte) netlink.Message {
	return netlink.Message{Header: netlink.Header{Type: netlink.HeaderType(typ)}, Data: body}
}

func devByIndex(h *stack.Host, idx int) *stack.NetDevice {
	for _, d := range h.Devices() {
		if d.Ifindex() == idx {
			return d
		}
	}
	return nil
}

func (r *Rtnl) handle(h *stack.Host, hd netlink.Header, body []byte) ([]netlink.Message, error) {
	in := ipv4.Of(h)
	dump := hd.Flags&netlink.Dump == netlink.Dump
	typ := uint16(hd.Type)
	needInet := typ >= iproute.RTMNewAddr
	if needInet && in == nil {
		return nil, errMsg(syscall.EAFNOSUPPORT, "host %s has no IPv4 (no addresses in its topology)", h.Name())
	}
	switch typ {
	case iproute.RTMGetLink:
		var m iproute.LinkMsg
		if err := m.Unmarshal(body); err != nil && !dump {
			return nil, errMsg(syscall.EINVAL, "%v", err)
		}
		var out []netlink.Message
		for _, d := range h.Devices() {
			if dump || int(m.Index) == d.Ifindex() || (m.Index == 0 && m.Name == d.Name()) {
				out = append(out, reply(iproute.RTMNewLink, linkMsg(d).Marshal()))
			}
		}
		if !dump && len(out) == 0 {
			return nil, errMsg(syscall.ENODEV, "Cannot find device")
		}
		return out, nil
	case iproute.RTMNewLink:
		var m iproute.LinkMsg
		if err := m.Unmarshal(body); err != nil {
			return nil, errMsg(syscall.EINVAL, "%v", err)
		}
		d := devByIndex(h, int(m.Index))
		if d == nil && m.Name != "" {
			d, _ = h.Device(m.Name)
		}
		if d == nil {
			if hd.Flags&iproute.FlagCreate != 0 {
				return nil, errMsg(syscall.EOPNOTSUPP, "creating links is not supported")
			}
			return nil, errMsg(syscall.ENODEV, "Cannot find device")
		}
		if m.MTU != 0 && int(m.MTU) != d.MTU() {
			if err := d.SetMTU(int(m.MTU)); err != nil {
				return nil, kernErr(err)
			}
		}
		if m.Change&stack.IFFUp != 0 {
			var err error
			if m.Flags&stack.IFFUp != 0 {
				err = d.Open()
			} else {
				err = d.Close()
			}
			if err != nil {
				return nil, kernErr(err)
			}
		}
		r.srv.NotifyRoute(h.Name(), RTMGrpLink, iproute.RTMNewLink, linkMsg(d).Marshal())
		return nil, nil
	case iproute.RTMGetAddr:
		var out []netlink.Message
		for _, d := range h.Devices() {
			for _, a := range in.Addrs(d) {
				out = append(out, reply(iproute.RTMNewAddr, addrMsg(a).Marshal()))
			}
		}
		return out, nil
	case iproute.RTMNewAddr, iproute.RTMDelAddr:
		var m iproute.AddrMsg
		if err := m.Unmarshal(body); err != nil {
			return nil, errMsg(syscall.EINVAL, "%v", err)
		}
		d := devByIndex(h, int(m.Index))
		if d == nil {
			return nil, errMsg(syscall.ENODEV, "Cannot find device")
		}
		local := m.Local
		if !local.IsValid() {
			local = m.Address
		}
		if !local.IsValid() || m.PrefixLen > 32 {
			return nil, errMsg(syscall.EINVAL, "an IPv4 address and a prefix length up to 32 are needed")
		}
		p := netip.PrefixFrom(local, int(m.PrefixLen))
		if typ == iproute.RTMDelAddr {
			if err := in.DelAddr(d, p); err != nil {
				return nil, errMsg(syscall.EADDRNOTAVAIL, "ipv4: Address not found.")
			}
			return nil, nil
		}
		var brd [4]byte
		if m.Broadcast.IsValid() {
			brd = m.Broadcast.As4()
		}
		err := in.AddAddrBroadcast(d, p, brd)
		if e, _ := unwrapErrno(err); e == syscall.EEXIST {
			if hd.Flags&iproute.FlagReplace != 0 && hd.Flags&iproute.FlagExcl == 0 {
				return nil, nil // ip addr replace of an existing address
			}
			return nil, errMsg(syscall.EEXIST, "ipv4: Address already assigned.")
		}
		return nil, kernErr(err)
	case iproute.RTMGetRoute:
		if dump {
			var out []netlink.Message
			for _, rt := range in.Routes(fib.TableUnspec) {
				out = append(out, reply(iproute.RTMNewRoute, routeMsg(rt).Marshal()))
			}
			return out, nil
		}
		return r.routeGet(h, in, body)
	case iproute.RTMNewRoute, iproute.RTMDelRoute:
		var m iproute.RouteMsg
		if err := m.Unmarshal(body); err != nil {
			return nil, errMsg(syscall.EINVAL, "%v", err)
		}
		rt := fib.Route{Table: m.Table, Len: m.DstLen, TOS: m.TOS, Type: fib.RouteType(m.Type), Scope: fib.Scope(m.Scope),
			Protocol: m.Protocol, Priority: m.Priority, MTU: m.MTU, OnLink: m.Flags&iproute.RTMFOnLink != 0}
		if m.Dst.IsValid() {
			rt.Dst = m.Dst.As4()
		}
		if m.Gateway.IsValid() {
			rt.Gateway = m.Gateway.As4()
		}
		if m.PrefSrc.IsValid() {
			rt.PrefSrc = m.PrefSrc.As4()
		}
		if m.Oif != 0 {
			if rt.Dev = devByIndex(h, int(m.Oif)); rt.Dev == nil {
				return nil, errMsg(syscall.ENODEV, "Cannot find device")
			}
		}
		if typ == iproute.RTMDelRoute {
			_, err := in.RouteDel(rt)
			return nil, kernErr(err)
		}
		if rt.Table == fib.TableLocal && rt.Type != fib.RTNLocal && rt.Type != fib.RTNBroadcast {
			return nil, errMsg(syscall.EINVAL, "the local table takes local and broadcast routes only")
		}
		replace := hd.Flags&iproute.FlagReplace != 0
		err := in.RouteAdd(rt, replace)
		if e, _ := unwrapErrno(err); e == syscall.ENETUNREACH {
			return nil, errMsg(e, "Nexthop has invalid gateway.")
		}
		return nil, kernErr(err)
	case iproute.RTMGetNeigh:
		var out []netlink.Message
		for _, d := range h.Devices() {
			if t := in.ARP(d); t != nil {
				for _, n := range t.Entries() {
					out = append(out, reply(iproute.RTMNewNeigh, neighMsg(d, n).Marshal()))
				}
			}
		}
		return out, nil
	case iproute.RTMNewNeigh, iproute.RTMDelNeigh:
		var m iproute.NeighMsg
		if err := m.Unmarshal(body); err != nil {
			return nil, errMsg(syscall.EINVAL, "%v", err)
		}
		d := devByIndex(h, int(m.Index))
		if d == nil {
			return nil, errMsg(syscall.ENODEV, "Cannot find device")
		}
		if !m.Dst.IsValid() {
			return nil, errMsg(syscall.EINVAL, "an IPv4 destination is needed")
		}
		if typ == iproute.RTMDelNeigh {
			if !in.NeighDel(d, m.Dst) {
				return nil, syscall.ENOENT
			}
			return nil, nil
		}
		if neigh.NUDState(m.State) != neigh.NUDPermanent {
			return nil, errMsg(syscall.EOPNOTSUPP, "only permanent entries can be added (nud permanent)")
		}
		if len(m.LLAddr) != 6 {
			return nil, errMsg(syscall.EINVAL, "lladdr must be a 6-byte Ethernet address")
		}
		in.NeighAdd(d, m.Dst, stack.MAC(m.LLAddr))
		return nil, nil
	}
	return nil, errMsg(syscall.EOPNOTSUPP, "message type %d is not supported", typ)
}

// kernErr reports a stack error as the kernel would: its errno alone
// ("RTNETLINK answers: …").
func kernErr(err error) error {
	if err == nil {
		return nil
	}
	if e, ok := unwrapErrno(err); ok {
		return e
	}
	return errMsg(syscall.EINVAL, "%v", err)
}

func unwrapErrno(err error) (syscall.Errno, bool) {
	for err != nil {
		if e, ok := err.(syscall.Errno); ok {
			return e, true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return 0, false
		}
		err = u.Unwrap()
	}
	return 0, false
}

// routeGet answers RTM_GETROUTE for one destination: an output decision,
// or an input one when RTA_IIF names the arrival device.
func (r *Rtnl) routeGet(h *stack.Host, in *ipv4.Inet, body []byte) ([]netlink.Message, error) {
	var m iproute.RouteMsg
	if err := m.Unmarshal(body); err != nil {
		return nil, errMsg(syscall.EINVAL, "%v", err)
	}
	if !m.Dst.IsValid() {
		return nil, errMsg(syscall.EINVAL, "need a destination")
	}
	out := iproute.RouteMsg{DstLen: 32, Dst: m.Dst, TOS: m.TOS, Flags: rtmFCloned, Table: fib.TableMain}
	var d *ipv4.Rtable
	var src [4]byte
	if m.Src.IsValid() {
		src = m.Src.As4()
	}
	if m.Iif != 0 {
		dev := devByIndex(h, int(m.Iif))
		if dev == nil {
			return nil, errMsg(syscall.ENODEV, "Cannot find device")
		}
		var err error
		if d, err = in.RouteInputGet(m.Dst.As4(), src, m.TOS, dev); err != nil {
			return nil, kernErr(err)
		}
		out.Iif = m.Iif
		if m.Src.IsValid() {
			out.Src, out.SrcLen = m.Src, 32
		}
	} else {
		fl := fib.FlowKey{Dst: m.Dst.As4(), Src: src, TOS: m.TOS, Oif: int(m.Oif)}
		var err error
		if d, err = in.RouteOutput(&fl); err != nil {
			return nil, kernErr(err)
		}
		out.PrefSrc = netip.AddrFrom4(fl.Src)
	}
	out.Type = uint8(d.Type)
	if d.Route != nil {
		out.Table = d.Route.Table
	}
	if d.Flags&ipv4.RTCFLocal != 0 && d.Type == fib.RTNLocal {
		out.Table = fib.TableLocal
	}
	if d.Dev != nil {
		out.Oif = uint32(d.Dev.Ifindex())
	}
	if d.Gateway != ([4]byte{}) {
		out.Gateway = netip.AddrFrom4(d.Gateway)
	}
	if mtu := d.MTU(); d.Route != nil && d.Route.MTU != 0 {
		out.MTU = uint32(mtu)
	}
	return []netlink.Message{reply(iproute.RTMNewRoute, out.Marshal())}, nil
}

func linkMsg(d *stack.NetDevice) iproute.LinkMsg {
	f := d.Flags()
	m := iproute.LinkMsg{Index: int32(d.Ifindex()), Flags: f, Type: 1, Name: d.Name(), MTU: uint32(d.MTU()), TxQLen: uint32(d.TxQueueLen),
		Operstate: uint8(d.Operstate()), Qdisc: "pfifo_fast"}
	mac := d.Addr()
	m.MAC = net.HardwareAddr(mac[:])
	m.Broadcast = net.HardwareAddr(stack.BroadcastMAC[:])
	if tx, _ := d.RealNumQueues(); tx > 1 {
		m.Qdisc = "mq"
	}
	if f&stack.IFFLoopback != 0 {
		m.Type, m.Qdisc, m.Broadcast = 772, "noqueue", net.HardwareAddr(make([]byte, 6))
		if f&stack.IFFUp != 0 {
			m.Operstate = 0 // UNKNOWN, as the kernel reports lo
		}
	}
	if f&stack.IFFUp == 0 {
		m.Qdisc = "noop"
	}
	return m
}

func addrMsg(a ipv4.IfAddr) iproute.AddrMsg {
	m := iproute.AddrMsg{PrefixLen: uint8(a.PrefixLen), Scope: uint8(a.Scope), Index: uint32(a.Ifindex), Flags: iproute.IFAFPermanent,
		Local: netip.AddrFrom4(a.Local), Address: netip.AddrFrom4(a.Local), Label: a.Label}
	if a.Secondary {
		m.Flags |= iproute.IFAFSecondary
	}
	if a.Broadcast != ([4]byte{}) {
		m.Broadcast = netip.AddrFrom4(a.Broadcast)
	}
	return m
}

func routeMsg(r fib.Route) iproute.RouteMsg {
	m := iproute.RouteMsg{DstLen: r.Len, TOS: r.TOS, Table: r.Table, Protocol: r.Protocol, Scope: uint8(r.Scope), Type: uint8(r.Type),
		Priority: r.Priority, HasPrio: r.Priority != 0, MTU: r.MTU}
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
		m.Flags |= iproute.RTMFOnLink
	}
	return m
}

func neighMsg(d *stack.NetDevice, n neigh.Neighbour) iproute.NeighMsg {
	m := iproute.NeighMsg{Index: int32(d.Ifindex()), State: uint16(n.State), Type: 1, Dst: netip.AddrFrom4(n.Addr)}
	if n.MAC != (stack.MAC{}) || n.State&(neigh.NUDIncomplete|neigh.NUDFailed|neigh.NUDNone) == 0 {
		m.LLAddr = net.HardwareAddr(n.MAC[:])
	}
	return m
}
