package iptables_test

import (
	"testing"

	"vnic/stack"
	ipt "vnic/stack/netfilter/iptables"
)

// linear is a filter INPUT chain of n rules that do not match the test
// packet (-s 10.a.b.c/32 -j DROP), then the ACCEPT policy.
func linear(n int) *ipt.TableSpec {
	rules := make([]ipt.Rule, n)
	for i := range rules {
		rules[i] = ipt.Rule{IP: srcIs([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), Target: verdict(ipt.Drop)}
	}
	return filter(rules)
}

// mixed is a chain that exercises the traversal's paths: matches, a jump
// and its return, a non-terminating target, then the decision.
func mixed() *ipt.TableSpec {
	return filter([]ipt.Rule{
		{IP: protoIs(ipt.ProtoTCP), Matches: []ipt.Match{match("tcp", 0, &ipt.TCPInfo{SrcPorts: [2]uint16{0, 65535}, DstPorts: [2]uint16{22, 22}})}, Target: verdict(ipt.Accept)},
		{Matches: []ipt.Match{match("state", 0, &ipt.StateInfo{StateMask: ipt.CTStateInvalid})}, Target: jump("sub")},
		{Matches: []ipt.Match{match("mark", 1, &ipt.MarkInfo{Mark: 1, Mask: 1})}, Target: verdict(ipt.Accept)},
		{Target: verdict(ipt.Drop)},
	}, ipt.Chain{Name: "sub", Rules: []ipt.Rule{
		{IP: protoIs(ipt.ProtoUDP), Matches: []ipt.Match{match("udp", 0, &ipt.UDPInfo{SrcPorts: [2]uint16{0, 65535}, DstPorts: [2]uint16{0, 65535}})},
			Target: ipt.Target{Name: "MARK", Revision: 2, Info: &ipt.MarkTargetInfo{Mark: 1, Mask: 1}}},
		{Matches: []ipt.Match{match("comment", 0, &ipt.CommentInfo{})}, Target: verdict(ipt.Return)},
	}})
}

// traverse passes one reused skb through INPUT.
func traverse(r *rig, skb *stack.SKB) stack.Verdict {
	st := skb.NF()
	*st = stack.NFState{Hook: stack.NFLocalIn, In: r.dev}
	return r.h.Netfilter().Run(st, skb, func(*stack.SKB) {})
}

// The traversal allocates nothing, through plain and extension rules.
func TestTraversalAllocs(t *testing.T) {
	for name, spec := range map[string]*ipt.TableSpec{"linear": linear(100), "mixed": mixed()} {
		r := newRig(t)
		r.replace(spec)
		skb := r.skb(pkt{src: addrA, dst: addrB, proto: ipt.ProtoUDP, sport: 1, dport: 2})
		var v stack.Verdict
		allocs := testing.AllocsPerRun(100, func() { skb.Mark = 0; v = traverse(r, skb) })
		if allocs != 0 || v != stack.NFAccept {
			t.Errorf("%s: %v allocations per packet, verdict %v", name, allocs, v)
		}
		skb.Free()
	}
}

// BenchmarkLinearChain is a packet through 10,000 non-matching rules;
// ns/rule is the cost of one rule.
func BenchmarkLinearChain(b *testing.B) {
	const n = 10000
	r := newRig(b)
	r.replace(linear(n))
	skb := r.skb(pkt{src: addrA, dst: addrB, proto: ipt.ProtoUDP, sport: 1, dport: 2})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if traverse(r, skb) != stack.NFAccept {
			b.Fatal("dropped")
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/rule")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "packets/s")
	skb.Free()
}

// BenchmarkMixedChain is a packet through matches, a jump and a target.
func BenchmarkMixedChain(b *testing.B) {
	r := newRig(b)
	r.replace(mixed())
	skb := r.skb(pkt{src: addrA, dst: addrB, proto: ipt.ProtoUDP, sport: 1, dport: 2})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		skb.Mark = 0
		traverse(r, skb)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "packets/s")
	skb.Free()
}

// BenchmarkReplace is a replace of a 1,000-rule table.
func BenchmarkReplace(b *testing.B) {
	r := newRig(b)
	spec := linear(1000)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := ipt.Replace(r.h, spec); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSetChain is the linear chain's 10,000 addresses as one
// hash:ip set and one rule matching it (-m set --match-set src -j DROP),
// for a packet whose source is not in the set: what an ipset saves.
func BenchmarkSetChain(b *testing.B) {
	const n = 10000
	r := newRig(b)
	if err := ipt.IPSetCreate(r.h, ipt.SetCreate{Name: "blocked", Type: ipt.SetHashIP}, false); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < n; i++ {
		if err := ipt.IPSetAdd(r.h, "blocked", ipt.SetEntry{Addr: [4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}}, false); err != nil {
			b.Fatal(err)
		}
	}
	idx, ok := ipt.IPSetIndex(r.h, "blocked")
	if !ok {
		b.Fatal("no set")
	}
	r.replace(filter([]ipt.Rule{{Matches: []ipt.Match{match("set", 4, &ipt.SetMatchInfo{Index: idx, Dim: 1, Flags: ipt.SetDimSrc(1)})},
		Target: verdict(ipt.Drop)}}))
	skb := r.skb(pkt{src: addrA, dst: addrB, proto: ipt.ProtoUDP, sport: 1, dport: 2})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if traverse(r, skb) != stack.NFAccept {
			b.Fatal("dropped")
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "packets/s")
	skb.Free()
}
