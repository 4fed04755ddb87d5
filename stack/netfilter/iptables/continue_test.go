package iptables_test

import (
	"testing"

	"vnic/stack"
	ipt "vnic/stack/netfilter/iptables"
)

// TestRuleWithoutTarget: a rule without a target (iptables -A INPUT -s
// A) counts the packets it matches and passes them on to the next rule;
// an interface name with + matches every name with the prefix.
func TestRuleWithoutTarget(t *testing.T) {
	r := newRig(t)
	var prefix ipt.IPMatch
	ipt.SetIface("vnic+", &prefix.InIface, &prefix.InMask)
	var other ipt.IPMatch
	ipt.SetIface("eth+", &other.InIface, &other.InMask)
	r.replace(filter([]ipt.Rule{
		{IP: srcIs(addrA), Target: verdict(ipt.Continue)},
		{IP: other, Target: verdict(ipt.Accept)},
		{IP: prefix, Target: verdict(ipt.Drop)},
	}))
	if v, _ := r.run(stack.NFLocalIn, pkt{src: addrA, dst: addrB, proto: ipt.ProtoUDP, sport: 1, dport: 2}); v != stack.NFDrop {
		t.Fatalf("verdict %v, want the third rule's DROP", v)
	}
	spec, _ := ipt.Get(r.h, "filter")
	for i, want := range []uint64{1, 0, 1} {
		if got := spec.Chains[0].Rules[i].Counters.Packets; got != want {
			t.Errorf("rule %d counted %d packets, want %d", i+1, got, want)
		}
	}
}
