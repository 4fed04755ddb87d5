package nat

import (
	"vnic/stack"
	"vnic/stack/netfilter/conntrack"
)

// Redirect is nf_nat_redirect_ipv4: a destination NAT to the host
// itself — the first (primary) address of the device the packet came in
// by, or 127.0.0.1 for a packet the host sends (LOCAL_OUT) — the ports as
// r gives them. A device without an address drops the packet.
func (n *Net) Redirect(skb *stack.SKB, r *Range, hook stack.NFHook) stack.Verdict {
	ct, _ := conntrack.Get(skb)
	if ct == nil {
		return stack.NFAccept
	}
	dst := [4]byte{127, 0, 0, 1}
	if hook != stack.NFLocalOut {
		in := n.inet()
		if skb.Dev == nil || in == nil {
			return stack.NFDrop
		}
		addrs := in.Addrs(skb.Dev)
		if len(addrs) == 0 || addrs[0].Local == ([4]byte{}) {
			return stack.NFDrop
		}
		dst = addrs[0].Local
	}
	nr := Range{Flags: r.Flags | MapIPs, MinAddr: dst, MaxAddr: dst, MinProto: r.MinProto, MaxProto: r.MaxProto}
	return n.Setup(ct, &nr, ManipDst)
}
