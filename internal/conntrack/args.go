package conntrack

import (
	"fmt"
	"net/netip"
	"strings"
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
