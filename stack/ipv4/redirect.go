package ipv4

import (
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
	"vnic/header"
	"vnic/stack"
	"vnic/stack/ipv4/fib"
	"vnic/stack/neigh"
)

// ICMP redirects, sent by a forwarding host to a sender on the link it
// forwards back onto (ip_rt_send_redirect) and taken by a host as a
// nexthop exception naming the better gateway (__ip_do_redirect).

// jiffy is one tick of the clock net.ipv4.route's raw-jiffies settings
// count in: vnic reports them as a CONFIG_HZ=250 kernel does (the kernel
// it is compared with), redirect_load 5 and redirect_silence 5120.
const jiffy = time.Second / 250

// Redirect defaults (route.c): at most 9 redirects to a host, the n-th
// held until HZ/50 << n after the one before, the count forgotten after
// (HZ/50) << 10 without a packet that wanted one; an exception a redirect
// made lapses ip_rt_gc_timeout (300 s) after it was made or refreshed.
const (
	DefaultRedirectNumber  = 9
	DefaultRedirectLoad    = 20 * time.Millisecond
	DefaultRedirectSilence = DefaultRedirectLoad << 10
	DefaultGCTimeout       = 300 * time.Second
)

// The per-device switches (IPV4_DEVCONF_*) of redirects, and
// ignore_routes_with_linkdown.
const (
	confAcceptRedirects = iota
	confSecureRedirects
	confSendRedirects
	confSharedMedia
	confIgnoreRoutesWithLinkdown
	nConf
)

var confNames = [nConf]string{"accept_redirects", "secure_redirects", "send_redirects", "shared_media", "ignore_routes_with_linkdown"}

// confDefaults are Linux's: the redirect switches on, linkdown routes used.
var confDefaults = [nConf]int32{1, 1, 1, 1, 0}

// devConf is a set of those switches (struct ipv4_devconf's data and
// state): conf/all's, conf/default's or a device's.
type devConf struct {
	val [nConf]atomic.Int32
	// set marks a value written since it was made: conf/default's
	// writes no longer reach a device whose value was (devinet_copy_dflt_conf).
	set [nConf]atomic.Bool
}

func (c *devConf) init() {
	for i := range c.val {
		c.val[i].Store(confDefaults[i])
	}
}

// copyFrom is inetdev_init's copy of conf/default into a new device:
// values and written marks alike.
func (c *devConf) copyFrom(o *devConf) {
	for i := range c.val {
		c.val[i].Store(o.val[i].Load())
		c.set[i].Store(o.set[i].Load())
	}
}

// orConf is IN_DEV_ORCONF: conf/all's value or the device's.
func (in *Inet) orConf(idev *InDevice, i int) bool {
	return in.confAll.val[i].Load() != 0 || idev.conf.val[i].Load() != 0
}

// txRedirects is IN_DEV_TX_REDIRECTS.
func (in *Inet) txRedirects(idev *InDevice) bool { return in.orConf(idev, confSendRedirects) }

// rxRedirects is IN_DEV_RX_REDIRECTS: a forwarding device takes
// redirects only when conf/all and the device both accept them, any
// other when either does.
func (in *Inet) rxRedirects(idev *InDevice) bool {
	if idev.forwarding.Load() {
		return in.confAll.val[confAcceptRedirects].Load() != 0 && idev.conf.val[confAcceptRedirects].Load() != 0
	}
	return in.orConf(idev, confAcceptRedirects)
}

// onlink is inet_addr_onlink: a (and b, unless zero) are on the subnet of
// one of the device's addresses.
func (idev *InDevice) onlink(a, b [4]byte) bool {
	for _, ifa := range *idev.addrs.Load() {
		if sameNet(a, ifa.Address, ifa.PrefixLen) && (b == [4]byte{} || sameNet(b, ifa.Address, ifa.PrefixLen)) {
			return true
		}
	}
	return false
}

// redirectAllow is ip_rt_send_redirect's use of the sender's inet_peer
// (the one icmp rate limits share: n_redirects, rate_tokens, rate_last):
// after silence without a packet that wanted a redirect the count starts
// over (and the ICMP token bucket empties, as Linux zeroes rate_tokens);
// past number redirects none goes, each refused packet moving the
// silence on; the n-th goes once load << n passed since the one before.
func (s *icmpState) redirectAllow(src [4]byte, number int, load, silence time.Duration) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.in.host.Clock().Now()
	p := s.peer(src, now)
	if now > p.last+silence {
		p.tokens, p.redirects = 0, 0
	}
	if p.redirects >= number {
		p.last = now
		return false
	}
	if p.redirects == 0 || now > p.last+load<<min(p.redirects, 40) {
		p.last = now
		p.redirects++
		return true
	}
	return false
}

// sendRedirect is ip_rt_send_redirect for a packet being forwarded back
// out of the device it came in on: a host redirect naming the route's
// nexthop (the destination itself when on-link, rt_nexthop), under the
// per-sender backoff; the packet is forwarded all the same.
func (in *Inet) sendRedirect(skb *stack.SKB) {
	d := SkbRtable(skb)
	idev := inDevKey.Get(d.Dev)
	if idev == nil || !in.txRedirects(idev) {
		return
	}
	iph := header.IPv4(skb.NetworkHeader())
	if !in.icmp.redirectAllow(iph.Src(), int(in.redirectNumber.Load()), time.Duration(in.redirectLoad.Load()), time.Duration(in.redirectSilence.Load())) {
		return
	}
	gw := d.Gateway
	if gw == ([4]byte{}) {
		gw = iph.Dst()
	}
	in.ICMPSend(skb, ICMPRedirect, header.ICMPv4RedirectHost, header.IPv4Uint32(gw))
}

// markRedirect is __mkroute_input's RTCF_DOREDIRECT decision for a packet
// from saddr arriving on dev and to be forwarded by route r: it leaves by
// the device it came in on, the source's way back is on-link through it
// (fib_validate_source's positive answer), the device sends redirects,
// and the link is shared media or the source and the route's gateway are
// on one of its subnets. ip_forward sends the redirect.
func (in *Inet) markRedirect(skb *stack.SKB, r *fib.Route, saddr [4]byte, dev *stack.NetDevice, idev *InDevice, onlink bool) {
	if !onlink || r.Dev != dev || !in.txRedirects(idev) {
		return
	}
	if in.orConf(idev, confSharedMedia) || idev.onlink(saddr, r.Gateway) {
		ipcb(skb).flags |= ipskbDoRedirect
	}
}

// icmpRedirect is icmp_redirect: the quoted header (else InErrors) and
// 8 bytes past it go to the quoted protocol's error handler, which takes
// the redirect for a socket of its own (ipv4_sk_redirect) — with no
// socket nothing is learnt, as in Linux.
func (in *Inet) icmpRedirect(skb *stack.SKB) {
	b := header.ICMPv4(skb.Data())
	if len(b) < header.ICMPv4HeaderLen+IPv4HdrLen {
		in.ICMPStats.InErrors.Add(1)
		skb.Free()
		return
	}
	in.icmpSocketDeliver(skb, b)
}

// takeRedirect is ipv4_redirect and ipv4_sk_redirect, then
// __ip_do_redirect: the redirect skb (from the router at its source)
// about the datagram this host sent (inner) to newGW. Codes are taken by
// their low three bits (net, host, TOS net, TOS host alike); the
// datagram's route must go through the redirect's sender; the device the
// redirect came in on must accept redirects; the new gateway may not be
// a group, the broadcast or zero nor the old one; on shared media
// (Linux's default) it must be a unicast address, otherwise on a subnet
// of that device with the old one and, with secure_redirects, a gateway
// of a route through it. A new gateway whose neighbour entry is not
// valid is only resolved (neigh_event_send): a later redirect finds it.
// Otherwise the nexthop the lookup selects learns it for the datagram's
// destination, lapsing gc_timeout from now.
func (in *Inet) takeRedirect(skb *stack.SKB, inner header.IPv4, code uint8, newGW [4]byte) {
	if code&7 > header.ICMPv4RedirectTOSHost {
		return
	}
	fl := fib.FlowKey{Dst: inner.Dst(), Src: inner.Src(), TOS: inner.TOS(), Proto: inner.Protocol()}
	rt, err := in.routeOutput(&fl)
	if err != nil {
		return
	}
	oldGW := header.IPv4(skb.NetworkHeader()).Src()
	if rt.gw4(fl.Dst) != oldGW {
		return
	}
	idev := inDevKey.Get(skb.Dev)
	if idev == nil {
		return
	}
	if newGW == oldGW || !in.rxRedirects(idev) || header.IPv4IsMulticast(newGW) || header.IPv4IsLbcast(newGW) || header.IPv4IsZeronet(newGW) {
		return
	}
	if !in.orConf(idev, confSharedMedia) {
		if !idev.onlink(newGW, oldGW) {
			return
		}
		if in.orConf(idev, confSecureRedirects) && !in.isGatewayOf(newGW, skb.Dev) {
			return
		}
	} else if in.notUnicast(newGW) {
		return
	}
	odev := inDevKey.Get(rt.Dev)
	if odev == nil {
		return
	}
	if n, ok := odev.arp.Lookup(newGW); !ok || n.State&neigh.NUDValid == 0 {
		odev.arp.EventSend(newGW)
		return
	}
	res, err := in.fib.Lookup(&fl)
	if err != nil || res.Route == nil {
		return
	}
	c := res.Route.Cache()
	if c == nil {
		return
	}
	now := in.host.Clock().Now()
	c.UpdateException(fib.ExceptionUpdate{Hash: in.fnheHash(fl.Dst), Daddr: fl.Dst, GW: newGW,
		Expires: now + time.Duration(in.gcTimeout.Load()), Genid: in.fnheGenid.Load(), Now: now,
		MaxDepth: fib.FNHEReclaimDepth + int(uint64(in.idRandom())*fib.FNHEReclaimDepth>>32)})
}

// SKRedirect is ipv4_sk_redirect for a transport's error handler: a
// redirect (e.Type ICMPRedirect) quoting a datagram of one of its
// sockets. The redirect is judged and, if taken, learnt as takeRedirect
// says.
func (in *Inet) SKRedirect(skb *stack.SKB, e ICMPError) {
	if e.Type != ICMPRedirect {
		return
	}
	in.takeRedirect(skb, e.Inner, e.Code, header.IPv4FromUint32(e.Info))
}

// gw4 is the decision's rt_gw4 as __ip_do_redirect compares it: the
// gateway, or for a decision bound to an exception without one the
// destination (rt_bind_exception).
func (rt *Rtable) gw4(daddr [4]byte) [4]byte {
	if rt.Gateway == ([4]byte{}) && rt.exc != nil {
		return daddr
	}
	return rt.Gateway
}

// isGatewayOf is ip_fib_check_default: gw is the gateway of a live
// nexthop of some route through dev (any table; nexthop objects are not
// in Linux's device hash and do not count).
func (in *Inet) isGatewayOf(gw [4]byte, dev *stack.NetDevice) bool {
	for _, r := range in.fib.Dump(fib.TableUnspec) {
		if r.NhID != 0 {
			continue
		}
		if len(r.Multipath) == 0 {
			if r.Dev == dev && r.Gateway == gw && r.NHFlags&fib.NHFDead == 0 {
				return true
			}
			continue
		}
		for _, p := range r.Multipath {
			if p.Dev == dev && p.Gateway == gw && p.Flags&fib.NHFDead == 0 {
				return true
			}
		}
	}
	return false
}

// redirectSysctls are net.ipv4.route's redirect settings and gc_timeout
// (ipv4_route_table: in Linux they are global, shown in the initial
// namespace only; vnic keeps them per host). redirect_load and
// redirect_silence are raw jiffies, gc_timeout seconds.
func (in *Inet) redirectSysctls() (gc stack.Sysctl, redir []stack.Sysctl) {
	jiffies := func(name string, v *atomic.Int64) stack.Sysctl {
		return stack.Sysctl{Name: name, Get: func() string { return strconv.FormatInt(v.Load()/int64(jiffy), 10) },
			Set: func(s string) error {
				n, err := strconv.Atoi(strings.TrimSpace(s))
				if err != nil {
					return fmt.Errorf("invalid argument %q: %w", s, syscall.EINVAL)
				}
				v.Store(int64(n) * int64(jiffy))
				return nil
			}}
	}
	gc = stack.Sysctl{Name: "net.ipv4.route.gc_timeout", Get: func() string {
		return strconv.FormatInt(in.gcTimeout.Load()/int64(time.Second), 10)
	}, Set: func(s string) error {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("invalid argument %q: %w", s, syscall.EINVAL)
		}
		in.gcTimeout.Store(int64(n) * int64(time.Second))
		return nil
	}}
	redir = []stack.Sysctl{
		jiffies("net.ipv4.route.redirect_load", &in.redirectLoad),
		{Name: "net.ipv4.route.redirect_number", Get: func() string { return strconv.Itoa(int(in.redirectNumber.Load())) }, Set: func(s string) error {
			n, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil {
				return fmt.Errorf("invalid argument %q: %w", s, syscall.EINVAL)
			}
			in.redirectNumber.Store(int32(n))
			return nil
		}},
		jiffies("net.ipv4.route.redirect_silence", &in.redirectSilence),
	}
	return gc, redir
}

// confSysctls are conf/all's, conf/default's (dflt) or a device's
// redirect switches (devinet_conf_proc: any integer, non-zero meaning
// on). conf(false) gives the set to read (nil: conf/default's, for a
// device without IPv4 state yet), conf(true) the one to write. A write
// to conf/default reaches every device whose own value was never
// written.
func (in *Inet) confSysctls(pre string, conf func(write bool) *devConf, dflt bool) []stack.Sysctl {
	out := make([]stack.Sysctl, 0, nConf)
	for i := range nConf {
		out = append(out, stack.Sysctl{Name: pre + confNames[i], Get: func() string {
			c := conf(false)
			if c == nil {
				c = &in.confDflt
			}
			return strconv.Itoa(int(c.val[i].Load()))
		}, Set: func(s string) error {
			n, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil {
				return fmt.Errorf("invalid argument %q: %w", s, syscall.EINVAL)
			}
			c := conf(true)
			c.val[i].Store(int32(n))
			c.set[i].Store(true)
			if dflt {
				for _, d := range in.host.Devices() {
					if idev := inDevKey.Get(d); idev != nil && !idev.conf.set[i].Load() {
						idev.conf.val[i].Store(int32(n))
					}
				}
			}
			return nil
		}})
	}
	return out
}

// devConfOf is confSysctls' view of d's switches.
func (in *Inet) devConfOf(d *stack.NetDevice) func(write bool) *devConf {
	return func(write bool) *devConf {
		if write {
			return &in.Attach(d).conf
		}
		if idev := inDevKey.Get(d); idev != nil {
			return &idev.conf
		}
		return nil
	}
}
