package conntrack

import "strings"

// Argument kinds of an option (struct option's has_arg).
const (
	noArg       = 0
	requiredArg = 1
	optionalArg = 2
)

// longOpt is one struct option: a name, its argument kind, the value
// getopt_long returns for it.
type longOpt struct {
	name string
	arg  int
	val  rune
}

// getopt is GNU getopt_long as conntrack runs it: optstring with a
// leading ':' (a missing argument returns ':', an unknown option '?',
// neither printed), arguments permuted (options are found after
// non-options, which are left for the program, and "--" ends the
// options), long options matched exactly or by an unambiguous prefix.
type getopt struct {
	args   []string
	short  map[rune]int // the short options and their argument kinds
	long   []longOpt
	optind int // the next argument to look at
	next   int // within a cluster of short options: the next one's offset in args[optind]
	optarg string
	hasArg bool // optarg is set (an optional argument may be absent)
	done   bool
}

// parseShort reads an optstring ("L::s:z...") into kinds.
func parseShort(optstring string) map[rune]int {
	m := map[rune]int{}
	rs := []rune(strings.TrimPrefix(optstring, ":"))
	for i := 0; i < len(rs); i++ {
		c, kind := rs[i], noArg
		if i+1 < len(rs) && rs[i+1] == ':' {
			kind = requiredArg
			i++
			if i+1 < len(rs) && rs[i+1] == ':' {
				kind = optionalArg
				i++
			}
		}
		m[c] = kind
	}
	return m
}

// nonOption is whether an argument is not an option (getopt's
// NONOPTION_P): it does not start with '-', or is "-".
func nonOption(s string) bool { return len(s) < 2 || s[0] != '-' }

// get returns the next option, or -1 when there are no more. optind is
// then where the next argument is, as getopt leaves it: an option's
// value taken from the following argument is behind it.
func (g *getopt) get() rune {
	g.optarg, g.hasArg = "", false
	if g.done {
		return -1
	}
	if g.next == 0 {
		// Skip non-options (they are permuted behind the options).
		for g.optind < len(g.args) && nonOption(g.args[g.optind]) {
			g.optind++
		}
		if g.optind >= len(g.args) {
			g.done = true
			return -1
		}
		if g.args[g.optind] == "--" {
			g.optind++
			g.done = true
			return -1
		}
		if strings.HasPrefix(g.args[g.optind], "--") {
			return g.getLong()
		}
		g.next = 1
	}
	arg := g.args[g.optind]
	c := []rune(arg[g.next:])[0]
	g.next += len(string(c))
	last := g.next >= len(arg)
	kind, ok := g.short[c]
	if !ok || c == ':' {
		g.advance(last)
		return '?'
	}
	switch kind {
	case noArg:
		g.advance(last)
	case optionalArg:
		if !last {
			g.optarg, g.hasArg = arg[g.next:], true
		}
		g.optind++
		g.next = 0
	case requiredArg:
		switch {
		case !last:
			g.optarg, g.hasArg = arg[g.next:], true
			g.optind++
		case g.optind+1 < len(g.args):
			g.optarg, g.hasArg = g.args[g.optind+1], true
			g.optind += 2
		default:
			g.optind++
			g.next = 0
			return ':'
		}
		g.next = 0
	}
	return c
}

func (g *getopt) advance(last bool) {
	if last {
		g.optind++
		g.next = 0
	}
}

// getLong is one "--name[=value]" option.
func (g *getopt) getLong() rune {
	arg := g.args[g.optind][2:]
	name, value, hasValue := strings.Cut(arg, "=")
	g.optind++
	var match *longOpt
	ambiguous := false
	for i := range g.long {
		o := &g.long[i]
		if !strings.HasPrefix(o.name, name) {
			continue
		}
		if o.name == name {
			match, ambiguous = o, false
			break
		}
		if match == nil {
			match = o
		} else if match.arg != o.arg || match.val != o.val {
			ambiguous = true
		}
	}
	if match == nil || ambiguous {
		return '?'
	}
	switch match.arg {
	case noArg:
		if hasValue {
			return '?'
		}
	case optionalArg:
		if hasValue {
			g.optarg, g.hasArg = value, true
		}
	case requiredArg:
		switch {
		case hasValue:
			g.optarg, g.hasArg = value, true
		case g.optind < len(g.args):
			g.optarg, g.hasArg = g.args[g.optind], true
			g.optind++
		default:
			return ':'
		}
	}
	return match.val
}

// culprit is the argument an error names: argv[optind-1].
func (g *getopt) culprit() string {
	i := g.optind - 1
	if g.next > 0 {
		i = g.optind
	}
	if i < 0 || i >= len(g.args) {
		return ""
	}
	return g.args[i]
}
