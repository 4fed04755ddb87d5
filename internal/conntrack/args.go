package conntrack

import (
	"fmt"
	"net/netip"
	"strings"
)

// Commands (enum ct_command), by bit.
const (
	cmdList = iota
	cmdCreate
	cmdUpdate
	cmdDelete
	cmdGet
	cmdFlush
	cmdEvent
	cmdVersion
	cmdHelp
	expList
	expCreate
	expDelete
	expGet
	expFlush
	expEvent
	cmdCount
	expCount
	cmdStats
	expStats
	cmdAdd
	numCmd
)

// Options (enum ct_options), by bit.
const (
	optOrigSrc = iota
	optOrigDst
	optReplSrc
	optReplDst
	optProto
	optTimeout
	optStatus
	optZero
	optEventMask
	optExpSrc
	optExpDst
	optMaskSrc
	optMaskDst
	optNATRange
	optMark
	optID
	optFamily
	optSrcNAT
	optDstNAT
	optOutput
	optSecmark
	optBufferSize
	optAnyNAT
	optZone
	optLabel
	optAddLabel
	optDelLabel
	optOrigZone
	optReplZone
	numOpt
)

// optNames are optflags[]: the names generic_opt_check reports.
var optNames = [numOpt]string{"src", "dst", "reply-src", "reply-dst", "protonum", "timeout", "status",
	"zero", "event-mask", "tuple-src", "tuple-dst", "mask-src", "mask-dst", "nat-range", "mark", "id",
	"family", "src-nat", "dst-nat", "output", "secmark", "buffer-size", "any-nat", "zone", "label",
	"label-add", "label-del", "orig-zone", "reply-zone"}

// cmdOptions is commands_v_options: 0 illegal, 1 compulsory, 2
// optional, 3 decided by the address pairs (the original or the reply
// tuple's two addresses).
var cmdOptions = func() [numCmd + 1][numOpt]byte {
	var t [numCmd + 1][numOpt]byte
	row := func(s string) [numOpt]byte {
		var r [numOpt]byte
		for i, f := range strings.Fields(s) {
			r[i] = f[0] - '0'
		}
		return r
	}
	//                     s d r q p t u z e [ ] { } a m i f n g o c b j w l < > ( )
	t[cmdList] = row("2 2 2 2 2 0 2 2 0 0 0 2 2 0 2 0 2 2 2 2 2 0 2 2 2 0 0 2 2")
	t[cmdCreate] = row("3 3 3 3 1 1 2 0 0 0 0 0 0 2 2 0 0 2 2 0 0 0 0 2 0 2 0 2 2")
	t[cmdUpdate] = row("2 2 2 2 2 2 2 0 0 0 0 2 2 0 2 2 2 2 2 2 0 0 0 0 2 2 2 0 0")
	t[cmdDelete] = row("2 2 2 2 2 2 2 0 0 0 0 2 2 0 2 2 2 2 2 2 0 0 0 2 2 0 0 2 2")
	t[cmdGet] = row("3 3 3 3 1 0 0 0 0 0 0 0 0 0 0 2 0 0 0 2 0 0 0 0 2 0 0 0 0")
	t[cmdFlush] = row("0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 2 0 0 0 0 0 0 0 0 0 0 0 0")
	t[cmdEvent] = row("2 2 2 2 2 0 0 0 2 0 0 2 2 0 2 0 2 2 2 2 2 2 2 2 2 0 0 2 2")
	t[cmdHelp] = row("0 0 0 0 2 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0")
	t[expList] = row("0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 2 0 0 2 0 0 0 0 0 0 0 0 0")
	t[expCreate] = row("1 1 2 2 1 1 2 0 0 1 1 1 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0")
	t[expDelete] = row("1 1 2 2 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0")
	t[expGet] = row("1 1 2 2 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0")
	t[expEvent] = row("0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 2 0 0 0 0 0 0 0 0 0")
	t[cmdAdd] = t[cmdCreate]
	return t
}()

// exitMsgs are exit_msg[]: the summary a command ends with.
var exitMsgs = [numCmd]string{
	cmdList:   "%d flow entries have been shown.",
	cmdCreate: "%d flow entries have been created.",
	cmdUpdate: "%d flow entries have been updated.",
	cmdDelete: "%d flow entries have been deleted.",
	cmdGet:    "%d flow entries have been shown.",
	cmdEvent:  "%d flow events have been shown.",
	expList:   "%d expectations have been shown.",
	expDelete: "%d expectations have been shown.",
	cmdAdd:    "%d flow entries have been added.",
}

// The options of conntrack 1.4.7 (original_opts), and its optstring.
var baseLongOpts = []longOpt{
	{"dump", optionalArg, 'L'}, {"create", optionalArg, 'I'}, {"add", optionalArg, 'A'},
	{"delete", optionalArg, 'D'}, {"update", optionalArg, 'U'}, {"get", optionalArg, 'G'},
	{"flush", optionalArg, 'F'}, {"event", optionalArg, 'E'}, {"counter", optionalArg, 'C'},
	{"stats", noArg, 'S'}, {"version", noArg, 'V'}, {"help", noArg, 'h'},
	{"orig-src", requiredArg, 's'}, {"src", requiredArg, 's'}, {"orig-dst", requiredArg, 'd'},
	{"dst", requiredArg, 'd'}, {"reply-src", requiredArg, 'r'}, {"reply-dst", requiredArg, 'q'},
	{"protonum", requiredArg, 'p'}, {"timeout", requiredArg, 't'}, {"status", requiredArg, 'u'},
	{"zero", noArg, 'z'}, {"event-mask", requiredArg, 'e'}, {"tuple-src", requiredArg, '['},
	{"tuple-dst", requiredArg, ']'}, {"mask-src", requiredArg, '{'}, {"mask-dst", requiredArg, '}'},
	{"nat-range", requiredArg, 'a'}, {"mark", requiredArg, 'm'}, {"secmark", requiredArg, 'c'},
	{"id", optionalArg, 'i'}, {"family", requiredArg, 'f'}, {"src-nat", optionalArg, 'n'},
	{"dst-nat", optionalArg, 'g'}, {"output", requiredArg, 'o'}, {"buffer-size", requiredArg, 'b'},
	{"any-nat", optionalArg, 'j'}, {"zone", requiredArg, 'w'}, {"label", requiredArg, 'l'},
	{"label-add", requiredArg, '<'}, {"label-del", optionalArg, '>'}, {"orig-zone", requiredArg, '('},
	{"reply-zone", requiredArg, ')'},
}

const optstring = ":L::I::U::D::G::E::F::A::hVs:d:r:q:p:t:u:e:a:z[:]:{:}:m:i:f:o:n::g::c:b:C::Sj::w:l:<:>::(:):"

// The tables a command names ([table]).
const (
	tableConntrack = iota
	tableExpect
	tableDying
	tableUnconfirmed
)

// cmd2type maps a command letter to its conntrack and expectation
// commands (-1: none).
var cmd2type = map[rune][2]int{
	'L': {cmdList, expList}, 'I': {cmdCreate, expCreate}, 'D': {cmdDelete, expDelete},
	'G': {cmdGet, expGet}, 'F': {cmdFlush, expFlush}, 'E': {cmdEvent, expEvent},
	'V': {cmdVersion, cmdVersion}, 'h': {cmdHelp, cmdHelp}, 'C': {cmdCount, expCount},
	'S': {cmdStats, expStats}, 'U': {cmdUpdate, -1}, 'A': {cmdAdd, -1},
}

// Output formats (-o), as bits.
const (
	outXML = 1 << iota
	outExtended
	outTimestamp
	outID
	outKTimestamp
	outLabels
	outSave
)

// Status bits -u names (IPS_*).
const (
	ipsExpected     = 1 << 0
	ipsSeenReply    = 1 << 1
	ipsAssured      = 1 << 2
	ipsSrcNATDone   = 1 << 7
	ipsDstNATDone   = 1 << 8
	ipsFixedTimeout = 1 << 10
	ipsOffload      = 1 << 14
	ipsHWOffload    = 1 << 15
)

// Event mask bits (-e).
const (
	eventNew = 1 << iota
	eventUpdate
	eventDestroy
	eventAll = eventNew | eventUpdate | eventDestroy
)

// parseTables are parse_array[]: -u's, -e's and -o's words.
var parseTables = [3][]struct {
	name string
	val  uint32
}{
	{{"ASSURED", ipsAssured}, {"SEEN_REPLY", ipsSeenReply}, {"UNSET", 0}, {"FIXED_TIMEOUT", ipsFixedTimeout},
		{"EXPECTED", ipsExpected}, {"OFFLOAD", ipsOffload}, {"HW_OFFLOAD", ipsHWOffload}},
	{{"ALL", eventAll}, {"NEW", eventNew}, {"UPDATES", eventUpdate}, {"DESTROY", eventDestroy}},
	{{"xml", outXML}, {"extended", outExtended}, {"timestamp", outTimestamp}, {"id", outID},
		{"ktimestamp", outKTimestamp}, {"labels", outLabels}, {"userspace", 0}, {"save", outSave}},
}

const (
	parseStatus = iota
	parseEvent
	parseOutput
)

// exitError is conntrack leaving: its status and what it printed (on
// stderr, unless out says stdout).
type exitError struct {
	code    int
	msg     string
	tryHelp bool // PARAMETER_PROBLEM: "Try `conntrack -h' …" follows
}

func (e *exitError) Error() string { return e.msg }

// Exit statuses (enum exittype).
const (
	otherProblem     = 1
	parameterProblem = 2
)

func paramErr(format string, args ...any) *exitError {
	return &exitError{code: parameterProblem, msg: fmt.Sprintf(format, args...), tryHelp: true}
}

func otherErr(format string, args ...any) *exitError {
	return &exitError{code: otherProblem, msg: fmt.Sprintf(format, args...)}
}

// Attributes the template (tmpl.ct) may have set, libnetfilter_conntrack
// style: a filter compares what is set.
const (
	aOrigL3 = iota
	aOrigL4
	aOrigSrc
	aOrigDst
	aOrigSport
	aOrigDport
	aReplL3
	aReplL4
	aReplSrc
	aReplDst
	aReplSport
	aReplDport
	aICMPType
	aICMPCode
	aICMPID
	aTCPState
	aStatus
	aTimeout
	aSecmark
	aZone
	aOrigZone
	aReplZone
	aID
	aSNATIP
	aDNATIP
	aSNATPort
	aDNATPort
	numAttr
)

// template is the object conntrack fills from the command line (tmpl.ct):
// the request it sends and the filter it applies to what comes back.
type template struct {
	set                  uint64 // 1 << a* for each attribute set
	origL3, replL3       uint8
	origL4, replL4       uint8
	origSrc, origDst     netip.Addr
	replSrc, replDst     netip.Addr
	origSport, origDport uint16
	replSport, replDport uint16
	icmpType, icmpCode   uint8
	icmpID               uint16
	tcpState             uint8
	status               uint32
	timeout              uint32
	secmark              uint32
	zone, origZone       uint16
	replZone             uint16
	id                   uint32
	snatIP, dnatIP       netip.Addr
	snatPort, dnatPort   uint16
}

func (t *template) has(a int) bool { return t.set&(1<<a) != 0 }
func (t *template) mark(a int)     { t.set |= 1 << a }
func (t *template) unset(a int)    { t.set &^= 1 << a }

// u32mask is a value and the bits of it that count (-m value/mask).
type u32mask struct{ value, mask uint32 }

// network is a --mask-src/--mask-dst (or CIDR) filter: address & netmask.
type network struct{ addr, mask netip.Addr }

// command is a parsed command line (struct ct_cmd).
type command struct {
	command    int // the command (cmd*), or -1 for none
	table      int
	options    uint32 // 1 << opt* for each option given
	family     uint8
	proto      *protoHandler
	protonum   uint8
	l4flags    uint32
	tmpl       template
	markFilter u32mask // -m
	statusKern u32mask // -u as the kernel's dump filter
	eventMask  uint32
	output     uint32
	bufferSize int64
	nets       [2]network // the source and destination networks (nfct_filter_init)
	warnings   []string   // printed on stderr before the command runs
	labels     bool       // a label option was given (not built)
}

func (c *command) has(opt int) bool { return c.options&(1<<opt) != 0 }

// parseArgs is do_parse: conntrack's command line into a command, or the
// error conntrack exits with (and the command as far as it got: the
// warnings printed before the error).
func parseArgs(args []string) (*command, *exitError) {
	c := &command{command: -1}
	g := &getopt{args: args, short: parseShort(optstring), long: append([]longOpt(nil), baseLongOpts...)}
	var status uint32
	for {
		r := g.get()
		if r == -1 {
			break
		}
		if err := c.option(g, r, &status); err != nil {
			return c, err
		}
	}
	if c.family == AFUnspec {
		switch c.command {
		case cmdList, cmdUpdate, cmdDelete, cmdGet, cmdFlush, cmdEvent:
		default:
			c.family = AFInet
		}
	}
	if c.has(optAnyNAT) && (c.has(optSrcNAT) || c.has(optDstNAT)) {
		return c, paramErr("cannot specify `--src-nat' or `--dst-nat' with `--any-nat'")
	}
	row := c.row()
	if err := optCheck(c.options, numOpt, row[:], optNames[:]); err != nil {
		return c, err
	}
	special := false
	for _, v := range row {
		special = special || v == 3
	}
	if special {
		if err := coupled(c.options, [2]uint32{1<<optOrigSrc | 1<<optOrigDst, 1<<optReplSrc | 1<<optReplDst},
			"you have to specify `--src' and `--dst'", "you have to specify `--reply-src' and `--reply-dst'"); err != nil {
			return c, err
		}
	}
	if c.command != cmdHelp && c.proto != nil && c.proto.check != nil {
		if err := c.proto.check(c); err != nil {
			return c, err
		}
	}
	return c, nil
}

// row is the command's line of cmdOptions (none given: all illegal).
func (c *command) row() [numOpt]byte {
	if c.command < 0 {
		return cmdOptions[numCmd]
	}
	return cmdOptions[c.command]
}

// optCheck is generic_opt_check's first part: in option order, the first
// compulsory option missing or illegal option given.
func optCheck(options uint32, n int, row []byte, names []string) *exitError {
	for i := 0; i < n && i < len(row); i++ {
		if options&(1<<i) == 0 {
			if row[i] == 1 {
				return paramErr("You need to supply the `--%s' option for this command", names[i])
			}
		} else if row[i] == 0 {
			return paramErr("Illegal option `--%s' with this command", names[i])
		}
	}
	return nil
}

// coupled is generic_opt_check's second part: one of the pairs whole, or
// the message for the first pair partly given (the first if none).
func coupled(options uint32, pairs [2]uint32, first, second string) *exitError {
	partial := -1
	for i, p := range pairs {
		if options&p == p {
			return nil
		}
		if options&p != 0 && partial < 0 {
			partial = i
		}
	}
	if partial == 1 {
		return paramErr("%s", second)
	}
	return paramErr("%s", first)
}

// addCommand is add_command: one command a line.
func (c *command) addCommand(cmd int) *exitError {
	if c.command >= 0 {
		return paramErr("Invalid commands combination")
	}
	c.command = cmd
	return nil
}

// optionalArg is get_optional_arg: an option's optional value is the next
// argument when it is not an option (a value given in the same argument
// is dropped, as conntrack drops it).
func (c *command) optionalArg(g *getopt) (string, bool) {
	if g.hasArg {
		return "", false
	}
	if g.optind < len(g.args) && !strings.HasPrefix(g.args[g.optind], "-") && !strings.HasPrefix(g.args[g.optind], "!") {
		g.optind++
		return g.args[g.optind-1], true
	}
	return "", false
}

// checkType is check_type: the table a command names.
func (c *command) checkType(g *getopt) (int, *exitError) {
	t, ok := c.optionalArg(g)
	if !ok {
		return tableConntrack, nil
	}
	for i, name := range []string{"expect", "conntrack", "dying", "unconfirmed"} {
		if strings.HasPrefix(name, t) {
			return []int{tableExpect, tableConntrack, tableDying, tableUnconfirmed}[i], nil
		}
	}
	return 0, paramErr("unknown type `%s'", t)
}

// option is one option of do_parse's loop.
func (c *command) option(g *getopt, r rune, status *uint32) *exitError {
	arg := g.optarg
	switch r {
	case 'L', 'I', 'D', 'G', 'F', 'E', 'V', 'h', 'C', 'S', 'U', 'A':
		t, err := c.checkType(g)
		if err != nil {
			return err
		}
		c.table = t
		if r == 'L' && (t == tableDying || t == tableUnconfirmed) {
			return c.addCommand(cmdList)
		}
		if t == tableDying || t == tableUnconfirmed {
			return paramErr("Can't do that command with tables `dying' and `unconfirmed'")
		}
		cmds := cmd2type[r]
		cmd := cmds[0]
		if t == tableExpect {
			cmd = cmds[1]
		}
		if cmd < 0 {
			name := "unknown"
			for _, o := range g.long {
				if o.val == r {
					name = o.name
					break
				}
			}
			return paramErr("Can't do --%s on expectations", name)
		}
		return c.addCommand(cmd)
	case 's', 'd', 'r', 'q', '[', ']', '{', '}':
		return c.address(r, arg)
	case 'p':
		c.options |= 1 << optProto
		h, num, ok := findProto(arg)
		if !ok {
			return paramErr("`%s' unsupported protocol", arg)
		}
		c.proto, c.protonum = h, num
		g.long = append(g.long, h.opts...)
		c.tmpl.origL4 = num
		c.tmpl.mark(aOrigL4)
	case 't':
		c.options |= 1 << optTimeout
		v, _ := strtol(arg)
		c.tmpl.timeout = uint32(v)
		c.tmpl.mark(aTimeout)
	case 'u':
		c.options |= 1 << optStatus
		if err := c.parseMask(arg, status, &c.statusKern.mask, parseStatus); err != nil {
			return err
		}
		c.tmpl.status = *status
		c.tmpl.mark(aStatus)
		if c.statusKern.mask == 0 {
			c.statusKern.mask = *status
		}
		c.statusKern.value = *status
	case 'e':
		c.options |= 1 << optEventMask
		return c.parseParam(arg, &c.eventMask, parseEvent)
	case 'o':
		c.options |= 1 << optOutput
		if err := c.parseParam(arg, &c.output, parseOutput); err != nil {
			return err
		}
		if c.output&outSave != 0 && c.output&^outSave != 0 {
			return otherErr("cannot combine save output with any other output type, use -o save only")
		}
	case 'z':
		c.options |= 1 << optZero
	case 'n', 'g', 'j':
		return c.nat(g, r)
	case 'w', '(', ')':
		v, _, _ := strtoul(arg, 0)
		switch r {
		case 'w':
			c.options |= 1 << optZone
			c.tmpl.zone = uint16(v)
			c.tmpl.mark(aZone)
		case '(':
			c.options |= 1 << optOrigZone
			c.tmpl.origZone = uint16(v)
			c.tmpl.mark(aOrigZone)
		case ')':
			c.options |= 1 << optReplZone
			c.tmpl.replZone = uint16(v)
			c.tmpl.mark(aReplZone)
		}
	case 'i':
		c.options |= 1 << optID
		v, _, _ := strtoul(arg, 0)
		c.tmpl.id = uint32(v)
		c.tmpl.mark(aID)
	case 'c':
		c.options |= 1 << optSecmark
		v, _, _ := strtoul(arg, 0)
		c.tmpl.secmark = uint32(v)
		c.tmpl.mark(aSecmark)
	case 'm':
		c.options |= 1 << optMark
		c.markFilter = parseU32Mask(arg)
	case 'l', '<', '>':
		c.options |= 1 << map[rune]int{'l': optLabel, '<': optAddLabel, '>': optDelLabel}[r]
		if c.has(optAddLabel) && c.has(optDelLabel) {
			return otherErr("cannot use --label-add and --label-del at the same time")
		}
		if r == '>' {
			c.optionalArg(g)
		}
		c.labels = true
	case 'a':
		c.warnings = append(c.warnings, "WARNING: ignoring -a, deprecated option.")
	case 'f':
		c.options |= 1 << optFamily
		switch {
		case strings.HasPrefix(arg, "ipv4"):
			return c.setFamily(AFInet)
		case strings.HasPrefix(arg, "ipv6"):
			return c.setFamily(AFInet6)
		}
		return paramErr("`%s' unsupported protocol", arg)
	case 'b':
		v, _ := strtol(arg)
		c.bufferSize = v
		c.options |= 1 << optBufferSize
	case ':':
		return paramErr("option `%s' requires an argument", g.culprit())
	case '?':
		return paramErr("unknown option `%s'", g.culprit())
	default:
		if c.proto != nil && c.proto.parse != nil {
			return c.proto.parse(c, r, arg)
		}
	}
	return nil
}

// parseU32Mask is -m's value[/mask] as conntrack 1.4.7 reads it (strtoul,
// without checking what follows).
func parseU32Mask(s string) u32mask {
	v, n, _ := strtoul(s, 0)
	m := u32mask{value: uint32(v), mask: ^uint32(0)}
	if n < len(s) && s[n] == '/' {
		mv, _, _ := strtoul(s[n+1:], 0)
		m.mask = uint32(mv)
	}
	return m
}

// setFamily is set_family.
func (c *command) setFamily(f uint8) *exitError {
	if c.family == AFUnspec {
		c.family = f
	} else if c.family != f {
		return paramErr("mismatched address family")
	}
	return nil
}

// parseAddr is parse_addr with a netmask: the address, its family (0:
// not one) and the mask length (-1: none, -2: invalid).
func parseAddr(s string, withMask bool) (netip.Addr, uint8, int) {
	if len(s) > 45 {
		s = s[:45] // strncpy into INET6_ADDRSTRLEN
	}
	mask := -1
	if withMask {
		if i := strings.IndexByte(s, '/'); i >= 0 {
			v, n := strtol(s[i+1:])
			if v < 0 || n != len(s)-i-1 || v > 1<<31-1 {
				mask = -2
			} else {
				mask = int(v)
			}
			s = s[:i]
		}
	}
	if a, ok := inetAton(s); ok {
		if mask > 32 {
			mask = -2
		}
		return a, AFInet, mask
	}
	if a, ok := inetPton6(s); ok {
		if mask > 128 {
			mask = -2
		}
		return a, AFInet6, mask
	}
	return netip.Addr{}, AFUnspec, mask
}

// address is nfct_parse_addr_from_opt for -s -d -r -q, --tuple-src and
// --tuple-dst (whose CIDR netmask is a --mask-src or --mask-dst), and
// --mask-src and --mask-dst themselves.
func (c *command) address(r rune, arg string) *exitError {
	maskOpt := map[rune]rune{'s': '{', 'd': '}', '[': '{', ']': '}'}[r]
	a, family, mask := parseAddr(arg, true)
	if family == AFUnspec {
		return paramErr("Invalid IP address `%s'", arg)
	}
	if err := c.setFamily(family); err != nil {
		return err
	}
	if mask != -1 && maskOpt == 0 {
		return paramErr("CIDR notation unavailable for `--%s'", longName(r))
	} else if mask == -2 {
		return paramErr("Invalid netmask")
	}
	c.setAddr(r, a, family)
	bits := 32
	if family == AFInet6 {
		bits = 128
	}
	if mask == -1 || maskOpt == 0 || mask == bits {
		return nil
	}
	m := make([]byte, bits/8)
	for i := range m {
		n := min(max(mask-8*i, 0), 8)
		m[i] = byte(0xff << (8 - n))
	}
	netmask, _ := netip.AddrFromSlice(m)
	c.setAddr(maskOpt, netmask, family)
	return nil
}

// longName is get_long_opt: the first long option of a short one.
func longName(r rune) string {
	for _, o := range baseLongOpts {
		if o.val == r {
			return o.name
		}
	}
	return "unknown"
}

// setAddr is nfct_set_addr_opt: the option's bit, its address and the
// direction's family.
func (c *command) setAddr(r rune, a netip.Addr, family uint8) {
	t := &c.tmpl
	switch r {
	case 's':
		c.options |= 1 << optOrigSrc
		t.origSrc, t.origL3 = a, family
		t.mark(aOrigSrc)
		t.mark(aOrigL3)
	case 'd':
		c.options |= 1 << optOrigDst
		t.origDst, t.origL3 = a, family
		t.mark(aOrigDst)
		t.mark(aOrigL3)
	case 'r':
		c.options |= 1 << optReplSrc
		t.replSrc, t.replL3 = a, family
		t.mark(aReplSrc)
		t.mark(aReplL3)
	case 'q':
		c.options |= 1 << optReplDst
		t.replDst, t.replL3 = a, family
		t.mark(aReplDst)
		t.mark(aReplL3)
	case '[':
		c.options |= 1 << optExpSrc
	case ']':
		c.options |= 1 << optExpDst
	case '{':
		c.options |= 1 << optMaskSrc
		c.nets[0].mask = a
	case '}':
		c.options |= 1 << optMaskDst
		c.nets[1].mask = a
	}
}

// nat is -n, -g and -j: the option, and its optional [address][:port].
func (c *command) nat(g *getopt, r rune) *exitError {
	c.options |= 1 << map[rune]int{'n': optSrcNAT, 'g': optDstNAT, 'j': optAnyNAT}[r]
	arg, ok := c.optionalArg(g)
	if !ok {
		return nil
	}
	addr, port, err := splitAddrPort(arg)
	if err != nil {
		return err
	}
	a, family, mask := parseAddr(addr, true)
	if family == AFUnspec {
		return paramErr("Invalid IP address `%s'", addr)
	}
	if err := c.setFamily(family); err != nil {
		return err
	}
	if mask != -1 {
		return paramErr("CIDR notation unavailable for `--%s'", longName(r))
	}
	t := &c.tmpl
	set := func(snat bool) {
		p := uint16(atoi(port))
		if snat {
			t.snatIP = a
			t.mark(aSNATIP)
			if port != "" {
				t.snatPort = p
				t.mark(aSNATPort)
			}
		} else {
			t.dnatIP = a
			t.mark(aDNATIP)
			if port != "" {
				t.dnatPort = p
				t.mark(aDNATPort)
			}
		}
	}
	switch r {
	case 'n':
		set(true)
	case 'g':
		set(false)
	case 'j':
		set(false)
		set(true)
	}
	t.origL3 = family
	t.mark(aOrigL3)
	return nil
}

// splitAddrPort is split_address_and_port: "addr", "addr:port",
// "[v6]:port" or a bare IPv6 address.
func splitAddrPort(arg string) (addr, port string, err *exitError) {
	if i := strings.IndexByte(arg, '['); i >= 0 {
		start := arg[i+1:]
		j := strings.IndexByte(start, ']')
		switch {
		case j == 0:
			return "", "", paramErr("No IPv6 address specified")
		case j < 0:
			return "", "", paramErr("No closing ']' around IPv6 address")
		}
		rest := start[j:]
		k := strings.IndexByte(rest, ':')
		if k < 0 {
			return arg, "", nil
		}
		addr, port = start[:j], rest[k+1:]
	} else {
		k := strings.IndexByte(arg, ':')
		if k < 0 || strings.IndexByte(arg[k+1:], ':') >= 0 {
			return arg, "", nil
		}
		addr, port = arg[:k], arg[k+1:]
	}
	if port == "" {
		return "", "", paramErr("No port specified after `:'")
	}
	for i := 0; i < len(port); i++ {
		if port[i] < '0' || port[i] > '9' {
			return "", "", paramErr("Invalid port `%s'", port)
		}
	}
	if v, _, over := strtoul(port, 10); over || v > 65535 {
		return "", "", paramErr("Invalid port `%s'", port)
	}
	return addr, port, nil
}

// doParseParameter is do_parse_parameter: SRC_NAT and DST_NAT are
// warned about (and taken as nothing); else the first word of the table
// the text is a prefix of, any case.
func (c *command) doParseParameter(s string, value *uint32, table int) bool {
	prefix := func(word string) bool { return len(s) <= len(word) && strings.EqualFold(word[:len(s)], s) }
	if prefix("SRC_NAT") {
		c.warnings = append(c.warnings, "WARNING: ignoring SRC_NAT, use --src-nat instead")
		return true
	}
	if prefix("DST_NAT") {
		c.warnings = append(c.warnings, "WARNING: ignoring DST_NAT, use --dst-nat instead")
		return true
	}
	for _, p := range parseTables[table] {
		if prefix(p.name) {
			*value |= p.val
			return true
		}
	}
	return false
}

// parseParam is parse_parameter: comma-separated words.
func (c *command) parseParam(arg string, value *uint32, table int) *exitError {
	for {
		i := strings.IndexByte(arg, ',')
		if i < 0 {
			break
		}
		if i == 0 || !c.doParseParameter(arg[:i], value, table) {
			return paramErr("Bad parameter `%s'", arg)
		}
		arg = arg[i+1:]
	}
	if arg == "" || !c.doParseParameter(arg, value, table) {
		return paramErr("Bad parameter `%s'", arg)
	}
	return nil
}

// parseMask is parse_parameter_mask: -u's words, a '!' one into the
// mask only (the bit must be clear), UNREPLIED as !SEEN_REPLY. A bad
// word is reported with the text from it on, as conntrack reports it.
func (c *command) parseMask(arg string, status, mask *uint32, table int) *exitError {
	for {
		i := strings.IndexByte(arg, ',')
		last := i < 0
		if !last && i == 0 {
			return paramErr("Bad parameter `%s'", arg)
		}
		negated := strings.HasPrefix(arg, "!")
		if negated {
			arg = arg[1:]
			i--
		}
		if !last && i == 0 {
			return paramErr("Bad parameter `%s'", arg)
		}
		v := status
		if negated {
			v = mask
		}
		word := arg
		if !last {
			word = arg[:i]
		}
		switch {
		case !negated && strings.HasPrefix(arg, "UNREPLIED"):
			*mask |= ipsSeenReply
		case word == "" || !c.doParseParameter(word, v, table):
			return paramErr("Bad parameter `%s'", arg)
		}
		if last {
			return nil
		}
		arg = arg[i+1:]
	}
}
