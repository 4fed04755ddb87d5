package cli

import (
	"fmt"
	"strconv"
	"strings"

	"vnic/ethtool"
)

// kind is a set parameter's value type.
type kind int

const (
	kU32        kind = iota // a number (decimal, 0x hex or 0 octal)
	kU8                     // a number up to 255
	kBool                   // on|off
	kStr                    // any word
	kEnum                   // one of pspec.enum
	kBitset                 // hex[/hex], or NAME on|off ... [--] (advertise, msglvl)
	kWol                    // N[/M], or letters of pumbagsfd
	kMAC                    // xx:xx:xx:xx:xx:xx (sopass)
	kDeprecated             // takes a value, then is refused (xcvr)
	kWords                  // one or more words up to the next keyword (--set-fec encoding)
)

// pspec is one keyword a set mode accepts.
type pspec struct {
	name string
	kind kind
	enum []string
}

// pval is a parsed parameter.
type pval struct {
	name string
	u32  uint32
	on   bool
	str  string
	strs []string // kBitset names with on|off, kWords
	// off is the parameter's attribute offset in the netlink request
	// ethtool would send (header first, then parameters in order).
	off int
}

var (
	pauseParams   = []pspec{{"autoneg", kBool, nil}, {"rx", kBool, nil}, {"tx", kBool, nil}}
	ringParams    = []pspec{{"rx", kU32, nil}, {"rx-mini", kU32, nil}, {"rx-jumbo", kU32, nil}, {"tx", kU32, nil}, {"rx-buf-len", kU32, nil}, {"cqe-size", kU32, nil}, {"tx-push", kBool, nil}}
	channelParams = []pspec{{"rx", kU32, nil}, {"tx", kU32, nil}, {"other", kU32, nil}, {"combined", kU32, nil}}
	eeeParams     = []pspec{{"eee", kBool, nil}, {"advertise", kBitset, nil}, {"tx-lpi", kBool, nil}, {"tx-timer", kU32, nil}}
	tdrParams     = []pspec{{"first", kU32, nil}, {"last", kU32, nil}, {"step", kU32, nil}, {"pair", kU8, nil}}
	moduleParams  = []pspec{{"power-mode-policy", kEnum, []string{"high", "auto"}}}
	changeParams  = []pspec{{"speed", kU32, nil}, {"lanes", kU32, nil}, {"duplex", kEnum, []string{"half", "full"}},
		{"port", kEnum, []string{"tp", "aui", "bnc", "mii", "fibre", "da"}}, {"mdix", kEnum, []string{"auto", "on", "off"}},
		{"autoneg", kBool, nil}, {"advertise", kBitset, nil}, {"phyad", kU8, nil}, {"xcvr", kDeprecated, nil},
		{"wol", kWol, nil}, {"sopass", kMAC, nil}, {"msglvl", kBitset, nil},
		{"master-slave", kEnum, []string{"preferred-master", "preferred-slave", "forced-master", "forced-slave"}}}
	fecParams = []pspec{{"encoding", kWords, nil}}
)

func coalesceParams() []pspec {
	var table []pspec
	for p := ethtool.CoalesceParam(0); p < ethtool.NumCoalesceParams; p++ {
		k := kU32
		if p.Bool() {
			k = kBool
		}
		table = append(table, pspec{p.String(), k, nil})
	}
	return table
}

// paramParser is a mode's parse step over a keyword table (ethtool's
// nl_parser): the values go to r.ps.
func paramParser(table []pspec) func(r *run) int {
	return func(r *run) int {
		ps, ok := r.parseParams(table)
		if !ok {
			return 1
		}
		r.ps = ps
		return -1
	}
}

// requiredParser is paramParser for modes that need at least one
// parameter ("parameters missing").
func requiredParser(table []pspec) func(r *run) int {
	p := paramParser(table)
	return func(r *run) int {
		if len(r.args) == 0 {
			fmt.Fprintf(r.Stderr, "ethtool (%s): parameters missing\n", r.mode.short())
			return 1
		}
		return p(r)
	}
}

func lookupSpec(table []pspec, name string) *pspec {
	for k := range table {
		if table[k].name == name {
			return &table[k]
		}
	}
	return nil
}

// isHexBitset reports whether s is a numeric bitset: a 0x prefix, or hex
// digits only (with an optional /mask).
func isHexBitset(s string) bool {
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
		return true
	}
	for _, c := range s {
		if !strings.ContainsRune("0123456789abcdefABCDEF/", c) {
			return false
		}
	}
	return s != ""
}

// hexBitsetBad returns the number (without its 0x) of a numeric bitset
// that is not hex ("" and true for an empty one), as ethtool's message
// quotes it.
func hexBitsetBad(s string) (string, bool) {
	for _, part := range strings.SplitN(s, "/", 2) {
		p := part
		if strings.HasPrefix(p, "0x") || strings.HasPrefix(p, "0X") {
			p = p[2:]
		}
		if p == "" {
			return "", true
		}
		for _, c := range p {
			if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
				return p, true
			}
		}
	}
	return "", false
}

// parseParams is ethtool's nl_parser: keyword value pairs from a table;
// unknown keywords, missing and malformed values are errors printed as
// ethtool prints them (exit 1).
func (r *run) parseParams(table []pspec) ([]pval, bool) {
	var out []pval
	off := 20 + headerLen(r.devname, false)
	m := r.mode.short()
	invalid := func(v, name string) ([]pval, bool) {
		fmt.Fprintf(r.Stderr, "ethtool (%s): invalid value '%s' for parameter '%s'\n", m, v, name)
		return nil, false
	}
	for i := 0; i < len(r.args); i++ {
		name := r.args[i]
		spec := lookupSpec(table, name)
		if spec == nil {
			fmt.Fprintf(r.Stderr, "ethtool (%s): unknown parameter '%s'\n", m, name)
			return nil, false
		}
		if i+1 >= len(r.args) {
			fmt.Fprintf(r.Stderr, "ethtool (%s): no value for parameter '%s'\n", m, name)
			return nil, false
		}
		v := r.args[i+1]
		i++
		p := pval{name: name, off: off, str: v}
		switch spec.kind {
		case kU32, kU8:
			max := uint64(0xFFFFFFFF)
			if spec.kind == kU8 {
				max = 0xFF
			}
			n, err := strconv.ParseUint(v, 0, 32)
			if err != nil || n > max {
				return invalid(v, name)
			}
			p.u32 = uint32(n)
		case kBool:
			switch v {
			case "on":
				p.on = true
			case "off":
			default:
				return invalid(v, name)
			}
		case kStr:
		case kEnum:
			found := false
			for _, e := range spec.enum {
				found = found || e == v
			}
			if !found {
				return invalid(v, name)
			}
		case kDeprecated:
			fmt.Fprintf(r.Stderr, "ethtool (%s): deprecated parameter '%s' not supported by kernel\n", m, name)
			return nil, false
		case kMAC:
			if _, ok := parseMAC(v); !ok {
				fmt.Fprintf(r.Stderr, "ethtool (%s): invalid value '%s' of parameter '%s'\n", m, v, name)
				return nil, false
			}
		case kWol:
			if v[0] >= '0' && v[0] <= '9' {
				if _, _, ok := parseNumMask(v); !ok {
					return invalid(v, name)
				}
				break
			}
			for _, c := range v {
				if !strings.ContainsRune("pumbagsfd", c) {
					fmt.Fprintf(r.Stderr, "ethtool (%s): invalid char '%c' in '%s' for parameter '%s'\n", m, c, v, name)
					return nil, false
				}
			}
		case kBitset:
			if isHexBitset(v) {
				if bad, isBad := hexBitsetBad(v); isBad {
					return invalid(bad, name)
				}
				break
			}
			// NAME on|off pairs up to a keyword of the table or "--".
			p.str = ""
			j := i
			for j < len(r.args) {
				w := r.args[j]
				if w == "--" {
					j++
					break
				}
				if j > i && lookupSpec(table, w) != nil {
					break
				}
				if j+1 >= len(r.args) || (r.args[j+1] != "on" && r.args[j+1] != "off") {
					fmt.Fprintf(r.Stderr, "ethtool (%s): flag '%s' for parameter '%s' is not followed by 'on' or 'off'\n", m, w, name)
					return nil, false
				}
				p.strs = append(p.strs, w, r.args[j+1])
				j += 2
			}
			i = j - 1
		case kWords:
			p.str = ""
			p.strs = []string{v}
			for i+1 < len(r.args) && lookupSpec(table, r.args[i+1]) == nil {
				i++
				p.strs = append(p.strs, r.args[i])
			}
		}
		off += 8 // a u32 or u8 attribute, padded
		out = append(out, p)
	}
	return out, true
}

// ioctlParser is ethtool's parse_generic_cmdline for the ioctl modes:
// every error is "bad command line argument(s)".
func ioctlParser(table []pspec) func(r *run) int {
	return func(r *run) int {
		var out []pval
		for i := 0; i < len(r.args); i += 2 {
			spec := lookupSpec(table, r.args[i])
			if spec == nil || i+1 >= len(r.args) {
				return r.badArgs()
			}
			v := r.args[i+1]
			p := pval{name: spec.name, str: v}
			switch spec.kind {
			case kU32:
				n, ok := parseNum(v)
				if !ok {
					return r.badArgs()
				}
				p.u32 = n
			case kBool:
				switch v {
				case "on":
					p.on = true
				case "off":
				default:
					return r.badArgs()
				}
			}
			out = append(out, p)
		}
		r.ps = out
		return -1
	}
}

var (
	regsParams      = []pspec{{"raw", kBool, nil}, {"hex", kBool, nil}, {"file", kStr, nil}}
	eepromParams    = []pspec{{"raw", kBool, nil}, {"offset", kU32, nil}, {"length", kU32, nil}}
	setEEPROMParams = []pspec{{"magic", kU32, nil}, {"offset", kU32, nil}, {"length", kU32, nil}, {"value", kU32, nil}}
)

// parseMAC parses xx:xx:xx:xx:xx:xx (one or two hex digits each).
func parseMAC(s string) ([6]byte, bool) {
	var a [6]byte
	parts := strings.Split(s, ":")
	if len(parts) != 6 {
		return a, false
	}
	for i, p := range parts {
		if len(p) == 0 || len(p) > 2 {
			return a, false
		}
		v, err := strconv.ParseUint(p, 16, 8)
		if err != nil {
			return a, false
		}
		a[i] = byte(v)
	}
	return a, true
}

// parseNumMask parses N[/M] (ethtool's bitfield32 numbers).
func parseNumMask(s string) (v, mask uint32, ok bool) {
	vs, ms, hasMask := strings.Cut(s, "/")
	v, ok = parseNum(vs)
	if !ok {
		return 0, 0, false
	}
	mask = 0xFFFFFFFF
	if hasMask {
		if mask, ok = parseNum(ms); !ok {
			return 0, 0, false
		}
	}
	return v, mask, true
}

// headerLen is the size of a request's header nest: the device name and,
// for feature requests, the flags.
func headerLen(dev string, flags bool) int {
	n := 4 + align4(4+len(dev)+1)
	if flags {
		n += 8
	}
	return n
}

func align4(n int) int { return (n + 3) &^ 3 }

// offsetOf returns the request offset of the parameter err names.
func offsetOf(ps []pval, err error) int {
	e, ok := err.(*ethtool.Error)
	if !ok || e.Attr == "" {
		return 0
	}
	for _, p := range ps {
		if p.name == e.Attr {
			return p.off
		}
	}
	return 0
}

// onOff renders a bool as ethtool does.
func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// parseNum parses an ethtool number (decimal, 0x hex, 0 octal).
func parseNum(s string) (uint32, bool) {
	n, err := strconv.ParseUint(strings.TrimSpace(s), 0, 32)
	return uint32(n), err == nil
}

func opt(ps []pval, name string) ethtool.Opt32 {
	for _, p := range ps {
		if p.name == name {
			return ethtool.Some32(p.u32)
		}
	}
	return ethtool.Opt32{}
}

func optBool(ps []pval, name string) ethtool.OptBool {
	for _, p := range ps {
		if p.name == name {
			return ethtool.SomeBool(p.on)
		}
	}
	return ethtool.OptBool{}
}

func optStr(ps []pval, name string) string {
	for _, p := range ps {
		if p.name == name {
			return p.str
		}
	}
	return ""
}

func has(ps []pval, name string) bool {
	for _, p := range ps {
		if p.name == name {
			return true
		}
	}
	return false
}
