package iptables

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	ipt "vnic/stack/netfilter/iptables"
)

var restoreLongs = []longOpt{
	{"counters", 0, 'c'}, {"verbose", 0, 'v'}, {"version", 0, 'V'}, {"test", 0, 't'}, {"help", 0, 'h'},
	{"noflush", 0, 'n'}, {"modprobe", 1, 'M'}, {"table", 1, 'T'}, {"wait", 2, 'w'}, {"wait-interval", 2, 'W'},
}

var restoreShorts = shortOpts("bcvVthnwWM:T:")

// maxRestoreLine is fgets' buffer in iptables-restore: a longer line is
// read in pieces.
const maxRestoreLine = 10240

// restorer is one run of iptables-restore.
type restorer struct {
	s        *session
	counters bool
	verbose  bool
	testing  bool
	noflush  bool
	only     string // -T: the one table restored
}

// runRestore is iptables-restore: tables in iptables-save's format from
// the standard input (or the file named), each replaced at its COMMIT
// line in one swap; a line that fails ends the run with its number.
func runRestore(args []string, o Options) int {
	p := &prog{name: "iptables-restore", line: 0, out: o.Stdout, errOut: o.Stderr}
	g := newGetopt(append([]string{"iptables-restore"}, args...))
	g.permute = true
	r := &restorer{}
	for {
		c := g.next(restoreShorts, restoreLongs)
		if c == -1 {
			break
		}
		switch c {
		case 'b':
			p.warn("-b/--binary option is not implemented\n")
		case 'c':
			r.counters = true
		case 'v':
			r.verbose = true
		case 'V':
			p.printf("iptables-restore v%s\n", Version)
			return 0
		case 't':
			r.testing = true
		case 'h':
			p.printf("Usage: iptables-restore [-c] [-v] [-V] [-t] [-h] [-n] [-w secs] [-W usecs] [-T table] [-M command] [file]\n")
			return 0
		case 'n':
			r.noflush = true
		case 'w', 'W':
			if !g.hasArg && g.hasNextArg() {
				g.optind++ // vnic takes no lock: nothing to wait for
			}
		case 'M':
		case 'T':
			r.only = g.optarg
		default:
			p.warn("%s\n", g.complaint(c, "iptables-restore"))
			p.warn("Try `iptables-restore -h' for more information.\n")
			return 1
		}
	}
	in := o.Stdin
	switch {
	case g.optind == len(g.args)-1:
		f, err := os.Open(g.args[g.optind])
		if err != nil {
			p.warn("Can't open %s: %s\n", g.args[g.optind], cStrerror(errnoOf(err)))
			return 1
		}
		defer f.Close()
		in = f
	case g.optind < len(g.args):
		p.warn("Unknown arguments found on commandline\n")
		return 1
	}
	r.s = &session{p: p, o: o}
	r.s.sets(nil)
	defer r.s.close()
	if err := r.run(in); err != nil {
		return exitWith(p.errOut, err)
	}
	return 0
}

// failed is the "line N failed" exit.
func (r *restorer) failed() error {
	return &Error{Code: otherProblem, Text: fmt.Sprintf("iptables-restore: line %d failed\n", r.s.p.line)}
}

// readLine is fgets with iptables-restore's buffer: a line with its
// newline, or a piece of a longer one.
func readLine(br *bufio.Reader) (string, bool) {
	var b strings.Builder
	for b.Len() < maxRestoreLine-1 {
		c, err := br.ReadByte()
		if err != nil {
			return b.String(), b.Len() > 0
		}
		b.WriteByte(c)
		if c == '\n' {
			break
		}
	}
	return b.String(), true
}

func (r *restorer) run(in io.Reader) error {
	p := r.s.p
	br := bufio.NewReader(in)
	var h *handle
	inTable := false
	curtable := ""
	for {
		buffer, ok := readLine(br)
		if !ok {
			break
		}
		p.line++
		ret := false
		switch {
		case buffer[0] == '\n':
			continue
		case buffer[0] == '#':
			if r.verbose {
				p.printf("%s", buffer)
			}
			continue
		case buffer == "COMMIT\n" && inTable:
			ret = true
			if !r.testing {
				ret = r.s.commit(h)
			}
			delete(r.s.handles, curtable)
			h, inTable = nil, false
		case buffer[0] == '*' && !inTable:
			fs := strings.Fields(buffer[1:])
			if len(fs) == 0 {
				return p.xtError(parameterProblem, "%s: line %d table name invalid", p.name, p.line)
			}
			table := fs[0]
			if len(table) > 32 {
				table = table[:32]
			}
			curtable = table
			if r.only != "" && r.only != table {
				continue
			}
			delete(r.s.handles, table)
			if h, _ = r.s.load(table); h == nil {
				return p.xtError(parameterProblem, "%s: unable to initialize table '%s'", p.name, table)
			}
			if !r.noflush {
				r.s.forEachChain(h, "", true, r.verbose, "Flushing", h.flushEntries)
				r.s.forEachChain(h, "", false, r.verbose, "Deleting", h.deleteChain)
			}
			ret, inTable = true, true
		case buffer[0] == ':' && inTable:
			if err := r.chainLine(h, buffer); err != nil {
				return err
			}
			ret = true
		case inTable:
			var err error
			if ret, err = r.ruleLine(h, curtable, buffer); err != nil {
				return err
			}
		}
		if r.only != "" && r.only != curtable {
			continue
		}
		if !ret {
			return r.failed()
		}
	}
	if inTable && !r.testing {
		return &Error{Code: otherProblem, Text: fmt.Sprintf("iptables-restore: COMMIT expected at line %d\n", p.line+1)}
	}
	return nil
}

// chainLine is ":CHAIN POLICY [p:b]": a user chain made (or, with
// --noflush, flushed), a built-in chain's policy set.
func (r *restorer) chainLine(h *handle, buffer string) error {
	p := r.s.p
	fs := strings.Fields(buffer[1:])
	if len(fs) == 0 {
		return p.xtError(parameterProblem, "%s: line %d chain name invalid", p.name, p.line)
	}
	chain := fs[0]
	if len(chain) >= ipt.MaxChainName+1 {
		return p.xtError(parameterProblem, "Invalid chain name `%s' (%d chars max)", chain, ipt.MaxChainName)
	}
	if !h.builtin(chain) {
		if r.noflush && h.isChain(chain) {
			h.flushEntries(chain)
		} else if !h.createChain(chain) {
			return p.xtError(parameterProblem, "error creating chain '%s':%s", chain, cStrerror(h.errno))
		}
	}
	if len(fs) < 2 {
		return p.xtError(parameterProblem, "%s: line %d policy invalid", p.name, p.line)
	}
	policy := fs[1]
	if policy == "-" {
		return nil
	}
	var count ipt.Counters
	if r.counters {
		if len(fs) < 3 || !parseCounters(fs[2], &count) {
			return p.xtError(parameterProblem, "invalid policy counters for chain '%s'", chain)
		}
	}
	if !h.setPolicy(chain, policy, &count) {
		return &Error{Code: otherProblem, Text: fmt.Sprintf("%s v%s: Can't set policy `%s' on `%s' line %d: %s\n",
			p.name, Version, policy, chain, p.line, strerror(h.fn, h.errno))}
	}
	return nil
}

// strtok is C's strtok over s: the next token after any delimiters,
// and what follows its end (past the delimiter that ended it).
func strtok(s, delims string) (tok, rest string, ok bool) {
	s = strings.TrimLeft(s, delims)
	if s == "" {
		return "", "", false
	}
	if i := strings.IndexAny(s, delims); i >= 0 {
		return s[:i], s[i+1:], true
	}
	return s, "", true
}

// parseCounters is "[p:b]".
func parseCounters(s string, c *ipt.Counters) bool {
	var pk, by uint64
	if n, _ := fmt.Sscanf(s, "[%d:%d]", &pk, &by); n != 2 {
		return false
	}
	c.Packets, c.Bytes = pk, by
	return true
}

// ruleLine is a command line of the table: "[p:b] " counters, then the
// words given to iptables' parser with "-t TABLE" before them.
func (r *restorer) ruleLine(h *handle, table, buffer string) (bool, error) {
	p := r.s.p
	parsestart := buffer
	var pcnt, bcnt string
	if buffer[0] == '[' {
		// The counters are strtok(buffer+1, ":") and strtok(NULL, "]");
		// the command starts after the first ']'.
		end := strings.IndexByte(buffer, ']')
		if end < 0 {
			return false, p.xtError(parameterProblem, "Bad line %d: need ]", p.line)
		}
		var ok bool
		rest := buffer[1:]
		if pcnt, rest, ok = strtok(rest, ":"); !ok {
			return false, p.xtError(parameterProblem, "Bad line %d: need :", p.line)
		}
		if bcnt, _, ok = strtok(rest, "]"); !ok {
			return false, p.xtError(parameterProblem, "Bad line %d: need ]", p.line)
		}
		parsestart = buffer[end+1:]
	}
	argv := []string{"iptables-restore", "-t", table}
	if r.counters && pcnt != "" {
		argv = append(argv, "--set-counters", pcnt, bcnt)
	}
	words, err := p.splitParams(parsestart)
	if err != nil {
		return false, err
	}
	argv = append(argv, words...)
	if len(argv) > 255 {
		return false, p.xtError(parameterProblem, "Parser cannot handle more arguments\n")
	}
	c, err := p.parseArgs(argv, true, table)
	if err == errIgnoreLine {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	if c.help || c.version {
		if c.version {
			p.printf("%s v%s\n", p.name, Version)
		} else {
			p.printf("%s", helpText(p.name))
		}
		return true, nil
	}
	return r.s.doCommand(c, h)
}

// splitParams is add_param_to_argv: words split at blanks, "..." and
// '...' quoting (a backslash escaping the next character inside them),
// a closing quote ending the word.
func (p *prog) splitParams(s string) ([]string, error) {
	var words []string
	var param []byte
	quoteOpen, escaped := false, false
	var quoteChar byte
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if quoteOpen {
			switch {
			case escaped:
				param = append(param, ch)
				escaped = false
				continue
			case ch == '\\':
				escaped = true
				continue
			case ch == quoteChar:
				quoteOpen = false
				ch = '"'
			default:
				param = append(param, ch)
				continue
			}
		} else if ch == '"' || ch == '\'' {
			quoteOpen, quoteChar = true, ch
			continue
		}
		switch ch {
		case '"':
		case ' ', '\t', '\n':
			if len(param) == 0 {
				continue
			}
		default:
			param = append(param, ch)
			if len(param) >= 1024 {
				return nil, p.xtError(parameterProblem, "Parameter too long!")
			}
			continue
		}
		words = append(words, string(param))
		param = param[:0]
	}
	if len(param) > 0 {
		words = append(words, string(param))
	}
	return words, nil
}
