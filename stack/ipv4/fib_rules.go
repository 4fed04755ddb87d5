package ipv4

import (
	"errors"
	"net/netip"
	"syscall"

	"vnic/stack"
	"vnic/stack/ipv4/fib"
	"vnic/stack/rtnetlink"
)

// Policy rules over rtnetlink (fib_nl_newrule, fib_nl_delrule,
// fib_nl_dumprule with fib4_rule_fill). The rules themselves are fib's.

// rtnlRegisterRules adds the rule messages to the host's rtnetlink and
// re-resolves the rules' device names as devices come and go.
func (in *Inet) rtnlRegisterRules() {
	h := in.host
	rtnetlink.Register(h, rtnetlink.RTMNewRule, in.rtmNewRule, nil)
	rtnetlink.Register(h, rtnetlink.RTMDelRule, in.rtmNewRule, nil)
	rtnetlink.Register(h, rtnetlink.RTMGetRule, in.rtmDumpRule, in.rtmDumpRule)
	in.fib.SetL3mdev(in.l3mdevOf)
	h.RegisterNetdevNotifier(func(ev stack.NetdevEvent, d *stack.NetDevice) {
		if ev == stack.NetdevRegister || ev == stack.NetdevUnregister {
			in.fib.ResolveRuleDevices(in.ifindexByName)
		}
		in.l3mdevEvent(ev, d)
	})
}

// ifindexByName is a device's index on this host, 0 for none.
func (in *Inet) ifindexByName(name string) int {
	for _, d := range in.host.Devices() {
		if d.Name() == name {
			return d.Ifindex()
		}
	}
	return 0
}

// rtmNewRule is fib_nl_newrule and fib_nl_delrule.
func (in *Inet) rtmNewRule(h *stack.Host, req rtnetlink.Request) ([]rtnetlink.Message, error) {
	var m rtnetlink.RuleMsg
	if err := m.Unmarshal(req.Body); err != nil {
		return nil, rtnetlink.Errorf(syscall.EINVAL, "%v", err)
	}
	if m.Family != syscall.AF_INET {
		return nil, rtnetlink.Errorf(syscall.EAFNOSUPPORT, "Rule family not supported")
	}
	if m.DstLen > 32 || m.SrcLen > 32 || m.DstLen > 0 && !m.Dst.Is4() || m.SrcLen > 0 && !m.Src.Is4() {
		return nil, rtnetlink.Errorf(syscall.EINVAL, "Invalid network address")
	}
	if m.L3mdev > 1 {
		return nil, rtnetlink.Errorf(syscall.EINVAL, "Invalid l3mdev attribute")
	}
	r := ruleOf(m)
	if req.Type == rtnetlink.RTMDelRule {
		got, err := in.fib.DeleteRule(r, m.HasPriority)
		if err != nil {
			return nil, fibNlErr(err)
		}
		rtnetlink.Notify(h, rtnetlink.RTMGrpIPv4Rule, rtnetlink.RTMDelRule, in.ruleMsgOf(got).Marshal())
		return nil, nil
	}
	got, err := in.fib.AddRule(r, m.HasPriority, req.Flags&rtnetlink.FlagExcl != 0, in.ifindexByName)
	if err != nil {
		return nil, fibNlErr(err)
	}
	rtnetlink.Notify(h, rtnetlink.RTMGrpIPv4Rule, rtnetlink.RTMNewRule, in.ruleMsgOf(got).Marshal())
	return nil, nil
}

// fibNlErr is fib's refusal as the kernel answers it: its extended-ack
// message, or the bare errno.
func fibNlErr(err error) error {
	if err == nil {
		return nil // errors.As below would allocate its target
	}
	var fe *fib.Error
	if errors.As(err, &fe) {
		if fe.Msg == "" {
			return fe.Errno
		}
		return rtnetlink.Errorf(fe.Errno, "%s", fe.Msg)
	}
	return rtnetlink.KernErr(err)
}

// rtmDumpRule is fib_nl_dumprule for AF_INET (and AF_UNSPEC).
func (in *Inet) rtmDumpRule(_ *stack.Host, req rtnetlink.Request) ([]rtnetlink.Message, error) {
	if len(req.Body) > 0 && req.Body[0] != 0 && req.Body[0] != syscall.AF_INET {
		return nil, nil
	}
	var out []rtnetlink.Message
	for _, r := range in.fib.Rules() {
		out = append(out, rtnetlink.Reply(rtnetlink.RTMNewRule, in.ruleMsgOf(r).Marshal()))
	}
	return out, nil
}

// ruleOf reads a fib rule out of a request (fib_nl2rule, fib4_rule_configure).
func ruleOf(m rtnetlink.RuleMsg) fib.Rule {
	r := fib.NewRule(m.Priority, fib.RuleAction(m.Action), m.Table)
	r.Invert = m.Flags&rtnetlink.RuleFlagInvert != 0
	r.SrcLen, r.DstLen, r.TOS = m.SrcLen, m.DstLen, m.TOS
	if m.SrcLen > 0 {
		r.Src = m.Src.As4()
	}
	if m.DstLen > 0 {
		r.Dst = m.Dst.As4()
	}
	if m.HasGoto {
		r.Goto = m.Goto
	}
	r.Iif, r.Oif = m.Iifname, m.Oifname
	if m.HasMark {
		r.Mark = m.Mark
		if r.Mark != 0 {
			r.MarkMask = 0xffffffff // fib_nl2rule: a mark without a mask compares every bit
		}
	}
	if m.HasMask {
		r.MarkMask = m.Mask
	}
	if m.HasUIDRange {
		r.UIDStart, r.UIDEnd = m.UIDStart, m.UIDEnd
	}
	r.IPProto = m.IPProto
	if m.HasSport {
		r.Sport = fib.PortRange{Start: m.SportStart, End: m.SportEnd}
	}
	if m.HasDport {
		r.Dport = fib.PortRange{Start: m.DportStart, End: m.DportEnd}
	}
	if m.HasSuppressPrefixlen {
		r.SuppressPrefixLen = m.SuppressPrefixlen
	}
	if m.HasSuppressIfgroup {
		r.SuppressIfgroup = m.SuppressIfgroup
	}
	r.Protocol, r.Realms = m.Protocol, m.Flow
	r.L3mdev = m.L3mdev != 0
	return r
}

// ruleMsgOf is fib_nl_fill_rule with fib4_rule_fill.
func (in *Inet) ruleMsgOf(r fib.Rule) rtnetlink.RuleMsg {
	m := rtnetlink.RuleMsg{Family: syscall.AF_INET, DstLen: r.DstLen, SrcLen: r.SrcLen, TOS: r.TOS, Table: r.Table, Action: uint8(r.Action),
		Iifname: r.Iif, Oifname: r.Oif, Priority: r.Priority, HasPriority: r.Priority != 0,
		SuppressPrefixlen: r.SuppressPrefixLen, HasSuppressPrefixlen: true, Protocol: r.Protocol, HasProtocol: true,
		IPProto: r.IPProto, Flow: r.Realms}
	if r.L3mdev {
		m.L3mdev = 1
	}
	if r.Invert {
		m.Flags |= rtnetlink.RuleFlagInvert
	}
	if r.IifDetached() {
		m.Flags |= rtnetlink.RuleFlagIifDetached
	}
	if r.OifDetached() {
		m.Flags |= rtnetlink.RuleFlagOifDetached
	}
	if r.SrcLen > 0 {
		m.Src = netip.AddrFrom4(r.Src)
	}
	if r.DstLen > 0 {
		m.Dst = netip.AddrFrom4(r.Dst)
	}
	if r.Mark != 0 {
		m.Mark, m.HasMark = r.Mark, true
	}
	if r.Mark != 0 || r.MarkMask != 0 {
		m.Mask, m.HasMask = r.MarkMask, true
	}
	if r.Action == fib.RuleGoto {
		m.Goto, m.HasGoto = r.Goto, true
		if !in.fib.RuleExists(r.Goto) {
			m.Flags |= rtnetlink.RuleFlagUnresolved
		}
	}
	if r.UIDStart != 0 || r.UIDEnd != ^uint32(0) {
		m.UIDStart, m.UIDEnd, m.HasUIDRange = r.UIDStart, r.UIDEnd, true
	}
	if r.Sport != (fib.PortRange{}) {
		m.SportStart, m.SportEnd, m.HasSport = r.Sport.Start, r.Sport.End, true
	}
	if r.Dport != (fib.PortRange{}) {
		m.DportStart, m.DportEnd, m.HasDport = r.Dport.Start, r.Dport.End, true
	}
	if r.SuppressIfgroup != -1 {
		m.SuppressIfgroup, m.HasSuppressIfgroup = r.SuppressIfgroup, true
	}
	return m
}
