package iptables

import (
	"math"
	"strings"
	"unicode"

	ipt "vnic/stack/netfilter/iptables"
)

// Commands (CMD_*), in cmdflags' order.
const (
	cmdInsert = 1 << iota
	cmdDelete
	cmdDeleteNum
	cmdReplace
	cmdAppend
	cmdList
	cmdFlush
	cmdZero
	cmdNewChain
	cmdDeleteChain
	cmdSetPolicy
	cmdRenameChain
	cmdListRules
	cmdZeroNum
	cmdCheck
	numberOfCmd = 16
)

var cmdFlags = []byte{'I', 'D', 'D', 'R', 'A', 'L', 'F', 'Z', 'N', 'X', 'P', 'E', 'S', 'Z', 'C'}

// Options (OPT_*), in optflags' order.
const (
	optNumeric = 1 << iota
	optSource
	optDestination
	optProtocol
	optJump
	optVerbose
	optExpanded
	optViaNameIn
	optViaNameOut
	optLineNumbers
	optCounters
	optFragment
)

var optFlagChars = []byte{'n', 's', 'd', 'p', 'j', 'v', 'x', 'i', 'o', '0', 'c', 'f'}

var inverseForOptions = []uint8{0, ipt.InvSrcIP, ipt.InvDstIP, ipt.InvProto, 0, 0, 0, ipt.InvViaIn, ipt.InvViaOut, 0, 0, ipt.InvFrag}

// commandsVOptions is the table of legal command/option combinations:
// 'x' illegal, '+' compulsory, ' ' optional.
var commandsVOptions = [numberOfCmd - 1]string{
	/*              -n  -s  -d  -p  -j  -v  -x  -i  -o --line -c -f */
	/*INSERT*/ "x     x  x  ",
	/*DELETE*/ "x     x  xx ",
	/*DELETE_NUM*/ "xxxxx xxxxxx",
	/*REPLACE*/ "x     x  x  ",
	/*APPEND*/ "x     x  x  ",
	/*LIST*/ " xxxx  xx xx",
	/*FLUSH*/ "xxxxx xxxxxx",
	/*ZERO*/ "xxxxx xxxxxx",
	/*NEW_CHAIN*/ "xxxxx xxxxxx",
	/*DEL_CHAIN*/ "xxxxx xxxxxx",
	/*SET_POLICY*/ "xxxxx xxxx x",
	/*RENAME*/ "xxxxx xxxxxx",
	/*LIST_RULES*/ "xxxxx xxxxxx",
	/*ZERO_NUM*/ "xxxxx xxxxxx",
	/*CHECK*/ "x     x  xx ",
}

const iptOptString = "-:A:C:D:R:I:L::S::M:F::Z::N:X::E:P:Vh::o:p:s:d:j:i:fbvw::W::nt:m:xc:g:46"

var iptShorts = shortOpts(iptOptString)

var originalOpts = []longOpt{
	{"append", 1, 'A'}, {"delete", 1, 'D'}, {"check", 1, 'C'}, {"insert", 1, 'I'}, {"replace", 1, 'R'},
	{"list", 2, 'L'}, {"list-rules", 2, 'S'}, {"flush", 2, 'F'}, {"zero", 2, 'Z'}, {"new-chain", 1, 'N'},
	{"delete-chain", 2, 'X'}, {"rename-chain", 1, 'E'}, {"policy", 1, 'P'}, {"source", 1, 's'},
	{"destination", 1, 'd'}, {"src", 1, 's'}, {"dst", 1, 'd'}, {"protocol", 1, 'p'}, {"in-interface", 1, 'i'},
	{"jump", 1, 'j'}, {"table", 1, 't'}, {"match", 1, 'm'}, {"numeric", 0, 'n'}, {"out-interface", 1, 'o'},
	{"verbose", 0, 'v'}, {"wait", 2, 'w'}, {"wait-interval", 2, 'W'}, {"exact", 0, 'x'}, {"fragments", 0, 'f'},
	{"version", 0, 'V'}, {"help", 2, 'h'}, {"line-numbers", 0, '0'}, {"modprobe", 1, 'M'},
	{"set-counters", 1, 'c'}, {"goto", 1, 'g'}, {"ipv4", 0, '4'}, {"ipv6", 0, '6'},
}

// command is a parsed command line (struct iptables_command_state with
// xt_cmd_parse and xtables_args).
type command struct {
	cmd       uint
	chain     string
	newname   string
	policy    string
	rulenum   int
	table     string
	options   uint
	verbose   int
	rule      ipt.Rule // IP part, counters
	matches   []*inst
	target    *inst
	jumpto    string
	gotoSet   bool
	protocol  string
	protoUsed bool
	shost     string
	dhost     string
	saddrs    [][4]byte
	smasks    [][4]byte
	daddrs    [][4]byte
	dmasks    [][4]byte
	help      bool
	version   bool
}

// parser is one run of do_parse.
type parser struct {
	p       *prog
	g       *getopt
	c       *command
	restore bool
	offset  int // the last extension's option offset
	longs   []longOpt
	invert  bool
}

func cmd2char(cmd uint) byte {
	i := 0
	for ; cmd > 1; cmd >>= 1 {
		i++
	}
	if i < len(cmdFlags) {
		return cmdFlags[i]
	}
	return '?'
}

func opt2char(opt uint) byte {
	i := 0
	for ; opt > 1; opt >>= 1 {
		i++
	}
	return optFlagChars[i]
}

func (ps *parser) addCommand(newcmd, othercmds uint) error {
	if ps.invert {
		return ps.p.xtError(parameterProblem, "unexpected ! flag")
	}
	if ps.c.cmd&^othercmds != 0 {
		return ps.p.xtError(parameterProblem, "Cannot use -%c with -%c", cmd2char(newcmd), cmd2char(ps.c.cmd&^othercmds))
	}
	ps.c.cmd |= newcmd
	return nil
}

func (ps *parser) setOption(opt uint) error {
	c := ps.c
	if c.options&opt != 0 {
		return ps.p.xtError(parameterProblem, "multiple -%c flags not allowed", opt2char(opt))
	}
	c.options |= opt
	if ps.invert {
		i := 0
		for 1<<uint(i) != opt {
			i++
		}
		if inverseForOptions[i] == 0 {
			return ps.p.xtError(parameterProblem, "cannot have ! before -%c", opt2char(opt))
		}
		c.rule.IP.InvFlags |= inverseForOptions[i]
	}
	return nil
}

func (ps *parser) parseRuleNumber(s string) (int, error) {
	v, ok := strtoui(s, 1, math.MaxInt32)
	if !ok {
		return 0, ps.p.xtError(parameterProblem, "Invalid rule number `%s'", s)
	}
	return int(v), nil
}

// parseChainName is parse_chain: the name -N creates.
func (ps *parser) parseChainName(name string) error {
	if len(name) >= ipt.MaxChainName+1 {
		return ps.p.xtError(parameterProblem, "chain name `%s' too long (must be under %d chars)", name, ipt.MaxChainName+1)
	}
	if strings.HasPrefix(name, "-") || strings.HasPrefix(name, "!") {
		return ps.p.xtError(parameterProblem, "chain name not allowed to start with `%c'", name[0])
	}
	if findTargetExt(name) != nil {
		return ps.p.xtError(parameterProblem, "chain name may not clash with target name")
	}
	if strings.IndexFunc(name, unicode.IsSpace) >= 0 {
		return ps.p.xtError(parameterProblem, "Invalid chain name `%s'", name)
	}
	return nil
}

// parseTargetName is xt_parse_target.
func (ps *parser) parseTargetName(name string) (string, error) {
	if name == "" {
		return "", ps.p.xtError(parameterProblem, "Invalid target name (too short)")
	}
	if len(name) > ipt.MaxChainName {
		return "", ps.p.xtError(parameterProblem, "Invalid target name `%s' (%d chars max)", name, ipt.MaxChainName)
	}
	if strings.IndexFunc(name, unicode.IsSpace) >= 0 {
		return "", ps.p.xtError(parameterProblem, "Invalid target name `%s'", name)
	}
	return name, nil
}

// merge adds an extension instance's options (xtables_options_xfrm):
// the new ones right after the originals, so they win a name they share
// with an older one.
func (ps *parser) merge(i *inst) {
	ps.offset += 256
	i.offset = ps.offset
	longs := append([]longOpt(nil), originalOpts...)
	longs = append(longs, i.longOpts()...)
	longs = append(longs, ps.longs[len(originalOpts):]...)
	ps.longs = longs
}

// commandMatch is command_match (-m).
func (ps *parser) commandMatch(name string) error {
	if ps.invert {
		return ps.p.xtError(parameterProblem, "unexpected ! flag before --match")
	}
	e := findMatchExt(name)
	if e == nil {
		return ps.p.xtError(parameterProblem, "Couldn't load match `%s':No such file or directory\n", name)
	}
	i := e.instantiate(ps.p, 0)
	ps.merge(i)
	ps.c.matches = append(ps.c.matches, i)
	return nil
}

// commandJump is command_jump (-j).
func (ps *parser) commandJump(name string) error {
	jt, err := ps.parseTargetName(name)
	if err != nil {
		return err
	}
	ps.c.jumpto = jt
	e := findTargetExt(jt)
	if e == nil {
		return nil // a chain, perhaps
	}
	i := e.instantiate(ps.p, 0)
	ps.merge(i)
	ps.c.target = i
	return nil
}

// findProto is find_proto: the match named after -p's protocol.
func (ps *parser) findProto() *ext {
	if v, ok := strtoui(ps.c.protocol, 0, math.MaxUint8); ok {
		if n := protoToName(int(v), false); n != "" {
			return findMatchExt(n)
		}
		return nil
	}
	return findMatchExt(ps.c.protocol)
}

// commandDefault is command_default: an option of the target or of a
// match, or one that loads -p's protocol match (true: parse it again).
func (ps *parser) commandDefault(c int) (retry bool, err error) {
	cmd := ps.c
	if t := cmd.target; t != nil && c >= t.offset && c < t.offset+256 {
		return false, ps.extOption(t, c-t.offset)
	}
	for _, m := range cmd.matches {
		if m.offset > 0 && c >= m.offset && c < m.offset+256 {
			return false, ps.extOption(m, c-m.offset)
		}
	}
	if cmd.protocol != "" && !cmd.protoUsed {
		if e := ps.findProto(); e != nil {
			cmd.protoUsed = true
			i := e.instantiate(ps.p, 0)
			ps.merge(i)
			cmd.matches = append(cmd.matches, i)
			ps.g.optind--
			ps.g.nextchar = ""
			return true, nil
		}
	}
	arg := ""
	if ps.g.optind-1 < len(ps.g.args) && ps.g.optind >= 1 {
		arg = ps.g.args[ps.g.optind-1]
	}
	switch c {
	case ':':
		return false, ps.p.xtError(parameterProblem, "option \"%s\" requires an argument", arg)
	case '?':
		return false, ps.p.xtError(parameterProblem, "unknown option \"%s\"", arg)
	}
	return false, ps.p.xtError(parameterProblem, "Unknown arg \"%s\"", ps.g.optarg)
}

// extOption gives an option to its extension (xtables_option_mpcall /
// tpcall).
func (ps *parser) extOption(i *inst, id int) error {
	e := i.ext
	c := &call{p: ps.p, g: ps.g, arg: ps.g.optarg, hasArg: ps.g.hasArg, invert: ps.invert, inst: i, rule: &ps.c.rule}
	for k := range e.opts {
		if int(e.opts[k].id) == id {
			c.entry = &e.opts[k]
			if e.parse != nil {
				return e.parse(c)
			}
			return c.parse()
		}
	}
	if e.oldParse != nil {
		return e.oldParse(c, id)
	}
	return ps.p.xtError(otherProblem, "Extension does not know id %d", id)
}

// parseArgs is do_parse: the command line into a command.
func (p *prog) parseArgs(args []string, restore bool, table string) (*command, error) {
	c := &command{table: table, jumpto: ""}
	ps := &parser{p: p, g: newGetopt(args), c: c, restore: restore, longs: append([]longOpt(nil), originalOpts...)}
	g := ps.g
	tableSet := false
	for {
		opt := g.next(iptShorts, ps.longs)
		if opt == -1 {
			break
		}
		var err error
		switch opt {
		case 'A':
			if err = ps.addCommand(cmdAppend, 0); err == nil {
				c.chain = g.optarg
			}
		case 'C':
			if err = ps.addCommand(cmdCheck, 0); err == nil {
				c.chain = g.optarg
			}
		case 'D':
			if err = ps.addCommand(cmdDelete, 0); err == nil {
				c.chain = g.optarg
				if g.hasNextArg() {
					if c.rulenum, err = ps.parseRuleNumber(g.args[g.optind]); err == nil {
						g.optind++
						c.cmd = cmdDeleteNum
					}
				}
			}
		case 'R':
			if err = ps.addCommand(cmdReplace, 0); err == nil {
				c.chain = g.optarg
				if g.hasNextArg() {
					c.rulenum, err = ps.parseRuleNumber(g.args[g.optind])
					g.optind++
				} else {
					err = p.xtError(parameterProblem, "-%c requires a rule number", cmd2char(cmdReplace))
				}
			}
		case 'I':
			if err = ps.addCommand(cmdInsert, 0); err == nil {
				c.chain = g.optarg
				c.rulenum = 1
				if g.hasNextArg() {
					c.rulenum, err = ps.parseRuleNumber(g.args[g.optind])
					g.optind++
				}
			}
		case 'L', 'S':
			cmd := uint(cmdList)
			if opt == 'S' {
				cmd = cmdListRules
			}
			if err = ps.addCommand(cmd, cmdZero|cmdZeroNum); err == nil {
				c.chain = g.optionalArg()
				if g.hasNextArg() {
					c.rulenum, err = ps.parseRuleNumber(g.args[g.optind])
					g.optind++
				}
			}
		case 'F':
			if err = ps.addCommand(cmdFlush, 0); err == nil {
				c.chain = g.optionalArg()
			}
		case 'Z':
			if err = ps.addCommand(cmdZero, cmdList|cmdListRules); err == nil {
				c.chain = g.optionalArg()
				if g.hasNextArg() {
					if c.rulenum, err = ps.parseRuleNumber(g.args[g.optind]); err == nil {
						g.optind++
						c.cmd = c.cmd&^cmdZero | cmdZeroNum
					}
				}
			}
		case 'N':
			if err = ps.parseChainName(g.optarg); err == nil {
				if err = ps.addCommand(cmdNewChain, 0); err == nil {
					c.chain = g.optarg
				}
			}
		case 'X':
			if err = ps.addCommand(cmdDeleteChain, 0); err == nil {
				c.chain = g.optionalArg()
			}
		case 'E':
			if err = ps.addCommand(cmdRenameChain, 0); err == nil {
				c.chain = g.optarg
				if g.hasNextArg() {
					c.newname = g.args[g.optind]
					g.optind++
				} else {
					err = p.xtError(parameterProblem, "-%c requires old-chain-name and new-chain-name", cmd2char(cmdRenameChain))
				}
			}
		case 'P':
			if err = ps.addCommand(cmdSetPolicy, 0); err == nil {
				c.chain = g.optarg
				if g.hasNextArg() {
					c.policy = g.args[g.optind]
					g.optind++
				} else {
					err = p.xtError(parameterProblem, "-%c requires a chain and a policy", cmd2char(cmdSetPolicy))
				}
			}
		case 'h':
			c.help = true
			return c, nil
		case 'p':
			if err = ps.setOption(optProtocol); err == nil {
				c.protocol = strings.ToLower(g.optarg)
				c.rule.IP.Proto, err = p.parseProtocol(c.protocol)
				if err == nil && c.rule.IP.Proto == 0 && c.rule.IP.InvFlags&ipt.InvProto != 0 {
					err = p.xtError(parameterProblem, "rule would never match protocol")
				}
			}
		case 's':
			if err = ps.setOption(optSource); err == nil {
				c.shost = g.optarg
			}
		case 'd':
			if err = ps.setOption(optDestination); err == nil {
				c.dhost = g.optarg
			}
		case 'g':
			if err = ps.setOption(optJump); err == nil {
				c.gotoSet = true
				c.jumpto, err = ps.parseTargetName(g.optarg)
			}
		case 'j':
			if err = ps.setOption(optJump); err == nil {
				err = ps.commandJump(g.optarg)
			}
		case 'i', 'o':
			if g.optarg == "" {
				err = p.xtError(parameterProblem, "Empty interface is likely to be undesired")
				break
			}
			o := uint(optViaNameIn)
			if opt == 'o' {
				o = optViaNameOut
			}
			if err = ps.setOption(o); err == nil {
				if len(g.optarg)+1 > ipt.IFNAMSIZ {
					err = p.xtError(parameterProblem, "interface name `%s' must be shorter than IFNAMSIZ (%d)", g.optarg, ipt.IFNAMSIZ-1)
					break
				}
				if opt == 'i' {
					ipt.SetIface(g.optarg, &c.rule.IP.InIface, &c.rule.IP.InMask)
				} else {
					ipt.SetIface(g.optarg, &c.rule.IP.OutIface, &c.rule.IP.OutMask)
				}
				if strings.ContainsAny(g.optarg, "/ ") && !strings.HasSuffix(g.optarg, "+") {
					p.warn("Warning: weird character in interface `%s' ('/' and ' ' are not allowed by the kernel).\n", g.optarg)
				}
			}
		case 'f':
			if err = ps.setOption(optFragment); err == nil {
				c.rule.IP.Flags |= ipt.FlagFrag
			}
		case 'v':
			if c.verbose == 0 {
				err = ps.setOption(optVerbose)
			}
			c.verbose++
		case 'm':
			err = ps.commandMatch(g.optarg)
		case 'n':
			err = ps.setOption(optNumeric)
		case 't':
			if ps.invert {
				err = p.xtError(parameterProblem, "unexpected ! flag before --table")
				break
			}
			if restore && tableSet {
				err = p.xtError(parameterProblem, "The -t option cannot be used in %s.\n", p.name)
				break
			}
			c.table, tableSet = g.optarg, true
		case 'x':
			err = ps.setOption(optExpanded)
		case 'V':
			c.version = true
			if ps.invert {
				c.version = false
				p.printf("Not %s ;-)\n", Version)
				return nil, &Error{Code: 0}
			}
			return c, nil
		case 'w':
			if restore {
				err = p.xtError(parameterProblem, "You cannot use `-w' from iptables-restore")
				break
			}
			if !g.hasArg && g.hasNextArg() {
				g.optind++ // the seconds to wait: vnic has no lock to wait on
			}
		case 'W':
			if restore {
				err = p.xtError(parameterProblem, "You cannot use `-W' from iptables-restore")
				break
			}
			if !g.hasArg && g.hasNextArg() {
				g.optind++
			}
		case '0':
			err = ps.setOption(optLineNumbers)
		case 'M':
			// --modprobe: vnic loads no modules.
		case 'c':
			if err = ps.setOption(optCounters); err != nil {
				break
			}
			pcnt := g.optarg
			bcnt, hasB := "", false
			if i := strings.IndexByte(pcnt[min(1, len(pcnt)):], ','); i >= 0 {
				bcnt, hasB = pcnt[i+2:], true
			}
			if !hasB && g.hasNextArg() {
				bcnt, hasB = g.args[g.optind], true
				g.optind++
			}
			if !hasB {
				err = p.xtError(parameterProblem, "-%c requires packet and byte counter", opt2char(optCounters))
				break
			}
			pv, ok1 := scanUint(pcnt)
			if !ok1 {
				err = p.xtError(parameterProblem, "-%c packet counter not numeric", opt2char(optCounters))
				break
			}
			bv, ok2 := scanUint(bcnt)
			if !ok2 {
				err = p.xtError(parameterProblem, "-%c byte counter not numeric", opt2char(optCounters))
				break
			}
			c.rule.Counters = ipt.Counters{Packets: pv, Bytes: bv}
		case '4':
		case '6':
			if restore {
				return nil, errIgnoreLine
			}
			return nil, &Error{Code: parameterProblem, Text: p.tryHelp()}
		case 1:
			if g.optarg == "!" {
				if ps.invert {
					err = p.xtError(parameterProblem, "multiple consecutive ! not allowed")
					break
				}
				ps.invert = true
				continue
			}
			return nil, p.badArgument(g.optarg)
		default:
			retry, e := ps.commandDefault(opt)
			if e != nil {
				return nil, e
			}
			if retry {
				continue
			}
		}
		if err != nil {
			return nil, err
		}
		ps.invert = false
	}
	if c.table == "nat" && (c.policy == "DROP" || c.jumpto == "DROP") {
		return nil, p.xtError(parameterProblem, "\nThe \"nat\" table is not intended for filtering, the use of DROP is therefore inhibited.\n\n")
	}
	for _, m := range c.matches {
		if err := m.finalCheck(); err != nil {
			return nil, err
		}
	}
	if c.target != nil {
		if err := c.target.finalCheck(); err != nil {
			return nil, err
		}
	}
	if g.optind < len(g.args) {
		return nil, p.xtError(parameterProblem, "unknown arguments found on commandline")
	}
	if c.cmd == 0 {
		return nil, p.xtError(parameterProblem, "no command specified")
	}
	if ps.invert {
		return nil, p.xtError(parameterProblem, "nothing appropriate following !")
	}
	if c.gotoSet {
		c.rule.IP.Flags |= ipt.FlagGoto
	}
	if err := p.postParse(c); err != nil {
		return nil, err
	}
	if c.cmd == cmdReplace && (len(c.saddrs) != 1 || len(c.daddrs) != 1) {
		return nil, p.xtError(parameterProblem, "Replacement rule does not specify a unique address")
	}
	if err := p.genericOptCheck(c.cmd, c.options); err != nil {
		return nil, err
	}
	if len(c.chain) > ipt.MaxChainName {
		return nil, p.xtError(parameterProblem, "chain name `%s' too long (must be under %d chars)", c.chain, ipt.MaxChainName+1)
	}
	if c.cmd&(cmdAppend|cmdDelete|cmdDeleteNum|cmdCheck|cmdInsert|cmdReplace) != 0 {
		if (c.chain == "PREROUTING" || c.chain == "INPUT") && c.options&optViaNameOut != 0 {
			return nil, p.xtError(parameterProblem, "Can't use -%c with %s\n", opt2char(optViaNameOut), c.chain)
		}
		if (c.chain == "POSTROUTING" || c.chain == "OUTPUT") && c.options&optViaNameIn != 0 {
			return nil, p.xtError(parameterProblem, "Can't use -%c with %s\n", opt2char(optViaNameIn), c.chain)
		}
	}
	return c, nil
}

// errIgnoreLine is -6 in iptables-restore: the line is for ip6tables.
var errIgnoreLine = &Error{Code: -1}

// scanUint is sscanf("%llu").
func scanUint(s string) (uint64, bool) {
	v, _, ok, overflow := strtoumax(s, 10)
	if overflow {
		v = math.MaxUint64
	}
	return v, ok
}

// postParse is ipv4_post_parse: the addresses.
func (p *prog) postParse(c *command) error {
	if c.cmd&(cmdReplace|cmdInsert|cmdDelete|cmdAppend|cmdCheck) != 0 {
		if c.options&optDestination == 0 {
			c.dhost = "0.0.0.0/0"
		}
		if c.options&optSource == 0 {
			c.shost = "0.0.0.0/0"
		}
	}
	var err error
	if c.shost != "" {
		if c.saddrs, c.smasks, err = p.ipparseMultiple(c.shost); err != nil {
			return err
		}
	}
	if c.dhost != "" {
		if c.daddrs, c.dmasks, err = p.ipparseMultiple(c.dhost); err != nil {
			return err
		}
	}
	if (len(c.saddrs) > 1 || len(c.daddrs) > 1) && c.rule.IP.InvFlags&(ipt.InvSrcIP|ipt.InvDstIP) != 0 {
		return p.xtError(parameterProblem, "! not allowed with multiple source or destination IP addresses")
	}
	return nil
}

// genericOptCheck is generic_opt_check.
func (p *prog) genericOptCheck(command, options uint) error {
	for i := 0; i < len(optFlagChars); i++ {
		legal := 0
		for j := 0; j < numberOfCmd-1; j++ {
			if command&(1<<uint(j)) == 0 {
				continue
			}
			v := commandsVOptions[j][i]
			if options&(1<<uint(i)) == 0 {
				if v == '+' {
					return p.xtError(parameterProblem, "You need to supply the `-%c' option for this command\n", optFlagChars[i])
				}
			} else if v != 'x' {
				legal = 1
			} else if legal == 0 {
				legal = -1
			}
		}
		if legal == -1 {
			return p.xtError(parameterProblem, "Illegal option `-%c' with this command", optFlagChars[i])
		}
	}
	return nil
}
