package iptables

import (
	"slices"
	"strings"
	"syscall"

	"vnic/stack"
)

// Chain names are at most this long (XT_EXTENSION_MAXNAMELEN - 1, what
// iptables allows).
const MaxChainName = 28

// translate is translate_table: spec checked against the table's
// definition and compiled. cur is the ruleset being replaced, whose
// counters kept rules take over. Nothing of cur is changed.
func (t *Table) translate(spec *TableSpec, cur *ruleset) (*ruleset, error) {
	def := t.def
	chainAt := map[string]int{}
	builtin := map[string]stack.NFHook{}
	for h := stack.NFHook(0); h < stack.NumNFHooks; h++ {
		if def.hooks.Has(h) {
			builtin[ChainNames[h]] = h
		}
	}
	seen := HookMask(0)
	for i, c := range spec.Chains {
		if c.Name == "" || len(c.Name) > MaxChainName || strings.ContainsAny(c.Name, " \t\n") {
			return nil, errorf(syscall.EINVAL, "ip_tables: bad chain name %q", c.Name)
		}
		if _, dup := chainAt[c.Name]; dup {
			return nil, errorf(syscall.EEXIST, "ip_tables: chain %s given twice", c.Name)
		}
		chainAt[c.Name] = i
		if h, ok := builtin[c.Name]; ok {
			seen |= 1 << h
			if c.Policy != Accept && c.Policy != Drop {
				return nil, errorf(syscall.EINVAL, "ip_tables: policy of %s must be ACCEPT or DROP, not %v", c.Name, c.Policy)
			}
		}
	}
	if seen != def.hooks {
		return nil, errorf(syscall.EINVAL, "ip_tables: table %s has the built-in chains %v, not %v", def.name, def.hooks, seen)
	}
	if cur != nil && spec.Gen != cur.gen && usesOrigins(spec) {
		return nil, errorf(syscall.EAGAIN, "ip_tables: table %s changed (generation %d, not %d): read it again", def.name, cur.gen, spec.Gen)
	}

	// Layout: each chain's rules, then its tail.
	start := make([]int32, len(spec.Chains))
	n := 0
	for i, c := range spec.Chains {
		start[i] = int32(n)
		n += len(c.Rules) + 1
	}
	// The chain graph: which user chains each chain jumps (or goes) to.
	type edge struct {
		to     int
		goesTo bool
	}
	edges := make([][]edge, len(spec.Chains))
	for i, c := range spec.Chains {
		for j := range c.Rules {
			r := &c.Rules[j]
			tg := &r.Target
			if tg.Name != "" || tg.Chain == "" {
				continue
			}
			k, ok := chainAt[tg.Chain]
			if !ok {
				return nil, errorf(syscall.ENOENT, "ip_tables: rule %d of %s jumps to %s, which does not exist", j+1, c.Name, tg.Chain)
			}
			if _, b := builtin[tg.Chain]; b {
				return nil, errorf(syscall.EINVAL, "ip_tables: rule %d of %s jumps to the built-in chain %s", j+1, c.Name, tg.Chain)
			}
			edges[i] = append(edges[i], edge{k, r.IP.Flags&FlagGoto != 0})
		}
	}
	// mark_source_chains: the hooks each chain is reached from, and no
	// loops on any path from a built-in chain.
	comefrom := make([]HookMask, len(spec.Chains))
	depth := make([]int, len(spec.Chains)) // deepest jump stack below a chain
	state := make([]uint8, len(spec.Chains))
	var visit func(i int, h stack.NFHook) error
	visit = func(i int, h stack.NFHook) error {
		switch state[i] {
		case 1:
			return errorf(syscall.ELOOP, "ip_tables: loop through chain %s", spec.Chains[i].Name)
		case 2:
			if comefrom[i].Has(h) {
				return nil
			}
		}
		comefrom[i] |= 1 << h
		state[i] = 1
		d := 0
		for _, e := range edges[i] {
			if err := visit(e.to, h); err != nil {
				return err
			}
			if e.goesTo {
				d = max(d, depth[e.to])
			} else {
				d = max(d, depth[e.to]+1)
			}
		}
		depth[i] = d
		state[i] = 2
		return nil
	}
	maxDepth := 0
	for name, h := range builtin {
		i := chainAt[name]
		if err := visit(i, h); err != nil {
			return nil, err
		}
		maxDepth = max(maxDepth, depth[i])
	}

	rs := &ruleset{entries: make([]entry, n), depth: maxDepth, gen: 1}
	if cur != nil {
		rs.gen = cur.gen + 1
	}
	for h := range rs.hookEntry {
		rs.hookEntry[h], rs.underflow[h] = -1, -1
	}
	tail := &counter{} // the user chains' implicit RETURNs count here
	kept := map[uint32]bool{}
	for i := range spec.Chains {
		c := &spec.Chains[i]
		h, isBuiltin := builtin[c.Name]
		for j := range c.Rules {
			r := &c.Rules[j]
			e := &rs.entries[int(start[i])+j]
			cp := &CheckParam{Host: t.host, Table: def.name, Hooks: comefrom[i], Rule: r}
			if err := t.compileRule(e, r, cp, chainAt, start); err != nil {
				rs.release()
				return nil, err
			}
			if r.Origin != 0 && cur != nil {
				if int(r.Origin) > len(cur.cells) || kept[r.Origin] {
					rs.release()
					return nil, errorf(syscall.EINVAL, "ip_tables: rule %d of %s keeps the counters of rule %d, which is not there (or taken)", j+1, c.Name, r.Origin)
				}
				kept[r.Origin] = true
				e.ctr = cur.cells[r.Origin-1]
			}
			if e.ctr == nil {
				e.ctr = newCounter(r.Counters)
			}
			rs.cells = append(rs.cells, e.ctr)
		}
		te := &rs.entries[int(start[i])+len(c.Rules)]
		te.ip = compileIP(&IPMatch{})
		if isBuiltin {
			te.kind, te.verdict = kindVerdict, stack.Verdict(c.Policy)
			if c.KeepCounters && cur != nil {
				te.ctr = cur.policy[h]
			}
			if te.ctr == nil {
				te.ctr = newCounter(c.Counters)
			}
			rs.policy[h] = te.ctr
			rs.hookEntry[h] = start[i]
			rs.underflow[h] = start[i] + int32(len(c.Rules))
		} else {
			te.kind, te.ctr = kindReturn, tail
		}
	}
	rs.spec = cloneSpec(spec)
	rs.spec.Gen = rs.gen
	return rs, nil
}

func usesOrigins(spec *TableSpec) bool {
	for _, c := range spec.Chains {
		if c.KeepCounters {
			return true
		}
		for _, r := range c.Rules {
			if r.Origin != 0 {
				return true
			}
		}
	}
	return false
}

// compileRule is find_check_entry: the IP part, every match and the
// target checked and compiled into e.
func (t *Table) compileRule(e *entry, r *Rule, cp *CheckParam, chainAt map[string]int, start []int32) error {
	if err := ipCheck(&r.IP); err != nil {
		return err
	}
	e.ip = compileIP(&r.IP)
	for _, m := range r.Matches {
		mt := LookupMatch(m.Name, m.Revision)
		if mt == nil {
			return errorf(syscall.ENOENT, "x_tables: no match %s revision %d", m.Name, m.Revision)
		}
		if !sameType(mt.NewInfo, m.Info) {
			return checkErr("x_tables: ip_tables: %s.%d match: info of the wrong kind", m.Name, m.Revision)
		}
		if err := checkExt(cp, "match", mt.Name, mt.Revision, mt.Proto, mt.Hooks, mt.Table); err != nil {
			return err
		}
		mm, err := mt.Check(cp, m.Info)
		if err != nil {
			return err
		}
		e.matches = append(e.matches, mm)
	}
	tg := &r.Target
	if tg.Name == "" {
		switch {
		case tg.Chain != "":
			e.kind, e.jump = kindJump, start[chainAt[tg.Chain]]
			if r.IP.Flags&FlagGoto != 0 {
				e.kind = kindGoto
			}
		case tg.Verdict == Return:
			e.kind = kindReturn
		case tg.Verdict == Continue:
			e.kind = kindContinue
		case tg.Verdict == Accept || tg.Verdict == Drop || tg.Verdict == Queue:
			e.kind, e.verdict = kindVerdict, stack.Verdict(tg.Verdict)
		default:
			return checkErr("ip_tables: bad standard verdict %v", tg.Verdict)
		}
		if r.IP.Flags&FlagGoto != 0 && tg.Chain == "" {
			return checkErr("ip_tables: goto without a chain")
		}
		return nil
	}
	if r.IP.Flags&FlagGoto != 0 {
		return checkErr("ip_tables: goto with the %s target", tg.Name)
	}
	tt := LookupTarget(tg.Name, tg.Revision)
	if tt == nil {
		return errorf(syscall.ENOENT, "x_tables: no target %s revision %d", tg.Name, tg.Revision)
	}
	if !sameType(tt.NewInfo, tg.Info) {
		return checkErr("x_tables: ip_tables: %s.%d target: info of the wrong kind", tg.Name, tg.Revision)
	}
	if err := checkExt(cp, "target", tt.Name, tt.Revision, tt.Proto, tt.Hooks, tt.Table); err != nil {
		return err
	}
	tgt, err := tt.Check(cp, tg.Info)
	if err != nil {
		return err
	}
	e.kind, e.target = kindTarget, tgt
	return nil
}

// checkExt is xt_check_match/xt_check_target's common part: the table,
// the hooks and the protocol the extension asks for.
func checkExt(cp *CheckParam, kind, name string, rev uint8, proto uint8, hooks HookMask, table string) error {
	if table != "" && table != cp.Table {
		return checkErr("x_tables: ip_tables: %s %s: only valid in %s table, not %s", name, kind, table, cp.Table)
	}
	if hooks != 0 && cp.Hooks&^hooks != 0 {
		return checkErr("x_tables: ip_tables: %s %s: used from hooks %v, but only valid from %v", name, kind, cp.Hooks, hooks)
	}
	ip := &cp.Rule.IP
	if proto != 0 && (ip.Proto != uint16(proto) || ip.InvFlags&InvProto != 0) {
		return checkErr("x_tables: ip_tables: %s %s: only valid for protocol %d", name, kind, proto)
	}
	return nil
}

// release destroys what a ruleset's checked extensions hold (a ruleset
// that failed its checks, or one replaced).
func (rs *ruleset) release() {
	for _, e := range rs.entries {
		for _, m := range e.matches {
			if d, ok := m.(Destroyer); ok {
				d.Destroy()
			}
		}
		if d, ok := e.target.(Destroyer); ok {
			d.Destroy()
		}
	}
}

// cloneSpec copies spec's structure (the infos are shared: checked, they
// are not changed again).
func cloneSpec(spec *TableSpec) *TableSpec {
	out := &TableSpec{Name: spec.Name, Gen: spec.Gen, Chains: slices.Clone(spec.Chains)}
	for i := range out.Chains {
		c := &out.Chains[i]
		c.KeepCounters = false
		c.Rules = slices.Clone(c.Rules)
		for j := range c.Rules {
			r := &c.Rules[j]
			r.Matches = slices.Clone(r.Matches)
			r.Origin = 0
		}
	}
	return out
}
