package iptables

import (
	"fmt"
	"strings"
	"syscall"
	"time"

	ipt "vnic/stack/netfilter/iptables"
)

// Listing formats (FMT_*).
const (
	fmtNumeric     = 0x0001
	fmtNoCounts    = 0x0002
	fmtKMG         = 0x0004
	fmtOptions     = 0x0008
	fmtNoTable     = 0x0010
	fmtNoTarget    = 0x0020
	fmtVia         = 0x0040
	fmtNoNewline   = 0x0080
	fmtLineNumbers = 0x0100
	fmtPrintRule   = fmtNoCounts | fmtOptions | fmtVia | fmtNumeric | fmtNoTable
)

// pick is FMT(tab, notab).
func pick(format uint, tab, notab string) string {
	if format&fmtNoTable != 0 {
		return notab
	}
	return tab
}

// printNum is xtables_print_num.
func printNum(w *strings.Builder, n uint64, format uint) {
	if format&fmtKMG == 0 {
		fmt.Fprintf(w, pick(format, "%8d ", "%d "), n)
		return
	}
	if n <= 99999 {
		fmt.Fprintf(w, pick(format, "%5d ", "%d "), n)
		return
	}
	for _, unit := range []string{"K", "M", "G"} {
		n = (n + 500) / 1000
		if n <= 9999 {
			fmt.Fprintf(w, pick(format, "%4d"+unit+" ", "%d"+unit+" "), n)
			return
		}
	}
	n = (n + 500) / 1000
	fmt.Fprintf(w, pick(format, "%4dT ", "%dT "), n)
}

// verdictName names a standard verdict (iptc_get_target).
func verdictName(v ipt.Verdict) string {
	switch v {
	case ipt.Accept:
		return "ACCEPT"
	case ipt.Drop:
		return "DROP"
	case ipt.Queue:
		return "QUEUE"
	case ipt.Return:
		return "RETURN"
	}
	return ""
}

// targetName is iptc_get_target's name for r's target.
func targetName(r *ipt.Rule) string {
	t := &r.Target
	if t.Name != "" {
		return t.Name
	}
	if t.Chain != "" {
		return t.Chain
	}
	return verdictName(t.Verdict)
}

// addrString is ipv4_addr_to_string.
func addrString(a, m [4]byte, format uint) string {
	if m == ([4]byte{}) && format&fmtNumeric == 0 {
		return "anywhere"
	}
	if format&fmtNumeric != 0 {
		return ipString(a) + maskNumeric(m)
	}
	return addrName(a) + maskNumeric(m)
}

// printFirewall is print_firewall: one rule as -L shows it.
func printFirewall(w *strings.Builder, r *ipt.Rule, num int, format uint, sets func(uint16) (string, bool)) {
	ip := &r.IP
	env := &extEnv{ip: ip, setName: sets}
	tname := targetName(r)
	if format&fmtLineNumbers != 0 {
		fmt.Fprintf(w, pick(format, "%-4d ", "%d "), num)
	}
	if format&fmtNoCounts == 0 {
		printNum(w, r.Counters.Packets, format)
		printNum(w, r.Counters.Bytes, format)
	}
	if format&fmtNoTarget == 0 {
		fmt.Fprintf(w, pick(format, "%-9s ", "%s "), tname)
	}
	if ip.InvFlags&ipt.InvProto != 0 {
		w.WriteByte('!')
	} else {
		w.WriteByte(' ')
	}
	// -n shows the number; the rule echoed by -v (no table) the name.
	if pn := protoToName(int(ip.Proto), format&fmtNumeric != 0 && format&fmtNoTable == 0); pn != "" {
		fmt.Fprintf(w, pick(format, "%-5s", "%s "), pn)
	} else {
		fmt.Fprintf(w, pick(format, "%-5d", "%d "), ip.Proto)
	}
	if format&fmtOptions != 0 {
		if format&fmtNoTable != 0 {
			w.WriteString("opt ")
		}
		if ip.InvFlags&ipt.InvFrag != 0 {
			w.WriteByte('!')
		} else {
			w.WriteByte('-')
		}
		if ip.Flags&ipt.FlagFrag != 0 {
			w.WriteByte('f')
		} else {
			w.WriteByte('-')
		}
		w.WriteByte(' ')
	}
	if format&fmtVia != 0 {
		anyname := "any"
		if format&fmtNumeric != 0 {
			anyname = "*"
		}
		iface := func(inv bool, name []byte) string {
			s := ipt.CString(name)
			if s == "" {
				s = anyname
			}
			if inv {
				s = "!" + s
			}
			return s
		}
		fmt.Fprintf(w, pick(format, " %-6s ", "in %s "), iface(ip.InvFlags&ipt.InvViaIn != 0, ip.InIface[:]))
		fmt.Fprintf(w, pick(format, "%-6s ", "out %s "), iface(ip.InvFlags&ipt.InvViaOut != 0, ip.OutIface[:]))
	}
	if ip.InvFlags&ipt.InvSrcIP != 0 {
		w.WriteByte('!')
	} else {
		w.WriteByte(' ')
	}
	fmt.Fprintf(w, pick(format, "%-19s ", "%s "), addrString(ip.Src, ip.SrcMask, format))
	if ip.InvFlags&ipt.InvDstIP != 0 {
		w.WriteByte('!')
	} else {
		w.WriteByte(' ')
	}
	fmt.Fprintf(w, pick(format, "%-19s ", "-> %s"), addrString(ip.Dst, ip.DstMask, format))
	if format&fmtNoTable != 0 {
		w.WriteString("  ")
	}
	if ip.Flags&ipt.FlagGoto != 0 {
		w.WriteString("[goto] ")
	}
	numeric := format&fmtNumeric != 0
	for _, m := range r.Matches {
		e := kernelMatches[m.Name]
		switch {
		case e == nil:
			fmt.Fprintf(w, "UNKNOWN match `%s' ", m.Name)
		case e.print == nil:
			fmt.Fprintf(w, "%s ", e.name)
		case e.revision != m.Revision:
			fmt.Fprintf(w, "%s [unsupported revision] ", e.name)
		default:
			e.print(w, env, m.Info, numeric)
		}
	}
	if r.Target.Name != "" {
		if e := kernelTargets[r.Target.Name]; e != nil && e.print != nil {
			if e.revision == r.Target.Revision {
				e.print(w, env, r.Target.Info, numeric)
			} else {
				fmt.Fprintf(w, " %s [unsupported revision]", e.name)
			}
		}
	}
	if format&fmtNoNewline == 0 {
		w.WriteByte('\n')
	}
}

// printHeader is print_header.
func printHeader(w *strings.Builder, h *handle, c *hchain, format uint) {
	fmt.Fprintf(w, "Chain %s", c.name)
	if c.builtin {
		fmt.Fprintf(w, " (policy %s", verdictName(c.policy))
		if format&fmtNoCounts == 0 {
			w.WriteByte(' ')
			printNum(w, c.counters.Packets, format|fmtNoTable)
			w.WriteString("packets, ")
			printNum(w, c.counters.Bytes, format|fmtNoTable)
			w.WriteString("bytes")
		}
		w.WriteString(")\n")
	} else {
		fmt.Fprintf(w, " (%d references)\n", h.references(c.name))
	}
	if format&fmtLineNumbers != 0 {
		fmt.Fprintf(w, pick(format, "%-4s ", "%s "), "num")
	}
	if format&fmtNoCounts == 0 {
		if format&fmtKMG != 0 {
			fmt.Fprintf(w, pick(format, "%5s ", "%s "), "pkts")
			fmt.Fprintf(w, pick(format, "%5s ", "%s "), "bytes")
		} else {
			fmt.Fprintf(w, pick(format, "%8s ", "%s "), "pkts")
			fmt.Fprintf(w, pick(format, "%10s ", "%s "), "bytes")
		}
	}
	if format&fmtNoTarget == 0 {
		fmt.Fprintf(w, pick(format, "%-9s ", "%s "), "target")
	}
	w.WriteString(" prot ")
	if format&fmtOptions != 0 {
		w.WriteString("opt")
	}
	if format&fmtVia != 0 {
		fmt.Fprintf(w, pick(format, " %-6s ", "%s "), "in")
		fmt.Fprintf(w, pick(format, "%-6s ", "%s "), "out")
	}
	fmt.Fprintf(w, pick(format, " %-19s ", "%s "), "source")
	fmt.Fprintf(w, pick(format, " %-19s ", " %s "), "destination")
	w.WriteByte('\n')
}

// listEntries is list_entries (-L): false when chain is not there.
func listEntries(w *strings.Builder, h *handle, chain string, rulenum int, verbose, numeric, expanded, lines bool) bool {
	format := uint(fmtOptions)
	if !verbose {
		format |= fmtNoCounts
	} else {
		format |= fmtVia
	}
	if numeric {
		format |= fmtNumeric
	}
	if !expanded {
		format |= fmtKMG
	}
	if lines {
		format |= fmtLineNumbers
	}
	found := false
	for _, c := range h.chains {
		if chain != "" && chain != c.name {
			continue
		}
		if found {
			w.WriteByte('\n')
		}
		if rulenum == 0 {
			printHeader(w, h, c, format)
		}
		for i := range c.rules {
			if rulenum == 0 || i+1 == rulenum {
				printFirewall(w, &c.rules[i], i+1, format, h.setName)
			}
		}
		found = true
	}
	if !found {
		h.fail(fnOther, syscall.ENOENT)
	}
	return found
}

// saveAddr is save_ipv4_addr.
func saveAddr(w *strings.Builder, letter byte, a, m [4]byte, invert bool) {
	if m == ([4]byte{}) && !invert && a == ([4]byte{}) {
		return
	}
	if invert {
		w.WriteString(" !")
	}
	fmt.Fprintf(w, " -%c %s/%s", letter, ipString(a), maskSave(m))
}

// saveIface is save_iface.
func saveIface(w *strings.Builder, letter byte, iface, mask []byte, invert bool) {
	if mask[0] == 0 {
		return
	}
	if invert {
		w.WriteString(" !")
	}
	fmt.Fprintf(w, " -%c ", letter)
	for i := 0; i < ipt.IFNAMSIZ; i++ {
		if mask[i] != 0 {
			if iface[i] != 0 {
				w.WriteByte(iface[i])
			}
		} else {
			if iface[i-1] != 0 {
				w.WriteByte('+')
			}
			break
		}
	}
}

// printRule4 is print_rule4: one rule as -S and iptables-save write it;
// counters > 0 prefixes "[p:b] ", < 0 puts "-c p b" before the target.
func printRule4(w *strings.Builder, r *ipt.Rule, chain string, counters int, sets func(uint16) (string, bool)) {
	ip := &r.IP
	env := &extEnv{ip: ip, setName: sets}
	if counters > 0 {
		fmt.Fprintf(w, "[%d:%d] ", r.Counters.Packets, r.Counters.Bytes)
	}
	fmt.Fprintf(w, "-A %s", chain)
	saveAddr(w, 's', ip.Src, ip.SrcMask, ip.InvFlags&ipt.InvSrcIP != 0)
	saveAddr(w, 'd', ip.Dst, ip.DstMask, ip.InvFlags&ipt.InvDstIP != 0)
	saveIface(w, 'i', ip.InIface[:], ip.InMask[:], ip.InvFlags&ipt.InvViaIn != 0)
	saveIface(w, 'o', ip.OutIface[:], ip.OutMask[:], ip.InvFlags&ipt.InvViaOut != 0)
	if ip.Proto > 0 {
		if ip.InvFlags&ipt.InvProto != 0 {
			w.WriteString(" !")
		}
		if pn := protoToName(int(ip.Proto), false); pn != "" {
			fmt.Fprintf(w, " -p %s", pn)
		} else {
			fmt.Fprintf(w, " -p %d", ip.Proto)
		}
	}
	if ip.Flags&ipt.FlagFrag != 0 {
		if ip.InvFlags&ipt.InvFrag != 0 {
			w.WriteString(" !")
		}
		w.WriteString(" -f")
	}
	for _, m := range r.Matches {
		e := kernelMatches[m.Name]
		if e == nil {
			continue
		}
		name := m.Name
		if e.alias != nil && e.revision == m.Revision {
			name = e.alias(m.Info)
		}
		fmt.Fprintf(w, " -m %s", name)
		if e.save != nil && e.revision == m.Revision {
			e.save(w, env, m.Info)
		} else if e.save != nil {
			w.WriteString(" [unsupported revision]")
		}
	}
	if counters < 0 {
		fmt.Fprintf(w, " -c %d %d", r.Counters.Packets, r.Counters.Bytes)
	}
	if r.Target.Name != "" {
		e := kernelTargets[r.Target.Name]
		name := r.Target.Name
		if e != nil && e.alias != nil && e.revision == r.Target.Revision {
			name = e.alias(r.Target.Info)
		}
		fmt.Fprintf(w, " -j %s", name)
		if e != nil && e.save != nil {
			if e.revision == r.Target.Revision {
				e.save(w, env, r.Target.Info)
			} else {
				w.WriteString(" [unsupported revision]")
			}
		}
	} else if tn := targetName(r); tn != "" {
		j := 'j'
		if ip.Flags&ipt.FlagGoto != 0 {
			j = 'g'
		}
		fmt.Fprintf(w, " -%c %s", j, tn)
	}
	w.WriteByte('\n')
}

// listRules is list_rules (-S).
func listRules(w *strings.Builder, h *handle, chain string, rulenum int, verbose bool) bool {
	counters := 0
	if verbose {
		counters = -1
	}
	found := false
	if rulenum == 0 {
		for _, c := range h.chains {
			if chain != "" && chain != c.name {
				continue
			}
			if c.builtin {
				fmt.Fprintf(w, "-P %s %s", c.name, verdictName(c.policy))
				if counters != 0 {
					fmt.Fprintf(w, " -c %d %d", c.counters.Packets, c.counters.Bytes)
				}
				w.WriteByte('\n')
			} else {
				fmt.Fprintf(w, "-N %s\n", c.name)
			}
		}
	}
	for _, c := range h.chains {
		if chain != "" && chain != c.name {
			continue
		}
		for i := range c.rules {
			if rulenum == 0 || i+1 == rulenum {
				printRule4(w, &c.rules[i], c.name, counters, h.setName)
			}
		}
		found = true
	}
	if !found {
		h.fail(fnOther, syscall.ENOENT)
	}
	return found
}

// ctime is C's ctime: "Wed Dec  2 21:00:09 2026".
func ctime(t time.Time) string { return t.Format("Mon Jan _2 15:04:05 2006") }

// saveTable is iptables-save's do_output for one table.
func saveTable(w *strings.Builder, h *handle, counters bool, now func() time.Time) {
	fmt.Fprintf(w, "# Generated by iptables-save v%s on %s\n", strings.TrimSuffix(Version, " (legacy)"), ctime(now()))
	fmt.Fprintf(w, "*%s\n", h.table)
	for _, c := range h.chains {
		if c.builtin {
			fmt.Fprintf(w, ":%s %s [%d:%d]\n", c.name, verdictName(c.policy), c.counters.Packets, c.counters.Bytes)
		} else {
			fmt.Fprintf(w, ":%s - [0:0]\n", c.name)
		}
	}
	n := 0
	if counters {
		n = 1
	}
	for _, c := range h.chains {
		for i := range c.rules {
			printRule4(w, &c.rules[i], c.name, n, h.setName)
		}
	}
	w.WriteString("COMMIT\n")
	fmt.Fprintf(w, "# Completed on %s\n", ctime(now()))
}
