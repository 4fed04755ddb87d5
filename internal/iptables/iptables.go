package iptables

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"time"

	ipt "vnic/stack/netfilter/iptables"
	"vnic/stack/netlink"
)

// Options are what a run of one of the tools is given besides its
// arguments.
type Options struct {
	Stdout, Stderr io.Writer
	Stdin          io.Reader
	// Socket is the control socket's path ("": nlclient's default).
	Socket string
	// Host names the host whose tables the tool works on.
	Host string
	// Now is the clock iptables-save stamps its output with (nil: the
	// wall clock).
	Now func() time.Time

	// dial, when set, replaces the control socket (tests).
	dial func() (backend, error)
}

// Main runs prog ("iptables", "iptables-save", "iptables-restore",
// "ipset" or "dmesg") with args (the words after the program's name) against the
// host o names, and returns the exit status the tool would.
func Main(prog string, args []string, o Options) int {
	if o.Stdout == nil {
		o.Stdout = os.Stdout
	}
	if o.Stderr == nil {
		o.Stderr = os.Stderr
	}
	if o.Stdin == nil {
		o.Stdin = os.Stdin
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.dial == nil {
		o.dial = func() (backend, error) { return dialBackend(o.Socket, o.Host) }
	}
	switch prog {
	case "iptables":
		return runIptables(args, o)
	case "iptables-save":
		return runSave(args, o)
	case "iptables-restore":
		return runRestore(args, o)
	case "ipset":
		return runIPSet(args, o)
	case "dmesg":
		return runDmesg(args, o)
	}
	fmt.Fprintf(o.Stderr, "%s: not one of iptables, iptables-save, iptables-restore, ipset, dmesg\n", prog)
	return 1
}

// exitWith writes err's text and returns its status.
func exitWith(w io.Writer, err error) int {
	var e *Error
	if errors.As(err, &e) {
		io.WriteString(w, e.Text)
		return e.Code
	}
	fmt.Fprintln(w, err)
	return otherProblem
}

// session is a tool's connection with the handles it opened, one per
// table.
type session struct {
	p       *prog
	o       Options
	be      backend
	handles map[string]*handle
}

func (s *session) close() {
	if s.be != nil {
		s.be.close()
	}
}

// open is iptc_init: the table read from the host (a version problem
// when it cannot be, as iptables reports a table it cannot load).
func (s *session) open(table string) (*handle, error) {
	h, msg := s.load(table)
	if h == nil {
		return nil, s.p.xtError(versionProblem, "can't initialize iptables table `%s': %s", table, msg)
	}
	return h, nil
}

// backend dials the host once per session.
func (s *session) backend() (backend, error) {
	if s.be == nil {
		be, err := s.o.dial()
		if err != nil {
			return nil, err
		}
		s.be = be
	}
	return s.be, nil
}

// sets gives the prog and h the host's IP set names (the set match's
// lookups, as libxt_set asks the kernel).
func (s *session) sets(h *handle) {
	run := func() *ipsetRun {
		be, err := s.backend()
		if err != nil {
			return nil
		}
		return &ipsetRun{o: s.o, be: be, out: &strings.Builder{}, errOut: &strings.Builder{}}
	}
	s.p.setIndex = func(name string) (uint16, bool) {
		if r := run(); r != nil {
			return r.setIndexOf(name)
		}
		return 0, false
	}
	if h != nil {
		h.setName = func(i uint16) (string, bool) {
			if r := run(); r != nil {
				return r.setNameOf(i)
			}
			return "", false
		}
	}
}

// load reads table from the host once per session; nil and the reason
// when it cannot.
func (s *session) load(table string) (*handle, string) {
	if h := s.handles[table]; h != nil {
		return h, ""
	}
	if _, err := s.backend(); err != nil {
		return nil, err.Error()
	}
	spec, err := s.be.get(table)
	if err != nil {
		var ne *netlink.Error
		if errors.As(err, &ne) && strings.HasPrefix(ne.Msg, noHost) {
			return nil, ne.Msg // the host, not the table, is missing
		}
		return nil, strerror(fnInit, errnoOf(err))
	}
	h := newHandle(spec)
	s.sets(h)
	if s.handles == nil {
		s.handles = map[string]*handle{}
	}
	s.handles[table] = h
	return h, ""
}

// commit is iptc_commit: a changed table replaced on the host.
func (s *session) commit(h *handle) bool {
	if !h.changed {
		return true
	}
	if err := s.be.replace(h.spec()); err != nil {
		return h.fail(fnCommit, errnoOf(err))
	}
	h.changed = false
	return true
}

// tableError is how iptables reports a failed table operation.
func tableError(name string, h *handle) (string, int) {
	msg := fmt.Sprintf("%s: %s.", name, strerror(h.fn, h.errno))
	if h.errno == syscall.EINVAL {
		msg += " Run `dmesg' for more information."
	}
	code := otherProblem
	if h.errno == syscall.EAGAIN {
		code = resourceProblem
	}
	return msg + "\n", code
}

// runIptables is iptables_main: one command, then the commit. A table
// changed by someone else between the read and the replace (EAGAIN) is
// read again and the command run anew, as the xtables lock would have
// made it wait.
func runIptables(args []string, o Options) int {
	p := &prog{name: "iptables", line: -1, out: o.Stdout, errOut: o.Stderr}
	argv := append([]string{"iptables"}, args...)
	for try := 0; ; try++ {
		var out, errOut strings.Builder
		p.out, p.errOut = &out, &errOut
		s := &session{p: p, o: o}
		code, retry := s.iptablesOnce(argv)
		s.close()
		if retry && try < 8 {
			continue
		}
		io.WriteString(o.Stdout, out.String())
		io.WriteString(o.Stderr, errOut.String())
		return code
	}
}

func (s *session) iptablesOnce(argv []string) (code int, retry bool) {
	p := s.p
	s.sets(nil)
	c, err := p.parseArgs(argv, false, "filter")
	if err != nil {
		if err == errIgnoreLine {
			return 0, false
		}
		return exitWith(p.errOut, err), false
	}
	if c.help {
		p.printf("%s", helpText(p.name))
		return 0, false
	}
	if c.version {
		p.printf("%s v%s\n", p.name, Version)
		return 0, false
	}
	h, err := s.open(c.table)
	if err != nil {
		return exitWith(p.errOut, err), false
	}
	ok, err := s.doCommand(c, h)
	if err != nil {
		return exitWith(p.errOut, err), false
	}
	if ok {
		ok = s.commit(h)
	}
	if !ok {
		if h.fn == fnCommit && h.errno == syscall.EAGAIN {
			return 0, true
		}
		msg, code := tableError("iptables", h)
		p.warn("%s", msg)
		return code, false
	}
	return 0, false
}

// doCommand is do_command4's second half: the rule made and the command
// run on the handle. false with a nil error is a table operation that
// failed (h.fn and h.errno tell which and why).
func (s *session) doCommand(c *command, h *handle) (bool, error) {
	p := s.p
	var rule ipt.Rule
	switch c.cmd {
	case cmdAppend, cmdDelete, cmdCheck, cmdInsert, cmdReplace:
		if c.target != nil && h.isChain(c.jumpto) {
			p.warn("Warning: using chain %s, not extension\n", c.jumpto)
			c.target = nil
		}
		if c.target == nil && c.jumpto != "" && !h.isChain(c.jumpto) {
			if c.gotoSet {
				return false, p.xtError(parameterProblem, "goto '%s' is not a chain", c.jumpto)
			}
			return false, p.xtError(parameterProblem, "Couldn't load target `%s':No such file or directory\n", c.jumpto)
		}
		var err error
		if rule, err = c.makeRule(h); err != nil {
			return false, err
		}
	}
	verbose := c.options&optVerbose != 0
	each := func(fn func(r ipt.Rule) bool) bool {
		ok := true
		for i := range c.saddrs {
			for j := range c.daddrs {
				r := rule
				r.IP.Src, r.IP.SrcMask = c.saddrs[i], c.smasks[i]
				r.IP.Dst, r.IP.DstMask = c.daddrs[j], c.dmasks[j]
				if verbose {
					var w strings.Builder
					printFirewall(&w, &r, 0, fmtPrintRule, h.setName)
					p.printf("%s", w.String())
				}
				ok = fn(r) && ok
			}
		}
		return ok
	}
	switch c.cmd {
	case cmdAppend:
		return each(func(r ipt.Rule) bool { return h.appendEntry(c.chain, r) }), nil
	case cmdDelete:
		return each(func(r ipt.Rule) bool { return h.deleteEntry(c.chain, &r) }), nil
	case cmdDeleteNum:
		return h.deleteNum(c.chain, c.rulenum-1), nil
	case cmdCheck:
		return each(func(r ipt.Rule) bool { return h.checkEntry(c.chain, &r) }), nil
	case cmdReplace:
		return each(func(r ipt.Rule) bool { return h.replaceEntry(c.chain, r, c.rulenum-1) }), nil
	case cmdInsert:
		return each(func(r ipt.Rule) bool { return h.insertEntry(c.chain, r, c.rulenum-1) }), nil
	case cmdFlush:
		return s.forEachChain(h, c.chain, true, verbose, "Flushing", h.flushEntries), nil
	case cmdZero:
		return s.forEachChain(h, c.chain, true, verbose, "Zeroing", h.zeroEntries), nil
	case cmdZeroNum:
		return h.zeroCounter(c.chain, c.rulenum), nil
	case cmdList, cmdList | cmdZero, cmdList | cmdZeroNum:
		var w strings.Builder
		ok := listEntries(&w, h, c.chain, c.rulenum, verbose, c.options&optNumeric != 0,
			c.options&optExpanded != 0, c.options&optLineNumbers != 0)
		p.printf("%s", w.String())
		if ok && c.cmd&cmdZero != 0 {
			ok = s.forEachChain(h, c.chain, true, verbose, "Zeroing", h.zeroEntries)
		}
		if ok && c.cmd&cmdZeroNum != 0 {
			ok = h.zeroCounter(c.chain, c.rulenum)
		}
		return ok, nil
	case cmdListRules, cmdListRules | cmdZero, cmdListRules | cmdZeroNum:
		var w strings.Builder
		ok := listRules(&w, h, c.chain, c.rulenum, verbose)
		p.printf("%s", w.String())
		if ok && c.cmd&cmdZero != 0 {
			ok = s.forEachChain(h, c.chain, true, verbose, "Zeroing", h.zeroEntries)
		}
		if ok && c.cmd&cmdZeroNum != 0 {
			ok = h.zeroCounter(c.chain, c.rulenum)
		}
		return ok, nil
	case cmdNewChain:
		return h.createChain(c.chain), nil
	case cmdDeleteChain:
		return s.forEachChain(h, c.chain, false, verbose, "Deleting", h.deleteChain), nil
	case cmdRenameChain:
		return h.renameChain(c.chain, c.newname), nil
	case cmdSetPolicy:
		var ctr *ipt.Counters
		if c.options&optCounters != 0 {
			ctr = &c.rule.Counters
		}
		return h.setPolicy(c.chain, c.policy, ctr), nil
	}
	return false, &Error{Code: parameterProblem, Text: p.tryHelp()}
}

// forEachChain runs fn on chain, or (chain "") on every chain (the
// built-in ones only with builtins), announcing each with verbose.
func (s *session) forEachChain(h *handle, chain string, builtins, verbose bool, verb string, fn func(string) bool) bool {
	var names []string
	if chain != "" {
		names = []string{chain}
	} else {
		for _, c := range h.chains {
			if builtins || !c.builtin {
				names = append(names, c.name)
			}
		}
	}
	ok := true
	for _, n := range names {
		if verbose {
			s.p.printf("%s chain `%s'\n", verb, n)
		}
		ok = fn(n) && ok
	}
	return ok
}

// makeRule is generate_entry: the IP part, the matches' and the target's
// infos, and the standard target's verdict or jump.
func (c *command) makeRule(h *handle) (ipt.Rule, error) {
	r := c.rule
	r.Matches = nil
	for _, m := range c.matches {
		r.Matches = append(r.Matches, ipt.Match{Name: m.ext.kernelName(), Revision: m.ext.revision, Info: m.info})
	}
	switch {
	case c.target != nil && c.target.ext != standardTarget:
		r.Target = ipt.Target{Name: c.target.ext.kernelName(), Revision: c.target.ext.revision, Info: c.target.info}
	case c.jumpto == "":
		r.Target = ipt.Target{Verdict: ipt.Continue}
	default:
		switch c.jumpto {
		case "ACCEPT":
			r.Target.Verdict = ipt.Accept
		case "DROP":
			r.Target.Verdict = ipt.Drop
		case "QUEUE":
			r.Target.Verdict = ipt.Queue
		case "RETURN":
			r.Target.Verdict = ipt.Return
		default:
			r.Target.Chain = c.jumpto
		}
	}
	return r, nil
}

// helpText is what -h prints.
func helpText(name string) string {
	return fmt.Sprintf(`%s v%s

Usage: %s -[ACD] chain rule-specification [options]
       %s -I chain [rulenum] rule-specification [options]
       %s -R chain rulenum rule-specification [options]
       %s -D chain rulenum [options]
       %s -[LS] [chain [rulenum]] [options]
       %s -[FZ] [chain] [options]
       %s -[NX] chain
       %s -E old-chain-name new-chain-name
       %s -P chain target [options]
       %s -h (print this help information)

vnic's iptables works on the tables of the host --host names, over the
control socket; docs/iptables.md lists the matches and targets it takes.
`, name, Version, name, name, name, name, name, name, name, name, name, name)
}
