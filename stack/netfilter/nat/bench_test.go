package nat

import (
	"testing"

	"vnic/header"
	"vnic/stack"
	"vnic/stack/netfilter/conntrack"
)

// established is a router with tracking (and with nat, a source NAT of
// everything forwarded to the WAN), an established flow through it, and
// one of the flow's packets to forward again and again.
type established struct {
	r         *rig
	skb       *stack.SKB
	tmpl      []byte
	pre, post stack.NFState
	ok        func(*stack.SKB)
	passed    int
}

func newEstablished(tb testing.TB, proto uint8, nat bool) *established {
	r := newRig(tb, 1)
	if nat {
		r.rule(stack.NFPostRouting, r.setup(single(addrN), ManipSrc))
	}
	reply := addrN
	if !nat {
		reply = addrA
	}
	var first, back, next pkt
	switch proto {
	case header.ProtoTCP:
		first = tcpFlow(addrA, addrD, 40000, 80)
		back = pkt{src: addrD, dst: reply, proto: header.ProtoTCP, sport: 80, dport: 40000, flags: header.TCPSyn | header.TCPAck, seq: 7000, ack: 1001}
		next = pkt{src: addrA, dst: addrD, proto: header.ProtoTCP, sport: 40000, dport: 80, flags: header.TCPAck, seq: 1001, ack: 7001}
	default:
		first = udpFlow(addrA, addrD, 5353, 53)
		back = pkt{src: addrD, dst: reply, proto: header.ProtoUDP, sport: 53, dport: 5353, payload: 4}
		next = first
	}
	for i, step := range []struct {
		p        pkt
		from, to *stack.NetDevice
	}{{first, r.lan, r.wan}, {back, r.wan, r.lan}, {next, r.lan, r.wan}} {
		if out, v := r.forward(step.p.bytes(), step.from, step.to); out == nil {
			tb.Fatalf("packet %d: %v", i, v)
		}
	}
	e := &established{r: r, tmpl: next.bytes()}
	e.skb = r.skb(e.tmpl, r.lan)
	// The device verified the transport checksum (RX checksum offload,
	// as igb does): tracking does not sum the payload again.
	e.skb.IPSummed = stack.ChecksumUnnecessary
	e.pre = stack.NFState{Hook: stack.NFPreRouting, In: r.lan}
	e.post = stack.NFState{Hook: stack.NFPostRouting, Out: r.wan}
	e.ok = func(*stack.SKB) { e.passed++ }
	tb.Cleanup(e.skb.Consume)
	return e
}

// once forwards the packet through PRE_ROUTING (tracking −200, NAT −100)
// and POST_ROUTING (NAT 100, confirmation last), the bytes restored first.
func (e *established) once() { e.through(e.r.h.Netfilter()) }

// through is once through the hook registry nf.
func (e *established) through(nf *stack.Netfilter) {
	copy(e.skb.Data(), e.tmpl)
	e.skb.SetNFCT(nil, 0)
	*e.skb.NF() = e.pre
	nf.Run(e.skb.NF(), e.skb, e.ok)
	*e.skb.NF() = e.post
	nf.Run(e.skb.NF(), e.skb, e.ok)
}

// BenchmarkEstablished is one packet of an established flow through a
// router's tracking, with and without a source NAT rewriting it. The
// baseline is the harness alone (the packet restored, its two traversals
// of a registry with nothing registered): a case's time less the
// baseline's is what tracking and NAT add to forwarding a packet.
func BenchmarkEstablished(b *testing.B) {
	b.Run("baseline", func(b *testing.B) {
		e := newEstablished(b, header.ProtoUDP, false)
		var empty stack.Netfilter
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			e.through(&empty)
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "packets/s")
		if e.passed != 2*b.N {
			b.Fatalf("%d of %d passes through the empty registry", e.passed, 2*b.N)
		}
	})
	for _, tc := range []struct {
		name  string
		proto uint8
		nat   bool
	}{
		{"udp/conntrack", header.ProtoUDP, false},
		{"udp/conntrack+nat", header.ProtoUDP, true},
		{"tcp/conntrack", header.ProtoTCP, false},
		{"tcp/conntrack+nat", header.ProtoTCP, true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			e := newEstablished(b, tc.proto, tc.nat)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				e.once()
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "packets/s")
			if e.passed != 2*b.N {
				b.Fatalf("%d of %d hook passes accepted", e.passed, 2*b.N)
			}
		})
	}
}

// BenchmarkNATHooks is NAT's share alone: an established packet that
// tracking already found through NAT's PRE_ROUTING function (nothing to
// rewrite) and its POST_ROUTING one (the source rewritten).
func BenchmarkNATHooks(b *testing.B) {
	e := newEstablished(b, header.ProtoUDP, true)
	e.once()
	ct, info := conntrack.Get(e.skb)
	n := e.r.n
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		copy(e.skb.Data(), e.tmpl)
		e.skb.SetNFCT(ct, uint8(info))
		(*preRouting)(n).NFHook(e.skb, &e.pre)
		(*natFn)(n).NFHook(e.skb, &e.post)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "packets/s")
	if src := header.IPv4(e.skb.Data()).Src(); src != addrN {
		b.Fatalf("source %v", src)
	}
}

// TestEstablishedNoAllocs: forwarding an established flow's packet
// through tracking and NAT, rewritten, allocates nothing.
func TestEstablishedNoAllocs(t *testing.T) {
	for _, proto := range []uint8{header.ProtoUDP, header.ProtoTCP} {
		e := newEstablished(t, proto, true)
		if n := testing.AllocsPerRun(1000, e.once); n != 0 {
			t.Errorf("proto %d: %v allocations per packet, want 0", proto, n)
		}
		if src := header.IPv4(e.skb.Data()).Src(); src != addrN {
			t.Errorf("proto %d: left with source %v, want the NAT's", proto, src)
		}
		if e.passed != 2*1001 {
			t.Errorf("proto %d: %d hook passes accepted, want %d", proto, e.passed, 2*1001)
		}
	}
}
