package ipv4

import (
	"vnic/stack"
	"vnic/stack/ipv4/fib"
	"vnic/stack/rtnetlink"
)

// The l3mdev half of VRFs (net/l3mdev, drivers/net/vrf.c's fib rules):
// the first VRF a host makes adds the rule "1000: from all lookup
// [l3mdev-table]" (protocol kernel), after which a flow through a VRF or
// a device enslaved to one (its output device, else its input device) is
// looked up in that VRF's table. The rule is added once per host, as
// vrf_newlink does: a host whose rule was deleted gets no new one.

// FIBRulePref is FIB_RULE_PREF, the l3mdev rule's priority.
const FIBRulePref = 1000

// l3mdevOf is the fib's view of a device's L3 domain.
func (in *Inet) l3mdevOf(ifindex int) (table uint32, master bool) {
	d := rtnetlink.DevByIndex(in.host, ifindex)
	if d == nil {
		return 0, false
	}
	return d.L3mdevTable(), d.IsVRF()
}

// vrfAddFibRules is vrf_add_fib_rules for the host's first VRF: the
// l3mdev rule, announced as fib_nl_newrule announces it; one already
// there (EEXIST) is left as it is.
func (in *Inet) vrfAddFibRules() {
	if in.vrfRulesAdded {
		return
	}
	in.vrfRulesAdded = true
	r := fib.NewRule(FIBRulePref, fib.RuleToTable, 0)
	r.L3mdev, r.Protocol = true, fib.ProtoKernel
	got, err := in.fib.AddRule(r, true, true, in.ifindexByName)
	if err != nil {
		return
	}
	rtnetlink.Notify(in.host, rtnetlink.RTMGrpIPv4Rule, rtnetlink.RTMNewRule, in.ruleMsgOf(got).Marshal())
}

// l3mdevEvent adds the l3mdev rule when the first VRF registers.
func (in *Inet) l3mdevEvent(ev stack.NetdevEvent, d *stack.NetDevice) {
	if ev == stack.NetdevRegister && d.IsVRF() {
		in.vrfAddFibRules()
	}
}
