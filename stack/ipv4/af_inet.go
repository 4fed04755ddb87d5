package ipv4

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"vnic/header"
	"vnic/stack"
	"vnic/stack/ipv4/fib"
	"vnic/stack/neigh"
)

// IP protocol numbers (IPPROTO_*).
const (
	IPProtoICMP = header.ProtoICMP
	IPProtoTCP  = header.ProtoTCP
	IPProtoUDP  = header.ProtoUDP
)

// IPv4 header flag bits (frag_off, host order: IP_DF, IP_MF, IP_OFFSET).
const (
	IPDF     = header.IPv4DF
	IPMF     = header.IPv4MF
	IPOffset = header.IPv4FragOffMask
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
	rtStats   routeCounters

	mu    sync.Mutex // configuration (addresses, device state, subscribers)
	subs  []func(InetEvent)
	fib   fib.Tables
	frags fragTable
	icmp  icmpState
	pings pingTable
	raw   rawTable
	lo    *stack.NetDevice
	// ip_idents and ip_tstamps: the IP ID counters and when each was
	// last used (ms); idKey keys their hash, idRand their randomness.
	idents   [idBuckets]atomic.Uint32
	idStamps [idBuckets]atomic.Uint32
	idKey    uint64
	idRand   atomic.Uint64

	// hostAddrs are the host's addresses, every device's, sorted (what
	// inet_lookup_ifaddr_rcu finds in inet_addr_lst); addrRefs counts the
	// devices holding each (in.mu). customLocal is
	// fib_has_custom_local_routes: a local route was added other than by
	// an address (once set, set). Source validation reads them.
	hostAddrs   atomic.Pointer[[]uint32]
	addrRefs    map[[4]byte]int
	customLocal atomic.Bool

	forwarding atomic.Bool
	// net.ipv4.route: min_pmtu, mtu_expires (ns) and the exceptions'
	// generation (fnhe_genid, bumped by route.flush).
	minPMTU    atomic.Int32
	mtuExpires atomic.Int64
	fnheGenid  atomic.Uint32
	// flushWritten is the last value written to net.ipv4.route.flush.
	flushWritten atomic.Value
	rpFilter     atomic.Int32 // conf/all/rp_filter
	// vrfRulesAdded: the first VRF added the l3mdev rule (l3mdev.go).
	vrfRulesAdded bool
	// conf/all's and conf/default's redirect switches; net.ipv4.route's
	// redirect_number, redirect_load and redirect_silence (ns) and
	// gc_timeout (ns: a redirect's exception lasts that long).
	confAll, confDflt devConf
	redirectNumber    atomic.Int32
	redirectLoad      atomic.Int64
	redirectSilence   atomic.Int64
	gcTimeout         atomic.Int64
	protos            [256]atomic.Pointer[NetProtocol]

	// prebuilt continuation functions (method values allocate)
	rcvFinishFn, localDeliverFinishFn, forwardFinishFn, outputFn, finishOutputFn, dstOutputFn func(*stack.SKB)
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
	in.idKey = uint64(hs.Sum32())<<32 ^ uint64(cfg.Seed)
	in.idRand.Store(in.idKey ^ 0x5851f42d4c957f2d)
	in.minPMTU.Store(DefaultMinPMTU)
	in.mtuExpires.Store(int64(DefaultMTUExpires))
	in.confAll.init()
	in.confDflt.init()
	in.redirectNumber.Store(DefaultRedirectNumber)
	in.redirectLoad.Store(int64(DefaultRedirectLoad))
	in.redirectSilence.Store(int64(DefaultRedirectSilence))
	in.gcTimeout.Store(int64(DefaultGCTimeout))
	for i := range in.idents {
		in.idents[i].Store(in.idRandom())
	}
	in.rcvFinishFn = in.rcvFinish
	in.localDeliverFinishFn = in.localDeliverFinish
	in.forwardFinishFn = in.forwardFinish
	in.outputFn = in.postRoutingDone
	in.finishOutputFn = in.finishOutput2
	in.dstOutputFn = in.dstOutput
	in.fib.Init()
	in.frags.init(in)
	in.icmp.init(in)
	in.pings.init()
	in.forwarding.Store(cfg.Forwarding)
	in.AddProtocol(IPProtoICMP, NetProtocol{Handler: in.icmpRcv, ErrHandler: in.pings.err(in)})
	in.AddProtocol(IPProtoIGMP, NetProtocol{Handler: in.igmpRcv})
	inetKey.Set(h, in)
	in.rtnlRegister()
	h.RegisterSysctls(in.sysctls)
	h.RegisterSysctls(in.routeSysctls)

	lo := stack.NewLoopback()
	if err := h.Register(lo); err != nil {
		return nil, err
	}
	in.lo = lo
	in.fib.Loopback = lo
	in.fib.SetIgnoreLinkdown(in.ignoreLinkdown)
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
