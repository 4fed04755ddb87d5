package iptables

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	ipt "vnic/stack/netfilter/iptables"

	"vnic/internal/cnum"
)

// lookupID reads /etc/passwd or /etc/group (file) for a name's id
// (byName) or an id's name.
func lookupID(file, key string, byName bool) (string, bool) {
	f, err := os.Open(etcDir + "/" + file)
	if err != nil {
		return "", false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Split(sc.Text(), ":")
		if len(fs) < 3 {
			continue
		}
		if byName && fs[0] == key {
			return fs[2], true
		}
		if !byName && fs[2] == key {
			return fs[0], true
		}
	}
	return "", false
}

// ownerRange is owner_parse_range: "id", "id-id" or "id:id".
func (p *prog) ownerRange(s, opt string) (uint32, uint32, error) {
	v, rest, ok := strtoulRest(s, 0, math.MaxUint32-1, 0)
	if !ok {
		return 0, 0, p.badValue("owner", opt, s)
	}
	hi := v
	if rest != "" && (rest[0] == '-' || rest[0] == ':') {
		if hi, rest, ok = strtoulRest(rest[1:], 0, math.MaxUint32-1, 0); !ok {
			return 0, 0, p.badValue("owner", opt, s)
		}
	}
	if rest != "" {
		return 0, 0, p.badValue("owner", opt, s)
	}
	return uint32(v), uint32(hi), nil
}

func ownerItem(w *strings.Builder, i *ipt.OwnerInfo, label string, flag uint8, numeric bool) {
	if i.Match&flag == 0 {
		return
	}
	if i.Invert&flag != 0 {
		w.WriteString(" !")
	}
	w.WriteString(" " + label)
	show := func(lo, hi uint32, file string) {
		if lo != hi {
			fmt.Fprintf(w, " %d-%d", lo, hi)
			return
		}
		if !numeric {
			if n, ok := lookupID(file, strconv.FormatUint(uint64(lo), 10), false); ok {
				w.WriteString(" " + n)
				return
			}
		}
		fmt.Fprintf(w, " %d", lo)
	}
	switch flag {
	case ipt.OwnerUID:
		show(i.UIDMin, i.UIDMax, "passwd")
	case ipt.OwnerGID:
		show(i.GIDMin, i.GIDMax, "group")
	}
}

func ownerDump(w *strings.Builder, i *ipt.OwnerInfo, save, numeric bool) {
	labels := []string{"owner socket exists", "owner UID match", "owner GID match", "incl. suppl. groups"}
	if save {
		labels = []string{"--socket-exists", "--uid-owner", "--gid-owner", "--suppl-groups"}
		numeric = true
	}
	ownerItem(w, i, labels[0], ipt.OwnerSocket, numeric)
	ownerItem(w, i, labels[1], ipt.OwnerUID, numeric)
	ownerItem(w, i, labels[2], ipt.OwnerGID, numeric)
	ownerItem(w, i, labels[3], ipt.OwnerSupplGroups, numeric)
}

// rtnNames are the route types addrtype names (rtn_names).
var rtnNames = []string{"UNSPEC", "UNICAST", "LOCAL", "BROADCAST", "ANYCAST", "MULTICAST", "BLACKHOLE",
	"UNREACHABLE", "PROHIBIT", "THROW", "NAT", "XRESOLVE"}

func (p *prog) addrTypes(arg string) (uint16, error) {
	var mask uint16
	one := func(word string) bool {
		for i, n := range rtnNames {
			if prefixFold(word, n) {
				mask |= 1 << i
				return true
			}
		}
		return false
	}
	rest := arg
	for {
		word, tail, more := strings.Cut(rest, ",")
		if !more {
			if word == "" || !one(word) {
				return 0, p.xtError(parameterProblem, "addrtype: bad type \"%s\"", rest)
			}
			return mask, nil
		}
		if word == "" || !one(word) {
			return 0, p.xtError(parameterProblem, "addrtype: bad type `%s'", rest)
		}
		rest = tail
	}
}

func printAddrTypes(w *strings.Builder, mask uint16) {
	sep := ""
	for i, n := range rtnNames {
		if mask&(1<<i) != 0 {
			w.WriteString(sep + n)
			sep = ","
		}
	}
}

// isHexString is is_hex_string: a pattern printed in hex.
func isHexString(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return true
		}
	}
	return len(b) > 0 && b[len(b)-1] == '\\'
}

func printPattern(w *strings.Builder, b []byte) {
	if isHexString(b) {
		w.WriteString(" \"|")
		for _, c := range b {
			fmt.Fprintf(w, "%02x", c)
		}
		w.WriteString("|\"")
		return
	}
	w.WriteString(" \"")
	for _, c := range b {
		if c == '"' || c == '\\' {
			w.WriteByte('\\')
		}
		w.WriteByte(c)
	}
	w.WriteByte('"')
}

// parseHexString is parse_hex_string: literal text with |hex| blocks and
// backslash escapes.
func (p *prog) parseHexString(s string, i *ipt.StringInfo) error {
	if s == "" {
		return p.xtError(parameterProblem, "STRING must contain at least one char")
	}
	isHex := func(c byte) bool { return cnum.DigitVal(c) >= 0 && cnum.DigitVal(c) < 16 }
	hex, literal := false, false
	n := 0
	for k := 0; k < len(s); {
		if n >= ipt.StringMaxPattern {
			return p.xtError(parameterProblem, "STRING too long \"%s\"", s)
		}
		switch {
		case s[k] == '\\' && !hex:
			literal = true
		case s[k] == '\\':
			return p.xtError(parameterProblem, "Cannot include literals in hex data")
		case s[k] == '|':
			if hex {
				hex = false
			} else {
				hex = true
				for k+1 < len(s) && s[k+1] == ' ' {
					k++
				}
			}
			if k+1 >= len(s) {
				i.PatLen = uint8(n)
				return nil
			}
			k++
			continue
		}
		switch {
		case literal:
			if k+1 >= len(s) {
				return p.xtError(parameterProblem, "Bad literal placement at end of string")
			}
			i.Pattern[n] = s[k+1]
			k += 2
			literal = false
		case hex:
			if k+1 >= len(s) {
				return p.xtError(parameterProblem, "Odd number of hex digits")
			}
			if k+2 >= len(s) {
				return p.xtError(parameterProblem, "Invalid hex block")
			}
			if !isHex(s[k]) {
				return p.xtError(parameterProblem, "Invalid hex char '%c'", s[k])
			}
			if !isHex(s[k+1]) {
				return p.xtError(parameterProblem, "Invalid hex char '%c'", s[k+1])
			}
			i.Pattern[n] = byte(cnum.DigitVal(s[k])<<4 | cnum.DigitVal(s[k+1]))
			if s[k+2] == ' ' {
				k += 3
			} else {
				k += 2
			}
		default:
			i.Pattern[n] = s[k]
			k++
		}
		n++
	}
	i.PatLen = uint8(n)
	return nil
}

func init() {
	const owUser, owGroup, owSuppl, owSocket = 0, 1, 2, 3
	registerMatch(&ext{
		name: "owner", revision: 1,
		opts: []xtOpt{{name: "uid-owner", id: owUser, typ: xtString, flags: optInvert},
			{name: "gid-owner", id: owGroup, typ: xtString, flags: optInvert},
			{name: "suppl-groups", id: owSuppl, typ: xtNone, also: 1 << owGroup},
			{name: "socket-exists", id: owSocket, typ: xtNone, flags: optInvert}},
		parse: func(c *call) error {
			if err := c.parse(); err != nil {
				return err
			}
			i := c.inst.info.(*ipt.OwnerInfo)
			var flag uint8
			switch c.entry.id {
			case owUser, owGroup:
				file, opt := "passwd", "--uid-owner"
				flag = ipt.OwnerUID
				if c.entry.id == owGroup {
					file, opt, flag = "group", "--gid-owner", ipt.OwnerGID
				}
				var lo, hi uint32
				if id, ok := lookupID(file, c.arg, true); ok {
					v, _ := strconv.ParseUint(id, 10, 32)
					lo, hi = uint32(v), uint32(v)
				} else {
					var err error
					if lo, hi, err = c.p.ownerRange(c.arg, opt); err != nil {
						return err
					}
				}
				if flag == ipt.OwnerUID {
					i.UIDMin, i.UIDMax = lo, hi
				} else {
					i.GIDMin, i.GIDMax = lo, hi
				}
			case owSuppl:
				i.Match |= ipt.OwnerSupplGroups
				return nil
			case owSocket:
				flag = ipt.OwnerSocket
			}
			i.Match |= flag
			if c.invert {
				i.Invert |= flag
			}
			return nil
		},
		final: func(in *inst) error {
			if in.flags == 0 {
				return in.p.xtError(parameterProblem, "owner: At least one of --uid-owner, --gid-owner or --socket-exists is required")
			}
			return nil
		},
		print: func(w *strings.Builder, _ *extEnv, info any, numeric bool) {
			ownerDump(w, info.(*ipt.OwnerInfo), false, numeric)
		},
		save: func(w *strings.Builder, _ *extEnv, info any) { ownerDump(w, info.(*ipt.OwnerInfo), true, true) },
	})

	const atSrc, atDst, atIn, atOut = 1, 2, 4, 8
	registerMatch(&ext{
		name: "addrtype", revision: 1,
		longs: []longOpt{{"src-type", 1, '1'}, {"dst-type", 1, '2'}, {"limit-iface-in", 0, '3'}, {"limit-iface-out", 0, '4'}},
		oldParse: func(c *call, id int) error {
			i := c.inst.info.(*ipt.AddrTypeInfo)
			switch id {
			case '1', '2':
				flag, what := uint32(atSrc), "src-type"
				if id == '2' {
					flag, what = atDst, "dst-type"
				}
				if c.inst.flags&flag != 0 {
					return c.errf("addrtype: can't specify %s twice", what)
				}
				arg, invert := c.arg, c.invert
				if arg == "!" {
					c.p.warn("Using intrapositioned negation (`--option ! this`) is deprecated in favor of extrapositioned (`! --option this`).\n")
					if invert {
						return c.errf("Multiple `!' flags not allowed")
					}
					invert = true
					if c.g.optind >= len(c.g.args) {
						return c.errf("no argument following `!'")
					}
					arg = c.g.args[c.g.optind]
					c.g.optind++
				}
				m, err := c.p.addrTypes(arg)
				if err != nil {
					return err
				}
				if id == '1' {
					i.Source |= m
					if invert {
						i.Flags |= ipt.AddrTypeInvertSource
					}
				} else {
					i.Dest |= m
					if invert {
						i.Flags |= ipt.AddrTypeInvertDest
					}
				}
				c.inst.flags |= flag
			case '3':
				if c.inst.flags&atIn != 0 {
					return c.errf("addrtype: can't specify limit-iface-in twice")
				}
				i.Flags |= ipt.AddrTypeLimitIn
				c.inst.flags |= atIn
			case '4':
				if c.inst.flags&atOut != 0 {
					return c.errf("addrtype: can't specify limit-iface-out twice")
				}
				i.Flags |= ipt.AddrTypeLimitOut
				c.inst.flags |= atOut
			}
			return nil
		},
		final: func(in *inst) error {
			if in.flags&(atSrc|atDst) == 0 {
				return in.p.xtError(parameterProblem, "addrtype: you must specify --src-type or --dst-type")
			}
			if in.flags&atIn != 0 && in.flags&atOut != 0 {
				return in.p.xtError(parameterProblem, "addrtype: you can't specify both --limit-iface-in and --limit-iface-out")
			}
			return nil
		},
		print: func(w *strings.Builder, _ *extEnv, info any, _ bool) {
			i := info.(*ipt.AddrTypeInfo)
			w.WriteString(" ADDRTYPE match")
			if i.Source != 0 {
				w.WriteString(" src-type ")
				if i.Flags&ipt.AddrTypeInvertSource != 0 {
					w.WriteByte('!')
				}
				printAddrTypes(w, i.Source)
			}
			if i.Dest != 0 {
				w.WriteString(" dst-type ")
				if i.Flags&ipt.AddrTypeInvertDest != 0 {
					w.WriteByte('!')
				}
				printAddrTypes(w, i.Dest)
			}
			if i.Flags&ipt.AddrTypeLimitIn != 0 {
				w.WriteString(" limit-in")
			}
			if i.Flags&ipt.AddrTypeLimitOut != 0 {
				w.WriteString(" limit-out")
			}
		},
		save: func(w *strings.Builder, _ *extEnv, info any) {
			i := info.(*ipt.AddrTypeInfo)
			if i.Source != 0 {
				fmt.Fprintf(w, "%s --src-type ", sbang(i.Flags&ipt.AddrTypeInvertSource != 0))
				printAddrTypes(w, i.Source)
			}
			if i.Dest != 0 {
				fmt.Fprintf(w, "%s --dst-type ", sbang(i.Flags&ipt.AddrTypeInvertDest != 0))
				printAddrTypes(w, i.Dest)
			}
			if i.Flags&ipt.AddrTypeLimitIn != 0 {
				w.WriteString(" --limit-iface-in")
			}
			if i.Flags&ipt.AddrTypeLimitOut != 0 {
				w.WriteString(" --limit-iface-out")
			}
		},
	})

	const stFrom, stTo, stAlgo, stString, stHex, stIcase = 0, 1, 2, 3, 4, 5
	registerMatch(&ext{
		name: "string", revision: 1,
		opts: []xtOpt{{name: "from", id: stFrom, typ: xtUint16}, {name: "to", id: stTo, typ: xtUint16},
			{name: "algo", id: stAlgo, typ: xtString, flags: optMand},
			{name: "string", id: stString, typ: xtString, flags: optInvert, excl: 1 << stHex},
			{name: "hex-string", id: stHex, typ: xtString, flags: optInvert, excl: 1 << stString},
			{name: "icase", id: stIcase, typ: xtNone}},
		init: func(in *inst) { in.info.(*ipt.StringInfo).ToOffset = math.MaxUint16 },
		parse: func(c *call) error {
			if err := c.parse(); err != nil {
				return err
			}
			i := c.inst.info.(*ipt.StringInfo)
			switch c.entry.id {
			case stFrom:
				i.FromOffset = c.u16
			case stTo:
				i.ToOffset = c.u16
			case stAlgo:
				ipt.PutCString(i.Algo[:], c.arg)
			case stString:
				if len(c.arg) > ipt.StringMaxPattern {
					return c.errf("STRING too long \"%s\"", c.arg)
				}
				i.Pattern = [ipt.StringMaxPattern]byte{}
				copy(i.Pattern[:], c.arg)
				i.PatLen = uint8(len(c.arg))
			case stHex:
				if err := c.p.parseHexString(c.arg, i); err != nil {
					return err
				}
			case stIcase:
				i.Flags |= ipt.StringIgnoreCase
			}
			if c.invert && (c.entry.id == stString || c.entry.id == stHex) {
				i.Flags |= ipt.StringInvert
			}
			return nil
		},
		final: func(in *inst) error {
			if in.flags&(1<<stString|1<<stHex) == 0 {
				return in.p.xtError(parameterProblem, "STRING match: You must specify `--string' or `--hex-string'")
			}
			return nil
		},
		print: func(w *strings.Builder, _ *extEnv, info any, _ bool) {
			i := info.(*ipt.StringInfo)
			fmt.Fprintf(w, " STRING match %s", bang(i.Flags&ipt.StringInvert != 0))
			printPattern(w, i.Pattern[:min(int(i.PatLen), ipt.StringMaxPattern)])
			fmt.Fprintf(w, " ALGO name %s", ipt.CString(i.Algo[:]))
			if i.FromOffset != 0 {
				fmt.Fprintf(w, " FROM %d", i.FromOffset)
			}
			if i.ToOffset != math.MaxUint16 {
				fmt.Fprintf(w, " TO %d", i.ToOffset)
			}
			if i.Flags&ipt.StringIgnoreCase != 0 {
				w.WriteString(" ICASE")
			}
		},
		save: func(w *strings.Builder, _ *extEnv, info any) {
			i := info.(*ipt.StringInfo)
			pat := i.Pattern[:min(int(i.PatLen), ipt.StringMaxPattern)]
			if isHexString(pat) {
				fmt.Fprintf(w, "%s --hex-string", sbang(i.Flags&ipt.StringInvert != 0))
			} else {
				fmt.Fprintf(w, "%s --string", sbang(i.Flags&ipt.StringInvert != 0))
			}
			printPattern(w, pat)
			fmt.Fprintf(w, " --algo %s", ipt.CString(i.Algo[:]))
			if i.FromOffset != 0 {
				fmt.Fprintf(w, " --from %d", i.FromOffset)
			}
			if i.ToOffset != math.MaxUint16 {
				fmt.Fprintf(w, " --to %d", i.ToOffset)
			}
			if i.Flags&ipt.StringIgnoreCase != 0 {
				w.WriteString(" --icase")
			}
		},
	})
}
