package ipv4

import (
	"fmt"
	"slices"
	"syscall"
	"unsafe"
	"vnic/header"
	"vnic/stack"
	"vnic/stack/ipv4/fib"
)

// Route cache flags (RTCF_*) a Dst carries.
const (
	RTCFLocal     = 0x80000000
	RTCFBroadcast = 0x10000000
	RTCFMulticast = 0x20000000
	// RTCFRedirected: the decision's gateway is one a redirect taught
	// (ip route get's "cache <redirected>").
	RTCFRedirected = 0x00040000
)

// Rtable is IPv4's route decision (struct rtable): the core's Dst, whose
// Input and Output alone say what happens next (A-RF-05), with what IPv4
// needs to know of it. Decisions for a route are cached on it and rebuilt
// when any route changes.
type Rtable struct {
	stack.Dst // first: rtOf turns an skb's Dst back into its Rtable
	// Gateway is the next hop; zero means the destination is on-link.
	Gateway [4]byte
	Type    fib.RouteType
	Flags   uint32
	// Src is the source address a sender uses (the route's preferred
	// source or the one selected for its device).
	Src   [4]byte
	genid uint32
	// Route is the FIB entry the decision came from (nil for decisions
	// made without one: broadcasts, errors).
	Route *fib.Route
	// exc is the nexthop exception an output decision is bound to (nil:
	// none).
	exc *rtExc
	// Realms are the dst's tclassid: its nexthop's realms, the zero
	// halves filled from the rule's (rt_set_nexthop).
	Realms uint32
}

// SkbRtable is skb_rtable: the IPv4 decision attached to skb (nil for none).
// Every Dst IPv4 attaches is the first field of an Rtable.
func SkbRtable(skb *stack.SKB) *Rtable { return asRt(skb.Dst()) }

// asRt is the Rtable a Dst IPv4 made is the first field of.
func asRt(d *stack.Dst) *Rtable { return (*Rtable)(unsafe.Pointer(d)) }

// RouteStats are the routing decisions' counters (rt_cache stat):
// in_martian_src counts received packets (and ARP requests for a local
// address) whose source may not be, in_martian_dst those whose destination
// may not be.
type RouteStats struct {
	InMartianSrc, InMartianDst, InNoRoute, InBrdInput uint64
}

// routeCounters are RouteStats as counted.
type routeCounters struct {
	inMartianSrc, inMartianDst, inNoRoute, inBrdInput stack.Counter
}

// RouteStats reads the routing counters.
func (in *Inet) RouteStats() RouteStats {
	c := &in.rtStats
	return RouteStats{InMartianSrc: c.inMartianSrc.Load(), InMartianDst: c.inMartianDst.Load(),
		InNoRoute: c.inNoRoute.Load(), InBrdInput: c.inBrdInput.Load()}
}

// martianSrc is ip_route_input_slow's martian_source: counted, and the
// packet dropped with EINVAL — or err, when source validation gave one.
func (in *Inet) martianSrc(err error) error {
	in.rtStats.inMartianSrc.Add(1)
	if err == nil {
		err = syscall.EINVAL
	}
	return err
}

// martianDst is ip_route_input_slow's martian_destination.
func (in *Inet) martianDst() error {
	in.rtStats.inMartianDst.Add(1)
	return syscall.EINVAL
}

// routeInput is ip_route_input_noref / ip_route_input_slow: it attaches
// the decision for a received packet (daddr, saddr, tos) arriving on dev.
func (in *Inet) routeInput(skb *stack.SKB, daddr, saddr [4]byte, tos uint8, dev *stack.NetDevice) error {
	idev := in.Attach(dev)
	if header.IPv4IsMulticast(saddr) || header.IPv4IsLbcast(saddr) {
		return in.martianSrc(nil)
	}
	if header.IPv4IsLbcast(daddr) || (saddr == [4]byte{} && daddr == [4]byte{}) {
		if saddr != ([4]byte{}) {
			if err := in.validateSource(saddr, daddr, tos, dev, idev); err != nil {
				return in.martianSrc(err)
			}
		}
		return in.brdInput(skb, saddr, dev)
	}
	if header.IPv4IsMulticast(daddr) {
		// ip_route_input_rcu: a group the device is not in is dropped
		// (no multicast routing).
		if !in.isMember(dev, daddr) {
			return syscall.EINVAL
		}
		return in.mcInput(skb, daddr, saddr, tos, dev, idev)
	}
	if header.IPv4IsZeronet(saddr) {
		return in.martianSrc(nil)
	}
	if header.IPv4IsZeronet(daddr) {
		return in.martianDst()
	}
	if !dev.IsLoopback() {
		if header.IPv4IsLoopback(daddr) {
			return in.martianDst()
		}
		if header.IPv4IsLoopback(saddr) {
			return in.martianSrc(nil)
		}
	}
	fl := fib.FlowKey{Dst: daddr, Src: saddr, TOS: tos, Iif: dev.Ifindex(), Mark: skb.Mark}
	if in.fib.MultipathHashPolicy() == 1 {
		flowPorts(skb, &fl) // the layer-4 hash reads the packet's ports
	}
	res, err := in.fib.Lookup(&fl)
	if err != nil {
		if !idev.forwarding.Load() {
			err = syscall.EHOSTUNREACH
		}
		return in.errInput(skb, err.(syscall.Errno))
	}
	onlink := false
	if res.Type == fib.RTNLocal || res.Type == fib.RTNBroadcast || (res.Type == fib.RTNUnicast && idev.forwarding.Load()) {
		oif := 0
		if res.Type == fib.RTNUnicast && res.Route != nil && res.Route.Dev != nil {
			oif = res.Route.Dev.Ifindex() // __mkroute_input's FIB_RES_OIF
		}
		if onlink, err = in.validateSourceOif(saddr, daddr, tos, oif, dev, idev); err != nil {
			return in.martianSrc(err)
		}
	}
	switch res.Type {
	case fib.RTNBroadcast:
		return in.brdInput(skb, saddr, dev)
	case fib.RTNLocal:
		r := res.Route
		if d := asRt(r.Cache().In.Load()); d != nil && d.genid == in.fib.Genid() && d.Route == r {
			skb.SetDst(&d.Dst)
			return nil
		}
		d := &Rtable{Dst: stack.Dst{Input: in.localDeliver, Output: in.output, Dev: in.lo}, Type: fib.RTNLocal, Flags: RTCFLocal, Src: daddr, genid: in.fib.Genid(), Route: r,
			Realms: fib.ClassTag(r.Realms, res.RuleRealms)}
		r.Cache().In.Store(&d.Dst)
		skb.SetDst(&d.Dst)
		return nil
	}
	if !idev.forwarding.Load() {
		return in.errInput(skb, syscall.EHOSTUNREACH)
	}
	if res.Type != fib.RTNUnicast {
		return syscall.EINVAL
	}
	r := res.Route
	in.markRedirect(skb, r, saddr, dev, idev, onlink) // per packet, before the cached decision
	// Routes sharing a fib_info share its cache; a decision names its
	// route (fibmatch, the TOS and table route get shows), so one made
	// for another route is rebuilt.
	if d := asRt(r.Cache().In.Load()); d != nil && d.genid == in.fib.Genid() && d.Route == r {
		skb.SetDst(&d.Dst)
		return nil
	}
	d := &Rtable{Dst: stack.NewDst(in.forward, in.output, r.Dev, r.Metrics.MTU()), Gateway: r.Gateway, Type: fib.RTNUnicast, genid: in.fib.Genid(), Route: r,
		Realms: fib.ClassTag(r.Realms, res.RuleRealms)}
	r.Cache().In.Store(&d.Dst)
	skb.SetDst(&d.Dst)
	return nil
}

// brdInput is ip_route_input_slow's brd_input: a limited or directed
// broadcast is delivered locally.
func (in *Inet) brdInput(skb *stack.SKB, saddr [4]byte, dev *stack.NetDevice) error {
	if inDevKey.Get(dev) == nil {
		return syscall.EINVAL
	}
	d := &Rtable{Dst: stack.Dst{Input: in.localDeliver, Output: in.output, Dev: in.lo}, Type: fib.RTNBroadcast, Flags: RTCFBroadcast | RTCFLocal, Src: in.selectAddr(dev, saddr, fib.ScopeLink), genid: in.fib.Genid()}
	skb.SetDst(&d.Dst)
	return nil
}

// mcInput is ip_route_input_mc for a group the device is in: the
// source validated (ip_mc_validate_source: a zero source only to a
// link-local group or for IGMP), then local delivery.
func (in *Inet) mcInput(skb *stack.SKB, daddr, saddr [4]byte, tos uint8, dev *stack.NetDevice, idev *InDevice) error {
	if header.IPv4IsLoopback(saddr) {
		return syscall.EINVAL
	}
	if header.IPv4IsZeronet(saddr) {
		proto := uint8(0)
		if d := skb.Data(); len(d) >= IPv4HdrLen {
			proto = header.IPv4(d).Protocol()
		}
		if !(daddr[0] == 224 && daddr[1] == 0 && daddr[2] == 0) && proto != IPProtoIGMP {
			return syscall.EINVAL
		}
	} else if err := in.validateSource(saddr, daddr, tos, dev, idev); err != nil {
		return in.martianSrc(err)
	}
	d := &Rtable{Dst: stack.Dst{Input: in.localDeliver, Output: in.output, Dev: in.lo}, Type: fib.RTNMulticast, Flags: RTCFMulticast | RTCFLocal, Src: in.selectAddr(dev, saddr, fib.ScopeLink), genid: in.fib.Genid()}
	skb.SetDst(&d.Dst)
	return nil
}

// errInput is ip_route_input_slow's no_route: a decision whose input is
// ip_error.
func (in *Inet) errInput(skb *stack.SKB, e syscall.Errno) error {
	skb.SetDst(&(&Rtable{Dst: stack.Dst{Input: in.ipError, Output: in.discardOut, Dev: skb.Dev, Error: e}, Type: fib.RTNUnreachable, genid: in.fib.Genid()}).Dst)
	return nil
}

func (in *Inet) discardOut(skb *stack.SKB) {
	in.Stats.OutDiscards.Add(1)
	skb.Free()
}

// ipError is ip_error: with forwarding off on the device, a packet for
// another host is counted (InAddrErrors, or InNoRoutes for no route) and
// dropped without a word — Linux sends nothing here, although the seed
// (A-RX-05) says host unreachable goes back; vnic follows Linux. With
// forwarding on, the source hears host unreachable, net unreachable or
// communication prohibited.
func (in *Inet) ipError(skb *stack.SKB) {
	d := SkbRtable(skb)
	idev := inDevKey.Get(skb.Dev)
	if idev == nil || !idev.forwarding.Load() {
		switch d.Error {
		case syscall.EHOSTUNREACH:
			in.Stats.InAddrErrors.Add(1)
		case syscall.ENETUNREACH:
			in.Stats.InNoRoutes.Add(1)
		}
		skb.Free()
		return
	}
	var code uint8
	switch d.Error {
	case syscall.EHOSTUNREACH:
		code = ICMPHostUnreach
	case syscall.ENETUNREACH:
		code = ICMPNetUnreach
		in.Stats.InNoRoutes.Add(1)
	case syscall.EACCES:
		code = ICMPPktFiltered
	default:
		skb.Free()
		return
	}
	in.ICMPSend(skb, ICMPDestUnreach, code, 0)
	skb.Free()
}

// RouteOutput is ip_route_output_key for a socket's send or connect: the
// decision for a packet this host sends by fl. A zero fl.Src is filled
// with the source to use. No route (ENETUNREACH) counts in OutNoRoutes,
// as Linux's ping, UDP and raw sendmsg and datagram connect count it.
func (in *Inet) RouteOutput(fl *fib.FlowKey) (*Rtable, error) {
	rt, err := in.routeOutput(fl)
	if err == syscall.ENETUNREACH {
		in.Stats.OutNoRoutes.Add(1)
	}
	return rt, err
}

// routeOutput is ip_route_output_key: RouteOutput for the stack's own
// messages (ICMP, a rerouted packet, route get), which Linux does not
// count in OutNoRoutes.
func (in *Inet) routeOutput(fl *fib.FlowKey) (*Rtable, error) {
	var oif *stack.NetDevice
	fromSrc := false // the device was the source's (no lookup for a group)
	// ip_route_output_key_hash_rcu: an output lookup's flow comes in from
	// the loopback (iif lo rules match it).
	if fl.Iif == 0 && in.lo != nil {
		fl.Iif = in.lo.Ifindex()
	}
	if fl.Src != ([4]byte{}) {
		if header.IPv4IsMulticast(fl.Src) || header.IPv4IsLbcast(fl.Src) || fl.Src == ([4]byte{}) {
			return nil, syscall.EINVAL
		}
		srcDev := in.addrDev(fl.Src)
		if srcDev == nil {
			return nil, syscall.ENETUNREACH // not a local address
		}
		if fl.Oif == 0 && (header.IPv4IsMulticast(fl.Dst) || header.IPv4IsLbcast(fl.Dst)) {
			// A group or the limited broadcast from a local source leaves
			// by the source's device, without a lookup.
			fl.Oif, fromSrc = srcDev.Ifindex(), true
		}
	}
	if fl.Oif != 0 {
		for _, d := range in.host.Devices() {
			if d.Ifindex() == fl.Oif {
				oif = d
			}
		}
		if oif == nil {
			return nil, syscall.ENODEV
		}
		if !oif.IsUp() {
			return nil, syscall.ENETUNREACH
		}
		if fl.Src == ([4]byte{}) && fl.Dst == ([4]byte{}) {
			fl.Src = in.selectAddr(oif, [4]byte{}, fib.ScopeHost) // then the destination too
		}
		if header.IPv4IsLbcast(fl.Dst) || header.IPv4IsMulticast(fl.Dst) && (isLocalMulticast(fl.Dst) || fromSrc || fl.Proto == IPProtoIGMP) {
			// The link's own groups (224.0.0.0/24), IGMP and the limited
			// broadcast go out of the named device without a lookup, and a
			// group from a local source out of that source's; other groups
			// are looked up (through the device).
			if fl.Src == ([4]byte{}) {
				fl.Src = in.selectAddr(oif, [4]byte{}, fib.ScopeLink)
			}
			if err := loopbackSrcCheck(fl.Src, oif); err != nil {
				return nil, err
			}
			typ, flags := fib.RTNBroadcast, uint32(RTCFBroadcast|RTCFLocal)
			if header.IPv4IsMulticast(fl.Dst) {
				typ, flags = fib.RTNMulticast, in.mcFlags(oif, fl.Dst)
			}
			return &Rtable{Dst: stack.Dst{Input: in.localDeliver, Output: in.output, Dev: oif}, Type: typ, Flags: flags, Src: fl.Src, genid: in.fib.Genid()}, nil
		}
		if header.IPv4IsMulticast(fl.Dst) && fl.Src == ([4]byte{}) {
			fl.Src = in.selectAddr(oif, [4]byte{}, fib.ScopeUniverse) // chosen before the lookup (rules see it)
		}
	}
	if fl.Dst == ([4]byte{}) {
		// No destination: the source (or 127.0.0.1), delivered on the
		// loopback, without a lookup.
		fl.Dst = fl.Src
		if fl.Dst == ([4]byte{}) {
			fl.Dst, fl.Src = [4]byte{127, 0, 0, 1}, [4]byte{127, 0, 0, 1}
		}
		return &Rtable{Dst: stack.Dst{Input: in.localDeliver, Output: in.output, Dev: in.lo}, Type: fib.RTNLocal, Flags: RTCFLocal, Src: fl.Src, genid: in.fib.Genid()}, nil
	}
	res, err := in.fib.Lookup(fl)
	if err != nil {
		if oif != nil && (header.IPv4IsMulticast(fl.Dst) || !oif.IsVRF()) {
			// No route, but the sender named the device: assume the
			// destination is on its link (Linux does the same; a VRF
			// named as the device has no link: its table decides).
			if fl.Src == ([4]byte{}) {
				fl.Src = in.selectAddr(oif, fl.Dst, fib.ScopeLink)
			}
			if err := loopbackSrcCheck(fl.Src, oif); err != nil {
				return nil, err
			}
			return &Rtable{Dst: stack.Dst{Input: in.localDeliver, Output: in.output, Dev: oif}, Type: fib.RTNUnicast, Src: fl.Src, genid: in.fib.Genid()}, nil
		}
		return nil, err
	}
	r := res.Route
	if res.Type == fib.RTNUnicast && !header.IPv4IsLbcast(fl.Dst) && !header.IPv4IsMulticast(fl.Dst) {
		// __mkroute_output: an exception for the destination first.
		if d, ok := in.bindException(r, fl, &res); ok {
			if fl.Src == ([4]byte{}) {
				fl.Src = d.Src
			}
			if err := loopbackSrcCheck(fl.Src, d.Dev); err != nil {
				return nil, err
			}
			return d, nil
		}
	}
	if d := asRt(r.Cache().Out.Load()); d != nil && d.genid == in.fib.Genid() && d.Route == r && !header.IPv4IsLbcast(fl.Dst) && !header.IPv4IsMulticast(fl.Dst) {
		if fl.Src == ([4]byte{}) {
			fl.Src = d.Src
			if d.Type == fib.RTNLocal && r.PrefSrc == ([4]byte{}) {
				fl.Src = fl.Dst // a local route's source is the destination itself
			}
		}
		if err := loopbackSrcCheck(fl.Src, d.Dev); err != nil {
			return nil, err
		}
		return d, nil
	}
	d := in.mkOutput(r, fl, &res)
	switch {
	case header.IPv4IsLbcast(fl.Dst):
		// __mkroute_output: the limited broadcast leaves on the route's
		// device with no nexthop, delivered locally too.
		d.Type, d.Flags, d.Gateway = fib.RTNBroadcast, RTCFBroadcast|RTCFLocal, [4]byte{}
	case header.IPv4IsMulticast(fl.Dst) && res.Type == fib.RTNUnicast:
		// A group: on-link (a route shorter than /4 gives no nexthop),
		// to the group's MAC; local when the host is a member.
		d.Type, d.Flags = fib.RTNMulticast, in.mcFlags(d.Dev, fl.Dst)
		if res.PrefixLen < 4 {
			d.Gateway = [4]byte{}
		}
	default:
		r.Cache().Out.Store(&d.Dst)
	}
	if fl.Src == ([4]byte{}) {
		fl.Src = d.Src
	}
	if err := loopbackSrcCheck(fl.Src, d.Dev); err != nil {
		return nil, err
	}
	return d, nil
}

// mkOutput is __mkroute_output's new decision for fl by route r.
func (in *Inet) mkOutput(r *fib.Route, fl *fib.FlowKey, res *fib.Result) *Rtable {
	d := &Rtable{Dst: stack.NewDst(in.localDeliver, in.output, r.Dev, r.Metrics.MTU()), Gateway: r.Gateway, Type: res.Type, genid: in.fib.Genid(), Route: r,
		Realms: fib.ClassTag(r.Realms, res.RuleRealms)}
	switch res.Type {
	case fib.RTNLocal:
		d.Dev, d.Flags, d.Gateway = in.lo, RTCFLocal, [4]byte{}
		d.Src = r.PrefSrc
		if d.Src == ([4]byte{}) {
			d.Src = fl.Dst
		}
	case fib.RTNBroadcast:
		d.Flags = RTCFBroadcast | RTCFLocal
		d.Src = r.PrefSrc
		if d.Src == ([4]byte{}) {
			d.Src = in.selectAddr(r.Dev, [4]byte{}, fib.ScopeLink) // fib_result_prefsrc
		}
	default:
		d.Src = r.PrefSrc
		if d.Src == ([4]byte{}) {
			gw := r.Gateway
			if gw == ([4]byte{}) {
				gw = fl.Dst
			}
			sc := fib.ScopeUniverse
			if r.Gateway == ([4]byte{}) {
				sc = fib.ScopeLink
			}
			d.Src = in.selectAddr(r.Dev, gw, sc)
		}
	}
	return d
}

// loopbackSrcCheck is __mkroute_output's refusal of a loopback source on
// a device that is not the loopback (or an L3 master).
func loopbackSrcCheck(src [4]byte, dev *stack.NetDevice) error {
	if header.IPv4IsLoopback(src) && dev != nil && !dev.IsLoopback() && !dev.IsVRF() {
		return syscall.EINVAL
	}
	return nil
}

// isLocalMulticast is ipv4_is_local_multicast: 224.0.0.0/24.
func isLocalMulticast(a [4]byte) bool { return a[0] == 224 && a[1] == 0 && a[2] == 0 }

// addrDev is __ip_dev_find: the device holding local address a (nil:
// none).
func (in *Inet) addrDev(a [4]byte) *stack.NetDevice {
	r := in.fib.TableLookup(fib.TableLocal, a)
	if r == nil || r.Type != fib.RTNLocal || r.Dst != a || r.Len != 32 {
		if r != nil && r.Type == fib.RTNLocal && r.Dev != nil && r.Dev.IsLoopback() {
			return r.Dev // 127.0.0.0/8 is lo's
		}
		return nil
	}
	return r.Dev
}

// RouteInputGet is the decision for a packet dst ← src arriving on dev
// (ip route get … iif DEV): an error route is reported as its errno.
func (in *Inet) RouteInputGet(dst, src [4]byte, tos uint8, mark uint32, dev *stack.NetDevice) (*Rtable, error) {
	skb := in.host.Pool().Alloc(0)
	if skb == nil {
		return nil, syscall.ENOBUFS
	}
	defer skb.Consume()
	skb.Dev, skb.Mark = dev, mark
	if err := in.routeInput(skb, dst, src, tos, dev); err != nil {
		return nil, err
	}
	d := SkbRtable(skb)
	if d.Error != 0 {
		return nil, d.Error
	}
	return d, nil
}

// RPFilter reports the effective reverse-path filter of a device: the
// larger of the host's (conf/all) and the device's, as Linux takes it.
func (in *Inet) RPFilter(d *stack.NetDevice) int {
	m := int(in.rpFilter.Load())
	if idev := inDevKey.Get(d); idev != nil {
		m = max(m, int(idev.rpFilter.Load()))
	}
	return m
}

// RPFilterConf reads net.ipv4.conf.{all,DEV}.rp_filter as set (d nil:
// all), not the effective value.
func (in *Inet) RPFilterConf(d *stack.NetDevice) int {
	if d == nil {
		return int(in.rpFilter.Load())
	}
	if idev := inDevKey.Get(d); idev != nil {
		return int(idev.rpFilter.Load())
	}
	return 0
}

// SetRPFilter is net.ipv4.conf.{all,DEV}.rp_filter: 0 none, 1 strict (the
// way back to the source must leave by the arrival device), 2 loose (some
// route back must exist). d nil sets the host's (all).
func (in *Inet) SetRPFilter(d *stack.NetDevice, mode int) error {
	if mode < 0 || mode > 2 {
		return fmt.Errorf("stack: rp_filter %d: want 0, 1 or 2: %w", mode, syscall.EINVAL)
	}
	if d == nil {
		in.rpFilter.Store(int32(mode))
		return nil
	}
	in.Attach(d).rpFilter.Store(int32(mode))
	return nil
}

// validateSource is fib_validate_source: a source that is one of this
// host's addresses, on a packet that did not come through the loopback,
// is EINVAL whatever rp_filter says (accept_local 0); with rp_filter on,
// the route back to saddr must be a unicast one, through the arrival
// device in strict mode; otherwise EXDEV (the packet is dropped and
// counted in IPReversePathFilter). Either is a martian source.
func (in *Inet) validateSource(saddr, daddr [4]byte, tos uint8, dev *stack.NetDevice, idev *InDevice) error {
	_, err := in.validateSourceOif(saddr, daddr, tos, 0, dev, idev)
	return err
}

// validateSourceOif is fib_validate_source for a packet to leave by
// device oif (0: delivered here): as validateSource, and onlink reports
// the positive answer — the way back to saddr is a route without a
// gateway through dev — which only a forwarded packet leaving by the
// device it came in on, on a device sending redirects, asks for
// (__fib_validate_source is then run with rp_filter off too).
func (in *Inet) validateSourceOif(saddr, daddr [4]byte, tos uint8, oif int, dev *stack.NetDevice, idev *InDevice) (onlink bool, err error) {
	if saddr == ([4]byte{}) {
		return false, nil
	}
	mode := max(int(in.rpFilter.Load()), int(idev.rpFilter.Load()))
	redirect := oif != 0 && oif == dev.Ifindex() && in.txRedirects(idev)
	if mode == 0 && !redirect && !in.customLocal.Load() && !in.fib.HasCustomRules() {
		// fib_validate_source's quick answer: with no rules and no local
		// routes of the user's, a source that is one of the host's
		// addresses is the only martian (inet_lookup_ifaddr_rcu); no
		// route is looked up.
		if !dev.IsLoopback() && in.hasAddr(saddr) {
			return false, syscall.EINVAL
		}
		return false, nil
	}
	if !dev.IsLoopback() && in.IsLocalAddr(saddr) {
		return false, syscall.EINVAL
	}
	if mode == 0 && !redirect {
		return false, nil
	}
	// __fib_validate_source looks up with FIB_LOOKUP_IGNORE_LINKSTATE.
	fl := fib.FlowKey{Dst: saddr, Src: daddr, TOS: tos, Iif: dev.Ifindex(), IgnoreLinkState: true}
	res, err := in.fib.Lookup(&fl)
	if err != nil {
		if mode != 0 {
			return false, syscall.EXDEV
		}
		return false, nil
	}
	if res.Type != fib.RTNUnicast {
		return false, syscall.EINVAL
	}
	if slices.ContainsFunc(res.Route.Nexthops(), func(nh *fib.Route) bool { return nh.Dev == dev }) {
		return res.Route.Gateway == ([4]byte{}), nil
	}
	if mode == 1 {
		return false, syscall.EXDEV
	}
	// Loose or off: a second look, through the arrival device, tells
	// whether the source is on-link there.
	fl = fib.FlowKey{Dst: saddr, Src: daddr, TOS: tos, Iif: dev.Ifindex(), Oif: dev.Ifindex(), IgnoreLinkState: true}
	if res, err := in.fib.Lookup(&fl); err == nil && res.Type == fib.RTNUnicast {
		return res.Route.Gateway == ([4]byte{}), nil
	}
	return false, nil
}

// allHosts is 224.0.0.1, the group every host belongs to.
var allHosts = [4]byte{224, 0, 0, 1}

// mcFlags are an output multicast decision's flags: RTCF_MULTICAST, and
// RTCF_LOCAL when dev is in the group (ip_check_mc_rcu).
func (in *Inet) mcFlags(dev *stack.NetDevice, group [4]byte) uint32 {
	if in.isMember(dev, group) {
		return RTCFMulticast | RTCFLocal
	}
	return RTCFMulticast
}

// flowPorts fills the flow's protocol and, for an unfragmented TCP, UDP or
// SCTP packet, its ports from the skb's IPv4 header (the flow dissector's
// part in fib_multipath_hash's layer-4 policy).
func flowPorts(skb *stack.SKB, fl *fib.FlowKey) {
	iph := header.IPv4(skb.NetworkHeader())
	if len(iph) < IPv4HdrLen {
		return
	}
	hl := iph.HeaderLen()
	fl.Proto = iph.Protocol()
	if iph.IsFragment() || len(iph) < hl+4 {
		return
	}
	switch fl.Proto {
	case IPProtoTCP, IPProtoUDP, 132:
		fl.Sport = uint16(iph[hl])<<8 | uint16(iph[hl+1])
		fl.Dport = uint16(iph[hl+2])<<8 | uint16(iph[hl+3])
	}
}
