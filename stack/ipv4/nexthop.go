package ipv4

import (
	"math"
	"net/netip"
	"syscall"
	"time"

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
	rtnetlink.Register(h, rtnetlink.RTMGetNexthopBucket, in.rtmGetNexthopBucket, in.rtmDumpNexthopBucket)
	// Resilient groups keep their buckets' times on the host clock and
	// tell of the migrations their upkeep makes (nexthop_bucket_notify).
	in.fib.SetClock(h.Clock())
	in.fib.SetBucketNotifier(func(b fib.Bucket) {
		rtnetlink.Notify(h, rtnetlink.RTMGrpNexthop, rtnetlink.RTMNewNexthopBucket, BucketMsgOf(b).Marshal())
	})
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
	switch {
	case m.HasType && m.GroupType > rtnetlink.NhGrpTypeRes:
		return nil, rtnetlink.Errorf(syscall.EINVAL, "Invalid group type")
	case len(m.Group) > 0 && m.HasType && m.GroupType == rtnetlink.NhGrpTypeRes:
		nh.Resilient = resilientOf(m)
	case len(m.Group) > 0 && m.HasRes:
		return nil, rtnetlink.Errorf(syscall.EINVAL, "No other attributes can be set in nexthop groups")
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

// resilientOf is rtm_to_nh_config_grp_res: the parameters NHA_RES_GROUP
// gives, timers from clock_t.
func resilientOf(m rtnetlink.NexthopMsg) *fib.Resilient {
	r := &fib.Resilient{}
	if m.ResAttrs&rtnetlink.ResBuckets != 0 {
		r.Buckets, r.HasBuckets = m.Buckets, true
	}
	if m.ResAttrs&rtnetlink.ResIdleTimer != 0 {
		r.IdleTimer, r.HasIdleTimer = fromClockT(uint64(m.IdleTimer)), true
	}
	if m.ResAttrs&rtnetlink.ResUnbalancedTimer != 0 {
		r.UnbalancedTimer, r.HasUnbalancedTimer = fromClockT(uint64(m.UnbalancedTimer)), true
	}
	return r
}

// clock_t is USER_HZ (100) ticks a second.
const clockTick = 10 * time.Millisecond

func fromClockT(v uint64) time.Duration { return time.Duration(v) * clockTick }

// toClockT is jiffies_delta_to_clock_t: whole ticks, a negative span 0.
func toClockT(d time.Duration) uint64 {
	if d < 0 {
		return 0
	}
	return uint64(d / clockTick)
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
// (NHA_OIF), a device's master (NHA_MASTER), groups only (NHA_GROUPS).
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
		if f.Master != 0 && (nh.Dev == nil || nh.Dev.Master() == nil || uint32(nh.Dev.Master().Ifindex()) != f.Master) {
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
			m.GroupType, m.HasRes, m.ResAttrs = rtnetlink.NhGrpTypeRes, true, rtnetlink.ResAll
			m.Buckets = r.Buckets
			m.IdleTimer, m.UnbalancedTimer = uint32(toClockT(r.IdleTimer)), uint32(toClockT(r.UnbalancedTimer))
			m.UnbalancedTime = toClockT(r.UnbalancedTime)
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

// BucketMsgOf is nh_fill_res_bucket.
func BucketMsgOf(b fib.Bucket) rtnetlink.NexthopBucketMsg {
	return rtnetlink.NexthopBucketMsg{Protocol: b.Protocol, ID: b.Group, HasBucket: true, BucketAttrs: rtnetlink.BucketAll,
		Index: b.Index, NhID: b.NhID, IdleTime: toClockT(b.IdleTime)}
}

// rtmGetNexthopBucket is rtm_get_nexthop_bucket with
// nh_valid_get_bucket_req's checks: one bucket of a resilient group.
func (in *Inet) rtmGetNexthopBucket(h *stack.Host, req rtnetlink.Request) ([]rtnetlink.Message, error) {
	var m rtnetlink.NexthopBucketMsg
	if err := m.Unmarshal(req.Body); err != nil {
		return nil, rtnetlink.Errorf(syscall.EINVAL, "%v", err)
	}
	switch {
	case m.Protocol != 0 || m.Scope != 0 || m.Flags != 0:
		return nil, rtnetlink.Errorf(syscall.EINVAL, "Invalid values in header")
	case m.ID == 0:
		return nil, rtnetlink.Errorf(syscall.EINVAL, "Nexthop id is missing")
	case !m.HasBucket:
		return nil, rtnetlink.Errorf(syscall.EINVAL, "Bucket information is missing")
	case m.BucketAttrs&rtnetlink.BucketIndex == 0:
		return nil, rtnetlink.Errorf(syscall.EINVAL, "Bucket index is missing")
	}
	b, err := in.fib.NexthopBucket(m.ID, m.Index)
	if err != nil {
		return nil, fibNlErr(err)
	}
	return []rtnetlink.Message{rtnetlink.Reply(rtnetlink.RTMNewNexthopBucket, BucketMsgOf(b).Marshal())}, nil
}

// rtmDumpNexthopBucket is rtm_dump_nexthop_bucket with
// nh_valid_dump_bucket_req's checks and nh_dump_filtered: the buckets of
// one resilient group (NHA_ID) or of all, those whose member goes
// through a device (NHA_OIF), a device enslaved to a master (NHA_MASTER)
// or is a given nexthop (NHA_RES_BUCKET_NH_ID); a family other than
// IPv4's leaves none.
func (in *Inet) rtmDumpNexthopBucket(h *stack.Host, req rtnetlink.Request) ([]rtnetlink.Message, error) {
	var f rtnetlink.NexthopBucketMsg
	if len(req.Body) >= 8 {
		if err := f.Unmarshal(req.Body); err != nil {
			return nil, rtnetlink.Errorf(syscall.EINVAL, "%v", err)
		}
	}
	switch {
	case f.HasBucket && f.BucketAttrs&rtnetlink.BucketNhID != 0 && f.NhID == 0:
		return nil, rtnetlink.Errorf(syscall.EINVAL, "Invalid nexthop id")
	case f.Oif > math.MaxInt32:
		return nil, rtnetlink.Errorf(syscall.EINVAL, "Invalid device index")
	case f.Master > math.MaxInt32:
		return nil, rtnetlink.Errorf(syscall.EINVAL, "Invalid master device index")
	case f.Protocol != 0 || f.Scope != 0 || f.Flags != 0:
		return nil, rtnetlink.Errorf(syscall.EINVAL, "Invalid values in header for nexthop dump request")
	}
	bs, err := in.fib.NexthopBuckets(f.ID)
	if err != nil {
		return nil, fibNlErr(err)
	}
	var out []rtnetlink.Message
	for _, b := range bs {
		if bucketFiltered(b, f) {
			continue
		}
		out = append(out, rtnetlink.Reply(rtnetlink.RTMNewNexthopBucket, BucketMsgOf(b).Marshal()))
	}
	return out, nil
}

// bucketFiltered is nh_dump_filtered on a bucket's member, and the
// member id filter.
func bucketFiltered(b fib.Bucket, f rtnetlink.NexthopBucketMsg) bool {
	if f.HasBucket && f.BucketAttrs&rtnetlink.BucketNhID != 0 && b.NhID != f.NhID {
		return true
	}
	if f.Oif == 0 && f.Master == 0 && f.Family == 0 {
		return false
	}
	if f.Family != 0 && f.Family != syscall.AF_INET {
		return true
	}
	if f.Oif != 0 && (b.Dev == nil || uint32(b.Dev.Ifindex()) != f.Oif) {
		return true
	}
	if f.Master != 0 {
		if b.Dev == nil {
			return true
		}
		if m := b.Dev.Master(); m == nil || uint32(m.Ifindex()) != f.Master {
			return true
		}
	}
	return false
}
