package nat

import (
	"sync"

	"vnic/header"
	"vnic/stack"
	"vnic/stack/ipv4"
	"vnic/stack/ipv4/fib"
	"vnic/stack/netfilter/conntrack"
)

// masqState is nf_nat_masquerade.c's notifier registration: how many
// MASQUERADE users there are, and whether the notifiers are on the
// host's chains (vnic's chains have no unregistration: they stay, and do
// nothing while there are no users).
type masqState struct {
	mu    sync.Mutex
	users int
	on    bool
}

// Masquerade is nf_nat_masquerade_ipv4: a source NAT to the address the
// egress device out would give the packet's next hop (inet_select_addr
// of the route's gateway, or of the destination on link), the ports as r
// gives them. The connection remembers the device: it is forgotten when
// the device goes down or the address goes, and dropped if its packets
// leave by another device. A packet of source 0.0.0.0 (a local one that
// has none yet) is let through.
func (n *Net) Masquerade(skb *stack.SKB, r *Range, out *stack.NetDevice) stack.Verdict {
	ct, _ := conntrack.Get(skb)
	if ct == nil || out == nil {
		return stack.NFAccept
	}
	if ct.Tuple(conntrack.Original).Src == ([4]byte{}) {
		return stack.NFAccept
	}
	nh := header.IPv4(skb.Data()).Dst()
	if rt := ipv4.SkbRtable(skb); rt != nil && rt.Gateway != ([4]byte{}) {
		nh = rt.Gateway
	}
	var src [4]byte
	if in := n.inet(); in != nil {
		src = in.SelectAddr(out, nh, fib.ScopeUniverse)
	}
	if src == ([4]byte{}) {
		n.stats.masqNoAddr.Add(1) // "%s ate my IP address"
		return stack.NFDrop
	}
	n.binding(ct).masqIndex = out.Ifindex()
	nr := Range{Flags: r.Flags | MapIPs, MinAddr: src, MaxAddr: src, MinProto: r.MinProto, MaxProto: r.MaxProto}
	return n.Setup(ct, &nr, ManipSrc)
}

// RegisterMasquerade is nf_nat_masquerade_inet_register_notifiers, for a
// MASQUERADE rule: while there is one, a device going down takes the
// connections masqueraded to it (masq_device_event), and an address
// removed those masqueraded to that address on its device
// (masq_inet_event). Linux flushes from a work queue; vnic at once, in
// the notifier's context.
func (n *Net) RegisterMasquerade() {
	s := &n.masq
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users++
	if s.on {
		return
	}
	s.on = true
	n.host.RegisterNetdevNotifier(func(ev stack.NetdevEvent, d *stack.NetDevice) {
		if ev == stack.NetdevDown && n.masqUsers() > 0 {
			n.masqFlush(d.Ifindex(), nil)
		}
	})
	in := n.inet()
	if in == nil {
		return // no addresses to go (MASQUERADE's check enabled tracking: IPv4 is there)
	}
	in.Subscribe(func(ev ipv4.InetEvent) {
		if ev.Kind == ipv4.EventDelAddr && ev.Dev != nil && n.masqUsers() > 0 {
			// inet_cmp compares ifa_address: the peer of a
			// point-to-point address, else the local one.
			a := ev.Addr.Address
			n.masqFlush(ev.Dev.Ifindex(), &a)
		}
	})
}

// UnregisterMasquerade is nf_nat_masquerade_inet_unregister_notifiers:
// a MASQUERADE rule went.
func (n *Net) UnregisterMasquerade() {
	s := &n.masq
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.users > 0 {
		s.users--
	}
}

func (n *Net) masqUsers() int {
	n.masq.mu.Lock()
	defer n.masq.mu.Unlock()
	return n.masq.users
}

// masqFlush is nf_nat_masq_schedule's walk (device_cmp, inet_cmp): every
// connection masqueraded to device ifindex — and, given addr, whose
// reply comes to addr — is deleted.
func (n *Net) masqFlush(ifindex int, addr *[4]byte) {
	n.ct.Walk(func(c *conntrack.Conn) bool {
		b, _ := c.Extension().(*binding)
		if b == nil || b.masqIndex != ifindex {
			return true
		}
		if addr != nil && c.Tuple(conntrack.Reply).Dst != *addr {
			return true
		}
		if n.ct.Delete(c) {
			n.stats.masqFlushed.Add(1)
		}
		return true
	})
}
