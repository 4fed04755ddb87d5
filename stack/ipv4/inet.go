package ipv4

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"vnic/header"
	"vnic/stack"
	"vnic/stack/ipv4/fib"
	"vnic/stack/neigh"
)

// IP protocol numbers.
const (
	IPProtoICMP = 1
	IPProtoTCP  = 6
	IPProtoUDP  = 17
)

// IPv4 header flag bits (frag_off, host order).
const (
	IPDF     = 0x4000
	IPMF     = 0x2000
	IPOffset = 0x1fff
)

// InetConfig holds a namespace's IPv4 sysctls, Linux's defaults by
// DefaultInetConfig.
type InetConfig struct {
	// Forwarding is net.ipv4.ip_forward: it sets every device's
	// forwarding switch (conf/all/forwarding), as writing it does.
	Forwarding bool
	// DefaultTTL is ip_default_ttl (64).
	DefaultTTL uint8
	// FragTime is ipfrag_time: how long a reassembly queue waits (30 s).
	FragTime time.Duration
	// FragHigh and FragLow are ipfrag_high_thresh and ipfrag_low_thresh:
	// past High bytes held in reassembly queues the oldest queues go until
	// Low remains (4 MiB, 3 MiB).
	FragHigh, FragLow int
	// ICMPRateLimit is icmp_ratelimit: the per-destination token interval
	// for the message types in ICMPRateMask (1 s, mask 0x1818: destination
	// unreachable, source quench, time exceeded, parameter problem).
	ICMPRateLimit time.Duration
	ICMPRateMask  uint32
	// ICMPMsgsPerSec and ICMPMsgsBurst are the host-wide budget of ICMP
	// messages (icmp_msgs_per_sec 1000, icmp_msgs_burst 50).
	ICMPMsgsPerSec, ICMPMsgsBurst int
	// EchoBroadcasts answers echo requests sent to a broadcast address:
	// icmp_echo_ignore_broadcasts = 0 (Linux's default is 1, ignore;
	// the field is the other way round so that its zero value is the
	// default).
	EchoBroadcasts bool
	// PortLow and PortHigh are ip_local_port_range (32768 60999).
	PortLow, PortHigh uint16
	// Seed makes the randomised choices (reachable times, IP IDs,
	// ephemeral ports) repeatable.
	Seed int64
}

// DefaultInetConfig are Linux's values.
var DefaultInetConfig = InetConfig{
	DefaultTTL: 64, FragTime: 30 * time.Second, FragHigh: 4 << 20, FragLow: 3 << 20,
	ICMPRateLimit: time.Second, ICMPRateMask: 0x1818, ICMPMsgsPerSec: 1000, ICMPMsgsBurst: 50,
	PortLow: 32768, PortHigh: 60999,
}

// Inet is a namespace's IPv4: its addresses (per device), routing tables,
// neighbour tables, reassembly queues, protocol handlers, sockets and
// counters. InetInit makes it and registers IPv4 and ARP with the host.
type Inet struct {
	host *stack.Host
	cfg  InetConfig

	// Stats are the Ip counters; ICMP and UDP have theirs.
	Stats     IPStats
	ICMPStats ICMPStats

	mu     sync.Mutex // configuration (addresses, device state, subscribers)
	subs   []func(InetEvent)
	fib    fib.Tables
	frags  fragTable
	icmp   icmpState
	pings  pingTable
	raw    rawTable
	lo     *stack.NetDevice
	idents [2048]atomic.Uint32
	idKey  uint32

	forwarding atomic.Bool
	rpFilter   atomic.Int32 // conf/all/rp_filter
	protos     [256]atomic.Pointer[NetProtocol]

	// prebuilt continuation functions (method values allocate)
	rcvFinishFn, localDeliverFinishFn, forwardFinishFn, outputFn, finishOutputFn func(*stack.SKB)
}

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

// InetEvent is a change the rtnetlink groups report (RTM_NEWADDR …).
type InetEvent struct {
	Kind  InetEventKind
	Addr  IfAddr
	Route fib.Route
	Neigh neigh.Neighbour
	Dev   *stack.NetDevice
}

// InetEventKind says what changed.
type InetEventKind int

// The kinds.
const (
	EventNewAddr InetEventKind = iota
	EventDelAddr
	EventNewRoute
	EventDelRoute
	EventNewNeigh
	EventDelNeigh
)

// InetInit is inet_init for host: it registers the IPv4 and ARP packet
// handlers and the ICMP and UDP protocols, and brings up a loopback device
// ("lo", 127.0.0.1/8). Devices registered later get their IPv4 state when
// an address is added or Attach is called.
func InetInit(h *stack.Host, cfg InetConfig) (*Inet, error) {
	cfg.DefaultTTL = cmp.Or(cfg.DefaultTTL, DefaultInetConfig.DefaultTTL)
	cfg.FragTime = cmp.Or(cfg.FragTime, DefaultInetConfig.FragTime)
	cfg.FragHigh = cmp.Or(cfg.FragHigh, DefaultInetConfig.FragHigh)
	cfg.FragLow = cmp.Or(cfg.FragLow, DefaultInetConfig.FragLow)
	cfg.ICMPRateLimit = cmp.Or(cfg.ICMPRateLimit, DefaultInetConfig.ICMPRateLimit)
	cfg.ICMPRateMask = cmp.Or(cfg.ICMPRateMask, DefaultInetConfig.ICMPRateMask)
	cfg.ICMPMsgsPerSec = cmp.Or(cfg.ICMPMsgsPerSec, DefaultInetConfig.ICMPMsgsPerSec)
	cfg.ICMPMsgsBurst = cmp.Or(cfg.ICMPMsgsBurst, DefaultInetConfig.ICMPMsgsBurst)
	cfg.PortLow = cmp.Or(cfg.PortLow, DefaultInetConfig.PortLow)
	cfg.PortHigh = cmp.Or(cfg.PortHigh, DefaultInetConfig.PortHigh)
	if cfg.FragLow > cfg.FragHigh || cfg.PortLow > cfg.PortHigh {
		return nil, fmt.Errorf("stack: inet: low threshold above high: %w", syscall.EINVAL)
	}
	if inetKey.Get(h) != nil {
		return nil, fmt.Errorf("stack: %s: IPv4 already initialised: %w", h.Name(), syscall.EEXIST)
	}
	in := &Inet{host: h, cfg: cfg}
	hs := fnv.New32a()
	hs.Write([]byte(h.Name()))
	in.idKey = hs.Sum32() ^ uint32(cfg.Seed)
	in.rcvFinishFn = in.rcvFinish
	in.localDeliverFinishFn = in.localDeliverFinish
	in.forwardFinishFn = in.forwardFinish
	in.outputFn = in.postRoutingDone
	in.finishOutputFn = in.finishOutput2
	in.fib.Init()
	in.frags.init(in)
	in.icmp.init(in)
	in.pings.init()
	in.forwarding.Store(cfg.Forwarding)
	in.AddProtocol(IPProtoICMP, NetProtocol{Handler: in.icmpRcv, ErrHandler: in.pings.err(in)})
	inetKey.Set(h, in)
	in.rtnlRegister()

	lo := stack.NewLoopback()
	if err := h.Register(lo); err != nil {
		return nil, err
	}
	in.lo = lo
	if err := lo.Open(); err != nil {
		return nil, err
	}
	if err := in.AddAddr(lo, netip.MustParsePrefix("127.0.0.1/8")); err != nil {
		return nil, err
	}
	h.RegisterNetdevNotifier(in.netdevEvent)
	h.AddProtocol(stack.EthPIPv4, in.Rcv)
	h.AddProtocol(stack.EthPARP, in.arpRcv)
	return in, nil
}

// Of returns the host's IPv4 instance (nil before InetInit).
func Of(h *stack.Host) *Inet { return inetKey.Get(h) }

// Host returns the namespace.
func (in *Inet) Host() *stack.Host { return in.host }

// Config returns the sysctls.
func (in *Inet) Config() InetConfig { return in.cfg }

// Loopback returns the loopback device.
func (in *Inet) Loopback() *stack.NetDevice { return in.lo }

// NetProtocol is a transport as IPv4 knows it (struct net_protocol).
type NetProtocol struct {
	// Handler receives local datagrams of the protocol, data at the
	// transport header (the network header set); it owns the skb.
	Handler stack.Handler
	// ErrHandler receives the ICMP errors that quote one of the
	// protocol's datagrams, data at the ICMP header; it owns the skb.
	// Nil: such errors are only counted.
	ErrHandler func(skb *stack.SKB, e ICMPError)
}

// AddProtocol is inet_add_protocol: p takes the local datagrams of
// protocol proto and the ICMP errors about them. Its functions capture
// their state when registered: nothing is looked up per packet.
func (in *Inet) AddProtocol(proto uint8, p NetProtocol) { in.protos[proto].Store(&p) }

// Subscribe adds fn to IPv4's notifier chain of address, route and
// neighbour changes (inetaddr_chain and the FIB notifier; rtnetlink's
// notifications are one subscriber). fn runs in the context of the change
// and must not block.
func (in *Inet) Subscribe(fn func(InetEvent)) {
	in.mu.Lock()
	in.subs = append(in.subs, fn)
	in.mu.Unlock()
}

func (in *Inet) notify(ev InetEvent) {
	in.mu.Lock()
	subs := in.subs
	in.mu.Unlock()
	for _, fn := range subs {
		fn(ev)
	}
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
	in.mu.Lock()
	defer in.mu.Unlock()
	if idev := inDevKey.Get(d); idev != nil {
		return idev
	}
	idev := &InDevice{dev: d, inet: in}
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
	inDevKey.Set(d, idev)
	return idev
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
	for _, o := range cur {
		if o.Local == a.Local && o.PrefixLen == a.PrefixLen {
			in.mu.Unlock()
			return fmt.Errorf("stack: %s: %v already assigned: %w", d.Name(), p, syscall.EEXIST)
		}
		if sameNet(o.Local, a.Local, o.PrefixLen) && o.PrefixLen == a.PrefixLen {
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
	in.mu.Unlock()
	in.notify(InetEvent{Kind: EventNewAddr, Addr: a, Dev: d})

	local := fib.Route{Table: fib.TableLocal, Dst: a.Local, Len: 32, Type: fib.RTNLocal, Scope: fib.ScopeHost, Protocol: fib.ProtoKernel, PrefSrc: a.Local, Dev: d}
	in.addKernelRoute(local)
	if a.Broadcast != ([4]byte{}) && !header.IPv4IsLbcast(a.Broadcast) {
		in.addKernelRoute(fib.Route{Table: fib.TableLocal, Dst: a.Broadcast, Len: 32, Type: fib.RTNBroadcast, Scope: fib.ScopeLink, Protocol: fib.ProtoKernel, PrefSrc: a.Local, Dev: d})
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
		for _, r := range in.fib.RemoveKernel(d, a.Local) {
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

// nextID is ip_select_ident's counter: one per (destination, source,
// protocol) hash bucket, as Linux's ip_idents.
func (in *Inet) nextID(src, dst [4]byte, proto uint8) uint16 {
	h := (header.IPv4Uint32(dst)*0x9e3779b1 ^ header.IPv4Uint32(src)*0x85ebca6b ^ uint32(proto)*0xc2b2ae35 ^ in.idKey) >> 21
	return uint16(in.idents[h&2047].Add(1) + in.idKey)
}

// netdevEvent is IPv4's netdev notifier (inetdev_event).
func (in *Inet) netdevEvent(ev stack.NetdevEvent, d *stack.NetDevice) {
	if ev == stack.NetdevUnregister {
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
