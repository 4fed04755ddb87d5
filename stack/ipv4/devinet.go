package ipv4

import (
	"fmt"
	"net/netip"
	"slices"
	"sync/atomic"
	"syscall"
	"vnic/header"
	"vnic/stack"
	"vnic/stack/ipv4/fib"
	"vnic/stack/neigh"
)

// IPv4's state in a host (net_generic) and in a device (dev->ip_ptr).
var (
	inetKey  = stack.NewHostKey[Inet]()
	inDevKey = stack.NewDevKey[InDevice]()
)

// InDevice is a device's IPv4 state (in_device): its addresses, its
// forwarding switch and its ARP table.
type InDevice struct {
	dev        *stack.NetDevice
	inet       *Inet
	addrs      atomic.Pointer[[]IfAddr] // primaries first, copied on write
	forwarding atomic.Bool
	rpFilter   atomic.Int32
	conf       devConf // the redirect switches (conf/DEV)
	arp        *neigh.Table
	igmp       igmpDev
}

// IfAddr is one IPv4 address on a device (in_ifaddr).
type IfAddr struct {
	Ifindex int
	Local   [4]byte
	// Address is IFA_ADDRESS: the peer of a point-to-point address (ip
	// addr add … peer P), else Local. The subnet is its prefix.
	Address   [4]byte
	PrefixLen int
	Broadcast [4]byte // the broadcast address given with it (ip addr add … brd); zero for none
	Scope     fib.Scope
	Label     string
	Secondary bool
	// Metric is IFA_RT_PRIORITY: the metric of the prefix route.
	Metric uint32
	// NoPrefixRoute is IFA_F_NOPREFIXROUTE: the address makes no prefix
	// route.
	NoPrefixRoute bool
}

// subnet reports whether address o is of a's subnet (the same prefix
// length, and o's address under it: inet_ifa_match).
func (a IfAddr) subnet(o IfAddr) bool {
	return a.PrefixLen == o.PrefixLen && sameNet(a.Address, o.Address, a.PrefixLen)
}

// prefix is the subnet's first address (ifa_address & ifa_mask).
func (a IfAddr) prefix() [4]byte {
	return header.IPv4FromUint32(header.IPv4Uint32(a.Address) & header.IPv4Mask(a.PrefixLen))
}

// same reports whether o is the address a is (in_ifaddr identity: local,
// subnet).
func (a IfAddr) same(o IfAddr) bool { return a.Local == o.Local && a.subnet(o) }

// Prefix returns the address with its prefix length.
func (a IfAddr) Prefix() netip.Prefix {
	return netip.PrefixFrom(netip.AddrFrom4(a.Local), a.PrefixLen)
}

// SetForwarding is net.ipv4.ip_forward (and conf/all/forwarding): every
// device's switch follows it. Turning it on disables LRO on each device
// (dev_disable_lro: a merged frame cannot be forwarded as it came).
func (in *Inet) SetForwarding(on bool) error {
	in.forwarding.Store(on)
	for _, d := range in.host.Devices() {
		if err := in.SetDevForwarding(d, on); err != nil {
			return err
		}
	}
	return nil
}

// Forwarding reports net.ipv4.ip_forward.
func (in *Inet) Forwarding() bool { return in.forwarding.Load() }

// SetDevForwarding is net.ipv4.conf.DEV.forwarding.
func (in *Inet) SetDevForwarding(d *stack.NetDevice, on bool) error {
	idev := in.Attach(d)
	idev.forwarding.Store(on)
	if on && !d.IsLoopback() {
		return d.DisableLRO()
	}
	return nil
}

// DevForwarding reports a device's forwarding switch.
func (in *Inet) DevForwarding(d *stack.NetDevice) bool {
	if idev := inDevKey.Get(d); idev != nil {
		return idev.forwarding.Load()
	}
	return in.forwarding.Load()
}

// Attach gives d its IPv4 state (inetdev_init) if it has none and returns it.
func (in *Inet) Attach(d *stack.NetDevice) *InDevice {
	if idev := inDevKey.Get(d); idev != nil {
		return idev
	}
	idev, made := in.attach(d)
	if made && d.IsUp() {
		idev.igmp.mcUp()
	}
	return idev
}

// attach makes d's IPv4 state once; made says this call made it.
func (in *Inet) attach(d *stack.NetDevice) (idev *InDevice, made bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if idev := inDevKey.Get(d); idev != nil {
		return idev, false
	}
	idev = &InDevice{dev: d, inet: in}
	idev.forwarding.Store(in.forwarding.Load())
	idev.conf.copyFrom(&in.confDflt)
	empty := []IfAddr{}
	idev.addrs.Store(&empty)
	idev.arp = neigh.NewTable(in.host.Clock(), neigh.DefaultParams, neigh.Ops{
		Solicit:     func(addr [4]byte, mac stack.MAC, bcast bool) { in.arpSolicit(idev, addr, mac, bcast) },
		Output:      func(skb *stack.SKB, mac stack.MAC) { neighXmit(skb, mac) },
		Unreachable: func(skb *stack.SKB) { in.neighFailed(skb) },
		Changed:     func(n neigh.Neighbour) { in.notify(InetEvent{Kind: EventNewNeigh, Neigh: n, Dev: d}) },
		Deleted:     func(n neigh.Neighbour) { in.notify(InetEvent{Kind: EventDelNeigh, Neigh: n, Dev: d}) },
	}, in.cfg.Seed+int64(d.Ifindex()))
	idev.igmp.init(idev)
	inDevKey.Set(d, idev)
	return idev, true
}

// ARP returns d's ARP table (nil if d has no IPv4 state).
func (in *Inet) ARP(d *stack.NetDevice) *neigh.Table {
	if idev := inDevKey.Get(d); idev != nil {
		return idev.arp
	}
	return nil
}

// Addrs returns d's addresses, primaries first.
func (in *Inet) Addrs(d *stack.NetDevice) []IfAddr {
	if idev := inDevKey.Get(d); idev != nil {
		return slices.Clone(*idev.addrs.Load())
	}
	return nil
}

func ip4(a netip.Addr) [4]byte { return a.As4() }

func sameNet(a, b [4]byte, l int) bool {
	return (header.IPv4Uint32(a)^header.IPv4Uint32(b))&header.IPv4Mask(l) == 0
}

// AddAddr is ip addr add PREFIX dev d: the address, then its routes
// (fib_add_ifaddr: a local /32 route, and on a device that is up the
// connected prefix route in main for a primary address, and broadcast
// routes in the local table). A gratuitous ARP announces it.
func (in *Inet) AddAddr(d *stack.NetDevice, p netip.Prefix) error {
	if !p.Addr().Is4() || !p.IsValid() {
		return fmt.Errorf("stack: %s: %v is not an IPv4 prefix: %w", d.Name(), p, syscall.EINVAL)
	}
	return in.AddIfAddr(d, IfAddr{Local: ip4(p.Addr()), PrefixLen: p.Bits()})
}

// AddIfAddr is __inet_insert_ifa for address a (Local, PrefixLen, and
// optionally Address for a peer, Broadcast, Metric, NoPrefixRoute): an
// address of the subnet of one on d already is a secondary (the same
// local address there is EEXIST); the routes follow (fib_add_ifaddr).
func (in *Inet) AddIfAddr(d *stack.NetDevice, a IfAddr) error {
	if a.PrefixLen < 0 || a.PrefixLen > 32 {
		return fmt.Errorf("stack: %s: prefix length %d: %w", d.Name(), a.PrefixLen, syscall.EINVAL)
	}
	idev := in.Attach(d)
	a.Ifindex, a.Label, a.Secondary = d.Ifindex(), d.Name(), false
	if a.Address == ([4]byte{}) {
		a.Address = a.Local
	}
	if a.Local == [4]byte{} || header.IPv4IsMulticast(a.Local) || a.Local == [4]byte{255, 255, 255, 255} {
		return fmt.Errorf("stack: %s: %v cannot be an interface address: %w", d.Name(), netip.AddrFrom4(a.Local), syscall.EINVAL)
	}
	a.Scope = fib.ScopeUniverse
	if a.Local[0] == 127 {
		a.Scope = fib.ScopeHost
	}
	in.mu.Lock()
	cur := *idev.addrs.Load()
	for _, o := range cur {
		if o.subnet(a) {
			if o.Local == a.Local {
				in.mu.Unlock()
				return fmt.Errorf("stack: %s: %v/%d already assigned: %w", d.Name(), netip.AddrFrom4(a.Local), a.PrefixLen, syscall.EEXIST)
			}
			a.Secondary = true
		}
	}
	next := slices.Clone(cur)
	if a.Secondary {
		next = append(next, a)
	} else {
		i := 0
		for i < len(next) && !next[i].Secondary {
			i++
		}
		next = slices.Insert(next, i, a)
	}
	idev.addrs.Store(&next)
	in.addrRef(a.Local, 1)
	in.mu.Unlock()
	in.notify(InetEvent{Kind: EventNewAddr, Addr: a, Dev: d})
	in.fibAddIfaddr(d, a)
	in.fib.SyncUp(d) // fib_inetaddr_event: the paths through d may live again
	if !(d.NoARP() || d.IsLoopback()) && d.IsUp() && d.CarrierOK() {
		in.sendARP(d, GratuitousARP(d.Addr(), a.Local))
	}
	return nil
}

// primaryOf is inet_ifa_byprefix: the primary address of a's subnet
// among as (a itself when it is one).
func primaryOf(as []IfAddr, a IfAddr) (IfAddr, bool) {
	if !a.Secondary {
		return a, true
	}
	for _, o := range as {
		if !o.Secondary && o.subnet(a) {
			return o, true
		}
	}
	return IfAddr{}, false
}

// FindAddr is find_matching_ifa: d's address that is a (its local
// address and subnet).
func (in *Inet) FindAddr(d *stack.NetDevice, a IfAddr) (IfAddr, bool) {
	if a.Address == ([4]byte{}) {
		a.Address = a.Local
	}
	as := in.Addrs(d)
	i := slices.IndexFunc(as, a.same)
	if i < 0 {
		return IfAddr{}, false
	}
	return as[i], true
}

// SetAddrMetric is ip addr change/replace of an existing address's metric
// (IFA_RT_PRIORITY): the prefix route moves to the new metric
// (fib_modify_prefix_metric) and the address is announced again.
func (in *Inet) SetAddrMetric(d *stack.NetDevice, a IfAddr, metric uint32) {
	idev := inDevKey.Get(d)
	if idev == nil {
		return
	}
	in.mu.Lock()
	next := slices.Clone(*idev.addrs.Load())
	i := slices.IndexFunc(next, a.same)
	if i < 0 {
		in.mu.Unlock()
		return
	}
	old := next[i]
	next[i].Metric = metric
	idev.addrs.Store(&next)
	in.mu.Unlock()
	if old.Metric != metric {
		in.fibModifyPrefixMetric(d, old, metric)
	}
	in.notify(InetEvent{Kind: EventNewAddr, Addr: next[i], Dev: d})
}

// DelAddr is ip addr del PREFIX dev d: the address whose local address
// and subnet PREFIX is (DelIfAddr).
func (in *Inet) DelAddr(d *stack.NetDevice, p netip.Prefix) error {
	if !p.Addr().Is4() {
		return fmt.Errorf("stack: %s: no address %v: %w", d.Name(), p, syscall.EADDRNOTAVAIL)
	}
	return in.DelIfAddr(d, IfAddr{Local: ip4(p.Addr()), Address: ip4(p.Addr()), PrefixLen: p.Bits()})
}

// DelIfAddr is inet_rtm_deladdr and __inet_del_ifa: the first address of
// d with q's local address and, when q has an Address, q's subnet; a
// primary takes the secondaries of its subnet along (no
// promote_secondaries), each announced and its routes deleted
// (fib_del_ifaddr) before the primary. When the last address goes, every
// route through d goes and its neighbours are flushed (fib_disable_ip).
func (in *Inet) DelIfAddr(d *stack.NetDevice, q IfAddr) error {
	idev := inDevKey.Get(d)
	if idev == nil {
		return fmt.Errorf("stack: %s: no address %v: %w", d.Name(), netip.AddrFrom4(q.Local), syscall.EADDRNOTAVAIL)
	}
	in.mu.Lock()
	cur := *idev.addrs.Load()
	i := slices.IndexFunc(cur, func(a IfAddr) bool { return a.Local == q.Local && (q.Address == [4]byte{} || a.subnet(q)) })
	if i < 0 {
		in.mu.Unlock()
		return fmt.Errorf("stack: %s: no address %v: %w", d.Name(), netip.AddrFrom4(q.Local), syscall.EADDRNOTAVAIL)
	}
	del := cur[i]
	var gone []IfAddr // in deletion order: the subnet's secondaries, then del
	if !del.Secondary {
		for _, o := range cur {
			if o.Secondary && o.subnet(del) {
				gone = append(gone, o)
			}
		}
	}
	gone = append(gone, del)
	in.mu.Unlock()
	for _, a := range gone {
		in.mu.Lock()
		cur := *idev.addrs.Load()
		next := slices.DeleteFunc(slices.Clone(cur), a.same)
		idev.addrs.Store(&next)
		in.addrRef(a.Local, len(next)-len(cur))
		in.mu.Unlock()
		in.notify(InetEvent{Kind: EventDelAddr, Addr: a, Dev: d})
		in.fibDelIfaddr(d, a, cur, next)
		if len(next) == 0 {
			in.disableIP(d, true) // the last address: IPv4 is off on d
		}
	}
	return nil
}

// IsLocalAddr reports whether a is one of the host's addresses
// (inet_addr_type == RTN_LOCAL).
func (in *Inet) IsLocalAddr(a [4]byte) bool { return in.isLocalIn(0, a) }

// AddrType is inet_dev_addr_type: what a is to the host. Zero and the
// limited broadcast are broadcasts, a multicast address multicast, any
// other the type of its route in the local table (local, broadcast…;
// fib.Tables.TableLookup says which routes answer), unicast without one;
// with dev set, a route through another device counts as unicast.
func (in *Inet) AddrType(dev *stack.NetDevice, a [4]byte) fib.RouteType {
	if a[0] == 0 || header.IPv4IsLbcast(a) {
		return fib.RTNBroadcast
	}
	if header.IPv4IsMulticast(a) {
		return fib.RTNMulticast
	}
	r := in.fib.TableLookup(fib.TableLocal, a)
	if r == nil {
		return fib.RTNUnicast
	}
	if dev != nil && r.Dev != nil && r.Dev != dev {
		return fib.RTNUnicast
	}
	return r.Type
}

// addrRef counts delta more (or fewer) devices holding address a and
// rebuilds the host's sorted address list when a comes or goes (in.mu).
func (in *Inet) addrRef(a [4]byte, delta int) {
	if delta == 0 {
		return
	}
	if in.addrRefs == nil {
		in.addrRefs = map[[4]byte]int{}
	}
	before := in.addrRefs[a]
	n := max(before+delta, 0)
	if n == 0 {
		delete(in.addrRefs, a)
	} else {
		in.addrRefs[a] = n
	}
	if (before == 0) == (n == 0) {
		return
	}
	list := make([]uint32, 0, len(in.addrRefs))
	for k := range in.addrRefs {
		list = append(list, header.IPv4Uint32(k))
	}
	slices.Sort(list)
	in.hostAddrs.Store(&list)
}

// hasAddr is inet_lookup_ifaddr_rcu: whether a is an address of one of
// the host's devices (not a route: the local table's ranges, 127.0.0.0/8
// among them, are not addresses).
func (in *Inet) hasAddr(a [4]byte) bool {
	p := in.hostAddrs.Load()
	if p == nil {
		return false
	}
	k := header.IPv4Uint32(a)
	if list := *p; len(list) <= 8 {
		for _, x := range list {
			if x == k {
				return true
			}
		}
		return false
	}
	_, found := slices.BinarySearch(*p, k)
	return found
}

// isLocalIn is inet_addr_type_table(a) == RTN_LOCAL for table's domain:
// the local table for the main table (or none), a VRF's own table else.
func (in *Inet) isLocalIn(table uint32, a [4]byte) bool {
	if table == fib.TableUnspec || table == fib.TableMain {
		table = fib.TableLocal
	}
	r := in.fib.TableLookup(table, a)
	return r != nil && r.Type == fib.RTNLocal
}

// SelectAddr is inet_select_addr: a primary address of dev of scope at
// most scope, preferring one on dst's subnet, else one of another device
// (MASQUERADE's choice of source); zero when the host has none.
func (in *Inet) SelectAddr(dev *stack.NetDevice, dst [4]byte, scope fib.Scope) [4]byte {
	return in.selectAddr(dev, dst, scope)
}

// selectAddr is inet_select_addr: a primary address of dev of scope at
// most scope, preferring one on dst's subnet; failing that, one of any
// device.
func (in *Inet) selectAddr(dev *stack.NetDevice, dst [4]byte, scope fib.Scope) [4]byte {
	if dev != nil {
		if idev := inDevKey.Get(dev); idev != nil {
			var first [4]byte
			found := false
			for _, a := range *idev.addrs.Load() {
				if a.Secondary || a.Scope > scope {
					continue
				}
				if dst != ([4]byte{}) && sameNet(a.Local, dst, a.PrefixLen) {
					return a.Local
				}
				if !found {
					first, found = a.Local, true
				}
			}
			if found {
				return first
			}
		}
	}
	for _, d := range in.host.Devices() {
		if d == dev {
			continue
		}
		if idev := inDevKey.Get(d); idev != nil {
			for _, a := range *idev.addrs.Load() {
				if !a.Secondary && a.Scope <= scope && a.Scope != fib.ScopeHost {
					return a.Local
				}
			}
		}
	}
	return [4]byte{}
}

// netdevEvent is IPv4's netdev notifier (inetdev_event).
// A device coming up gets its IPv4 state and joins all-hosts (ip_mc_up);
// going down it leaves its groups (ip_mc_down).
func (in *Inet) netdevEvent(ev stack.NetdevEvent, d *stack.NetDevice) {
	switch ev {
	case stack.NetdevUp:
		in.Attach(d).igmp.mcUp()
		// fib_netdev_event: the addresses' routes come back, and the
		// paths through d live again.
		for _, a := range in.Addrs(d) {
			in.fibAddIfaddr(d, a)
		}
		in.fib.SyncUp(d)
	case stack.NetdevDown:
		if idev := inDevKey.Get(d); idev != nil {
			idev.igmp.mcDown()
			in.disableIP(d, false)
		}
	case stack.NetdevChangeUpper:
		// fib_netdev_event: linked to or unlinked from an L3 master, the
		// device loses every route through it; they come back, in its new
		// domain's table, as it comes up (SetMaster cycles it).
		if inDevKey.Get(d) != nil {
			in.disableIP(d, true)
		}
	case stack.NetdevUnregister:
		in.devGone(d)
	}
}

// devGone is NETDEV_UNREGISTER: the device's addresses and every route
// through it go, and its neighbours are flushed.
func (in *Inet) devGone(d *stack.NetDevice) {
	idev := inDevKey.Get(d)
	if idev == nil {
		return
	}
	for _, a := range in.Addrs(d) {
		_ = in.DelIfAddr(d, a)
	}
	for _, r := range in.fib.FlushDev(d) {
		in.notify(InetEvent{Kind: EventDelRoute, Route: r, Dev: d})
	}
	for _, n := range idev.arp.Entries() {
		idev.arp.Delete(n.Addr)
	}
}

// ignoreLinkdown is IN_DEV_IGNORE_ROUTES_WITH_LINKDOWN (conf/all's value
// or the device's, as Linux 6.x reads it): the fib passes over a route
// whose device has no carrier.
func (in *Inet) ignoreLinkdown(d *stack.NetDevice) bool {
	if idev := inDevKey.Get(d); idev != nil {
		return in.orConf(idev, confIgnoreRoutesWithLinkdown)
	}
	return in.confAll.val[confIgnoreRoutesWithLinkdown].Load() != 0
}
