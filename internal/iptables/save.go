package iptables

import (
	"fmt"
	"os"
	"strings"
)

var saveLongs = []longOpt{
	{"binary", 0, 'b'}, {"counters", 0, 'c'}, {"dump", 0, 'd'}, {"table", 1, 't'},
	{"modprobe", 1, 'M'}, {"file", 1, 'f'}, {"version", 0, 'V'},
}

var saveShorts = shortOpts("bcdt:M:f:V")

// runSave is iptables-save: every table the host has (newest first), or
// the one -t names, in iptables-restore's format.
func runSave(args []string, o Options) int {
	p := &prog{name: "iptables-save", line: -1, out: o.Stdout, errOut: o.Stderr}
	g := newGetopt(append([]string{"iptables-save"}, args...))
	g.permute = true
	counters, table := false, ""
	for {
		c := g.next(saveShorts, saveLongs)
		if c == -1 {
			break
		}
		switch c {
		case 'b':
			p.warn("-b/--binary option is not implemented\n")
		case 'c':
			counters = true
		case 't':
			table = g.optarg
		case 'M':
		case 'f':
			f, err := os.Create(g.optarg)
			if err != nil {
				p.warn("Failed to open file, error: %s\n", cStrerror(errnoOf(err)))
				return 1
			}
			defer f.Close()
			p.out = f
		case 'd':
		case 'V':
			p.printf("iptables-save v%s\n", Version)
			return 0
		default:
			p.warn("%s\n", g.complaint(c, "iptables-save"))
			p.warn("Look at manual page `iptables-save.8' for more information.\n")
			return 1
		}
	}
	if g.optind < len(g.args) {
		p.warn("Unknown arguments found on commandline\n")
		return 1
	}
	s := &session{p: p, o: o}
	defer s.close()
	tables := []string{table}
	if table == "" {
		be, err := o.dial()
		if err != nil {
			p.warn("%s v%s: Cannot initialize: %v\n", p.name, Version, err)
			return 1
		}
		s.be = be
		if tables, err = be.tables(); err != nil {
			p.warn("%s v%s: Cannot initialize: %s\n", p.name, Version, strerror(fnInit, errnoOf(err)))
			return 1
		}
	}
	for _, t := range tables {
		h, msg := s.load(t)
		if h == nil {
			p.warn("%s v%s: Cannot initialize: %s\n", p.name, Version, msg)
			return 1
		}
		var w strings.Builder
		saveTable(&w, h, counters, o.Now)
		p.printf("%s", w.String())
	}
	return 0
}

// complaint is getopt's own message for an option it did not take.
func (g *getopt) complaint(c int, prog string) string {
	arg := ""
	if g.optind-1 < len(g.args) && g.optind >= 1 {
		arg = g.args[g.optind-1]
	}
	if strings.HasPrefix(arg, "--") {
		if c == ':' {
			return fmt.Sprintf("%s: option '%s' requires an argument", prog, arg)
		}
		return fmt.Sprintf("%s: unrecognized option '%s'", prog, arg)
	}
	letter := g.lastShort
	if c == ':' {
		return fmt.Sprintf("%s: option requires an argument -- '%c'", prog, letter)
	}
	return fmt.Sprintf("%s: invalid option -- '%c'", prog, letter)
}
