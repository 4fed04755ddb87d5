package ipv4

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"time"
	"vnic/header"
	"vnic/stack"
	"vnic/stack/ipv4/fib"
)

// Path MTU defaults (net.ipv4.route.min_pmtu, mtu_expires).
const (
	DefaultMinPMTU    = 552 // 512 + 20 + 20
	DefaultMTUExpires = 600 * time.Second
)

// rtExc is what a decision bound to a nexthop exception carries
// (rt_pmtu, rt_mtu_locked, dst.expires).
type rtExc struct {
	pmtu    uint32
	locked  bool
	expires time.Duration
	clock   stack.Clock
}

// IPMaxMTU is IP_MAX_MTU: no IPv4 packet is longer than its 16-bit total
// length allows, whatever the device's MTU (the loopback's is 65536).
const IPMaxMTU = 0xffff

// MTU is ipv4_mtu for a packet this host sends: the learnt path MTU while
// it has not lapsed, else the route's mtu metric, else the device's, at
// most IP_MAX_MTU (dst_mtu; the forwarding path reads Dst.MTU, as
// Linux's forwarding ignores exceptions without ip_forward_use_pmtu).
func (rt *Rtable) MTU() int {
	if e := rt.exc; e != nil && e.pmtu != 0 && e.clock.Now() < e.expires {
		return int(e.pmtu)
	}
	return min(rt.Dst.MTU(), IPMaxMTU)
}

// Exception reports the learnt path MTU a decision carries, whether it is
// locked, and how long it has left (rt_fill_info's expires; ok false: no
// exception, or one that lapsed or holds no MTU).
func (rt *Rtable) Exception() (pmtu uint32, locked bool, left time.Duration, ok bool) {
	e := rt.exc
	if e == nil || e.expires == 0 {
		return 0, false, 0, false
	}
	left = max(0, e.expires-e.clock.Now())
	return e.pmtu, e.locked, left, true
}

// fnheHash is the chain daddr's exceptions are in.
func (in *Inet) fnheHash(daddr [4]byte) uint32 {
	return fib.ExceptionHash(daddr, in.idKey^0x2545f4914f6cdd1d)
}

// bindException is __mkroute_output's exception half: the decision for
// fl.Dst by route r when r's nexthop holds an exception for it — the one
// bound to it while valid, else a new one carrying the exception's MTU
// and a redirect's gateway (fill_route_from_fnhe), bound in its place.
// ok false: no exception.
func (in *Inet) bindException(r *fib.Route, fl *fib.FlowKey, res *fib.Result) (*Rtable, bool) {
	c := r.Cache()
	if c == nil || !c.HasExceptions() {
		return nil, false // the common case: no hash, no lock
	}
	hash := in.fnheHash(fl.Dst)
	now := in.host.Clock().Now()
	x, cached, ok := c.BindException(hash, fl.Dst, in.fnheGenid.Load(), now)
	if !ok {
		return nil, false
	}
	if d := asRt(cached); d != nil && d.genid == in.fib.Genid() && d.Route == r {
		return d, true
	}
	d := in.mkOutput(r, fl, res)
	d.exc = &rtExc{pmtu: x.PMTU, locked: x.MTULocked, expires: x.Expires, clock: in.host.Clock()}
	if x.Gateway != ([4]byte{}) {
		// fill_route_from_fnhe: a redirect's gateway replaces the route's.
		d.Gateway = x.Gateway
		d.Flags |= RTCFRedirected
	}
	c.StoreBound(hash, fl.Dst, &d.Dst)
	return d, true
}

// updatePMTU is ipv4_update_pmtu and __ip_rt_update_pmtu: a
// fragmentation needed quoting a datagram this host sent (inner) reports
// mtu for its path. The datagram's route decides: nothing when the route
// locks its mtu or its MTU is already below the report; a report under
// min_pmtu is taken as min_pmtu (never above the MTU in use) and locked;
// an unchanged MTU more than half its lifetime from lapsing is left; else
// the nexthop the lookup gives (every path of a multipath route) learns
// it for the datagram's destination, lapsing mtu_expires from now.
func (in *Inet) updatePMTU(inner header.IPv4, mtu uint32) {
	fl := fib.FlowKey{Dst: inner.Dst(), Src: inner.Src(), TOS: inner.TOS(), Proto: inner.Protocol()}
	if !in.IsLocalAddr(fl.Src) {
		fl.Src = [4]byte{}
	}
	rt, err := in.routeOutput(&fl)
	if err != nil || rt.Route == nil || rt.Type != fib.RTNUnicast {
		return
	}
	if rt.Route.Metrics.MTULocked() {
		return
	}
	old := uint32(rt.MTU())
	if old < mtu {
		return
	}
	lock := false
	minPMTU := uint32(in.minPMTU.Load())
	if mtu < minPMTU {
		lock, mtu = true, min(old, minPMTU)
	}
	now := in.host.Clock().Now()
	life := time.Duration(in.mtuExpires.Load())
	if e := rt.exc; e != nil && e.pmtu == mtu && !lock && now < e.expires-life/2 {
		return
	}
	res, err := in.fib.Lookup(&fl)
	if err != nil || res.Route == nil {
		return
	}
	u := fib.ExceptionUpdate{Hash: in.fnheHash(fl.Dst), Daddr: fl.Dst, PMTU: mtu, Lock: lock, Expires: now + life,
		Genid: in.fnheGenid.Load(), Now: now}
	for _, nh := range res.Route.Nexthops() {
		if c := nh.Cache(); c != nil {
			u.MaxDepth = fib.FNHEReclaimDepth + int(uint64(in.idRandom())*fib.FNHEReclaimDepth>>32)
			c.UpdateException(u)
		}
	}
}

// flushCache is net.ipv4.route.flush (ipv4_sysctl_rtcache_flush):
// rt_cache_flush and fnhe_genid_bump. Every cached decision is stale and
// every exception is emptied when a decision next binds it: Linux 6.18's
// ip route flush cache leaves "cache" with no expires and no mtu.
func (in *Inet) flushCache() {
	in.fib.BumpGenid()
	in.fnheGenid.Add(1)
}

// routeSysctls are net.ipv4.route's settings (ipv4_route_netns_table).
func (in *Inet) routeSysctls() []stack.Sysctl {
	gc, redir := in.redirectSysctls()
	return append([]stack.Sysctl{
		// Linux's flush is write-only (reading it gives nothing); a
		// write is echoed as procps echoes it, with the value given.
		{Name: "net.ipv4.route.flush", Get: func() string {
			v, _ := in.flushWritten.Load().(string)
			return v
		}, Set: func(v string) error {
			in.flushCache()
			in.flushWritten.Store(strings.TrimSpace(v))
			return nil
		}},
		gc,
		{Name: "net.ipv4.route.min_pmtu", Get: func() string { return strconv.Itoa(int(in.minPMTU.Load())) }, Set: func(v string) error {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			// proc_dointvec_minmax with extra1 = 68 (IPV4_MIN_MTU)
			if err != nil || n < 68 {
				return fmt.Errorf("invalid argument %q: want at least 68: %w", v, syscall.EINVAL)
			}
			in.minPMTU.Store(int32(n))
			return nil
		}},
		{Name: "net.ipv4.route.mtu_expires", Get: func() string {
			return strconv.FormatInt(int64(time.Duration(in.mtuExpires.Load())/time.Second), 10)
		}, Set: func(v string) error {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return fmt.Errorf("invalid argument %q: %w", v, syscall.EINVAL)
			}
			in.mtuExpires.Store(int64(time.Duration(n) * time.Second))
			return nil
		}},
	}, redir...)
}
