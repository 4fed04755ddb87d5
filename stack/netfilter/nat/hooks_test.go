package nat

import (
	"bytes"
	"fmt"
	"testing"

	"vnic/header"
	"vnic/stack"
	"vnic/stack/netfilter/conntrack"
)

// fromLAN is a chain that applies fn to packets from 198.18.1.0/24 only.
func fromLAN(fn func(*stack.SKB, *stack.NFState) stack.Verdict) func(*stack.SKB, *stack.NFState) stack.Verdict {
	return func(skb *stack.SKB, st *stack.NFState) stack.Verdict {
		if s := header.IPv4(skb.Data()).Src(); s[0] != 198 || s[1] != 18 || s[2] != 1 {
			return stack.NFAccept
		}
		return fn(skb, st)
	}
}

// TestSNATBothWays: a source NAT rewrites the first packet and every later
// one the table is not asked about again; replies come back to the client;
// every checksum is what a full sum gives.
func TestSNATBothWays(t *testing.T) {
	r := newRig(t, 1)
	calls := 0
	snat := r.setup(single(addrN), ManipSrc)
	r.rule(stack.NFPostRouting, func(skb *stack.SKB, st *stack.NFState) stack.Verdict { calls++; return snat(skb, st) })
	for i, step := range []struct {
		in       pkt
		from, to *stack.NetDevice
		want     pkt
	}{
		{tcpFlow(addrA, addrD, 40000, 80), r.lan, r.wan, tcpFlow(addrN, addrD, 40000, 80)},
		{pkt{src: addrD, dst: addrN, proto: header.ProtoTCP, sport: 80, dport: 40000, flags: header.TCPSyn | header.TCPAck, seq: 5000, ack: 1001},
			r.wan, r.lan, pkt{src: addrD, dst: addrA, proto: header.ProtoTCP, sport: 80, dport: 40000, flags: header.TCPSyn | header.TCPAck, seq: 5000, ack: 1001}},
		{pkt{src: addrA, dst: addrD, proto: header.ProtoTCP, sport: 40000, dport: 80, flags: header.TCPAck, seq: 1001, ack: 5001, payload: 100},
			r.lan, r.wan, pkt{src: addrN, dst: addrD, proto: header.ProtoTCP, sport: 40000, dport: 80, flags: header.TCPAck, seq: 1001, ack: 5001, payload: 100}},
	} {
		got, v := r.forward(step.in.bytes(), step.from, step.to)
		if want := step.want.bytes(); !bytes.Equal(got, want) {
			t.Fatalf("packet %d (%v):\n got  %x\n want %x", i, v, got, want)
		}
	}
	if calls != 1 {
		t.Fatalf("the table was asked %d times, want once (the first packet)", calls)
	}
	ct, dir := r.ct.Lookup(conntrack.Tuple{Src: addrA, Dst: addrD, SrcPort: 40000, DstPort: 80, Proto: header.ProtoTCP}, conntrack.DefaultZone)
	if ct == nil || dir != conntrack.Original {
		t.Fatal("no entry")
	}
	if want := (conntrack.Tuple{Src: addrD, Dst: addrN, SrcPort: 80, DstPort: 40000, Proto: header.ProtoTCP}); ct.Tuple(conntrack.Reply) != want {
		t.Fatalf("reply tuple %+v, want %+v", ct.Tuple(conntrack.Reply), want)
	}
	if st := ct.Status() & (natMask | natDoneMask); st != conntrack.StatusSrcNAT|natDoneMask {
		t.Fatalf("status %#x", st)
	}
	if s := r.n.Stats(); s.Bindings != 1 || s.NullBindings != 1 {
		t.Fatalf("stats %+v: want 1 binding and 1 null binding (the destination at PRE_ROUTING)", s)
	}
}

// TestNullBinding: with no rule binding it, a connection is bound to
// itself at each end; its port still moves when its reply tuple is a NATed
// connection's (the router's own connection from the NAT address and port
// a client was mapped to: nf_nat_used_tuple's example).
func TestNullBinding(t *testing.T) {
	r := newRig(t, 1)
	r.rule(stack.NFPostRouting, fromLAN(r.setup(single(addrN), ManipSrc)))
	if got, _ := r.forward(tcpFlow(addrA, addrD, 40000, 80).bytes(), r.lan, r.wan); got == nil {
		t.Fatal("client's packet dropped")
	}
	own := tcpFlow(addrN, addrD, 40000, 80)
	skb := r.skb(own.bytes(), nil)
	v, skb := r.hook(stack.NFLocalOut, skb, nil, r.wan)
	if skb == nil {
		t.Fatalf("LOCAL_OUT: %v", v)
	}
	v, skb = r.hook(stack.NFPostRouting, skb, nil, r.wan)
	if skb == nil {
		t.Fatalf("POST_ROUTING: %v", v)
	}
	defer skb.Consume()
	ip := header.IPv4(skb.Data())
	th := header.TCP(ip.Payload())
	if ip.Src() != addrN || th.SrcPort() == 40000 || th.SrcPort() < 1024 {
		t.Fatalf("own connection left as %v:%d, want %v with a port moved in 1024-65535", ip.Src(), th.SrcPort(), addrN)
	}
	if !header.L4ChecksumValid(ip, ip.Payload()) || !ip.ChecksumValid() {
		t.Fatal("checksums")
	}
	ct, _ := conntrack.Get(skb)
	if st := ct.Status() & (natMask | natDoneMask); st != conntrack.StatusSrcNAT|natDoneMask {
		t.Fatalf("status %#x: want the source moved by the null binding", st)
	}
	if s := r.n.Stats(); s.NullBindings != 3 || s.Bindings != 2 {
		t.Fatalf("stats %+v: want 3 null bindings (client at PRE_ROUTING; own at LOCAL_OUT and POST_ROUTING) and 2 bindings", s)
	}
}

// TestChains: the tables' functions at a hook run in order until one
// binds; one that drops ends the packet.
func TestChains(t *testing.T) {
	r := newRig(t, 1)
	var order []string
	r.rule(stack.NFPostRouting, func(*stack.SKB, *stack.NFState) stack.Verdict { order = append(order, "first"); return stack.NFAccept })
	bindN2 := r.setup(single(addrN2), ManipSrc)
	r.rule(stack.NFPostRouting, func(skb *stack.SKB, st *stack.NFState) stack.Verdict {
		order = append(order, "second")
		if header.IPv4(skb.Data()).Src() == addrB {
			return stack.NFDrop
		}
		return bindN2(skb, st)
	})
	r.rule(stack.NFPostRouting, func(*stack.SKB, *stack.NFState) stack.Verdict { order = append(order, "third"); return stack.NFAccept })
	got, _ := r.forward(udpFlow(addrA, addrD, 1000, 53).bytes(), r.lan, r.wan)
	if want := udpFlow(addrN2, addrD, 1000, 53).bytes(); !bytes.Equal(got, want) {
		t.Fatalf("got %x, want %x", got, want)
	}
	if got, v := r.forward(udpFlow(addrB, addrD, 1000, 53).bytes(), r.lan, r.wan); got != nil || v != stack.NFDrop {
		t.Fatalf("dropped by the chain: %v", v)
	}
	if want := "[first second first second]"; fmt.Sprint(order) != want {
		t.Fatalf("order %v, want %s", order, want)
	}
	if err := Register(r.h, &stack.NFHookOps{Hook: stack.NFForward, Fn: func(*stack.SKB, *stack.NFState) stack.Verdict { return 0 }}); err == nil {
		t.Fatal("a function at FORWARD was taken")
	}
}

// TestRegistration: NAT's own functions are at the hooks while a table
// uses them, at NAT_DST and NAT_SRC.
func TestRegistration(t *testing.T) {
	r := newRig(t, 1)
	before := [stack.NumNFHooks]int{}
	for h := range stack.NumNFHooks {
		before[h] = r.h.Netfilter().Stats(h).Registered
	}
	var ops []*stack.NFHookOps
	for _, h := range []stack.NFHook{stack.NFPreRouting, stack.NFLocalIn, stack.NFLocalOut, stack.NFPostRouting} {
		o := &stack.NFHookOps{Name: "t", Hook: h, Fn: func(*stack.SKB, *stack.NFState) stack.Verdict { return stack.NFAccept }}
		if err := Register(r.h, o); err != nil {
			t.Fatal(err)
		}
		ops = append(ops, o)
	}
	for h := range stack.NumNFHooks {
		want := before[h] + 1
		if h == stack.NFForward {
			want = before[h]
		}
		if got := r.h.Netfilter().Stats(h).Registered; got != want {
			t.Errorf("%v: %d functions, want %d", h, got, want)
		}
	}
	for i, o := range ops {
		if err := Unregister(r.h, o); err != nil {
			t.Fatal(err)
		}
		if i < len(ops)-1 && r.h.Netfilter().Stats(stack.NFPreRouting).Registered != before[stack.NFPreRouting]+1 {
			t.Fatal("NAT's functions went with a user left")
		}
	}
	for h := range stack.NumNFHooks {
		if got := r.h.Netfilter().Stats(h).Registered; got != before[h] {
			t.Errorf("%v: %d functions after the last user, want %d", h, got, before[h])
		}
	}
	if err := Unregister(r.h, ops[0]); err == nil {
		t.Fatal("unregistered twice")
	}
}

// TestOifChanged: a masqueraded connection whose packet leaves by another
// device is killed and the packet dropped (nf_nat_oif_changed).
func TestOifChanged(t *testing.T) {
	r := newRig(t, 1)
	r.rule(stack.NFPostRouting, func(skb *stack.SKB, st *stack.NFState) stack.Verdict {
		return r.n.Masquerade(skb, &Range{}, st.Out)
	})
	p := udpFlow(addrA, addrD, 1000, 53)
	got, _ := r.forward(p.bytes(), r.lan, r.wan)
	if want := udpFlow(addrN, addrD, 1000, 53).bytes(); !bytes.Equal(got, want) {
		t.Fatalf("masqueraded to\n got  %x\n want %x", got, want)
	}
	if got, v := r.forward(p.bytes(), r.lan, r.lan); got != nil || v != stack.NFDrop {
		t.Fatalf("by another device: %v", v)
	}
	if ct, _ := r.ct.Lookup(conntrack.Tuple{Src: addrA, Dst: addrD, SrcPort: 1000, DstPort: 53, Proto: header.ProtoUDP}, conntrack.DefaultZone); ct != nil {
		t.Fatal("entry still there")
	}
	if s := r.n.Stats(); s.OifDrops != 1 {
		t.Fatalf("stats %+v", s)
	}
}

// TestDNATDropsRoute: a packet whose destination PRE_ROUTING rewrote
// loses the route decision it carried.
func TestDNATDropsRoute(t *testing.T) {
	r := newRig(t, 1)
	r.rule(stack.NFPreRouting, r.setup(single(addrD), ManipDst))
	for _, tc := range []struct {
		name string
		dst  [4]byte
		kept bool
	}{{"rewritten", addrN, false}, {"already there", addrD, true}} {
		skb := r.skb(udpFlow(addrA, tc.dst, uint16(len(tc.name)), 53).bytes(), r.lan)
		var d stack.Dst
		skb.SetDst(&d)
		_, skb = r.hook(stack.NFPreRouting, skb, r.lan, nil)
		if (skb.Dst() != nil) != tc.kept {
			t.Errorf("%s: route kept %v, want %v", tc.name, skb.Dst() != nil, tc.kept)
		}
		skb.Consume()
	}
}
