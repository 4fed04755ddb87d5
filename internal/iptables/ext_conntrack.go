package iptables

import (
	"fmt"
	"strings"

	ipt "vnic/stack/netfilter/iptables"
)

// conntrack's state and status names, in the order they print.
var (
	ctStates = []struct {
		name string
		bit  uint16
	}{{"INVALID", ipt.CTStateInvalid}, {"NEW", 1 << 3}, {"RELATED", 1 << 2}, {"ESTABLISHED", 1 << 1},
		{"UNTRACKED", ipt.CTStateUntracked}, {"SNAT", ipt.CTStateSNAT}, {"DNAT", ipt.CTStateDNAT}}
	// ctStateParse is the order names are tried in (conntrack_ps_state).
	ctStateParse = []string{"INVALID", "NEW", "ESTABLISHED", "RELATED", "UNTRACKED", "SNAT", "DNAT"}
	ctStatuses   = []struct {
		name string
		bit  uint16
	}{{"EXPECTED", 1}, {"SEEN_REPLY", 2}, {"ASSURED", 4}, {"CONFIRMED", 8}}
)

func ctStateBit(name string) uint16 {
	for _, s := range ctStates {
		if s.name == name {
			return s.bit
		}
	}
	return 0
}

// prefixFold reports whether word is a case-blind start of name (as
// strncasecmp(word, name, len(word)) == 0).
func prefixFold(word, name string) bool {
	return len(word) <= len(name) && strings.EqualFold(word, name[:len(word)])
}

// parseCTList is conntrack_ps_states and its kin: comma-separated names
// into a mask; a word may be a start of a name; what is the error
// message's noun.
func (p *prog) parseCTList(arg, what string, one func(word string) (uint16, bool)) (uint16, error) {
	var mask uint16
	rest := arg
	for {
		word, tail, more := strings.Cut(rest, ",")
		bit, ok := uint16(0), word != ""
		if ok {
			bit, ok = one(word)
		}
		if !ok {
			return 0, p.xtError(parameterProblem, "Bad %s \"%s\"", what, rest)
		}
		mask |= bit
		if !more {
			return mask, nil
		}
		rest = tail
	}
}

func ctState(word string) (uint16, bool) {
	for _, n := range ctStateParse {
		if prefixFold(word, n) {
			return ctStateBit(n), true
		}
	}
	return 0, false
}

func ctStatus(word string) (uint16, bool) {
	if prefixFold(word, "NONE") {
		return 0, true
	}
	for _, s := range []string{"EXPECTED", "SEEN_REPLY", "ASSURED", "CONFIRMED"} {
		if prefixFold(word, s) {
			for _, st := range ctStatuses {
				if st.name == s {
					return st.bit, true
				}
			}
		}
	}
	return 0, false
}

func printCTStates(w *strings.Builder, mask uint16) {
	sep := " "
	for _, s := range ctStates {
		if mask&s.bit != 0 {
			w.WriteString(sep + s.name)
			sep = ","
		}
	}
}

func printCTStatus(w *strings.Builder, mask uint16) {
	sep := " "
	for _, s := range ctStatuses {
		if mask&s.bit != 0 {
			w.WriteString(sep + s.name)
			sep = ","
		}
	}
	if mask == 0 {
		w.WriteString(sep + "NONE")
	}
}

// conntrack option ids.
const (
	ctOptState = iota
	ctOptProto
	ctOptOrigSrc
	ctOptOrigDst
	ctOptReplSrc
	ctOptReplDst
	ctOptStatus
	ctOptExpire
	ctOptOrigSrcPort
	ctOptOrigDstPort
	ctOptReplSrcPort
	ctOptReplDstPort
	ctOptDir
)

// ctDump is conntrack_dump: the -L form (prefix "") or the save form
// ("--", numeric).
func ctDump(w *strings.Builder, i *ipt.ConntrackInfo, prefix string, numeric bool) {
	f, inv := i.MatchFlags, i.InvertFlags
	neg := func(flag uint16) {
		if inv&flag != 0 {
			w.WriteString(" !")
		}
	}
	if f&ipt.CTMatchState != 0 {
		neg(ipt.CTMatchState)
		name := "ctstate"
		if f&ipt.CTMatchStateAlias != 0 {
			name = "state"
		}
		fmt.Fprintf(w, " %s%s", prefix, name)
		printCTStates(w, i.StateMask)
	}
	if f&ipt.CTMatchProto != 0 {
		neg(ipt.CTMatchProto)
		fmt.Fprintf(w, " %sctproto %d", prefix, i.L4Proto)
	}
	addr := func(flag uint16, name string, a, m [4]byte) {
		if f&flag == 0 {
			return
		}
		neg(flag)
		fmt.Fprintf(w, " %s%s", prefix, name)
		switch {
		case !numeric && a == [4]byte{}:
			w.WriteString(" anywhere")
		case numeric:
			fmt.Fprintf(w, " %s%s", ipString(a), maskNumeric(m))
		default:
			fmt.Fprintf(w, " %s%s", addrName(a), maskNumeric(m))
		}
	}
	addr(ipt.CTMatchOrigSrc, "ctorigsrc", i.OrigSrc, i.OrigSrcMask)
	addr(ipt.CTMatchOrigDst, "ctorigdst", i.OrigDst, i.OrigDstMask)
	addr(ipt.CTMatchReplSrc, "ctreplsrc", i.ReplSrc, i.ReplSrcMask)
	addr(ipt.CTMatchReplDst, "ctrepldst", i.ReplDst, i.ReplDstMask)
	port := func(flag uint16, name string, lo, hi uint16) {
		if f&flag == 0 {
			return
		}
		neg(flag)
		fmt.Fprintf(w, " %s%s ", prefix, name)
		printRange16(w, lo, hi)
	}
	port(ipt.CTMatchOrigSrcPort, "ctorigsrcport", i.OrigSrcPort, i.OrigSrcPortHigh)
	port(ipt.CTMatchOrigDstPort, "ctorigdstport", i.OrigDstPort, i.OrigDstPortHigh)
	port(ipt.CTMatchReplSrcPort, "ctreplsrcport", i.ReplSrcPort, i.ReplSrcPortHigh)
	port(ipt.CTMatchReplDstPort, "ctrepldstport", i.ReplDstPort, i.ReplDstPortHigh)
	if f&ipt.CTMatchStatus != 0 {
		neg(ipt.CTMatchStatus)
		fmt.Fprintf(w, " %sctstatus", prefix)
		printCTStatus(w, i.StatusMask)
	}
	if f&ipt.CTMatchExpires != 0 {
		neg(ipt.CTMatchExpires)
		fmt.Fprintf(w, " %sctexpire ", prefix)
		if i.ExpiresMin == i.ExpiresMax {
			fmt.Fprintf(w, "%d", i.ExpiresMin)
		} else {
			fmt.Fprintf(w, "%d:%d", i.ExpiresMin, i.ExpiresMax)
		}
	}
	if f&ipt.CTMatchDirection != 0 {
		if inv&ipt.CTMatchDirection != 0 {
			fmt.Fprintf(w, " %sctdir REPLY", prefix)
		} else {
			fmt.Fprintf(w, " %sctdir ORIGINAL", prefix)
		}
	}
}

func init() {
	hostOpt := func(name string, id uint) xtOpt { return xtOpt{name: name, id: id, typ: xtHostMask, flags: optInvert} }
	portOpt := func(name string, id uint) xtOpt { return xtOpt{name: name, id: id, typ: xtPortRC, flags: optInvert} }
	registerMatch(&ext{
		name: "conntrack", revision: 3,
		opts: []xtOpt{
			{name: "ctstate", id: ctOptState, typ: xtString, flags: optInvert},
			{name: "ctproto", id: ctOptProto, typ: xtProtocol, flags: optInvert},
			hostOpt("ctorigsrc", ctOptOrigSrc), hostOpt("ctorigdst", ctOptOrigDst),
			hostOpt("ctreplsrc", ctOptReplSrc), hostOpt("ctrepldst", ctOptReplDst),
			{name: "ctstatus", id: ctOptStatus, typ: xtString, flags: optInvert},
			{name: "ctexpire", id: ctOptExpire, typ: xtUint32RC, flags: optInvert},
			portOpt("ctorigsrcport", ctOptOrigSrcPort), portOpt("ctorigdstport", ctOptOrigDstPort),
			portOpt("ctreplsrcport", ctOptReplSrcPort), portOpt("ctrepldstport", ctOptReplDstPort),
			{name: "ctdir", id: ctOptDir, typ: xtString},
		},
		parse: func(c *call) error {
			if err := c.parse(); err != nil {
				return err
			}
			i := c.inst.info.(*ipt.ConntrackInfo)
			flag := uint16(0)
			var err error
			switch c.entry.id {
			case ctOptState:
				flag = ipt.CTMatchState
				var m uint16
				if m, err = c.p.parseCTList(c.arg, "ctstate", ctState); err != nil {
					return err
				}
				i.StateMask |= m
			case ctOptProto:
				if c.proto == 0 {
					if c.invert {
						return c.errf("condition would always match protocol")
					}
					return c.errf("rule would never match protocol")
				}
				flag, i.L4Proto = ipt.CTMatchProto, uint16(c.proto)
			case ctOptOrigSrc:
				flag, i.OrigSrc, i.OrigSrcMask = ipt.CTMatchOrigSrc, c.haddr, c.hmask
			case ctOptOrigDst:
				flag, i.OrigDst, i.OrigDstMask = ipt.CTMatchOrigDst, c.haddr, c.hmask
			case ctOptReplSrc:
				flag, i.ReplSrc, i.ReplSrcMask = ipt.CTMatchReplSrc, c.haddr, c.hmask
			case ctOptReplDst:
				flag, i.ReplDst, i.ReplDstMask = ipt.CTMatchReplDst, c.haddr, c.hmask
			case ctOptStatus:
				flag = ipt.CTMatchStatus
				var m uint16
				if m, err = c.p.parseCTList(c.arg, "ctstatus", ctStatus); err != nil {
					return err
				}
				i.StatusMask |= m
			case ctOptExpire:
				flag = ipt.CTMatchExpires
				i.ExpiresMin, i.ExpiresMax = uint32(c.rng[0]), uint32(c.rng[0])
				if c.nvals >= 2 {
					i.ExpiresMax = uint32(c.rng[1])
				}
			case ctOptOrigSrcPort:
				flag, i.OrigSrcPort, i.OrigSrcPortHigh = ipt.CTMatchOrigSrcPort, c.ports[0], c.ports[1]
			case ctOptOrigDstPort:
				flag, i.OrigDstPort, i.OrigDstPortHigh = ipt.CTMatchOrigDstPort, c.ports[0], c.ports[1]
			case ctOptReplSrcPort:
				flag, i.ReplSrcPort, i.ReplSrcPortHigh = ipt.CTMatchReplSrcPort, c.ports[0], c.ports[1]
			case ctOptReplDstPort:
				flag, i.ReplDstPort, i.ReplDstPortHigh = ipt.CTMatchReplDstPort, c.ports[0], c.ports[1]
			case ctOptDir:
				switch {
				case strings.EqualFold(c.arg, "ORIGINAL"):
					i.InvertFlags &^= ipt.CTMatchDirection
				case strings.EqualFold(c.arg, "REPLY"):
					i.InvertFlags |= ipt.CTMatchDirection
				default:
					return c.p.badValue("conntrack", "--ctdir", c.arg)
				}
				i.MatchFlags |= ipt.CTMatchDirection
				return nil
			}
			i.MatchFlags |= flag
			if c.invert {
				i.InvertFlags |= flag
			}
			return nil
		},
		final: func(i *inst) error {
			if i.flags == 0 {
				return i.p.xtError(parameterProblem, "conntrack: At least one option is required")
			}
			return nil
		},
		alias: func(info any) string {
			if info.(*ipt.ConntrackInfo).MatchFlags&ipt.CTMatchStateAlias != 0 {
				return "state"
			}
			return "conntrack"
		},
		print: func(w *strings.Builder, _ *extEnv, info any, numeric bool) {
			ctDump(w, info.(*ipt.ConntrackInfo), "", numeric)
		},
		save: func(w *strings.Builder, _ *extEnv, info any) {
			ctDump(w, info.(*ipt.ConntrackInfo), "--", true)
		},
	})

	// state is conntrack's state test under its old name.
	registerMatch(&ext{
		name: "state", real: "conntrack", revision: 3,
		opts: []xtOpt{{name: "state", typ: xtString, flags: optMand | optInvert}},
		parse: func(c *call) error {
			if err := c.parse(); err != nil {
				return err
			}
			i := c.inst.info.(*ipt.ConntrackInfo)
			m, err := c.p.parseCTList(c.arg, "state", func(word string) (uint16, bool) {
				for _, n := range []string{"INVALID", "NEW", "ESTABLISHED", "RELATED", "UNTRACKED"} {
					if prefixFold(word, n) {
						return ctStateBit(n), true
					}
				}
				return 0, false
			})
			if err != nil {
				return err
			}
			i.MatchFlags = ipt.CTMatchState | ipt.CTMatchStateAlias
			i.StateMask = m
			if c.invert {
				i.InvertFlags |= ipt.CTMatchState
			}
			return nil
		},
	})
}
