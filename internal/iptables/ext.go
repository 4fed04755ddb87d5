package iptables

import (
	"strings"

	ipt "vnic/stack/netfilter/iptables"
)

// ext is an extension as iptables' userspace knows it (struct
// xtables_match, xtables_target): its options, how it parses them into
// the kernel's info and how it prints and saves that info.
type ext struct {
	name     string
	revision uint8
	target   bool
	// real is the kernel's name for an alias ("" : name).
	real string
	// opts are x6-style options; longs old-style ones (val is what
	// oldParse is given as c.id).
	opts  []xtOpt
	longs []longOpt
	// init prepares a new instance's info (the extension's .init).
	init func(i *inst)
	// parse handles one of opts (x6_parse); nil: the framework's parse
	// alone.
	parse func(c *call) error
	// oldParse handles one of longs (.parse).
	oldParse func(c *call, id int) error
	// final is the check after all options (x6_fcheck, final_check),
	// before the framework's.
	final func(i *inst) error
	// print writes the -L form (" tcp dpt:22"), save the
	// iptables-save form (" --dport 22").
	print func(w *strings.Builder, env *extEnv, info any, numeric bool)
	save  func(w *strings.Builder, env *extEnv, info any)
	// noData: the kernel's extension takes no info.
	noData bool
	// alias, when set, is the name -S and iptables-save give a rule's
	// extension (state for conntrack's state test, NOTRACK for CT).
	alias func(info any) string
}

// extEnv is what a printer knows besides the info: the rule's IP part
// and the names of the host's IP sets by index (nil: none known).
type extEnv struct {
	ip      *ipt.IPMatch
	setName func(index uint16) (string, bool)
}

// inst is one use of an extension in a rule being parsed (the
// extension's m or t with its mflags/tflags and udata).
type inst struct {
	ext    *ext
	info   any
	flags  uint32
	udata  any
	offset int // the getopt value of option id 0
	p      *prog
}

var (
	matchExts  = map[string]*ext{}
	targetExts = map[string]*ext{}
)

func registerMatch(e *ext) {
	matchExts[e.name] = e
	if e.real != "" {
		return
	}
	kernelMatches[e.name] = e
}

// kernelMatches and kernelTargets are the extensions by the name the
// kernel knows (the ones that print a rule read back).
var (
	kernelMatches = map[string]*ext{}
	kernelTargets = map[string]*ext{}
)

func registerTarget(e *ext) {
	e.target = true
	targetExts[e.name] = e
	if e.real == "" {
		kernelTargets[e.name] = e
	}
}

// kernelName is the name the kernel knows the extension by.
func (e *ext) kernelName() string {
	if e.real != "" {
		return e.real
	}
	return e.name
}

// newInfo is a zero info of the kernel extension e names.
func (e *ext) newInfo() any {
	if e.noData {
		return nil
	}
	if e.target {
		if t := ipt.LookupTarget(e.kernelName(), e.revision); t != nil && t.NewInfo != nil {
			return t.NewInfo()
		}
		return nil
	}
	if m := ipt.LookupMatch(e.kernelName(), e.revision); m != nil && m.NewInfo != nil {
		return m.NewInfo()
	}
	return nil
}

// instantiate makes a fresh instance of e.
func (e *ext) instantiate(p *prog, offset int) *inst {
	i := &inst{ext: e, info: e.newInfo(), offset: offset, p: p}
	if e.init != nil {
		e.init(i)
	}
	return i
}

// longOpts are the getopt options of the instance.
func (i *inst) longOpts() []longOpt {
	var out []longOpt
	for _, o := range i.ext.opts {
		k := requiredArgument
		if o.typ == xtNone {
			k = noArgument
		}
		out = append(out, longOpt{name: o.name, hasArg: k, val: i.offset + int(o.id)})
	}
	for _, o := range i.ext.longs {
		out = append(out, longOpt{name: o.name, hasArg: o.hasArg, val: i.offset + o.val})
	}
	return out
}

// finalCheck is xtables_option_mfcall / tfcall.
func (i *inst) finalCheck() error {
	if i.ext.final != nil {
		if err := i.ext.final(i); err != nil {
			return err
		}
	}
	if len(i.ext.opts) > 0 {
		return fcheck(i.p, i.ext.name, i.flags, i.ext.opts)
	}
	return nil
}

// findMatchExt and findTargetExt are xtables_find_match/target.
func findMatchExt(name string) *ext { return matchExts[name] }

func findTargetExt(name string) *ext {
	switch name {
	case "ACCEPT", "DROP", "QUEUE", "RETURN":
		return standardTarget
	}
	return targetExts[name]
}

// standardTarget is the standard target (verdicts and jumps).
var standardTarget = &ext{name: "standard", target: true, noData: true}
