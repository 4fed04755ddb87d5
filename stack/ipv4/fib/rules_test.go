package fib

import (
	"errors"
	"fmt"
	"syscall"
	"testing"
)

// rulesTables: main has a default route and 198.18.1.0/24; table 100 a
// /16; table 200 a blackhole /24 and a throw /25; table 300 a default.
func rulesTables(t *testing.T) *Tables {
	bh := route(200, "198.18.1.0/24", "0.0.0.0")
	bh.Type = RTNBlackhole
	th := route(200, "198.18.2.0/25", "0.0.0.0")
	th.Type = RTNThrow
	return newTables(t,
		route(TableMain, "0.0.0.0/0", "198.18.0.1"),
		route(TableMain, "198.18.1.0/24", "198.18.0.2"),
		route(100, "198.18.0.0/16", "198.18.0.100"),
		bh, th,
		route(300, "0.0.0.0/0", "198.18.0.3"),
	)
}

func ifindexOf(name string) int {
	return map[string]int{"lo": 1, "vnic0": 2, "vnic1": 3}[name]
}

func addRule(t *testing.T, f *Tables, r Rule) Rule {
	t.Helper()
	got, err := f.AddRule(r, r.Priority != 0, true, ifindexOf)
	if err != nil {
		t.Fatalf("add rule %+v: %v", r, err)
	}
	return got
}

// TestRulesSelectors: each selector picks the flows it names, and only
// those; invert turns a selector round.
func TestRulesSelectors(t *testing.T) {
	from := NewRule(100, RuleToTable, 100)
	from.Src, from.SrcLen = a4("198.18.5.0"), 24
	notTo := NewRule(101, RuleToTable, 300)
	notTo.Dst, notTo.DstLen, notTo.Invert = a4("198.18.0.0"), 15, true
	mark := NewRule(102, RuleToTable, 100)
	mark.Mark, mark.MarkMask = 0x10, 0xf0
	iif := NewRule(103, RuleToTable, 100)
	iif.Iif = "vnic1"
	gone := NewRule(104, RuleToTable, 300)
	gone.Oif = "vnic9" // absent: matches nothing
	tos := NewRule(105, RuleToTable, 100)
	tos.TOS = 0x10
	uid := NewRule(106, RuleToTable, 100)
	uid.UIDStart, uid.UIDEnd = 1000, 1999
	ports := NewRule(107, RuleToTable, 100)
	ports.IPProto, ports.Dport = 17, PortRange{53, 53}
	for _, tc := range []struct {
		name string
		fl   FlowKey
		want string
	}{
		{"plain: main", FlowKey{Dst: a4("198.18.9.9")}, "198.18.0.1/0 t254"},
		{"from 198.18.5.0/24: table 100", FlowKey{Dst: a4("198.18.9.9"), Src: a4("198.18.5.7")}, "198.18.0.100/16 t100"},
		{"not to 198.18.0.0/15: table 300", FlowKey{Dst: a4("203.0.113.1")}, "198.18.0.3/0 t300"},
		{"fwmark 0x1f/0xf0 matches 0x10/0xf0", FlowKey{Dst: a4("198.18.9.9"), Mark: 0x1f}, "198.18.0.100/16 t100"},
		{"fwmark 0x20 does not", FlowKey{Dst: a4("198.18.9.9"), Mark: 0x20}, "198.18.0.1/0 t254"},
		{"iif vnic1", FlowKey{Dst: a4("198.18.9.9"), Iif: 3}, "198.18.0.100/16 t100"},
		{"iif vnic0 is not vnic1", FlowKey{Dst: a4("198.18.9.9"), Iif: 2}, "198.18.0.1/0 t254"},
		{"tos 0x12 keys as 0x10", FlowKey{Dst: a4("198.18.9.9"), TOS: 0x12}, "198.18.0.100/16 t100"},
		{"uid 1500 in 1000-1999", FlowKey{Dst: a4("198.18.9.9"), UID: 1500}, "198.18.0.100/16 t100"},
		{"uid 2000 outside", FlowKey{Dst: a4("198.18.9.9"), UID: 2000}, "198.18.0.1/0 t254"},
		{"udp dport 53", FlowKey{Dst: a4("198.18.9.9"), Proto: 17, Dport: 53}, "198.18.0.100/16 t100"},
		{"tcp dport 53 is not udp", FlowKey{Dst: a4("198.18.9.9"), Proto: 6, Dport: 53}, "198.18.0.1/0 t254"},
	} {
		f := rulesTables(t)
		for _, r := range []Rule{from, notTo, mark, iif, gone, tos, uid, ports} {
			addRule(t, f, r)
		}
		fl := tc.fl
		if got := gwOf(f.Lookup(&fl)); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

// TestRulesActions: goto skips the rules between, nop passes, the
// refusing actions answer their errnos, a throw or a miss in a rule's
// table goes on to the next rule, and suppress_prefixlength refuses a
// result as short as it.
func TestRulesActions(t *testing.T) {
	at := func(pref uint32, a RuleAction, table uint32) Rule { return NewRule(pref, a, table) }
	gotoR := at(10, RuleGoto, 0)
	gotoR.Goto = 30
	suppress := at(5, RuleToTable, TableMain)
	suppress.SuppressPrefixLen = 0
	for _, tc := range []struct {
		name  string
		rules []Rule
		dst   string
		want  string
	}{
		{"goto jumps over a prohibit", []Rule{gotoR, at(20, RuleProhibit, 0), at(30, RuleToTable, 100)}, "198.18.9.9", "198.18.0.100/16 t100"},
		{"nop passes", []Rule{at(10, RuleNop, 0), at(20, RuleToTable, 100)}, "198.18.9.9", "198.18.0.100/16 t100"},
		{"prohibit", []Rule{at(10, RuleProhibit, 0)}, "198.18.9.9", "permission denied"},
		{"unreachable", []Rule{at(10, RuleUnreachable, 0)}, "198.18.9.9", "network is unreachable"},
		{"blackhole", []Rule{at(10, RuleBlackhole, 0)}, "198.18.9.9", "invalid argument"},
		{"a blackhole route in the table refuses", []Rule{at(10, RuleToTable, 200)}, "198.18.1.1", "invalid argument"},
		{"throw goes on to main", []Rule{at(10, RuleToTable, 200)}, "198.18.2.1", "198.18.0.1/0 t254"},
		{"a miss goes on to main", []Rule{at(10, RuleToTable, 200)}, "198.18.9.9", "198.18.0.1/0 t254"},
		{"a missing table goes on", []Rule{at(10, RuleToTable, 999)}, "198.18.9.9", "198.18.0.1/0 t254"},
		{"suppress_prefixlength 0 refuses main's default", []Rule{suppress, at(6, RuleToTable, 100)}, "198.18.9.9", "198.18.0.100/16 t100"},
		{"suppress_prefixlength 0 keeps a /24", []Rule{suppress, at(6, RuleToTable, 100)}, "198.18.1.1", "198.18.0.2/24 t254"},
	} {
		f := rulesTables(t)
		for _, r := range tc.rules {
			addRule(t, f, r)
		}
		if got := gwOf(f.Lookup(&FlowKey{Dst: a4(tc.dst)})); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
	// Deleting the defaults leaves nothing to look in.
	f := rulesTables(t)
	for _, pref := range []uint32{RulePrefLocal, RulePrefMain, RulePrefDefault} {
		if _, err := f.DeleteRule(Rule{Priority: pref}, true); err != nil {
			t.Fatal(err)
		}
	}
	if got := gwOf(f.Lookup(&FlowKey{Dst: a4("198.18.9.9")})); got != "network is unreachable" {
		t.Errorf("no rules: %s", got)
	}
}

// TestRulesAddDelete: priorities as the kernel picks them, the first
// unused table for a lookup without one, the kernel's refusals, EEXIST
// only with NLM_F_EXCL, delete by selector and ENOENT.
func TestRulesAddDelete(t *testing.T) {
	f := rulesTables(t)
	r1 := addRule(t, f, NewRule(0, RuleToTable, 100))
	r2 := addRule(t, f, NewRule(0, RuleToTable, 100+1))
	if r1.Priority != 32765 || r2.Priority != 32764 {
		t.Errorf("priorities %d %d, want 32765 32764", r1.Priority, r2.Priority)
	}
	r3 := addRule(t, f, NewRule(50, RuleToTable, 0))
	if r3.Table != 1 {
		t.Errorf("lookup without a table got table %d, want 1 (the first unused)", r3.Table)
	}
	var prefs []string
	for _, r := range f.Rules() {
		prefs = append(prefs, fmt.Sprintf("%d:%v:%d", r.Priority, r.Action, r.Table))
	}
	if got, want := fmt.Sprint(prefs), "[0:lookup:255 50:lookup:1 32764:lookup:101 32765:lookup:100 32766:lookup:254 32767:lookup:253]"; got != want {
		t.Errorf("rules %s, want %s", got, want)
	}
	bad := func(mut func(*Rule)) Rule { r := NewRule(10, RuleToTable, 100); mut(&r); return r }
	for _, tc := range []struct {
		r    Rule
		want string
	}{
		{bad(func(r *Rule) { r.TOS = 0x01 }), "Invalid dsfield (tos): ECN bits must be 0"},
		{bad(func(r *Rule) { r.Action = RuleGoto }), "Missing goto target for action goto"},
		{bad(func(r *Rule) { r.Action, r.Goto = RuleGoto, 5 }), "Backward goto not supported"},
		{bad(func(r *Rule) { r.Goto = 50 }), "Unexpected goto"},
		{bad(func(r *Rule) { r.UIDStart, r.UIDEnd = 5, 4 }), "Invalid uid range"},
		{bad(func(r *Rule) { r.Sport = PortRange{9, 8} }), "Invalid sport range"},
		{bad(func(r *Rule) { r.Action = 4 }), "Invalid action"},
		{bad(func(r *Rule) { r.SrcLen = 33 }), "Invalid prefix length"},
	} {
		_, err := f.AddRule(tc.r, true, true, ifindexOf)
		var re *Error
		if !errors.As(err, &re) || re.Msg != tc.want || re.Errno != syscall.EINVAL {
			t.Errorf("%+v: %v, want EINVAL %q", tc.r, err, tc.want)
		}
	}
	if _, err := f.AddRule(NewRule(50, RuleToTable, 1), true, true, ifindexOf); !errors.Is(err, syscall.EEXIST) {
		t.Errorf("the same rule again with excl: %v, want EEXIST", err)
	}
	if _, err := f.AddRule(NewRule(50, RuleToTable, 1), true, false, ifindexOf); err != nil {
		t.Errorf("the same rule again without excl: %v", err)
	}
	if _, err := f.DeleteRule(Rule{Table: 101}, false); err != nil {
		t.Errorf("delete table 101: %v", err)
	}
	if _, err := f.DeleteRule(Rule{Table: 101}, false); !errors.Is(err, syscall.ENOENT) {
		t.Errorf("delete it again: %v, want ENOENT", err)
	}
	// A rule on a device that comes later attaches then.
	dev := NewRule(60, RuleToTable, 100)
	dev.Iif = "vnic7"
	got := addRule(t, f, dev)
	if !got.IifDetached() {
		t.Error("a rule on an absent device is not detached")
	}
	f.ResolveRuleDevices(func(n string) int {
		if n == "vnic7" {
			return 7
		}
		return ifindexOf(n)
	})
	if gwOf(f.Lookup(&FlowKey{Dst: a4("198.18.9.9"), Iif: 7})) != "198.18.0.100/16 t100" {
		t.Error("the rule did not attach to vnic7")
	}
}

// An l3mdev rule looks a flow of an L3 domain up in the domain's table:
// the output device's domain (a flow whose output device is the VRF
// itself names no device after it), else the input device's; a flow of
// no domain passes over the rule. The rule takes no table of its own.
func TestRulesL3mdev(t *testing.T) {
	f := rulesTables(t)
	// ifindex 7 is a VRF on table 100, 8 a device enslaved to it, 2 and
	// 3 devices of the default domain.
	f.SetL3mdev(func(ifindex int) (uint32, bool) {
		switch ifindex {
		case 7:
			return 100, true
		case 8:
			return 100, false
		}
		return 0, false
	})
	r := NewRule(1000, RuleToTable, 7)
	r.L3mdev = true
	if _, err := f.AddRule(r, true, true, ifindexOf); err == nil || !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("l3mdev rule with a table: %v, want EINVAL", err)
	}
	r.Table = 0
	if got := addRule(t, f, r); got.Table != 0 || !got.L3mdev {
		t.Fatalf("l3mdev rule stored as table %d l3mdev %v", got.Table, got.L3mdev)
	}
	for _, c := range []struct {
		name    string
		fl      FlowKey
		want    string // gateway, table
		wantOif int
	}{
		{"output through the VRF", FlowKey{Dst: a4("198.18.9.9"), Oif: 7}, "198.18.0.100 t100", 0},
		{"output through a slave", FlowKey{Dst: a4("198.18.9.9"), Oif: 8}, "198.18.0.100 t100", 8},
		{"input on a slave", FlowKey{Dst: a4("198.18.9.9"), Iif: 8}, "198.18.0.100 t100", 0},
		{"input on the loopback", FlowKey{Dst: a4("198.18.9.9"), Iif: 1}, "198.18.0.1 t254", 0},
		{"output elsewhere", FlowKey{Dst: a4("198.18.9.9"), Iif: 8, Oif: 2}, "198.18.0.1 t254", 2},
		{"outside the VRF's table", FlowKey{Dst: a4("203.0.113.9"), Oif: 7}, "198.18.0.1 t254", 0},
	} {
		fl := c.fl
		res, err := f.Lookup(&fl)
		got := "none"
		if err == nil {
			got = fmt.Sprintf("%d.%d.%d.%d t%d", res.Route.Gateway[0], res.Route.Gateway[1], res.Route.Gateway[2], res.Route.Gateway[3], res.Table)
		}
		if got != c.want || fl.Oif != c.wantOif {
			t.Errorf("%s: %s (oif %d after), want %s (oif %d)", c.name, got, fl.Oif, c.want, c.wantOif)
		}
	}
	// Deleting the rule: the VRF's flows are the main table's again.
	q := NewRule(0, 0, 0)
	q.L3mdev = true
	if _, err := f.DeleteRule(q, false); err != nil {
		t.Fatal(err)
	}
	fl := FlowKey{Dst: a4("198.18.9.9"), Oif: 8}
	if res, err := f.Lookup(&fl); err != nil || res.Table != TableMain {
		t.Fatalf("after the delete: table %d err %v, want main", res.Table, err)
	}
}
