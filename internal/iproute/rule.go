package iproute

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"syscall"

	mnl "github.com/mdlayher/netlink"

	"vnic/stack/ipv4/fib"
	"vnic/stack/rtnetlink"
)

// ip rule: iproute2 6.1's iprule.c grammar and print_rule's output.

const ruleUsage = `Usage: ip rule { add | del } SELECTOR ACTION
       ip rule { flush | save | restore }
       ip rule [ list [ SELECTOR ]]
SELECTOR := [ not ] [ from PREFIX ] [ to PREFIX ] [ tos TOS ]
            [ fwmark FWMARK[/MASK] ]
            [ iif STRING ] [ oif STRING ] [ pref NUMBER ]
            [ uidrange NUMBER-NUMBER ]
            [ ipproto PROTOCOL ]
            [ sport [ NUMBER | NUMBER-NUMBER ]
            [ dport [ NUMBER | NUMBER-NUMBER ] ]
ACTION := [ table TABLE_ID ]
          [ protocol PROTO ]
          [ realms [SRCREALM/]DSTREALM ]
          [ goto NUMBER ]
          SUPPRESSOR
SUPPRESSOR := [ suppress_prefixlength NUMBER ]
              [ suppress_ifgroup DEVGROUP ]
TABLE_ID := [ local | main | default | NUMBER ]
`

// ipProtoNames are the protocols ipproto names (inet_proto_a2n's common ones).
var ipProtoNames = map[uint8]string{1: "icmp", 2: "igmp", 6: "tcp", 17: "udp", 47: "gre", 50: "esp", 51: "ah", 132: "sctp", 136: "udplite"}

func ipProtoName(p uint8) string {
	if n, ok := ipProtoNames[p]; ok {
		return n
	}
	return strconv.Itoa(int(p))
}

func parseIPProto(s string) (uint8, bool) {
	for k, v := range ipProtoNames {
		if v == s {
			return k, true
		}
	}
	n, err := strconv.ParseUint(s, 0, 8)
	return uint8(n), err == nil
}

func (c *cmd) rule(args []string) error {
	if c.g.family == famInet6 || c.g.family == famLink {
		if _, ok := listCmd(args); ok {
			c.emptyList()
			return nil
		}
		return errIPv6
	}
	if sel, ok := listCmd(args); ok {
		return c.ruleList(sel, false)
	}
	switch {
	case matches(args[0], "flush"):
		return c.ruleList(args[1:], true)
	case matches(args[0], "help"):
		return usageErr{ruleUsage}
	case matches(args[0], "save"), matches(args[0], "restore"):
		return &Error{Msg: fmt.Sprintf("ip rule %s is not supported by vnic.", args[0]), Code: exitNL}
	case matches(args[0], "add"):
		return c.ruleModify(rtnetlink.RTMNewRule, args[1:])
	case matches(args[0], "delete"):
		return c.ruleModify(rtnetlink.RTMDelRule, args[1:])
	}
	return &Error{Msg: fmt.Sprintf("Command \"%s\" is unknown, try \"ip rule help\".", args[0]), Code: exitUsage, Bare: true}
}

// parseRuleArgs reads a rule's selector and action (iprule_modify); add
// says whether the request is RTM_NEWRULE (an action by default).
func parseRuleArgs(args []string, add bool) (rtnetlink.RuleMsg, error) {
	m := rtnetlink.RuleMsg{Family: 2, SuppressPrefixlen: -1, SuppressIfgroup: -1}
	tableOK := false
	if add {
		m.Action = uint8(fib.RuleToTable)
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		next := func() (string, error) { return nextArg(args, &i) }
		var v string
		var err error
		if takesValue(a) {
			if v, err = next(); err != nil {
				return m, err
			}
		}
		switch {
		case a == "not":
			m.Flags |= rtnetlink.RuleFlagInvert
		case a == "from", a == "to":
			if v == "all" {
				break
			}
			p, err := ParsePrefix(v) // IPv6 is errIPv6
			if err != nil {
				return m, err
			}
			if a == "from" {
				m.Src, m.SrcLen = p.Addr(), uint8(p.Bits())
			} else {
				m.Dst, m.DstLen = p.Addr(), uint8(p.Bits())
			}
		case matches(a, "preference"), matches(a, "order"), matches(a, "priority"):
			n, err := strconv.ParseUint(v, 0, 32)
			if err != nil {
				return m, invarg("preference value is invalid\n", v)
			}
			m.Priority, m.HasPriority = uint32(n), true
		case a == "tos", matches(a, "dsfield"):
			// rtnl_dsfield_a2n: hexadecimal, with or without 0x.
			n, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimPrefix(v, "0x"), "0X"), 16, 8)
			if err != nil {
				return m, invarg("TOS value is invalid\n", v)
			}
			m.TOS = uint8(n)
		case a == "fwmark":
			mark, mask, hasMask := strings.Cut(v, "/")
			n, err := strconv.ParseUint(mark, 0, 32)
			if err != nil {
				return m, invarg("fwmark value is invalid\n", mark)
			}
			m.Mark, m.HasMark = uint32(n), true
			if hasMask {
				k, err := strconv.ParseUint(mask, 0, 32)
				if err != nil {
					return m, invarg("fwmask value is invalid\n", mask)
				}
				m.Mask, m.HasMask = uint32(k), true
			}
		case matches(a, "realms"):
			n, ok := parseRealms(v)
			if !ok {
				return m, invarg("invalid realms\n", v)
			}
			m.Flow = n
		case matches(a, "table"), a == "lookup":
			t, ok := ParseTable(v)
			if !ok {
				return m, invarg("invalid table ID\n", v)
			}
			m.Table, tableOK = t, true
		case matches(a, "suppress_prefixlength"), a == "sup_pl":
			n, err := strconv.ParseInt(v, 0, 32)
			if err != nil || n < -1 {
				return m, invarg("suppress_prefixlength value is invalid\n", v)
			}
			m.SuppressPrefixlen, m.HasSuppressPrefixlen = int32(n), true
		case matches(a, "suppress_ifgroup"), a == "sup_group":
			g := int64(0)
			if v != "default" {
				if g, err = strconv.ParseInt(v, 0, 32); err != nil {
					return m, invarg("Invalid \"suppress_ifgroup\" value\n", v)
				}
			}
			m.SuppressIfgroup, m.HasSuppressIfgroup = int32(g), true
		case matches(a, "dev"), matches(a, "iif"):
			if len(v) >= 16 {
				return m, invarg("\"dev\" not a valid ifname", v)
			}
			m.Iifname = v
		case matches(a, "oif"):
			if len(v) >= 16 {
				return m, invarg("\"oif\" not a valid ifname", v)
			}
			m.Oifname = v
		case matches(a, "uidrange"):
			lo, hi, ok := strings.Cut(v, "-")
			s, e1 := strconv.ParseUint(lo, 10, 32)
			e, e2 := strconv.ParseUint(hi, 10, 32)
			if !ok || e1 != nil || e2 != nil {
				return m, invarg("invalid UID range\n", v)
			}
			m.UIDStart, m.UIDEnd, m.HasUIDRange = uint32(s), uint32(e), true
		case matches(a, "ipproto"):
			p, ok := parseIPProto(v)
			if !ok {
				return m, invarg("Invalid \"ipproto\" value\n", v)
			}
			m.IPProto = p
		case matches(a, "sport"), matches(a, "dport"):
			lo, hi, isRange := strings.Cut(v, "-")
			if !isRange {
				hi = lo
			}
			s, e1 := strconv.ParseUint(lo, 10, 16)
			e, e2 := strconv.ParseUint(hi, 10, 16)
			if e1 != nil || e2 != nil {
				return m, invarg(fmt.Sprintf("invalid %s\n", a[:5]), v)
			}
			if matches(a, "sport") {
				m.SportStart, m.SportEnd, m.HasSport = uint16(s), uint16(e), true
			} else {
				m.DportStart, m.DportEnd, m.HasDport = uint16(s), uint16(e), true
			}
		case matches(a, "protocol"):
			p, ok := ParseProto(v)
			if !ok {
				return m, invarg("\"protocol\" value is invalid\n", v)
			}
			m.Protocol, m.HasProtocol = p, true
		case matches(a, "goto"):
			n, err := strconv.ParseUint(v, 0, 32)
			if err != nil {
				return m, invarg("invalid target\n", v)
			}
			m.Action, m.Goto, m.HasGoto = uint8(fib.RuleGoto), uint32(n), true
		case a == "nop":
			m.Action = uint8(fib.RuleNop)
		case a == "l3mdev":
			m.L3mdev = 1
		case matches(a, "tun_id"), matches(a, "nat"), matches(a, "map-to"):
			return m, &Error{Msg: fmt.Sprintf("\"%s\" rules are not supported by vnic.", a), Code: exitNL}
		case matches(a, "help"):
			return m, usageErr{ruleUsage}
		default:
			t, ok := ruleTypeOf(a)
			if !ok {
				return m, invarg("Failed to parse rule type", a)
			}
			m.Action = t
			tableOK = true
		}
	}
	if m.L3mdev != 0 && m.Table != 0 {
		// iprule_modify's own check (ip exits with the errno)
		return m, &Error{Msg: "table can not be specified for l3mdev rules", Code: int(syscall.EINVAL), Bare: true}
	}
	if add && !tableOK && m.Action == uint8(fib.RuleToTable) && m.L3mdev == 0 {
		m.Table = fib.TableMain // a lookup names main unless told
	}
	return m, nil
}

// takesValue reports a rule keyword followed by its argument.
func takesValue(a string) bool {
	switch {
	case a == "from", a == "to", a == "tos", a == "fwmark", a == "lookup", a == "sup_pl", a == "sup_group",
		matches(a, "preference"), matches(a, "order"), matches(a, "priority"), matches(a, "dsfield"),
		matches(a, "realms"), matches(a, "table"), matches(a, "suppress_prefixlength"), matches(a, "suppress_ifgroup"),
		matches(a, "dev"), matches(a, "iif"), matches(a, "oif"), matches(a, "uidrange"), matches(a, "ipproto"),
		matches(a, "sport"), matches(a, "dport"), matches(a, "protocol"), matches(a, "goto"), matches(a, "tun_id"),
		matches(a, "nat"), matches(a, "map-to"):
		return true
	}
	return false
}

// ruleTypes are the rule actions ip names as route types (rtnl_rtntype_a2n).
var ruleTypes = map[string]uint8{"unicast": uint8(fib.RuleToTable), "blackhole": uint8(fib.RuleBlackhole),
	"unreachable": uint8(fib.RuleUnreachable), "prohibit": uint8(fib.RuleProhibit)}

func ruleTypeOf(a string) (uint8, bool) {
	if t, ok := ruleTypes[a]; ok {
		return t, true
	}
	return 0, false
}

func (c *cmd) ruleModify(typ uint16, args []string) error {
	if typ == rtnetlink.RTMDelRule && len(args) == 0 {
		return &Error{Msg: "Error: ip rule del requires at least one argument.", Code: exitFail, Bare: true}
	}
	m, err := parseRuleArgs(args, typ == rtnetlink.RTMNewRule)
	if err != nil {
		return err
	}
	flags := mnl.Acknowledge
	if typ == rtnetlink.RTMNewRule {
		flags |= rtnetlink.FlagCreate | rtnetlink.FlagExcl
	}
	if _, err := c.o.T.Route(typ, flags, m.Marshal()); err != nil {
		return err
	}
	return nil
}

// ruleFilter is ip rule list's selection (the fields a selector set).
type ruleFilter struct {
	m   rtnetlink.RuleMsg
	set map[string]bool
}

func (f ruleFilter) keep(r rtnetlink.RuleMsg) bool {
	m := f.m
	switch {
	case f.set["not"] && r.Flags&rtnetlink.RuleFlagInvert == 0,
		f.set["from"] && (r.SrcLen != m.SrcLen || m.SrcLen > 0 && r.Src != m.Src),
		f.set["to"] && (r.DstLen != m.DstLen || m.DstLen > 0 && r.Dst != m.Dst),
		f.set["pref"] && r.Priority != m.Priority,
		f.set["tos"] && r.TOS != m.TOS,
		f.set["fwmark"] && (r.Mark != m.Mark || m.HasMask && r.Mask != m.Mask),
		f.set["iif"] && r.Iifname != m.Iifname,
		f.set["oif"] && r.Oifname != m.Oifname,
		f.set["table"] && r.Table != m.Table,
		f.set["protocol"] && r.Protocol != m.Protocol:
		return false
	}
	return true
}

func (c *cmd) ruleList(args []string, flush bool) error {
	f := ruleFilter{set: map[string]bool{}}
	m, err := parseRuleArgs(args, false)
	if err != nil {
		return err
	}
	f.m = m
	for _, a := range args {
		switch {
		case a == "not", a == "from", a == "to", a == "tos", a == "fwmark", a == "oif":
			f.set[a] = true
		case matches(a, "preference"), matches(a, "order"), matches(a, "priority"):
			f.set["pref"] = true
		case matches(a, "table"), a == "lookup":
			f.set["table"] = true
		case matches(a, "dev"), matches(a, "iif"):
			f.set["iif"] = true
		case matches(a, "protocol"):
			f.set["protocol"] = true
		}
	}
	msgs, err := c.o.T.Route(rtnetlink.RTMGetRule, mnl.Dump, rtnetlink.RuleMsg{Family: 2}.Marshal()[:12])
	if err != nil {
		after := "Dump terminated"
		if flush {
			after = "Flush terminated"
		}
		return &nlErr{err: err, after: after}
	}
	var rules []rtnetlink.RuleMsg
	var bodies [][]byte
	for _, msg := range msgs {
		var r rtnetlink.RuleMsg
		if r.Unmarshal(msg.Data) == nil && f.keep(r) {
			rules = append(rules, r)
			bodies = append(bodies, msg.Data)
		}
	}
	if flush {
		// iprule's flush_rule: every rule but priority 0, as it was dumped.
		for i, r := range rules {
			if !r.HasPriority || r.Priority == 0 {
				continue
			}
			if _, err := c.o.T.Route(rtnetlink.RTMDelRule, mnl.Acknowledge, bodies[i]); err != nil {
				return &nlErr{err: err, after: "Flush terminated"}
			}
		}
		return nil
	}
	p := newOut(c.g)
	p.list()
	for _, r := range rules {
		p.openObj("")
		printRule(p, r, c.g.details > 0)
		p.closeObj()
		p.end()
	}
	p.done()
	c.write(p)
	return nil
}

// printRule is print_rule.
func printRule(p *out, r rtnetlink.RuleMsg, details bool) {
	p.num("priority", "%d:\t", uint64(r.Priority))
	if r.Flags&rtnetlink.RuleFlagInvert != 0 {
		p.jnull("not")
		p.fp("not ")
	}
	addr := func(key, word string, a netip.Addr, l uint8) {
		switch {
		case a.IsValid() && l != 32:
			p.str(key, word+" %s", a.String())
			p.num(key+"len", "/%d ", uint64(l))
		case a.IsValid():
			p.str(key, word+" %s ", a.String())
		case l != 0:
			p.str(key, word+" %s", "0")
			p.num(key+"len", "/%d ", uint64(l))
		}
	}
	if r.SrcLen != 0 || r.Src.IsValid() {
		addr("src", "from", r.Src, r.SrcLen)
	} else {
		p.str("src", "from %s ", "all")
	}
	addr("dst", "to", r.Dst, r.DstLen)
	if r.TOS != 0 {
		p.str("tos", "tos %s ", fmt.Sprintf("0x%x", r.TOS))
	}
	if r.HasMark || r.HasMask {
		if r.HasMask && r.Mask != 0xffffffff {
			p.str("fwmark", "fwmark %s", fmt.Sprintf("%#x", r.Mark))
			p.str("fwmask", "/%s ", fmt.Sprintf("%#x", r.Mask))
		} else {
			p.str("fwmark", "fwmark %s ", fmt.Sprintf("%#x", r.Mark))
		}
	}
	if r.Iifname != "" {
		p.str("iif", "iif %s ", r.Iifname)
		if r.Flags&rtnetlink.RuleFlagIifDetached != 0 {
			p.jnull("iif_detached")
			p.fp("[detached] ")
		}
	}
	if r.Oifname != "" {
		p.str("oif", "oif %s ", r.Oifname)
		if r.Flags&rtnetlink.RuleFlagOifDetached != 0 {
			p.jnull("oif_detached")
			p.fp("[detached] ")
		}
	}
	// An l3mdev rule's lookup comes early; the fields after it lead
	// with their blank (the line ends without one).
	l3 := r.L3mdev != 0
	lead := func(format string) string {
		if l3 {
			return " " + strings.TrimSuffix(format, " ")
		}
		return format
	}
	end := func(format string) string {
		if l3 {
			return strings.TrimSuffix(format, " ")
		}
		return format
	}
	if l3 {
		p.jnull("l3mdev")
		p.fp("lookup [l3mdev-table]")
	}
	if r.HasUIDRange {
		p.num("uid_start", lead("uidrange %d"), uint64(r.UIDStart))
		p.num("uid_end", end("-%d "), uint64(r.UIDEnd))
	}
	if r.IPProto != 0 {
		p.str("ipproto", lead("ipproto %s "), ipProtoName(r.IPProto))
	}
	ports := func(name string, lo, hi uint16) {
		if lo == hi {
			p.num(name, lead(name+" %d "), uint64(lo))
			return
		}
		p.num(name+"_start", lead(name+" %d"), uint64(lo))
		p.num(name+"_end", end("-%d "), uint64(hi))
	}
	if r.HasSport {
		ports("sport", r.SportStart, r.SportEnd)
	}
	if r.HasDport {
		ports("dport", r.DportStart, r.DportEnd)
	}
	if r.Table != 0 {
		// The fields after the lookup lead with their blank: a rule's line
		// ends without one.
		p.str("table", "lookup %s", TableName(r.Table))
		if r.HasSuppressPrefixlen && r.SuppressPrefixlen != -1 {
			p.num("suppress_prefixlen", " suppress_prefixlength %d", uint64(r.SuppressPrefixlen))
		}
		if r.HasSuppressIfgroup && r.SuppressIfgroup != -1 {
			g := strconv.Itoa(int(r.SuppressIfgroup))
			if r.SuppressIfgroup == 0 {
				g = "default"
			}
			p.str("suppress_ifgroup", " suppress_ifgroup %s", g)
		}
	}
	if r.Flow != 0 {
		if from := r.Flow >> 16; from != 0 {
			p.str("flow_from", " realms %s/", realmName(from))
			p.str("flow_to", "%s", realmName(r.Flow&0xffff))
		} else {
			p.str("flow_to", " realms %s", realmName(r.Flow&0xffff))
		}
	}
	switch fib.RuleAction(r.Action) {
	case fib.RuleGoto:
		p.num("goto", lead("goto %d"), uint64(r.Goto))
		if r.Flags&rtnetlink.RuleFlagUnresolved != 0 {
			p.jnull("unresolved")
			p.fp(" [unresolved]")
		}
	case fib.RuleNop:
		p.jnull("nop")
		p.fp("%s", lead("nop"))
	case fib.RuleToTable:
	default:
		name := fib.RuleAction(r.Action).String()
		p.str("action", lead("%s"), name)
	}
	if r.HasProtocol && (r.Protocol != 0 && r.Protocol != fib.ProtoKernel || details) {
		p.str("protocol", " proto %s", ProtoName(r.Protocol))
	}
}
