package conntrack

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"sync/atomic"

	"vnic/header"
	"vnic/stack"
	"vnic/stack/ipv4"
)

// Hook priorities (include/uapi/linux/netfilter_ipv4.h).
const (
	PriConntrackDefrag  = -400
	PriConntrack        = -200
	PriConntrackConfirm = math.MaxInt32
)

var key = stack.NewHostKey[Net]()

// Of returns h's connection tracking, nil before Init.
func Of(h *stack.Host) *Net { return key.Get(h) }

// Init is loading nf_conntrack for h: the table (DefaultConfig's size),
// the net.netfilter sysctls. Nothing is tracked until something uses it
// (Enable). It returns the host's Net (the existing one when called again).
func Init(h *stack.Host) *Net {
	if n := Of(h); n != nil {
		return n
	}
	n := &Net{host: h, clock: h.Clock()}
	cfg := DefaultConfig
	n.cfg.Store(&cfg)
	f := fnv.New64a()
	f.Write([]byte(h.Name()))
	seed := splitmix64(uint64(h.Seed()) ^ f.Sum64())
	n.k0, n.k1, n.rnd = seed, splitmix64(seed), splitmix64(splitmix64(seed))
	n.tab.Store(&htable{b: make([]atomic.Pointer[hnode], DefaultBuckets(HostMemory))})
	if !key.Set(h, n) {
		return Of(h)
	}
	h.RegisterSysctls(n.sysctls)
	return n
}

// ErrNoIPv4 is Enable on a host without IPv4.
var ErrNoIPv4 = errors.New("conntrack: the host has no IPv4")

// Enable is nf_ct_netns_get: a user of connection tracking (a state
// match, NAT, the configuration's switch) takes a reference; the first
// registers the hooks — defragmentation at PRE_ROUTING −400, tracking at
// PRE_ROUTING and LOCAL_OUT −200, confirmation at LOCAL_IN and
// POST_ROUTING INT_MAX.
func Enable(h *stack.Host) (*Net, error) {
	n := Init(h)
	n.hookMu.Lock()
	defer n.hookMu.Unlock()
	if n.users == 0 {
		in := ipv4.Of(h)
		if in == nil {
			return nil, ErrNoIPv4
		}
		n.ops = []*stack.NFHookOps{
			{Name: "nf_defrag_ipv4", Hook: stack.NFPreRouting, Priority: PriConntrackDefrag, Hooker: &defrag{in}},
			{Name: "ipv4_conntrack_in", Hook: stack.NFPreRouting, Priority: PriConntrack, Hooker: (*trackIn)(n)},
			{Name: "ipv4_conntrack_local", Hook: stack.NFLocalOut, Priority: PriConntrack, Hooker: (*trackIn)(n)},
			{Name: "ipv4_confirm", Hook: stack.NFPostRouting, Priority: PriConntrackConfirm, Hooker: (*trackConfirm)(n)},
			{Name: "ipv4_confirm", Hook: stack.NFLocalIn, Priority: PriConntrackConfirm, Hooker: (*trackConfirm)(n)},
		}
		for i, o := range n.ops {
			if err := h.Netfilter().Register(o); err != nil {
				for _, r := range n.ops[:i] {
					h.Netfilter().Unregister(r)
				}
				n.ops = nil
				return nil, err
			}
		}
	}
	n.users++
	return n, nil
}

// Disable is nf_ct_netns_put: the last user's going unregisters the
// hooks. The table stays (entries time out as before).
func Disable(h *stack.Host) error {
	n := Of(h)
	if n == nil {
		return fmt.Errorf("conntrack: %s: not enabled", h.Name())
	}
	n.hookMu.Lock()
	defer n.hookMu.Unlock()
	if n.users == 0 {
		return fmt.Errorf("conntrack: %s: not enabled", h.Name())
	}
	n.users--
	if n.users == 0 {
		for _, o := range n.ops {
			h.Netfilter().Unregister(o)
		}
		n.ops = nil
	}
	return nil
}

// Users is how many users hold the hooks.
func (n *Net) Users() int {
	n.hookMu.Lock()
	defer n.hookMu.Unlock()
	return n.users
}

// defrag is ipv4_conntrack_defrag: a fragment of a packet not yet seen
// by tracking is held for reassembly; the whole datagram starts
// PRE_ROUTING over (ipv4.ResumePreRouting). Linux also defragments at
// LOCAL_OUT (raw sockets sending fragments); vnic's own senders hand
// LOCAL_OUT whole datagrams, so it does not.
type defrag struct{ in *ipv4.Inet }

func (f *defrag) NFHook(skb *stack.SKB, _ *stack.NFState) stack.Verdict {
	if ct, info := skb.NFCT(); ct != nil || Info(info) == Untracked {
		return stack.NFAccept
	}
	d := skb.Data()
	if len(d) < header.IPv4MinHeaderLen || !header.IPv4(d).IsFragment() {
		return stack.NFAccept
	}
	if whole := f.in.Defrag(skb, ipv4.DefragConntrackIn); whole != nil {
		f.in.ResumePreRouting(whole)
	}
	return stack.NFStolen
}

// trackIn is the Net as its tracking hook function (ipv4_conntrack_in,
// ipv4_conntrack_local), and trackConfirm as its confirmation one
// (ipv4_confirm): each its own type, so that the registry calls the
// function through an interface, with no method value's wrapper between.
type (
	trackIn      Net
	trackConfirm Net
)

// NFHook is nf_conntrack_in: the packet's connection is found or
// made (unconfirmed) and its tracker updates it; the skb carries it and
// the packet's relation to it. Packets already seen (looped back) or
// exempted are left alone; a template the raw table attached gives the
// zone and the event masks, and is dropped; what cannot be tracked goes
// on without a connection (invalid).
func (t *trackIn) NFHook(skb *stack.SKB, st *stack.NFState) stack.Verdict {
	n := (*Net)(t)
	tmpl, seen := templateOf(skb)
	if seen {
		return stack.NFAccept
	}
	ip, ihl, total, ok := parse(skb)
	if !ok {
		n.stats.invalid.Add(1)
		return stack.NFAccept
	}
	var p pktInfo
	p.skb, p.ip, p.ihl, p.total, p.l4, p.l4len, p.hook = skb, ip, ihl, total, ip[ihl:], total-ihl, st.Hook
	p.tmpl, p.zone, p.now = tmpl, zoneOf(tmpl, skb), n.clock.Now()
	cfg := n.conf()
	if p.ip.Protocol() == protoICMP {
		handled, bad := n.icmpError(&p, cfg)
		if bad {
			n.stats.errors.Add(1)
		}
		if handled {
			return stack.NFAccept
		}
	}
	for {
		// resolve_normal_ct, its lookup in line: the connection of the
		// packet's tuple in its zone, or a new one (resolveNew), and how
		// the packet relates to it, attached to the skb. A packet that
		// has no tuple or none with an inverse gets no connection; a
		// full table drops the packet.
		tu, good := p.tuple()
		if !good {
			n.stats.invalid.Add(1)
			return stack.NFAccept
		}
		zone := p.zone
		id := zone.IDIn(Original)
		hash := n.hashRaw(&tu, id)
		h := n.find(&tu, zone, hash, p.now)
		if h == nil {
			if rid := zone.IDIn(Reply); rid != id {
				h = n.find(&tu, zone, n.hashRaw(&tu, rid), p.now)
			}
		}
		var ct *Conn
		var info Info
		if h != nil {
			ct = h.ct
			switch s := ct.Status(); {
			case h.dir() == Reply:
				info = EstablishedReply
			case s&StatusSeenReply != 0:
				info = Established
			case s&StatusExpected != 0:
				info = Related
			default:
				info = New
			}
		} else if ct, info, ok = n.resolveNew(&p, &tu, hash, cfg); !ok {
			n.stats.drop.Add(1)
			return stack.NFDrop
		} else if ct == nil {
			n.stats.invalid.Add(1)
			return stack.NFAccept
		}
		skb.SetNFCT(ct, uint8(info))
		// nf_conntrack_handle_packet: the connection's tracker.
		v := l4Accept
		switch ct.l4 {
		case protoTCP:
			v = ct.tcpPacket(&p, info, cfg)
		case protoUDP:
			v = ct.udpPacket(&p, info, cfg)
		case protoICMP:
			v = ct.icmpPacket(&p, info, cfg)
		default:
			ct.refresh(&p, info, cfg.GenericTimeout)
		}
		switch v {
		case l4Repeat:
			skb.SetNFCT(nil, 0)
			continue
		case l4Invalid:
			skb.SetNFCT(nil, 0)
			n.stats.invalid.Add(1)
			return stack.NFAccept
		case l4Drop:
			skb.SetNFCT(nil, 0)
			n.stats.invalid.Add(1)
			n.stats.drop.Add(1)
			return stack.NFDrop
		}
		if info == EstablishedReply && ct.setStatusBit(StatusSeenReply) {
			ct.cacheEvent(EventReply)
		}
		return stack.NFAccept
	}
}

// resolveNew is resolve_normal_ct's new connection, for a packet whose
// tuple t (hashed to hash in the zone's original direction) nothing in
// the table has: its reply tuple the inverse, it is New or, when an
// expectation claims it, Related. A tuple without an inverse gets none
// (nil); ok is false when the table is full (the packet is to be
// dropped).
func (n *Net) resolveNew(p *pktInfo, t *Tuple, hash uint32, cfg *Config) (ct *Conn, info Info, ok bool) {
	r, good := t.Invert()
	if !good {
		return nil, 0, true
	}
	if ct = n.alloc(t, &r, p.zone, hash, cfg, p.tmpl); ct == nil {
		return nil, 0, false
	}
	ct.l4 = trackerOf(t.Proto)
	n.exp.assign(n, ct)
	info = New
	if ct.Status()&StatusExpected != 0 {
		info = Related
	}
	return ct, info, true
}

// NFHook is ipv4_confirm (nf_confirm): a connection the packet made
// goes into the table as the packet leaves the tracking's reach; the
// events its packets cached are delivered.
func (t *trackConfirm) NFHook(skb *stack.SKB, _ *stack.NFState) stack.Verdict {
	n := (*Net)(t)
	ct, info := Get(skb)
	if ct == nil {
		return stack.NFAccept
	}
	if ct.Status()&StatusConfirmed == 0 {
		if v := n.confirm(skb, ct, info); v != stack.NFAccept {
			return v
		}
		ct, _ = Get(skb)
	}
	if ct.events.Load() != 0 {
		n.ev.deliverCached(ct)
	}
	return stack.NFAccept
}
