package iproute

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	mnl "github.com/mdlayher/netlink"

	"vnic/internal/netns"
	"vnic/stack/netlink"
	"vnic/stack/rtnetlink"
)

// Transport is an rtnetlink socket bound to one host (ctl.Conn after
// RouteBind).
type Transport interface {
	Route(typ uint16, flags mnl.HeaderFlags, body []byte) ([]mnl.Message, error)
	ReceiveRoute(timeout time.Duration) ([]mnl.Message, error)
}

// Options are what Run needs besides the arguments.
type Options struct {
	T              Transport
	Stdout, Stderr io.Writer
	// Stdin is what ip -batch - reads.
	Stdin io.Reader
	// Stop, when set, ends ip monitor when closed.
	Stop <-chan struct{}
	// Count ends ip monitor after this many events (0: no limit).
	Count int
	// Netns, when set, is called for ip's global -n/-netns NAME (a host is
	// a namespace); without it the option is taken as already applied by
	// the caller (see Netns).
	Netns func(name string) error
	// Namespaces, when set, gives a connection for the vnic_netns family
	// (a socket bound to a host speaks rtnetlink only): ip link … netns
	// NAME looks the host up there. Without it T is used (ip netns).
	Namespaces func() (netns.Client, error)
	// Sysctl, when set, writes one of the host's settings: ip route
	// flush cache writes net.ipv4.route.flush, as iproute2 writes
	// /proc/sys/net/ipv4/route/flush. Without it the command is refused.
	Sysctl func(name, value string) error
	// Exec, when set, runs argv for host (the caller can start
	// processes): ip -all netns exec. It returns the command's exit
	// status, or signaled for one a signal ended, or an error when it
	// could not be started (its errno is what ip prints).
	Exec func(host string, argv []string) (status int, signaled bool, err error)
}

// Exit codes, as ip's: 1 for most errors iproute2 reports with exit(1),
// 2 for a refusal by the kernel side ("RTNETLINK answers: …"), 255 for
// the usage errors ip reports with exit(-1) (usage texts, incomplete
// command lines, invalid arguments, duplicates and garbage).
const (
	exitFail  = 1
	exitNL    = 2
	exitUsage = 255
)

// Error is a grammar or command-line error, worded as iproute2 words it.
type Error struct {
	Msg string
	// Code is the exit code (0: 1).
	Code int
	// Bare: ip prints Msg without its "Error: " prefix.
	Bare bool
}

func (e *Error) Error() string { return strings.TrimRight(e.Msg, "\n") }

func (e *Error) line() string {
	if e.Bare {
		return e.Msg
	}
	return "Error: " + e.Msg
}

func (e *Error) code() int {
	if e.Code == 0 {
		return exitFail
	}
	return e.Code
}

// The error shapes of iproute2's utils.c.
func invarg(msg, arg string) error {
	return &Error{Msg: fmt.Sprintf("argument \"%s\" is wrong: %s", arg, msg), Code: exitUsage}
}

func incomplete() error {
	return &Error{Msg: "Command line is not complete. Try option \"help\"", Code: exitUsage, Bare: true}
}

func duparg2(key, arg string) error {
	return &Error{Msg: fmt.Sprintf("either \"%s\" is duplicate, or \"%s\" is a garbage.", key, arg), Code: exitUsage}
}

func noDevice(name string) error {
	return &Error{Msg: fmt.Sprintf("Cannot find device \"%s\"", name), Bare: true}
}

func notExist(name string) error {
	return &Error{Msg: fmt.Sprintf("Device \"%s\" does not exist.", name), Bare: true}
}

// errIPv6 answers what would need IPv6: vnic's stack is IPv4 only. Dumps
// under -6 answer as ip does on a host without IPv6 addresses (nothing);
// what would send IPv6 to the host is refused with this.
var errIPv6 = &Error{Msg: "IPv6 is not supported: vnic's stack is IPv4 only.", Code: exitNL}

// usageErr is a usage text, printed to stderr with ip's exit(-1).
type usageErr struct{ text string }

func (e usageErr) Error() string { return e.text }

// Run is ip [ OPTIONS ] OBJECT [ COMMAND [ ARGS ] ] with iproute2 6.1's
// grammar, output and exit codes: 0, 1 for most errors, 2 for a refusal
// by the kernel side ("RTNETLINK answers: …"), 255 for usage errors.
func Run(args []string, o Options) int {
	if o.Stdout == nil {
		o.Stdout = io.Discard
	}
	if o.Stderr == nil {
		o.Stderr = io.Discard
	}
	return report(runGlobal(args, o), o)
}

// report prints a command's error as ip prints it and returns ip's exit
// code for it.
func report(err error, o Options) int {
	if err == nil {
		return 0
	}
	var ue usageErr
	var ge *Error
	var ne *nlErr
	switch {
	case errors.As(err, &ue):
		fmt.Fprint(o.Stderr, ue.text)
		return exitUsage
	case errors.As(err, &ge):
		if ge.Msg != "" {
			fmt.Fprintln(o.Stderr, ge.line())
		}
		return ge.code()
	case errors.As(err, &ne):
		fmt.Fprint(o.Stderr, nlMessage(ne.err))
		if ne.after != "" {
			fmt.Fprintln(o.Stderr, ne.after)
		}
		return exitNL
	}
	fmt.Fprint(o.Stderr, nlMessage(err))
	return exitNL
}

// nlErr is a refusal met inside a dump or flush, which ip follows with a
// line of its own ("Dump terminated", "Flush terminated").
type nlErr struct {
	err   error
	after string
}

func (e *nlErr) Error() string { return e.err.Error() }
func (e *nlErr) Unwrap() error { return e.err }

// nlMessage is how iproute2 prints a refusal: the extended ack's message
// when there is one, else the errno.
func nlMessage(err error) string {
	var ee *netlink.Error
	if errors.As(err, &ee) {
		if ee.Msg != "" {
			// libnetlink's extack print: the message, with a full stop
			// unless it has one.
			if strings.HasSuffix(ee.Msg, ".") {
				return "Error: " + ee.Msg + "\n"
			}
			return "Error: " + ee.Msg + ".\n"
		}
		return "RTNETLINK answers: " + capitalise(ee.Errno.Error()) + "\n"
	}
	return err.Error() + "\n"
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// matches is iproute2's matches(): arg is a prefix of word.
func matches(arg, word string) bool { return arg != "" && strings.HasPrefix(word, arg) }

// Families of -f/-4/-6/-0.
const (
	famUnspec = iota
	famInet
	famInet6
	famLink
)

// globals are ip's options before the object.
type globals struct {
	family    int
	oneline   bool
	json      bool
	pretty    bool
	brief     bool
	details   int
	stats     int
	loops     int
	netns     string
	batch     string // -batch FILE ("-": standard input)
	force     bool
	all       bool // -all: ip netns exec and delete over every namespace
	timestamp bool
	version   bool
	help      bool
}

// parseGlobals reads ip's options in ip.c's order (its order decides
// what a short prefix means: -h is -human, -b is -batch, -r is
// -resolve, -f is -family).
func parseGlobals(args []string) (globals, []string, error) {
	g := globals{loops: 10}
	for len(args) > 0 {
		opt := args[0]
		if opt == "--" {
			args = args[1:]
			break
		}
		if !strings.HasPrefix(opt, "-") {
			break
		}
		if strings.HasPrefix(opt, "--") {
			opt = opt[1:]
		}
		// next takes an option's argument: ip prints its usage when there
		// is none.
		next := func() (string, error) {
			if len(args) < 2 {
				return "", usageErr{Usage}
			}
			args = args[1:]
			return args[0], nil
		}
		switch {
		case matches(opt, "-loops"):
			v, err := next()
			if err != nil {
				return g, nil, err
			}
			n, e := strconv.ParseUint(v, 0, 31)
			if e != nil {
				return g, nil, invarg("invalid loop count", v)
			}
			g.loops = int(n)
		case matches(opt, "-family"):
			v, err := next()
			if err != nil {
				return g, nil, err
			}
			switch v {
			case "inet":
				g.family = famInet
			case "inet6":
				g.family = famInet6
			case "link":
				g.family = famLink
			case "help":
				return g, nil, usageErr{Usage}
			case "mpls", "bridge":
				return g, nil, &Error{Msg: fmt.Sprintf("the %s family is not supported by vnic.", v), Code: exitUsage}
			default:
				return g, nil, invarg("invalid protocol family", v)
			}
		case opt == "-4":
			g.family = famInet
		case opt == "-6":
			g.family = famInet6
		case opt == "-0":
			g.family = famLink
		case opt == "-M", opt == "-B":
			fam := map[string]string{"-M": "mpls", "-B": "bridge"}[opt]
			return g, nil, &Error{Msg: fmt.Sprintf("the %s family is not supported by vnic.", fam), Code: exitUsage}
		case matches(opt, "-human"), matches(opt, "-human-readable"), matches(opt, "-iec"):
			// Units of -s's counters; vnic's hosts send no counters.
		case matches(opt, "-stats"), matches(opt, "-statistics"):
			g.stats++
		case matches(opt, "-details"):
			g.details++
		case matches(opt, "-resolve"):
			return g, nil, &Error{Msg: "-resolve is not supported by vnic: its hosts have no names to resolve.", Code: exitUsage}
		case matches(opt, "-oneline"):
			g.oneline = true
		case matches(opt, "-timestamp"), matches(opt, "-tshort"):
			// Only ip monitor prints timestamps; it refuses them.
			g.timestamp = true
		case matches(opt, "-Version"):
			g.version = true
			return g, args[1:], nil
		case matches(opt, "-force"):
			g.force = true // -batch goes on after a failed command
		case matches(opt, "-batch"):
			v, err := next()
			if err != nil {
				return g, nil, err
			}
			g.batch = v
		case matches(opt, "-brief"):
			g.brief = true
		case matches(opt, "-json"):
			g.json = true
		case matches(opt, "-pretty"):
			g.pretty = true
		case matches(opt, "-rcvbuf"):
			// The receive buffer of ip's socket: the control socket has its
			// own.
			if _, err := next(); err != nil {
				return g, nil, err
			}
		case isColor(opt):
			// Colours are never used: vnic prints as ip does with -color never.
		case matches(opt, "-help"):
			g.help = true
			return g, args[1:], nil
		case matches(opt, "-netns"):
			v, err := next()
			if err != nil {
				return g, nil, err
			}
			g.netns = v
		case matches(opt, "-Numeric"):
			// vnic prints numbers where ip has no name for them anyway.
		case matches(opt, "-all"):
			g.all = true
		default:
			return g, nil, &Error{Msg: fmt.Sprintf("Option \"%s\" is unknown, try \"ip -help\".", opt), Code: exitUsage, Bare: true}
		}
		args = args[1:]
	}
	return g, args, nil
}

// isColor is matches_color: -c[olor][=always|auto|never].
func isColor(opt string) bool {
	name, _, _ := strings.Cut(opt, "=")
	return matches(name, "-color") && len(name) >= 2
}

// Netns returns the host ip's global -n/-netns NAME names ("" without
// one), for a caller that must bind its socket before Run.
func Netns(args []string) (string, error) {
	g, _, err := parseGlobals(args)
	return g.netns, err
}

func runGlobal(args []string, o Options) error {
	g, rest, err := parseGlobals(args)
	if err != nil {
		return err
	}
	if g.version {
		fmt.Fprintln(o.Stdout, "ip utility, vnic (iproute2-6.1.0's grammar)")
		return nil
	}
	if g.help {
		return usageErr{Usage}
	}
	if g.netns != "" && o.Netns != nil {
		if err := o.Netns(g.netns); err != nil {
			return &Error{Msg: fmt.Sprintf("Cannot open network namespace \"%s\": %v", g.netns, err), Code: exitUsage, Bare: true}
		}
	}
	if g.batch != "" {
		return batch(g, o)
	}
	if len(rest) == 0 {
		return usageErr{Usage}
	}
	return (&cmd{g: g, o: o}).object(rest[0], rest[1:])
}

// object runs one command of an object.
func (c *cmd) object(obj string, rest []string) error {
	switch {
	case matches(obj, "address"):
		return c.addr(rest)
	case matches(obj, "help"):
		return usageErr{Usage}
	case matches(obj, "link"):
		return c.link(rest)
	case matches(obj, "monitor"):
		return c.monitor(rest)
	case matches(obj, "neighbor"), matches(obj, "neighbour"):
		return c.neigh(rest)
	case matches(obj, "route"):
		return c.route(rest)
	case matches(obj, "rule"):
		return c.rule(rest)
	case matches(obj, "nexthop"):
		return c.nexthop(rest)
	case matches(obj, "netns"):
		return c.netns(rest)
	}
	return &Error{Msg: fmt.Sprintf("Object \"%s\" is unknown, try \"ip help\".", obj), Bare: true}
}

// cmd is one command's context.
type cmd struct {
	g globals
	o Options
	// ls caches the links by index once fetched.
	ls map[uint32]rtnetlink.LinkMsg
	// name, when set, names devices instead of ls (the Format* printers).
	name func(uint32) string
}

// write prints p's output to stdout.
func (c *cmd) write(p *out) { io.WriteString(c.o.Stdout, p.String()) }

// links returns the links by index.
func (c *cmd) links() (map[uint32]rtnetlink.LinkMsg, error) {
	if c.ls != nil {
		return c.ls, nil
	}
	msgs, err := c.o.T.Route(rtnetlink.RTMGetLink, mnl.Dump, rtnetlink.LinkMsg{}.Marshal())
	if err != nil {
		return nil, err
	}
	out := map[uint32]rtnetlink.LinkMsg{}
	for _, m := range msgs {
		var l rtnetlink.LinkMsg
		if l.Unmarshal(m.Data) == nil {
			out[uint32(l.Index)] = l
		}
	}
	c.ls = out
	return out, nil
}

// ifindex is ll_name_to_index: 0 when there is no such device.
func (c *cmd) ifindex(name string) (uint32, error) {
	ls, err := c.links()
	if err != nil {
		return 0, err
	}
	for _, i := range sortedIdx(ls) {
		if ls[i].Name == name {
			return i, nil
		}
	}
	return 0, nil
}

// dev is a device a command names: "Cannot find device" when absent.
func (c *cmd) dev(name string) (uint32, error) {
	i, err := c.ifindex(name)
	if err == nil && i == 0 {
		err = noDevice(name)
	}
	return i, err
}

func (c *cmd) ifname(i uint32) string {
	if c.name != nil {
		return c.name(i)
	}
	if l, ok := c.ls[i]; ok {
		return l.Name
	}
	return fmt.Sprintf("if%d", i)
}

func sortedIdx(ls map[uint32]rtnetlink.LinkMsg) []uint32 {
	var idx []uint32
	for i := range ls {
		idx = append(idx, i)
	}
	sort.Slice(idx, func(a, b int) bool { return idx[a] < idx[b] })
	return idx
}

// nextArg is the word after args[*i], which it moves to: ip's NEXT_ARG,
// "Command line is not complete" at the end of the line.
func nextArg(args []string, i *int) (string, error) {
	if *i+1 >= len(args) {
		return "", incomplete()
	}
	*i++
	return args[*i], nil
}

// listCmd reports a command line that lists (no command, show, list or
// lst) and gives the selector after the word.
func listCmd(args []string) ([]string, bool) {
	if len(args) == 0 {
		return nil, true
	}
	if matches(args[0], "show") || matches(args[0], "list") || matches(args[0], "lst") {
		return args[1:], true
	}
	return args, false
}

// emptyList prints a listing with nothing in it ([] under -j): what a
// family vnic does not have shows.
func (c *cmd) emptyList() {
	p := newOut(c.g)
	p.list()
	p.done()
	c.write(p)
}

// change maps an add, replace or delete command to its message type and
// request flags (ip's NLM_F_CREATE|EXCL for add, CREATE|REPLACE for
// replace).
func change(cmd string, newType, delType uint16, object string) (uint16, mnl.HeaderFlags, error) {
	flags := mnl.Acknowledge
	switch {
	case matches(cmd, "add"):
		return newType, flags | rtnetlink.FlagCreate | rtnetlink.FlagExcl, nil
	case matches(cmd, "replace"):
		return newType, flags | rtnetlink.FlagCreate | rtnetlink.FlagReplace, nil
	case matches(cmd, "delete"):
		return delType, flags, nil
	}
	return 0, 0, &Error{Msg: fmt.Sprintf("Command \"%s\" is unknown, try \"ip %s help\".", cmd, object), Code: exitUsage, Bare: true}
}

// isIPv6 reports an address or prefix in IPv6 notation.
func isIPv6(s string) bool { return strings.Contains(s, ":") }

// errBatch is a batch that had a failed command: each was reported as it
// failed, ip exits 1.
var errBatch = &Error{Code: exitFail, Bare: true}

// batch is ip -batch FILE [-force]: each line a command (OBJECT COMMAND
// ARGS, ip's globals applying to all), run in order; a failed one is
// reported with "Command failed FILE:LINE" and stops the batch unless
// -force. Lines are split as ip's makeargs splits them: blanks, "#" to
// the end of the line, quotes, a backslash at the end joining the next.
func batch(g globals, o Options) error {
	var r io.Reader
	if g.batch == "-" {
		if o.Stdin == nil {
			return &Error{Msg: "Cannot open file \"-\" for reading: no standard input", Code: exitFail, Bare: true}
		}
		r = o.Stdin
	} else {
		f, err := os.Open(g.batch)
		if err != nil {
			return &Error{Msg: fmt.Sprintf("Cannot open file \"%s\" for reading: %s", g.batch, capitalise(errnoText(err))), Code: exitFail, Bare: true}
		}
		defer f.Close()
		r = f
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	failed := false
	// Nothing waits on a change's answer: changes go out many to a packet
	// and their refusals are reported, with their lines, as the answers
	// come. Under -force a refusal does not stop the batch; without it
	// the server runs nothing after a refused change, and the batch ends
	// there (what waiting for each answer would give, as iproute2 does).
	pl, pipelining := o.T.(pipeliner)
	if pipelining {
		refused := func(line int, err error) {
			report(err, o)
			fmt.Fprintf(o.Stderr, "Command failed %s:%d\n", g.batch, line)
			failed = true
		}
		if g.force {
			pl.Pipeline(batchWindow, refused)
		} else if pl.PipelineUntilRefused(batchWindow, refused) != nil {
			pipelining = false // a server without the option: one at a time
		}
		defer pl.Pipeline(0, nil)
	}
	lineno, pending, start := 0, "", 0
	for sc.Scan() {
		lineno++
		line := sc.Text()
		if pending == "" {
			start = lineno
		}
		if strings.HasSuffix(line, "\\") {
			pending += strings.TrimSuffix(line, "\\") + " "
			continue
		}
		line, pending = pending+line, ""
		args, err := makeArgs(line)
		if err == nil && len(args) == 0 {
			continue
		}
		if err == nil {
			if pipelining {
				pl.SetTag(start)
			}
			err = (&cmd{g: g, o: o}).object(args[0], args[1:])
		}
		if err != nil && pipelining {
			// The answers to the lines before come first: their refusals
			// are reported before this line's error (and without -force
			// one of them ends the batch before this line).
			pl.Flush()
		}
		if failed && !g.force {
			break // a pipelined change was refused (and reported)
		}
		if err != nil {
			report(err, o)
			fmt.Fprintf(o.Stderr, "Command failed %s:%d\n", g.batch, start)
			failed = true
			if !g.force {
				break
			}
		}
	}
	if pipelining {
		if err := pl.Flush(); err != nil && (g.force || !failed) {
			report(err, o)
			failed = true
		}
	}
	if err := sc.Err(); err != nil {
		return &Error{Msg: fmt.Sprintf("%s: %v", g.batch, err), Code: exitFail, Bare: true}
	}
	if failed {
		return errBatch
	}
	return nil
}

// pipeliner is a transport that can keep changes in flight (nlclient.Conn).
type pipeliner interface {
	Pipeline(window int, failed func(tag int, err error))
	PipelineUntilRefused(window int, failed func(tag int, err error)) error
	SetTag(tag int)
	Flush() error
}

// batchWindow is how many changes -batch packs into one packet.
const batchWindow = 128

// makeArgs splits a batch line as iproute2's makeargs: white space
// separates words, double or single quotes quote them, a '#' outside
// quotes ends the line.
func makeArgs(line string) ([]string, error) {
	// A line of plain ASCII words (a batch's usual line) is cut into
	// substrings of itself: one allocation, for the slice.
	n, word := 0, false
	for i := 0; i < len(line); i++ {
		switch c := line[i]; {
		case c == '"' || c == '\'' || c == '#' || c >= 0x80:
			return makeArgsQuoted(line)
		case c == ' ' || c == '\t' || c == '\r':
			word = false
		case !word:
			n, word = n+1, true
		}
	}
	if n == 0 {
		return nil, nil
	}
	args := make([]string, 0, n)
	start := -1
	for i := 0; i < len(line); i++ {
		if c := line[i]; c == ' ' || c == '\t' || c == '\r' {
			if start >= 0 {
				args = append(args, line[start:i])
				start = -1
			}
		} else if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		args = append(args, line[start:])
	}
	return args, nil
}

// makeArgsQuoted is makeArgs for a line with quotes, a comment or bytes
// beyond ASCII (each invalid UTF-8 byte becomes U+FFFD, as ranging over
// the string gives it).
func makeArgsQuoted(line string) ([]string, error) {
	var args []string
	var b strings.Builder
	in, quote := false, rune(0)
	for _, r := range line {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
				continue
			}
			b.WriteRune(r)
		case r == '"' || r == '\'':
			quote, in = r, true
		case r == '#':
			if in {
				args = append(args, b.String())
			}
			return args, nil
		case r == ' ' || r == '\t' || r == '\r':
			if in {
				args = append(args, b.String())
				b.Reset()
				in = false
			}
		default:
			b.WriteRune(r)
			in = true
		}
	}
	if quote != 0 {
		return nil, &Error{Msg: "unterminated quoted string", Bare: true}
	}
	if in {
		args = append(args, b.String())
	}
	return args, nil
}

func errnoText(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno.Error()
	}
	return err.Error()
}
