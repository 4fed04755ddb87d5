package ipv4

import "vnic/stack"

// Reassembly users of netfilter (IP_DEFRAG_CONNTRACK_IN, _OUT): their
// queues never mix with local delivery's.
const (
	DefragConntrackIn  = 2
	DefragConntrackOut = 3
)

// Defrag is ip_defrag for netfilter's defragmentation hook
// (nf_defrag_ipv4): skb, a fragment with data at its IP header, joins the
// queue of user; the whole datagram comes back once every fragment is in
// (a new skb: the fragments are freed), nil while some are missing or
// when the queue was dropped (the skb is held or freed).
func (in *Inet) Defrag(skb *stack.SKB, user uint8) *stack.SKB { return in.defrag(skb, user) }

// ResumePreRouting passes a datagram that a PRE_ROUTING hook reassembled
// through PRE_ROUTING again and on to ip_rcv_finish: Linux's hook
// reassembles in place and goes on; vnic's reassembly makes a new skb,
// so the hook steals the fragment and the datagram starts the hook over.
func (in *Inet) ResumePreRouting(skb *stack.SKB) {
	st := skb.NF()
	*st = stack.NFState{Hook: stack.NFPreRouting, In: skb.Dev}
	in.host.Netfilter().Run(st, skb, in.rcvFinishFn)
}
