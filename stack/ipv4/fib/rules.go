package fib

import (
	"fmt"
	"slices"
	"syscall"

	"vnic/header"
)

// Policy routing (fib_rules.c, fib4_rules.c): an ordered list of rules,
// each a selector (source and destination prefix, TOS, fwmark, interfaces,
// uid range, protocol and ports) and an action (look in a table, jump,
// do nothing, or refuse). Until a rule is added or deleted the list is
// Linux's three defaults and the lookup takes the fixed local → main →
// default path (fib_has_custom_rules).

// RuleAction is a rule's action (FR_ACT_*).
type RuleAction uint8

// Rule actions.
const (
	RuleToTable     RuleAction = 1 // look the flow up in Table
	RuleGoto        RuleAction = 2 // go on at the rule of priority Goto
	RuleNop         RuleAction = 3 // nothing: the next rule
	RuleBlackhole   RuleAction = 6 // drop silently (EINVAL)
	RuleUnreachable RuleAction = 7 // ENETUNREACH
	RuleProhibit    RuleAction = 8 // EACCES
)

var ruleActionNames = map[RuleAction]string{RuleToTable: "lookup", RuleGoto: "goto", RuleNop: "nop",
	RuleBlackhole: "blackhole", RuleUnreachable: "unreachable", RuleProhibit: "prohibit"}

func (a RuleAction) String() string {
	if n, ok := ruleActionNames[a]; ok {
		return n
	}
	return fmt.Sprintf("action %d", uint8(a))
}

// Default rule priorities.
const (
	RulePrefLocal   = 0
	RulePrefMain    = 32766
	RulePrefDefault = 32767
)

// Rule is one policy rule (fib_rule with fib4_rule's selector).
type Rule struct {
	Priority uint32
	Action   RuleAction
	Table    uint32 // RuleToTable: the table (0 at add: the first unused id)
	Goto     uint32 // RuleGoto: the target's priority, above this rule's
	Invert   bool   // FIB_RULE_INVERT: the action applies where the selector does not match

	Src, Dst       [4]byte
	SrcLen, DstLen uint8
	TOS            uint8 // 0: any; compared with the flow's TOS under IPTOS_RT_MASK
	Mark, MarkMask uint32
	Iif, Oif       string // device names; a rule naming an absent device matches nothing
	UIDStart       uint32 // uid range; both 0 and ^0 (the default) is any
	UIDEnd         uint32
	IPProto        uint8 // 0: any
	Sport, Dport   PortRange
	// SuppressPrefixLen refuses a result whose prefix is this long or
	// shorter (-1: none); SuppressIfgroup one through a device of this
	// group (-1: none; every vnic device is in group 0).
	SuppressPrefixLen int32
	SuppressIfgroup   int32
	Protocol          uint8  // who made it (FRA_PROTOCOL)
	Realms            uint32 // FRA_FLOW
	// L3mdev (FRA_L3MDEV) selects flows of an L3 domain (through a VRF
	// or a device enslaved to one) and looks them up in its table: the
	// rule names no table of its own.
	L3mdev bool

	iifindex, oifindex int // resolved names: 0 none, -1 absent
}

// PortRange is an inclusive port range (struct fib_rule_port_range);
// the zero value is any port.
type PortRange struct{ Start, End uint16 }

func (p PortRange) set() bool { return p.Start != 0 || p.End != 0 }

// NewRule returns a rule with Linux's defaults: no suppression, any uid.
func NewRule(pref uint32, action RuleAction, table uint32) Rule {
	return Rule{Priority: pref, Action: action, Table: table, SuppressPrefixLen: -1, SuppressIfgroup: -1, UIDEnd: ^uint32(0)}
}

// defaultRules are the rules a namespace starts with (fib_default_rules_init).
func defaultRules() []*Rule {
	out := make([]*Rule, 0, 3)
	for _, d := range []struct{ pref, table uint32 }{{RulePrefLocal, TableLocal}, {RulePrefMain, TableMain}, {RulePrefDefault, TableDefault}} {
		r := NewRule(d.pref, RuleToTable, d.table)
		r.Protocol = ProtoKernel
		out = append(out, &r)
	}
	return out
}

// matches is fib_rule_match with fib4_rule_match.
func (r *Rule) matches(fl *FlowKey) bool {
	return r.selects(fl) != r.Invert
}

func (r *Rule) selects(fl *FlowKey) bool {
	if r.iifindex != 0 && r.iifindex != fl.Iif {
		return false
	}
	if r.L3mdev && fl.l3mdev == 0 { // l3mdev_fib_rule_match
		return false
	}
	if r.oifindex != 0 && r.oifindex != fl.Oif {
		return false
	}
	if (r.Mark^fl.Mark)&r.MarkMask != 0 {
		return false
	}
	if fl.UID < r.UIDStart || fl.UID > r.UIDEnd {
		return false
	}
	s, d := header.IPv4Uint32(fl.Src), header.IPv4Uint32(fl.Dst)
	if (s^header.IPv4Uint32(r.Src))&header.IPv4Mask(int(r.SrcLen)) != 0 || (d^header.IPv4Uint32(r.Dst))&header.IPv4Mask(int(r.DstLen)) != 0 {
		return false
	}
	if r.TOS != 0 && r.TOS != fl.TOS&tosRTMask {
		return false
	}
	if r.IPProto != 0 && r.IPProto != fl.Proto {
		return false
	}
	if r.Sport.set() && (fl.Sport < r.Sport.Start || fl.Sport > r.Sport.End) {
		return false
	}
	if r.Dport.set() && (fl.Dport < r.Dport.Start || fl.Dport > r.Dport.End) {
		return false
	}
	return true
}

// tosRTMask is IPTOS_RT_MASK: the TOS bits routing keys on.
const tosRTMask = 0x1c

// suppressed is fib4_rule_suppress: the result is refused and the next
// rule tried.
func (r *Rule) suppressed(res *Result) bool {
	if res.PrefixLen <= int(r.SuppressPrefixLen) {
		return true
	}
	return r.SuppressIfgroup == 0 && res.Route != nil && res.Route.Dev != nil // every device is in group 0
}

// sameRule is rule_exists's comparison: every selector and the action.
func (r *Rule) sameRule(o *Rule) bool {
	a, b := *r, *o
	a.iifindex, a.oifindex, b.iifindex, b.oifindex = 0, 0, 0, 0
	return a == b
}

// lookupRules is fib_rules_lookup over the rule list.
func (f *Tables) lookupRules(fl *FlowKey) (Result, error) {
	f.l3mdevUpdate(fl)
	for i := 0; i < len(f.rules); i++ {
		r := f.rules[i]
		if !r.matches(fl) {
			continue
		}
		switch r.Action {
		case RuleGoto:
			j := f.ruleIndex(r.Goto)
			if j < 0 {
				continue // an unresolved goto is passed over
			}
			i = j - 1
			continue
		case RuleNop:
			continue
		case RuleUnreachable:
			return Result{}, syscall.ENETUNREACH
		case RuleProhibit:
			return Result{}, syscall.EACCES
		case RuleBlackhole:
			return Result{}, syscall.EINVAL
		case RuleToTable:
		default:
			return Result{}, syscall.EINVAL
		}
		tid := r.Table
		if r.L3mdev {
			tid = fl.l3mdev // fib_rule_get_table
		}
		t := f.tables[tid]
		if t == nil {
			continue
		}
		h := t.lookup(fl)
		if h.r == nil || h.typ == RTNThrow {
			continue // EAGAIN: the next rule
		}
		res, err := h.result(tid)
		if err != nil {
			return res, err
		}
		if r.suppressed(&res) {
			continue
		}
		f.pick(&res, h, fl)
		res.RuleRealms = r.Realms
		return res, nil
	}
	return Result{}, syscall.ENETUNREACH
}

// L3mdevOf tells the L3 domain of device ifindex: its VRF's table (0:
// the default domain) and whether the device is that VRF itself. The
// host sets it; without it no flow has a domain.
type L3mdevOf func(ifindex int) (table uint32, master bool)

// SetL3mdev installs the host's L3mdevOf.
func (f *Tables) SetL3mdev(of L3mdevOf) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.l3mdevOf = of
}

// l3mdevUpdate is l3mdev_update_flow: a flow through an output device
// belongs to that device's domain (and a flow whose output device is the
// VRF itself names no device once its table is known: the VRF directs
// the lookup, any device of it will do); failing that, one arriving on a
// device other than the loopback belongs to the input device's domain.
func (f *Tables) l3mdevUpdate(fl *FlowKey) {
	if f.l3mdevOf == nil || !f.l3mdevRules || fl.l3mdev != 0 {
		return
	}
	if fl.Oif != 0 {
		t, master := f.l3mdevOf(fl.Oif)
		fl.l3mdev = t
		if master {
			fl.Oif = 0
		}
		return
	}
	if fl.Iif != 0 { // the loopback is of no domain
		fl.l3mdev, _ = f.l3mdevOf(fl.Iif)
	}
}

// ruleIndex is the first rule of priority pref (a goto's target), -1 for
// none.
func (f *Tables) ruleIndex(pref uint32) int {
	return slices.IndexFunc(f.rules, func(r *Rule) bool { return r.Priority == pref })
}

// Error is a refused change to the rules or the nexthop objects: the
// errno and the kernel's extended-ack message (empty: the errno alone).
type Error struct {
	Errno syscall.Errno
	Msg   string
}

func (e *Error) Error() string {
	if e.Msg == "" {
		return "fib: " + e.Errno.Error()
	}
	return "fib: " + e.Msg + ": " + e.Errno.Error()
}

// Unwrap returns the errno.
func (e *Error) Unwrap() error { return e.Errno }

func ruleErr(errno syscall.Errno, msg string) error { return &Error{errno, msg} }

// AddRule is fib_newrule: it checks the rule as fib_nl2rule and
// fib4_rule_configure do, gives it a priority when it has none (one less
// than the second rule's, 32765 under the defaults) and a table when its
// action looks one up without naming it (the first unused id), refuses a
// copy of an existing rule with excl (NLM_F_EXCL), and inserts it after
// the rules of its priority. ifindex resolves the device names.
func (f *Tables) AddRule(r Rule, prefSet, excl bool, ifindex func(string) int) (Rule, error) {
	if r.SrcLen > 32 || r.DstLen > 32 {
		return Rule{}, ruleErr(syscall.EINVAL, "Invalid prefix length")
	}
	if r.TOS&3 != 0 { // Linux 6.18 takes any DSCP; 6.1 refused bits outside 0x1e ("Invalid tos")
		return Rule{}, ruleErr(syscall.EINVAL, "Invalid dsfield (tos): ECN bits must be 0")
	}
	switch r.Action {
	case RuleToTable, RuleGoto, RuleNop, RuleBlackhole, RuleUnreachable, RuleProhibit:
	default:
		return Rule{}, ruleErr(syscall.EINVAL, "Invalid action")
	}
	if r.UIDStart > r.UIDEnd {
		return Rule{}, ruleErr(syscall.EINVAL, "Invalid uid range")
	}
	for _, pr := range []struct {
		p    PortRange
		name string
	}{{r.Sport, "sport"}, {r.Dport, "dport"}} {
		if pr.p.set() && (pr.p.Start == 0 || pr.p.End == 0 || pr.p.Start > pr.p.End) {
			return Rule{}, ruleErr(syscall.EINVAL, "Invalid "+pr.name+" range")
		}
	}
	r.Src = header.IPv4FromUint32(header.IPv4Uint32(r.Src) & header.IPv4Mask(int(r.SrcLen)))
	r.Dst = header.IPv4FromUint32(header.IPv4Uint32(r.Dst) & header.IPv4Mask(int(r.DstLen)))
	f.mu.Lock()
	defer f.mu.Unlock()
	if !prefSet {
		r.Priority = 0
		if len(f.rules) > 1 && f.rules[1].Priority > 0 {
			r.Priority = f.rules[1].Priority - 1
		}
	}
	if r.L3mdev && r.Table != TableUnspec {
		return Rule{}, ruleErr(syscall.EINVAL, "table can not be specified for l3mdev rules")
	}
	switch {
	case r.Action == RuleGoto && r.Goto == 0:
		return Rule{}, ruleErr(syscall.EINVAL, "Missing goto target for action goto")
	case r.Action == RuleGoto && r.Goto <= r.Priority:
		return Rule{}, ruleErr(syscall.EINVAL, "Backward goto not supported")
	case r.Action != RuleGoto && r.Goto != 0:
		return Rule{}, ruleErr(syscall.EINVAL, "Unexpected goto")
	}
	if r.Action == RuleToTable && r.Table == TableUnspec && !r.L3mdev {
		for id := uint32(1); ; id++ {
			if f.tables[id] == nil {
				r.Table = id
				f.tables[id] = newTable(id)
				break
			}
		}
	}
	if excl && slices.ContainsFunc(f.rules, r.sameRule) {
		return Rule{}, ruleErr(syscall.EEXIST, "")
	}
	f.resolveRule(&r, ifindex)
	i := 0
	for i < len(f.rules) && f.rules[i].Priority <= r.Priority {
		i++
	}
	nr := r
	f.rules = slices.Insert(f.rules, i, &nr)
	f.customRules = true
	f.hasRules.Store(true)
	f.l3mdevRules = slices.ContainsFunc(f.rules, func(r *Rule) bool { return r.L3mdev })
	f.genid.Add(1)
	return r, nil
}

// DeleteRule is fib_delrule: the first rule matching every field q sets
// (its priority when prefSet, the action unless 0, the table unless 0,
// and any selector given) is removed; ENOENT when none.
func (f *Tables) DeleteRule(q Rule, prefSet bool) (Rule, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, r := range f.rules {
		if prefSet && r.Priority != q.Priority || q.Action != 0 && r.Action != q.Action || q.Table != 0 && r.Table != q.Table ||
			q.SrcLen != 0 && (r.SrcLen != q.SrcLen || r.Src != q.Src) || q.DstLen != 0 && (r.DstLen != q.DstLen || r.Dst != q.Dst) ||
			q.TOS != 0 && r.TOS != q.TOS || q.MarkMask != 0 && (r.Mark != q.Mark || r.MarkMask != q.MarkMask) ||
			q.Iif != "" && r.Iif != q.Iif || q.Oif != "" && r.Oif != q.Oif || q.Goto != 0 && r.Goto != q.Goto ||
			q.IPProto != 0 && r.IPProto != q.IPProto || q.Sport.set() && r.Sport != q.Sport || q.Dport.set() && r.Dport != q.Dport ||
			q.Invert && !r.Invert || q.Protocol != 0 && r.Protocol != q.Protocol || q.L3mdev && !r.L3mdev {
			continue
		}
		f.rules = slices.Delete(f.rules, i, i+1)
		f.customRules = true
		f.hasRules.Store(true)
		f.l3mdevRules = slices.ContainsFunc(f.rules, func(r *Rule) bool { return r.L3mdev })
		f.genid.Add(1)
		return *r, nil
	}
	return Rule{}, ruleErr(syscall.ENOENT, "")
}

// Rules returns the rule list in order (a dump).
func (f *Tables) Rules() []Rule {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := make([]Rule, len(f.rules))
	for i, r := range f.rules {
		out[i] = *r
	}
	return out
}

// ResolveRuleDevices re-resolves the rules' device names after devices
// came or went (fib_rules_event's attach and detach).
func (f *Tables) ResolveRuleDevices(ifindex func(string) int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.rules {
		f.resolveRule(r, ifindex)
	}
	f.genid.Add(1)
}

func (f *Tables) resolveRule(r *Rule, ifindex func(string) int) {
	res := func(name string) int {
		if name == "" {
			return 0
		}
		if ifindex != nil {
			if i := ifindex(name); i > 0 {
				return i
			}
		}
		return -1
	}
	r.iifindex, r.oifindex = res(r.Iif), res(r.Oif)
}

// IifDetached and OifDetached report whether a rule's named device is
// absent (ip rule prints [detached]).
func (r *Rule) IifDetached() bool { return r.iifindex < 0 }

// OifDetached: see IifDetached.
func (r *Rule) OifDetached() bool { return r.oifindex < 0 }

// RuleExists reports whether a rule of priority pref exists (a goto
// aimed at it is resolved).
func (f *Tables) RuleExists(pref uint32) bool {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.ruleIndex(pref) >= 0
}
