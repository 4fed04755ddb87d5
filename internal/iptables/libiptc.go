package iptables

import (
	"reflect"
	"slices"
	"sort"
	"strings"
	"syscall"

	"vnic/stack"
	ipt "vnic/stack/netfilter/iptables"
)

// handle is libiptc's view of one table (struct xtc_handle): the chains
// as read, changed by the commands, committed as one replace. Built-in
// chains come first in hook order, user chains after them by name, as
// libiptc sorts them.
type handle struct {
	table   string
	chains  []*hchain
	gen     uint64
	changed bool
	// fn and errno are the last operation's failure (iptc_fn, errno),
	// which iptc_strerror words.
	fn    string
	errno syscall.Errno
	// setName names the host's IP sets for the set match's printer.
	setName func(uint16) (string, bool)
}

type hchain struct {
	name     string
	builtin  bool
	hook     stack.NFHook
	policy   ipt.Verdict
	counters ipt.Counters
	// set: the policy's counters were given (-P -c, a restore's chain
	// line) and go to the host with the commit. Otherwise a commit
	// zeroes them, as iptables-legacy 1.8.9's does.
	set   bool
	rules []ipt.Rule
}

// The operations, as iptc_strerror tells them apart.
const (
	fnInit        = "init"
	fnDeleteChain = "delete_chain"
	fnCreateChain = "create_chain"
	fnInsert      = "insert_entry"
	fnReplace     = "replace_entry"
	fnDeleteNum   = "delete_num_entry"
	fnZeroCounter = "zero_counter"
	fnDelete      = "delete_entry"
	fnCheck       = "check_entry"
	fnSetPolicy   = "set_policy"
	fnCommit      = "commit"
	fnOther       = ""
)

// newHandle is iptc_init over a table read from the kernel.
func newHandle(spec *ipt.TableSpec) *handle {
	h := &handle{table: spec.Name, gen: spec.Gen}
	hooks, _ := ipt.TableHooks(spec.Name)
	for _, c := range spec.Chains {
		hc := &hchain{name: c.Name, policy: c.Policy, counters: c.Counters, rules: slices.Clone(c.Rules)}
		for hk := stack.NFHook(0); hk < stack.NumNFHooks; hk++ {
			if hooks.Has(hk) && ipt.ChainNames[hk] == c.Name {
				hc.builtin, hc.hook = true, hk
			}
		}
		h.chains = append(h.chains, hc)
	}
	h.sortChains()
	return h
}

func (h *handle) sortChains() {
	sort.SliceStable(h.chains, func(i, j int) bool {
		a, b := h.chains[i], h.chains[j]
		if a.builtin != b.builtin {
			return a.builtin
		}
		if a.builtin {
			return a.hook < b.hook
		}
		return a.name < b.name
	})
}

// spec is the table to commit: rules read from the kernel keep their
// counters (their ID as Origin), new and zeroed ones take theirs.
func (h *handle) spec() *ipt.TableSpec {
	s := &ipt.TableSpec{Name: h.table, Gen: h.gen}
	for _, c := range h.chains {
		ch := ipt.Chain{Name: c.name, Policy: c.policy}
		if c.set {
			ch.Counters = c.counters
		}
		for _, r := range c.rules {
			r.Origin = r.ID
			ch.Rules = append(ch.Rules, r)
		}
		if ch.Policy == 0 && !c.builtin {
			ch.Policy = ipt.Accept
		}
		s.Chains = append(s.Chains, ch)
	}
	return s
}

func (h *handle) fail(fn string, e syscall.Errno) bool {
	h.fn, h.errno = fn, e
	return false
}

func (h *handle) find(name string) *hchain {
	for _, c := range h.chains {
		if c.name == name {
			return c
		}
	}
	return nil
}

// isChain is iptc_is_chain.
func (h *handle) isChain(name string) bool { return h.find(name) != nil }

// builtin is iptc_builtin.
func (h *handle) builtin(name string) bool {
	c := h.find(name)
	return c != nil && c.builtin
}

// references counts the rules that jump or go to chain name.
func (h *handle) references(name string) int {
	n := 0
	for _, c := range h.chains {
		for _, r := range c.rules {
			if r.Target.Name == "" && r.Target.Chain == name {
				n++
			}
		}
	}
	return n
}

func (h *handle) chainOr(fn, name string) (*hchain, bool) {
	c := h.find(name)
	if c == nil {
		return nil, h.fail(fn, syscall.ENOENT)
	}
	return c, true
}

// insertEntry is iptc_insert_entry (at index n, 0-based).
func (h *handle) insertEntry(chain string, r ipt.Rule, n int) bool {
	c, ok := h.chainOr(fnInsert, chain)
	if !ok {
		return false
	}
	if n > len(c.rules) {
		return h.fail(fnInsert, syscall.E2BIG)
	}
	r.ID = 0
	c.rules = slices.Insert(c.rules, n, r)
	h.changed = true
	return true
}

// appendEntry is iptc_append_entry.
func (h *handle) appendEntry(chain string, r ipt.Rule) bool {
	c, ok := h.chainOr(fnOther, chain)
	if !ok {
		return false
	}
	r.ID = 0
	c.rules = append(c.rules, r)
	h.changed = true
	return true
}

// replaceEntry is iptc_replace_entry (index n, 0-based): the new rule
// starts its own counters.
func (h *handle) replaceEntry(chain string, r ipt.Rule, n int) bool {
	c, ok := h.chainOr(fnReplace, chain)
	if !ok {
		return false
	}
	if n >= len(c.rules) {
		return h.fail(fnReplace, syscall.E2BIG)
	}
	r.ID = 0
	c.rules[n] = r
	h.changed = true
	return true
}

// deleteNum is iptc_delete_num_entry.
func (h *handle) deleteNum(chain string, n int) bool {
	c, ok := h.chainOr(fnDeleteNum, chain)
	if !ok {
		return false
	}
	if n >= len(c.rules) {
		return h.fail(fnDeleteNum, syscall.E2BIG)
	}
	c.rules = slices.Delete(c.rules, n, n+1)
	h.changed = true
	return true
}

// sameRule is libiptc's is_same under iptables' delete mask: the IP
// part, every match and the target compared (counters and IDs not).
func sameRule(a, b *ipt.Rule) bool {
	if a.IP != b.IP || len(a.Matches) != len(b.Matches) {
		return false
	}
	for i := range a.Matches {
		x, y := a.Matches[i], b.Matches[i]
		if x.Name != y.Name || x.Revision != y.Revision || !reflect.DeepEqual(x.Info, y.Info) {
			return false
		}
	}
	x, y := a.Target, b.Target
	return x.Name == y.Name && x.Revision == y.Revision && x.Verdict == y.Verdict && x.Chain == y.Chain &&
		reflect.DeepEqual(x.Info, y.Info)
}

// deleteEntry is iptc_delete_entry: the first rule the same as r.
func (h *handle) deleteEntry(chain string, r *ipt.Rule) bool {
	c, ok := h.chainOr(fnDelete, chain)
	if !ok {
		return false
	}
	for i := range c.rules {
		if sameRule(&c.rules[i], r) {
			c.rules = slices.Delete(c.rules, i, i+1)
			h.changed = true
			return true
		}
	}
	return h.fail(mappedFn(fnDelete, r), syscall.ENOENT)
}

// checkEntry is iptc_check_entry.
func (h *handle) checkEntry(chain string, r *ipt.Rule) bool {
	c, ok := h.chainOr(fnCheck, chain)
	if !ok {
		return false
	}
	for i := range c.rules {
		if sameRule(&c.rules[i], r) {
			return true
		}
	}
	return h.fail(mappedFn(fnCheck, r), syscall.ENOENT)
}

// mappedFn is the operation iptc_strerror names once iptcc_map_target
// has mapped r's target: the name of a jump or an extension (anything
// but a verdict) is asked of TC_BUILTIN, which becomes iptc_fn, so that
// a rule then not found is "No chain/target/match by that name", as
// 1.8.9 prints for -C and -D of such a rule.
func mappedFn(fn string, r *ipt.Rule) string {
	if r.Target.Name != "" || r.Target.Chain != "" {
		return fnOther
	}
	return fn
}

// flushEntries is iptc_flush_entries.
func (h *handle) flushEntries(chain string) bool {
	c, ok := h.chainOr(fnOther, chain)
	if !ok {
		return false
	}
	c.rules = nil
	h.changed = true
	return true
}

// zeroEntries is iptc_zero_entries: the chain's rules and policy.
func (h *handle) zeroEntries(chain string) bool {
	c, ok := h.chainOr(fnOther, chain)
	if !ok {
		return false
	}
	for i := range c.rules {
		c.rules[i].ID, c.rules[i].Counters = 0, ipt.Counters{}
	}
	if c.builtin {
		c.set, c.counters = false, ipt.Counters{}
	}
	h.changed = true
	return true
}

// zeroCounter is iptc_zero_counter (rule n, 1-based).
func (h *handle) zeroCounter(chain string, n int) bool {
	c, ok := h.chainOr(fnZeroCounter, chain)
	if !ok {
		return false
	}
	if n < 1 || n > len(c.rules) {
		return h.fail(fnZeroCounter, syscall.E2BIG)
	}
	c.rules[n-1].ID, c.rules[n-1].Counters = 0, ipt.Counters{}
	h.changed = true
	return true
}

func isVerdictName(s string) bool {
	return s == "ACCEPT" || s == "DROP" || s == "QUEUE" || s == "RETURN"
}

// createChain is iptc_create_chain.
func (h *handle) createChain(name string) bool {
	if h.isChain(name) || isVerdictName(name) {
		return h.fail(fnCreateChain, syscall.EEXIST)
	}
	if len(name) > ipt.MaxChainName {
		return h.fail(fnCreateChain, syscall.EINVAL)
	}
	h.chains = append(h.chains, &hchain{name: name, policy: ipt.Accept})
	h.sortChains()
	h.changed = true
	return true
}

// deleteChain is iptc_delete_chain (after iptables' own built-in test).
func (h *handle) deleteChain(name string) bool {
	c := h.find(name)
	if c == nil {
		return h.fail(fnDeleteChain, syscall.ENOENT)
	}
	if c.builtin {
		return h.fail(fnOther, syscall.EINVAL)
	}
	if h.references(name) > 0 {
		return h.fail(fnOther, syscall.EMLINK)
	}
	if len(c.rules) > 0 {
		return h.fail(fnOther, syscall.ENOTEMPTY)
	}
	h.chains = slices.DeleteFunc(h.chains, func(x *hchain) bool { return x == c })
	h.changed = true
	return true
}

// renameChain is iptc_rename_chain: the jumps to it follow.
func (h *handle) renameChain(old, name string) bool {
	if h.isChain(name) || isVerdictName(name) {
		return h.fail(fnOther, syscall.EEXIST)
	}
	c := h.find(old)
	if c == nil || c.builtin {
		return h.fail(fnOther, syscall.ENOENT)
	}
	if len(name) > ipt.MaxChainName {
		return h.fail(fnOther, syscall.EINVAL)
	}
	for _, x := range h.chains {
		for i := range x.rules {
			if t := &x.rules[i].Target; t.Name == "" && t.Chain == old {
				t.Chain = name
			}
		}
	}
	c.name = name
	h.sortChains()
	h.changed = true
	return true
}

// setPolicy is iptc_set_policy; counters, when given, are set.
func (h *handle) setPolicy(chain, policy string, counters *ipt.Counters) bool {
	c := h.find(chain)
	if c == nil || !c.builtin {
		return h.fail(fnSetPolicy, syscall.ENOENT)
	}
	switch policy {
	case "ACCEPT":
		c.policy = ipt.Accept
	case "DROP":
		c.policy = ipt.Drop
	default:
		return h.fail(fnSetPolicy, syscall.EINVAL)
	}
	c.set = counters != nil
	if counters != nil {
		c.counters = *counters
	}
	h.changed = true
	return true
}

// strerror is iptc_strerror: the operation's own wording of an errno,
// else the C library's.
func strerror(fn string, e syscall.Errno) string {
	for _, m := range []struct {
		fn  string
		err syscall.Errno
		msg string
	}{
		{fnInit, syscall.EPERM, "Permission denied (you must be root)"},
		{fnInit, syscall.EINVAL, "Module is wrong version"},
		{fnInit, syscall.ENOENT, "Table does not exist (do you need to insmod?)"},
		{fnDeleteChain, syscall.ENOTEMPTY, "Chain is not empty"},
		{fnDeleteChain, syscall.EINVAL, "Can't delete built-in chain"},
		{fnDeleteChain, syscall.EMLINK, "Can't delete chain with references left"},
		{fnCreateChain, syscall.EEXIST, "Chain already exists"},
		{fnInsert, syscall.E2BIG, "Index of insertion too big"},
		{fnReplace, syscall.E2BIG, "Index of replacement too big"},
		{fnDeleteNum, syscall.E2BIG, "Index of deletion too big"},
		{fnZeroCounter, syscall.E2BIG, "Index of counter too big"},
		{fnInsert, syscall.ELOOP, "Loop found in table"},
		{fnInsert, syscall.EINVAL, "Target problem"},
		{fnDelete, syscall.ENOENT, "Bad rule (does a matching rule exist in that chain?)"},
		{fnSetPolicy, syscall.ENOENT, "Bad built-in chain name"},
		{fnSetPolicy, syscall.EINVAL, "Bad policy name"},
		{fnCheck, syscall.ENOENT, "Bad rule (does a matching rule exist in that chain?)"},
		{"", 0, "Incompatible with this kernel"},
		{"", syscall.ENOPROTOOPT, "iptables who? (do you need to insmod?)"},
		{"", syscall.ENOSYS, "Will be implemented real soon.  I promise ;)"},
		{"", syscall.ENOMEM, "Memory allocation problem"},
		{"", syscall.ENOENT, "No chain/target/match by that name"},
	} {
		if (m.fn == "" || m.fn == fn) && m.err == e {
			return m.msg
		}
	}
	return cStrerror(e)
}

// cStrerror is glibc's strerror for the errnos a table operation meets.
func cStrerror(e syscall.Errno) string {
	if s, ok := map[syscall.Errno]string{
		syscall.EPERM: "Operation not permitted", syscall.ENOENT: "No such file or directory",
		syscall.E2BIG: "Argument list too long", syscall.EAGAIN: "Resource temporarily unavailable",
		syscall.ENOMEM: "Cannot allocate memory", syscall.EBUSY: "Device or resource busy",
		syscall.EEXIST: "File exists", syscall.ENODEV: "No such device", syscall.EINVAL: "Invalid argument",
		syscall.EMLINK: "Too many links", syscall.EDOM: "Numerical argument out of domain",
		syscall.ERANGE: "Numerical result out of range", syscall.ELOOP: "Too many levels of symbolic links",
		syscall.ENOTEMPTY: "Directory not empty", syscall.EOPNOTSUPP: "Operation not supported",
		syscall.ENOBUFS: "No buffer space available", syscall.EAFNOSUPPORT: "Address family not supported by protocol",
	}[e]; ok {
		return s
	}
	s := e.Error()
	if s != "" {
		s = strings.ToUpper(s[:1]) + s[1:]
	}
	return s
}
