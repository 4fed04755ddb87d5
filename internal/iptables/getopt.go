package iptables

import "strings"

// Argument kinds of an option (struct option's has_arg).
const (
	noArgument       = 0
	requiredArgument = 1
	optionalArgument = 2
)

// longOpt is one long option (struct option).
type longOpt struct {
	name   string
	hasArg int
	val    int
}

// getopt is GNU getopt_long as iptables drives it: options in order
// ("-" first in the option string: every word that is not an option comes
// back as code 1), ":" reporting a missing argument, "--name=value" and
// unambiguous abbreviations of long options, clusters of short ones. The
// long options may change between calls (extensions add theirs).
type getopt struct {
	args     []string // argv, argv[0] included
	optind   int
	nextchar string
	optarg   string
	hasArg   bool // optarg is set
	// lastShort is the last short option letter read.
	lastShort byte
	// permute is GNU getopt's default (an option string not starting
	// with "-"): words that are not options are passed over and, at the
	// end, left from optind on.
	permute bool
	nonopts []string
}

func newGetopt(args []string) *getopt { return &getopt{args: args, optind: 1} }

// shortOpts parses an option string into its letters' argument kinds.
func shortOpts(spec string) map[byte]int {
	spec = strings.TrimLeft(spec, "-+")
	spec = strings.TrimPrefix(spec, ":")
	m := map[byte]int{}
	for i := 0; i < len(spec); i++ {
		c := spec[i]
		k := noArgument
		if i+1 < len(spec) && spec[i+1] == ':' {
			k = requiredArgument
			i++
			if i+1 < len(spec) && spec[i+1] == ':' {
				k = optionalArgument
				i++
			}
		}
		m[c] = k
	}
	return m
}

// next returns the next option's value, 1 with optarg for a word that is
// not an option, '?' for an unknown or ambiguous option, ':' for one
// missing its argument, -1 at the end.
func (g *getopt) next(shorts map[byte]int, longs []longOpt) int {
	g.optarg, g.hasArg = "", false
	if g.nextchar == "" {
		for g.permute && g.optind < len(g.args) && (len(g.args[g.optind]) < 2 || g.args[g.optind][0] != '-') {
			g.nonopts = append(g.nonopts, g.args[g.optind])
			g.args = append(g.args[:g.optind:g.optind], g.args[g.optind+1:]...)
		}
		if g.optind >= len(g.args) {
			g.endPermute()
			return -1
		}
		arg := g.args[g.optind]
		if arg == "--" {
			g.optind++
			g.endPermute()
			return -1
		}
		if len(arg) < 2 || arg[0] != '-' {
			g.optarg, g.hasArg = arg, true
			g.optind++
			return 1
		}
		if arg[1] == '-' {
			g.optind++
			return g.long(arg[2:], longs)
		}
		g.nextchar = arg[1:]
	}
	c := g.nextchar[0]
	g.lastShort = c
	g.nextchar = g.nextchar[1:]
	kind, known := shorts[c]
	if g.nextchar == "" {
		g.optind++
	}
	if !known || c == ':' {
		return '?'
	}
	switch kind {
	case requiredArgument:
		if g.nextchar != "" {
			g.optarg, g.hasArg = g.nextchar, true
			g.nextchar = ""
			g.optind++
		} else if g.optind < len(g.args) {
			g.optarg, g.hasArg = g.args[g.optind], true
			g.optind++
		} else {
			return ':'
		}
	case optionalArgument:
		if g.nextchar != "" {
			g.optarg, g.hasArg = g.nextchar, true
			g.nextchar = ""
			g.optind++
		}
	}
	return int(c)
}

// endPermute puts the words passed over back, from optind on.
func (g *getopt) endPermute() {
	if len(g.nonopts) == 0 {
		return
	}
	rest := append(append([]string{}, g.nonopts...), g.args[g.optind:]...)
	g.args = append(g.args[:g.optind:g.optind], rest...)
	g.nonopts = nil
}

// long handles "--name[=value]" (optind already past it).
func (g *getopt) long(body string, longs []longOpt) int {
	name, value, hasValue := strings.Cut(body, "=")
	var found *longOpt
	ambiguous := false
	for i := range longs {
		o := &longs[i]
		if o.name == name {
			found, ambiguous = o, false
			break
		}
		if strings.HasPrefix(o.name, name) {
			if found == nil {
				found = o
			} else if found.hasArg != o.hasArg || found.val != o.val {
				ambiguous = true
			}
		}
	}
	if found == nil || ambiguous || name == "" {
		return '?'
	}
	switch {
	case hasValue:
		if found.hasArg == noArgument {
			return '?'
		}
		g.optarg, g.hasArg = value, true
	case found.hasArg == requiredArgument:
		if g.optind >= len(g.args) {
			return ':'
		}
		g.optarg, g.hasArg = g.args[g.optind], true
		g.optind++
	}
	return found.val
}

// hasNextArg is xs_has_arg: the next word is an argument (not an option,
// not "!").
func (g *getopt) hasNextArg() bool {
	return g.optind < len(g.args) && !strings.HasPrefix(g.args[g.optind], "-") && !strings.HasPrefix(g.args[g.optind], "!")
}

// optionalArg is an option's optional argument: its own (-L=chain,
// -Lchain) or the next word when that is no option.
func (g *getopt) optionalArg() string {
	if g.hasArg {
		return g.optarg
	}
	if g.hasNextArg() {
		g.optind++
		return g.args[g.optind-1]
	}
	return ""
}
