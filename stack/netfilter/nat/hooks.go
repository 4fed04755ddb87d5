package nat

import (
	"vnic/header"
	"vnic/stack"
	"vnic/stack/netfilter/conntrack"
)

// NAT's hook functions (nf_nat_proto.c's nf_nat_ipv4_ops and
// nf_nat_core.c's nf_nat_inet_fn), each the Net as a type of its own
// whose NFHook the registry calls through an interface (no method
// value's wrapper between).
//
// nf_nat_ipv4_out and nf_nat_ipv4_local_in are nf_nat_ipv4_fn itself in
// vnic (it has no xfrm to look up again, and its skbs carry no
// early-demuxed socket to drop when the source changes): both hooks
// register natFn, whose NFHook is nf_nat_ipv4_fn.
type (
	preRouting Net
	natFn      Net
	localFn    Net
)

// NFHook is nf_nat_ipv4_pre_routing: a packet whose destination
// changed loses the route decision it carried (a looped-back one keeps
// its own), so that it is routed for its new destination.
func (h *preRouting) NFHook(skb *stack.SKB, st *stack.NFState) stack.Verdict {
	n := (*Net)(h)
	// Most packets: untracked, or established in a connection whose
	// binding leaves this end alone. ipv4Fn would come to the same
	// verdict through the same tests (the outgoing device's are
	// POST_ROUTING's), and the destination stays; so would a header
	// too short to read, the first test otherwise.
	ct, info := conntrack.Get(skb)
	if ct == nil || (info == conntrack.Established || info == conntrack.EstablishedReply) && ct.Status()&rewriteBit(conntrack.StatusDstNAT, info) == 0 {
		return stack.NFAccept
	}
	d := skb.Data()
	if len(d) < header.IPv4MinHeaderLen {
		return stack.NFAccept
	}
	daddr := header.IPv4(d).Dst()
	v := n.ipv4Fn(skb, st)
	if v == stack.NFAccept && header.IPv4(skb.Data()).Dst() != daddr {
		skb.SetDst(nil)
	}
	return v
}

// NFHook is nf_nat_ipv4_local_fn: a locally sent packet whose
// connection's destination is rewritten is routed again for the new one
// (ip_route_me_harder); no route drops it.
func (h *localFn) NFHook(skb *stack.SKB, st *stack.NFState) stack.Verdict {
	n := (*Net)(h)
	v := n.ipv4Fn(skb, st)
	if v != stack.NFAccept {
		return v
	}
	ct, info := conntrack.Get(skb)
	if ct == nil {
		return v
	}
	dir := info.Dir()
	if ct.Tuple(dir).Dst != ct.Tuple(1-dir).Src {
		if in := n.inet(); in == nil || in.RouteMeHarder(skb) != nil {
			return stack.NFDrop
		}
	}
	return v
}

// ipv4Fn is nf_nat_ipv4_fn, for the hook functions that do more.
func (n *Net) ipv4Fn(skb *stack.SKB, st *stack.NFState) stack.Verdict {
	return (*natFn)(n).NFHook(skb, st)
}

// NFHook is nf_nat_ipv4_fn: an ICMP error RELATED to a connection is
// translated; every other tracked packet goes through nf_nat_inet_fn,
// here in line: the first packet of a connection not bound at the hook's
// end is bound (bind), then every packet is rewritten as its connection
// says.
func (h *natFn) NFHook(skb *stack.SKB, st *stack.NFState) stack.Verdict {
	n := (*Net)(h)
	ct, info := conntrack.Get(skb)
	if ct == nil {
		return stack.NFAccept
	}
	if info == conntrack.Related || info == conntrack.RelatedReply {
		if d := skb.Data(); len(d) >= header.IPv4MinHeaderLen && header.IPv4(d).Protocol() == header.ProtoICMP {
			if !n.icmpReplyTranslation(skb, ct, info, st.Hook) {
				n.stats.icmpDrops.Add(1)
				return stack.NFDrop
			}
			return stack.NFAccept
		}
	}
	if st.Hook == stack.NFPostRouting && st.Out != nil && st.Out.IsVRF() {
		return stack.NFAccept // in_vrf_postrouting: the slave's own pass does it
	}
	m := HookManip(st.Hook)
	switch info {
	case conntrack.Related, conntrack.RelatedReply, conntrack.New:
		if !Initialized(ct, m) {
			if v := n.bind(skb, st, ct, m); v != stack.NFAccept {
				return v
			}
			break
		}
		fallthrough
	default:
		if n.oifChanged(st, info, ct) {
			return n.oifDrop(ct)
		}
	}
	// nf_nat_packet: the packet's end of the hook is rewritten when its
	// connection's binding changed that end for its direction (a reply
	// undoes the other end's binding).
	if ct.Status()&rewriteBit(natBit(m), info) == 0 {
		return stack.NFAccept
	}
	if !ManipPacket(skb, ct, m, info.Dir()) {
		n.stats.manipDrops.Add(1)
		return stack.NFDrop
	}
	return stack.NFAccept
}

// rewriteBit is nf_nat_packet's statusbit: the status bit that says a
// packet of kind info has the end whose bit is bit rewritten — that bit
// in the original direction, the other end's in the reply (a reply
// undoes the other end's binding).
func rewriteBit(bit conntrack.Status, info conntrack.Info) conntrack.Status {
	if info.Dir() == conntrack.Reply {
		return bit ^ natMask
	}
	return bit
}

// bind is nf_nat_inet_fn's first packet of a connection not bound at the
// hook's end m: it runs through the tables' functions there until one
// binds it, and is bound to itself if none does (a null binding: so the
// end is decided once, and a clash of the unchanged tuple still moves
// its port).
func (n *Net) bind(skb *stack.SKB, st *stack.NFState, ct *conntrack.Conn, m Manip) stack.Verdict {
	if chain := n.chains[st.Hook].Load(); chain != nil {
		for _, o := range *chain {
			if v := o.Call(skb, st); v != stack.NFAccept {
				return v
			}
			if Initialized(ct, m) {
				return stack.NFAccept
			}
		}
	}
	return n.nullBinding(ct, st.Hook)
}

// oifChanged is nf_nat_oif_changed: a masqueraded connection's packet
// leaving by another device than the one whose address it took.
func (n *Net) oifChanged(st *stack.NFState, info conntrack.Info, ct *conntrack.Conn) bool {
	if st.Hook != stack.NFPostRouting || info.Dir() != conntrack.Original || st.Out == nil {
		return false
	}
	b, _ := ct.Extension().(*binding)
	return b != nil && b.masqIndex != 0 && b.masqIndex != st.Out.Ifindex()
}

// oifDrop is nf_ct_kill_acct and NF_DROP: the entry goes, and with it
// the old mapping; the next packet makes a new one.
func (n *Net) oifDrop(ct *conntrack.Conn) stack.Verdict {
	n.ct.Delete(ct)
	n.stats.oifDrops.Add(1)
	return stack.NFDrop
}
