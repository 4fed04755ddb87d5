package ipv4

import (
	"net/netip"
	"syscall"

	"vnic/stack"
	"vnic/stack/ipv4/fib"
	"vnic/stack/rtnetlink"
)

// Nexthop objects over rtnetlink (rtm_new_nexthop, rtm_del_nexthop,
// rtm_get_nexthop, rtm_dump_nexthop with nh_fill_node). The objects are
// fib's.

// rtnlRegisterNexthops adds the nexthop messages to the host's rtnetlink
// and flushes a device's nexthops when it goes down or away
// (nexthop_flush_dev).
func (in *Inet) rtnlRegisterNexthops() {
	h := in.host
	rtnetlink.Register(h, rtnetlink.RTMNewNexthop, in.rtmNewNexthop, nil)
	rtnetlink.Register(h, rtnetlink.RTMDelNexthop, in.rtmDelNexthop, nil)
	rtnetlink.Register(h, rtnetlink.RTMGetNexthop, in.rtmGetNexthop, in.rtmDumpNexthop)
	h.RegisterNetdevNotifier(func(ev stack.NetdevEvent, d *stack.NetDevice) {
		if ev == stack.NetdevDown || ev == stack.NetdevUnregister {
			in.notifyNexthops(in.fib.FlushNexthopsDev(d))
		}
	})
}

// notifyNexthops tells listeners of deleted nexthops and of groups that
// lost members (the routes that went are not notified, as fib_flush
// does not).
func (in *Inet) notifyNexthops(ch fib.NexthopChange) {
	for _, nh := range ch.Deleted {
		rtnetlink.Notify(in.host, rtnetlink.RTMGrpNexthop, rtnetlink.RTMDelNexthop, NexthopMsgOf(nh).Marshal())
	}
	for _, nh := range ch.Changed {
		rtnetlink.Notify(in.host, rtnetlink.RTMGrpNexthop, rtnetlink.RTMNewNexthop, NexthopMsgOf(nh).Marshal())
	}
}

// rtmNewNexthop is rtm_new_nexthop with rtm_to_nh_config's checks.
func (in *Inet) rtmNewNexthop(h *stack.Host, req rtnetlink.Request) ([]rtnetlink.Message, error) {
	var m rtnetlink.NexthopMsg
	if err := m.Unmarshal(req.Body); err != nil {
		return nil, rtnetlink.Errorf(syscall.EINVAL, "%v", err)
	}
	if m.Scope != 0 {
		return nil, rtnetlink.Errorf(syscall.EINVAL, "Invalid values in header")
	}
	if m.Flags&^rtnetlink.RTNHFOnLink != 0 {
		return nil, rtnetlink.Errorf(syscall.EINVAL, "Invalid nexthop flags in ancillary header")
	}
	switch m.Family {
	case 0, syscall.AF_INET:
	case syscall.AF_INET6:
		return nil, rtnetlink.Errorf(syscall.EAFNOSUPPORT, "IPv6 nexthops are not supported: vnic's stack is IPv4 only")
	default:
		return nil, rtnetlink.Errorf(syscall.EINVAL, "Invalid address family")
	}
	if m.Family == 0 && len(m.Group) == 0 && !m.Blackhole {
		return nil, rtnetlink.Errorf(syscall.EINVAL, "Invalid address family")
	}
	nh := fib.Nexthop{ID: m.ID, Protocol: m.Protocol, Blackhole: m.Blackhole, OnLink: m.Flags&rtnetlink.RTNHFOnLink != 0}
	if m.Gateway.IsValid() {
		nh.Gateway = m.Gateway.As4()
	}
	if m.Oif != 0 {
		if nh.Dev = rtnetlink.DevByIndex(h, int(m.Oif)); nh.Dev == nil {
			return nil, rtnetlink.Errorf(syscall.ENODEV, "Invalid device index")
		}
	}
	for _, g := range m.Group {
		nh.Group = append(nh.Group, fib.GroupMember{ID: g.ID, Weight: g.Weight})
	}
	if len(m.Group) > 0 && m.HasType && m.GroupType == rtnetlink.NhGrpTypeRes {
		nh.Resilient = &fib.Resilient{Buckets: m.Buckets, IdleTimer: m.IdleTimer / 100, UnbalancedTimer: m.UnbalancedTimer / 100}
	} else if m.HasType && m.GroupType != rtnetlink.NhGrpTypeMpath {
		return nil, rtnetlink.Errorf(syscall.EINVAL, "Invalid group type")
	}
	if nh.Gateway != ([4]byte{}) && in.IsLocalAddr(nh.Gateway) {
		return nil, rtnetlink.Errorf(syscall.EINVAL, "Nexthop has invalid gateway")
	}
	got, err := in.fib.AddNexthop(nh, req.Flags&rtnetlink.FlagReplace != 0, in.gatewayOnLink)
	if err != nil {
		return nil, fibNlErr(err)
	}
	if nh.Dev != nil {
		in.Attach(nh.Dev)
	}
	rtnetlink.Notify(h, rtnetlink.RTMGrpNexthop, rtnetlink.RTMNewNexthop, NexthopMsgOf(got).Marshal())
	return nil, nil
}

// gatewayOnLink is fib_check_nh_v4_gw for a nexthop object: the gateway
// is reached by a link-scope route through dev.
func (in *Inet) gatewayOnLink(dev *stack.NetDevice, gw [4]byte) bool {
	res, err := in.fib.Lookup(&fib.FlowKey{Dst: gw, Oif: dev.Ifindex(), Scope: fib.ScopeLink})
	return err == nil && res.Type == fib.RTNUnicast && res.Route.Gateway == ([4]byte{}) && res.Route.Dev == dev
}

// rtmDelNexthop is rtm_del_nexthop.
func (in *Inet) rtmDelNexthop(h *stack.Host, req rtnetlink.Request) ([]rtnetlink.Message, error) {
	var m rtnetlink.NexthopMsg
	if err := m.Unmarshal(req.Body); err != nil {
		return nil, rtnetlink.Errorf(syscall.EINVAL, "%v", err)
	}
	if m.ID == 0 {
		return nil, rtnetlink.Errorf(syscall.EINVAL, "Invalid nexthop id")
	}
	ch, err := in.fib.DeleteNexthop(m.ID)
	if err != nil {
		return nil, fibNlErr(err)
	}
	in.notifyNexthops(ch)
	return nil, nil
}

// rtmGetNexthop is rtm_get_nexthop: one nexthop by id.
func (in *Inet) rtmGetNexthop(h *stack.Host, req rtnetlink.Request) ([]rtnetlink.Message, error) {
	var m rtnetlink.NexthopMsg
	if err := m.Unmarshal(req.Body); err != nil {
		return nil, rtnetlink.Errorf(syscall.EINVAL, "%v", err)
	}
	if m.ID == 0 {
		return nil, rtnetlink.Errorf(syscall.EINVAL, "Invalid nexthop id")
	}
	nh, ok := in.fib.Nexthop(m.ID)
	if !ok {
		return nil, syscall.ENOENT
	}
	return []rtnetlink.Message{rtnetlink.Reply(rtnetlink.RTMNewNexthop, NexthopMsgOf(nh).Marshal())}, nil
}

// rtmDumpNexthop is rtm_dump_nexthop with its filters: a device
// (NHA_OIF), groups only (NHA_GROUPS).
func (in *Inet) rtmDumpNexthop(h *stack.Host, req rtnetlink.Request) ([]rtnetlink.Message, error) {
	var f rtnetlink.NexthopMsg
	if len(req.Body) >= 8 {
		if err := f.Unmarshal(req.Body); err != nil {
			return nil, rtnetlink.Errorf(syscall.EINVAL, "%v", err)
		}
	}
	var out []rtnetlink.Message
	for _, nh := range in.fib.Nexthops() {
		if f.Groups && !nh.IsGroup() || f.Oif != 0 && (nh.Dev == nil || uint32(nh.Dev.Ifindex()) != f.Oif) {
			continue
		}
		out = append(out, rtnetlink.Reply(rtnetlink.RTMNewNexthop, NexthopMsgOf(nh).Marshal()))
	}
	return out, nil
}

// NexthopMsgOf is nh_fill_node.
func NexthopMsgOf(nh fib.Nexthop) rtnetlink.NexthopMsg {
	m := rtnetlink.NexthopMsg{ID: nh.ID, Protocol: nh.Protocol, Blackhole: nh.Blackhole}
	switch {
	case nh.IsGroup():
		for _, g := range nh.Group {
			m.Group = append(m.Group, rtnetlink.NexthopGrp{ID: g.ID, Weight: g.Weight})
		}
		m.HasType = true
		if r := nh.Resilient; r != nil {
			m.GroupType, m.HasRes = rtnetlink.NhGrpTypeRes, true
			m.Buckets, m.IdleTimer, m.UnbalancedTimer = r.Buckets, r.IdleTimer*100, r.UnbalancedTimer*100
		}
	case nh.Blackhole:
		m.Family = syscall.AF_INET
	default:
		m.Family, m.Scope = syscall.AF_INET, uint8(nh.Scope())
		if nh.Dev != nil {
			m.Oif = uint32(nh.Dev.Ifindex())
		}
		if nh.Gateway != ([4]byte{}) {
			m.Gateway = netip.AddrFrom4(nh.Gateway)
		}
		if nh.OnLink {
			m.Flags |= rtnetlink.RTNHFOnLink
		}
	}
	return m
}
