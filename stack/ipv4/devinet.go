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
	arp        *neigh.Table
	igmp       igmpDev
}

// IfAddr is one IPv4 address on a device (in_ifaddr).
type IfAddr struct {
	Ifindex   int
	Local     [4]byte
	PrefixLen int
	Broadcast [4]byte // the broadcast address given with it (ip addr add … brd); zero for none
	Scope     fib.Scope
	Label     string
	Secondary bool
}

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

// AddAddr is ip addr add PREFIX dev d: the address, then (fib_add_ifaddr)
// a local /32 route and, below /31, a broadcast route in the local table
// and, for a primary address, the connected prefix route in main. A
// gratuitous ARP announces it.
func (in *Inet) AddAddr(d *stack.NetDevice, p netip.Prefix) error {
	return in.AddAddrBroadcast(d, p, [4]byte{})
}

// AddAddrBroadcast is AddAddr with a broadcast address (ip addr add …
// brd ADDR): it is recorded and gets its own broadcast route. The
// subnet's broadcast route exists either way (Linux's fib_add_ifaddr).
func (in *Inet) AddAddrBroadcast(d *stack.NetDevice, p netip.Prefix, brd [4]byte) error {
	if !p.Addr().Is4() || !p.IsValid() {
		return fmt.Errorf("stack: %s: %v is not an IPv4 prefix: %w", d.Name(), p, syscall.EINVAL)
	}
	idev := in.Attach(d)
	a := IfAddr{Ifindex: d.Ifindex(), Local: ip4(p.Addr()), PrefixLen: p.Bits(), Label: d.Name()}
	if a.Local == [4]byte{} || header.IPv4IsMulticast(a.Local) || a.Local == [4]byte{255, 255, 255, 255} {
		return fmt.Errorf("stack: %s: %v cannot be an interface address: %w", d.Name(), p.Addr(), syscall.EINVAL)
	}
	a.Broadcast = brd
	switch {
	case a.Local[0] == 127:
		a.Scope = fib.ScopeHost
	default:
		a.Scope = fib.ScopeUniverse
	}
	in.mu.Lock()
	cur := *idev.addrs.Load()
	prim := a.Local // the routes' source: the subnet's primary address (fib_add_ifaddr's prim)
	for _, o := range cur {
		if o.Local == a.Local && o.PrefixLen == a.PrefixLen {
			in.mu.Unlock()
			return fmt.Errorf("stack: %s: %v already assigned: %w", d.Name(), p, syscall.EEXIST)
		}
		if sameNet(o.Local, a.Local, o.PrefixLen) && o.PrefixLen == a.PrefixLen {
			a.Secondary = true
			if !o.Secondary {
				prim = o.Local
			}
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
	in.mu.Unlock()
	in.notify(InetEvent{Kind: EventNewAddr, Addr: a, Dev: d})

	local := fib.Route{Table: fib.TableLocal, Dst: a.Local, Len: 32, Type: fib.RTNLocal, Scope: fib.ScopeHost, Protocol: fib.ProtoKernel, PrefSrc: prim, Dev: d}
	in.addKernelRoute(local)
	if a.Broadcast != ([4]byte{}) && !header.IPv4IsLbcast(a.Broadcast) {
		in.addKernelRoute(fib.Route{Table: fib.TableLocal, Dst: a.Broadcast, Len: 32, Type: fib.RTNBroadcast, Scope: fib.ScopeLink, Protocol: fib.ProtoKernel, PrefSrc: prim, Dev: d})
	}
	if net := header.IPv4FromUint32(header.IPv4Uint32(a.Local) | ^header.IPv4Mask(a.PrefixLen)); !a.Secondary && a.PrefixLen < 31 && net != a.Broadcast {
		in.addKernelRoute(fib.Route{Table: fib.TableLocal, Dst: net, Len: 32, Type: fib.RTNBroadcast, Scope: fib.ScopeLink, Protocol: fib.ProtoKernel, PrefSrc: a.Local, Dev: d})
	}
	if !a.Secondary && a.PrefixLen < 32 {
		// The connected prefix; on the loopback the whole prefix is local
		// (127.0.0.0/8 in the local table).
		typ, table, scope := fib.RTNUnicast, uint32(fib.TableMain), fib.ScopeLink
		if d.IsLoopback() {
			typ, table, scope = fib.RTNLocal, fib.TableLocal, fib.ScopeHost
		}
		in.addKernelRoute(fib.Route{Table: table, Dst: header.IPv4FromUint32(header.IPv4Uint32(a.Local) & header.IPv4Mask(a.PrefixLen)), Len: uint8(a.PrefixLen), Type: typ,
			Scope: scope, Protocol: fib.ProtoKernel, PrefSrc: a.Local, Dev: d})
	}
	if !(d.NoARP() || d.IsLoopback()) && d.IsUp() && d.CarrierOK() {
		in.sendARP(d, GratuitousARP(d.Addr(), a.Local))
	}
	return nil
}

func (in *Inet) addKernelRoute(r fib.Route) {
	if err := in.fib.Insert(&r, false); err == nil {
		in.notify(InetEvent{Kind: EventNewRoute, Route: r, Dev: r.Dev})
	}
}

// DelAddr is ip addr del: the address and the routes it made go; deleting
// a primary address deletes the secondaries of its subnet too (Linux's
// default without promote_secondaries).
func (in *Inet) DelAddr(d *stack.NetDevice, p netip.Prefix) error {
	idev := inDevKey.Get(d)
	if idev == nil || !p.Addr().Is4() {
		return fmt.Errorf("stack: %s: no address %v: %w", d.Name(), p, syscall.EADDRNOTAVAIL)
	}
	local := ip4(p.Addr())
	in.mu.Lock()
	cur := *idev.addrs.Load()
	i := slices.IndexFunc(cur, func(a IfAddr) bool { return a.Local == local && a.PrefixLen == p.Bits() })
	if i < 0 {
		in.mu.Unlock()
		return fmt.Errorf("stack: %s: no address %v: %w", d.Name(), p, syscall.EADDRNOTAVAIL)
	}
	gone := []IfAddr{cur[i]}
	if !cur[i].Secondary {
		for _, o := range cur {
			if o.Secondary && o.PrefixLen == cur[i].PrefixLen && sameNet(o.Local, local, o.PrefixLen) {
				gone = append(gone, o)
			}
		}
	}
	next := slices.DeleteFunc(slices.Clone(cur), func(a IfAddr) bool {
		return slices.ContainsFunc(gone, func(g IfAddr) bool { return g.Local == a.Local && g.PrefixLen == a.PrefixLen })
	})
	idev.addrs.Store(&next)
	in.mu.Unlock()
	for _, a := range gone {
		in.notify(InetEvent{Kind: EventDelAddr, Addr: a, Dev: d})
		removed := in.fib.RemoveKernel(d, a.Local)
		if a.Secondary && len(gone) == 1 {
			// A secondary's own routes carry its primary's address as
			// source: its local route, and its explicit broadcast unless
			// another address still has it (fib_del_ifaddr).
			brdUsed := slices.ContainsFunc(next, func(o IfAddr) bool { return o.Broadcast == a.Broadcast })
			removed = append(removed, in.fib.RemoveWhere(func(r *fib.Route) bool {
				if r.Protocol != fib.ProtoKernel || r.Dev != d || r.Table != fib.TableLocal || r.Len != 32 {
					return false
				}
				return r.Type == fib.RTNLocal && r.Dst == a.Local ||
					r.Type == fib.RTNBroadcast && a.Broadcast != ([4]byte{}) && r.Dst == a.Broadcast && !brdUsed
			})...)
		}
		for _, r := range removed {
			in.notify(InetEvent{Kind: EventDelRoute, Route: r, Dev: d})
		}
	}
	return nil
}

// IsLocalAddr reports whether a is one of the host's addresses
// (inet_addr_type == RTN_LOCAL).
func (in *Inet) IsLocalAddr(a [4]byte) bool {
	r := in.fib.TableLookup(fib.TableLocal, a)
	return r != nil && r.Type == fib.RTNLocal
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
	case stack.NetdevDown:
		if idev := inDevKey.Get(d); idev != nil {
			idev.igmp.mcDown()
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
		_ = in.DelAddr(d, a.Prefix())
	}
	for _, r := range in.fib.FlushDev(d) {
		in.notify(InetEvent{Kind: EventDelRoute, Route: r, Dev: d})
	}
	for _, n := range idev.arp.Entries() {
		idev.arp.Delete(n.Addr)
	}
}
