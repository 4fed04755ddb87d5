package nat

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"syscall"

	"vnic/stack"
	"vnic/stack/ipv4"
	"vnic/stack/netfilter/conntrack"
)

// Range is a mapping (struct nf_nat_range2, IPv4): the addresses
// MinAddr..MaxAddr when MapIPs is set, the ports (ICMP identifiers)
// MinProto..MaxProto when ProtoSpecified is, and with ProtoOffset the
// port's offset from BaseProto kept into the range (DNAT's "/base").
type Range struct {
	Flags              uint32
	MinAddr, MaxAddr   [4]byte
	MinProto, MaxProto uint16
	BaseProto          uint16
}

// Range flags (NF_NAT_RANGE_*).
const (
	MapIPs           = 1 << 0
	ProtoSpecified   = 1 << 1
	ProtoRandom      = 1 << 2 // --random: the port searched from a random offset
	Persistent       = 1 << 3 // --persistent: a source keeps its address whatever the destination
	ProtoRandomFully = 1 << 4 // --random-fully
	ProtoOffset      = 1 << 5
	Netmap           = 1 << 6
	ProtoRandomAll   = ProtoRandom | ProtoRandomFully
	FlagsMask        = 0x7f
)

// Manip is the end of a connection NAT rewrites (enum nf_nat_manip_type).
type Manip uint8

// The ends.
const (
	ManipSrc Manip = iota // SNAT, MASQUERADE: after routing
	ManipDst              // DNAT, REDIRECT: before routing
)

// HookManip is HOOK2MANIP: the end a hook binds — the source at
// POST_ROUTING and LOCAL_IN, the destination at PRE_ROUTING and LOCAL_OUT.
func HookManip(h stack.NFHook) Manip {
	if h == stack.NFPostRouting || h == stack.NFLocalIn {
		return ManipSrc
	}
	return ManipDst
}

func (m Manip) other() Manip { return 1 - m }

// Status bit sets (IPS_NAT_MASK, IPS_NAT_DONE_MASK).
const (
	natMask     = conntrack.StatusSrcNAT | conntrack.StatusDstNAT
	natDoneMask = conntrack.StatusSrcNATDone | conntrack.StatusDstNATDone
)

// natBit is the status bit saying the end m was rewritten, doneBit the
// one saying it was bound.
func natBit(m Manip) conntrack.Status {
	if m == ManipSrc {
		return conntrack.StatusSrcNAT
	}
	return conntrack.StatusDstNAT
}

func doneBit(m Manip) conntrack.Status {
	if m == ManipSrc {
		return conntrack.StatusSrcNATDone
	}
	return conntrack.StatusDstNATDone
}

// Initialized is nf_nat_initialized: whether ct's end m is bound.
func Initialized(ct *conntrack.Conn, m Manip) bool { return ct.Status()&doneBit(m) != 0 }

// Net is a host's NAT: the hook functions and the tables that feed them,
// the source map (nf_nat_bysource) and the port draws.
type Net struct {
	host *stack.Host
	ct   *conntrack.Net

	regMu sync.Mutex
	users int
	core  []*stack.NFHookOps
	// chains are the tables' functions at each hook (the lookup hooks'
	// entries), consulted for a connection not bound at the hook's end.
	chains [stack.NumNFHooks]atomic.Pointer[[]*stack.NFHookOps]

	rndMu sync.Mutex
	rnd   *rand.PCG // get_random_u16, seeded from the host's seed

	srcMu sync.Mutex
	bySrc map[srcKey]*binding

	masq  masqState
	stats stats
}

// Stats are NAT's counters.
type Stats struct {
	// Bindings are setups that changed a tuple (a real SNAT or DNAT);
	// NullBindings the connections bound to themselves at a hook whose
	// table did not bind them.
	Bindings, NullBindings uint64
	// ManipDrops are packets dropped because their headers could not be
	// rewritten (too short), ICMPDrops errors whose quoted packet could
	// not be translated (bad checksum, short, or a redirect about a NATed
	// connection), OifDrops packets of a masqueraded connection leaving by
	// another device than it was bound to (nf_nat_oif_changed: the entry
	// is killed), MasqNoAddr packets a MASQUERADE found no address for.
	ManipDrops, ICMPDrops, OifDrops, MasqNoAddr uint64
	// MasqFlushed are connections deleted because the device or address
	// they were masqueraded to went.
	MasqFlushed uint64
}

type stats struct {
	bindings, nullBindings, manipDrops, icmpDrops, oifDrops, masqNoAddr, masqFlushed stack.Counter
}

// Stats returns the counters.
func (n *Net) Stats() Stats {
	s := &n.stats
	return Stats{Bindings: s.bindings.Load(), NullBindings: s.nullBindings.Load(), ManipDrops: s.manipDrops.Load(),
		ICMPDrops: s.icmpDrops.Load(), OifDrops: s.oifDrops.Load(), MasqNoAddr: s.masqNoAddr.Load(),
		MasqFlushed: s.masqFlushed.Load()}
}

var key = stack.NewHostKey[Net]()

// Of returns h's NAT, nil before Init.
func Of(h *stack.Host) *Net { return key.Get(h) }

// Init is loading nf_nat for h: its state, bound to the host's connection
// tracking (whose hooks the users of NAT enable: a packet nobody tracks is
// not NAT's). It returns the existing state when called again.
func Init(h *stack.Host) *Net {
	if n := Of(h); n != nil {
		return n
	}
	f := fnv.New64a()
	f.Write([]byte(h.Name()))
	n := &Net{host: h, ct: conntrack.Init(h), bySrc: map[srcKey]*binding{},
		rnd: rand.NewPCG(uint64(h.Seed()), f.Sum64())}
	if !key.Set(h, n) {
		return Of(h)
	}
	return n
}

// inet is the host's IPv4 (there whenever a packet is tracked).
func (n *Net) inet() *ipv4.Inet { return ipv4.Of(n.host) }

// rand16 is get_random_u16, from the host's seeded generator (so that a
// run repeats).
func (n *Net) rand16() uint16 {
	n.rndMu.Lock()
	defer n.rndMu.Unlock()
	return uint16(n.rnd.Uint64() >> 48)
}

// ErrHook is a registration NAT refuses.
var ErrHook = fmt.Errorf("nat: a table's function goes at PRE_ROUTING, LOCAL_IN, LOCAL_OUT or POST_ROUTING: %w", syscall.EINVAL)

// Register is nf_nat_ipv4_register_fn: ops, a table's function at one of
// the four NAT hooks, is called for the first packet of each connection
// not yet bound at that hook's end, in priority order with the others
// there, until one binds it. The first registration on h puts NAT's own
// functions at the hooks (nf_nat_ipv4_ops: NAT_DST −100 at PRE_ROUTING
// and LOCAL_OUT, NAT_SRC 100 at POST_ROUTING and LOCAL_IN).
func Register(h *stack.Host, ops *stack.NFHookOps) error {
	if ops == nil || ops.Fn == nil && ops.Hooker == nil || ops.Hook >= stack.NumNFHooks || ops.Hook == stack.NFForward {
		return ErrHook
	}
	n := Init(h)
	n.regMu.Lock()
	defer n.regMu.Unlock()
	if n.users == 0 {
		if err := n.registerCore(); err != nil {
			return err
		}
	}
	p := &n.chains[ops.Hook]
	var next []*stack.NFHookOps
	if cur := p.Load(); cur != nil {
		next = append(next, *cur...)
	}
	i := 0
	for i < len(next) && next[i].Priority <= ops.Priority {
		i++
	}
	next = append(next[:i], append([]*stack.NFHookOps{ops}, next[i:]...)...)
	p.Store(&next)
	n.users++
	return nil
}

// Unregister is nf_nat_ipv4_unregister_fn: ops leaves its hook; the last
// user's going takes NAT's functions away.
func Unregister(h *stack.Host, ops *stack.NFHookOps) error {
	n := Of(h)
	if n == nil || ops == nil || ops.Hook >= stack.NumNFHooks {
		return ErrHook
	}
	n.regMu.Lock()
	defer n.regMu.Unlock()
	p := &n.chains[ops.Hook]
	cur := p.Load()
	if cur == nil {
		return ErrHook
	}
	var next []*stack.NFHookOps
	found := false
	for _, o := range *cur {
		if o == ops {
			found = true
			continue
		}
		next = append(next, o)
	}
	if !found {
		return ErrHook
	}
	p.Store(&next)
	if n.users--; n.users == 0 {
		for _, o := range n.core {
			h.Netfilter().Unregister(o)
		}
		n.core = nil
	}
	return nil
}

// Hook priorities of NAT's functions (NF_IP_PRI_NAT_DST, _SRC).
const (
	PriNATDst = -100
	PriNATSrc = 100
)

func (n *Net) registerCore() error {
	n.core = []*stack.NFHookOps{
		{Name: "nf_nat_ipv4_pre_routing", Hook: stack.NFPreRouting, Priority: PriNATDst, Hooker: (*preRouting)(n)},
		{Name: "nf_nat_ipv4_out", Hook: stack.NFPostRouting, Priority: PriNATSrc, Hooker: (*natFn)(n)},
		{Name: "nf_nat_ipv4_local_fn", Hook: stack.NFLocalOut, Priority: PriNATDst, Hooker: (*localFn)(n)},
		{Name: "nf_nat_ipv4_local_in", Hook: stack.NFLocalIn, Priority: PriNATSrc, Hooker: (*natFn)(n)},
	}
	nf := n.host.Netfilter()
	for i, o := range n.core {
		if err := nf.Register(o); err != nil {
			for _, r := range n.core[:i] {
				nf.Unregister(r)
			}
			n.core = nil
			return err
		}
	}
	return nil
}

// Setup is nf_nat_setup_info: ct, not yet confirmed, is bound at end m
// to a tuple in r — unique among the connections tracked — and its reply
// tuple altered to that tuple's inverse, so that replies find it. A
// confirmed connection is left as it is (NF_ACCEPT); an end bound twice
// is a caller's error (NF_DROP).
func (n *Net) Setup(ct *conntrack.Conn, r *Range, m Manip) stack.Verdict {
	if ct.Status()&conntrack.StatusConfirmed != 0 {
		return stack.NFAccept
	}
	if Initialized(ct, m) {
		return stack.NFDrop
	}
	// What the packet looks like now is the inverse of the reply tuple
	// (the original tuple with an earlier manipulation applied).
	curr, _ := ct.Tuple(conntrack.Reply).Invert()
	t := n.uniqueTuple(curr, r, ct, m)
	if t != curr {
		reply, _ := t.Invert()
		ct.AlterReply(reply)
		ct.SetStatus(natBit(m))
		n.stats.bindings.Add(1)
		if m == ManipSrc {
			// A real source mapping is remembered by source
			// (nf_nat_bysource) once the entry is in the table.
			n.binding(ct).bySrc = true
		}
	}
	ct.SetStatus(doneBit(m))
	return stack.NFAccept
}

// nullBinding is nf_nat_alloc_null_binding: a connection no rule bound
// at the hook's end is bound to the address it has (the reply's, in case
// a local packet was already manipulated), its port free to move on a
// clash.
func (n *Net) nullBinding(ct *conntrack.Conn, hook stack.NFHook) stack.Verdict {
	m := HookManip(hook)
	reply := ct.Tuple(conntrack.Reply)
	ip := reply.Src
	if m == ManipSrc {
		ip = reply.Dst
	}
	n.stats.nullBindings.Add(1)
	return n.Setup(ct, &Range{Flags: MapIPs, MinAddr: ip, MaxAddr: ip}, m)
}
