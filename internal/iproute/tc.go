package iproute

import (
	"fmt"
	"io"
	"math"
	"strings"

	mnl "github.com/mdlayher/netlink"

	"vnic/stack/rtnetlink"
)

// tc, iproute2 6.1's traffic-control utility, over the same rtnetlink
// transport as ip: its global options, tc qdisc add, change, replace,
// link, delete and show with tc's grammar, its words and exit codes (1 for
// most errors, 2 for a refusal by the host, 255 for usage errors), and
// its printers. netem is the kind whose options it parses (tc_netem.go);
// pfifo_fast (as prio), noqueue and mq print as tc prints them.

// TCUsage is tc help, tc -help and tc without an object.
const TCUsage = `Usage:	tc [ OPTIONS ] OBJECT { COMMAND | help }
	tc [-force] -batch filename
where  OBJECT := { qdisc | class | filter | chain |
		    action | monitor | exec }
       OPTIONS := { -V[ersion] | -s[tatistics] | -d[etails] | -r[aw] |
		    -o[neline] | -j[son] | -p[retty] | -c[olor]
		    -b[atch] [filename] | -n[etns] name | -N[umeric] |
		     -nm | -nam[es] | { -cf | -conf } path
		     -br[ief] }
`

const qdiscUsage = `Usage: tc qdisc [ add | del | replace | change | show ] dev STRING
       [ handle QHANDLE ] [ root | ingress | clsact | parent CLASSID ]
       [ estimator INTERVAL TIME_CONSTANT ]
       [ stab [ help | STAB_OPTIONS] ]
       [ ingress_block BLOCK_INDEX ] [ egress_block BLOCK_INDEX ]
       [ [ QDISC_KIND ] [ help | OPTIONS ] ]

       tc qdisc { show | list } [ dev STRING ] [ QDISC_ID ] [ invisible ]
Where:
QDISC_KIND := { [p|b]fifo | tbf | prio | cbq | red | etc. }
OPTIONS := ... try tc qdisc add <desired QDISC_KIND> help
STAB_OPTIONS := ... try tc qdisc add stab help
QDISC_ID := { root | ingress | handle QHANDLE | parent CLASSID }
`

// tcGlobals are tc's options before the object.
type tcGlobals struct {
	stats, details, raw int
	iec                 bool
	netns               string
	hasNetns            bool
}

// tcCmd is one tc command's context.
type tcCmd struct {
	g  tcGlobals
	o  Options
	ip *cmd // the link cache (ll_map)
}

// RunTC is tc [ OPTIONS ] OBJECT { COMMAND | help } with tc 6.1's
// grammar, output and exit codes.
func RunTC(args []string, o Options) int {
	if o.Stdout == nil {
		o.Stdout = io.Discard
	}
	if o.Stderr == nil {
		o.Stderr = io.Discard
	}
	return report(runTC(args, o), o)
}

func runTC(args []string, o Options) error {
	g, rest, err := parseTCGlobals(args, o)
	if err != nil || g == nil {
		return err
	}
	if g.hasNetns && o.Netns != nil {
		if err := o.Netns(g.netns); err != nil {
			return &Error{Msg: fmt.Sprintf("Cannot open network namespace \"%s\": %s", g.netns, capitalise(errnoText(err))), Code: exitUsage, Bare: true}
		}
	}
	if len(rest) == 0 {
		fmt.Fprint(o.Stderr, TCUsage)
		return nil
	}
	c := &tcCmd{g: *g, o: o, ip: &cmd{o: o}}
	obj := rest[0]
	switch {
	case matches(obj, "qdisc"):
		return c.qdisc(rest[1:])
	case matches(obj, "class"), matches(obj, "filter"), matches(obj, "chain"):
		if len(rest) < 2 || matches(rest[1], "show") || matches(rest[1], "list") || matches(rest[1], "lst") {
			return nil // vnic's qdiscs have no classes or filters to list
		}
		return &Error{Msg: fmt.Sprintf("vnic: tc %s %s is not supported: vnic has root qdiscs only.", rest[0], rest[1]), Code: exitFail, Bare: true}
	case matches(obj, "actions"), matches(obj, "monitor"), matches(obj, "exec"):
		return &Error{Msg: fmt.Sprintf("vnic: tc %s is not supported.", obj), Code: exitFail, Bare: true}
	case matches(obj, "help"):
		fmt.Fprint(o.Stderr, TCUsage)
		return nil
	}
	return &Error{Msg: fmt.Sprintf("Object \"%s\" is unknown, try \"tc help\".", obj), Code: exitUsage, Bare: true}
}

// parseTCGlobals reads tc.c's options in its order (the order decides
// what a prefix means: -n is -netns, -b -batch, -c -cf). A nil result
// with a nil error is a command that is done (-V, -help).
func parseTCGlobals(args []string, o Options) (*tcGlobals, []string, error) {
	g := &tcGlobals{}
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		a := args[0]
		switch {
		case matches(a, "-stats"), matches(a, "-statistics"):
			g.stats++
		case matches(a, "-details"):
			g.details++
		case matches(a, "-raw"):
			g.raw++
		case matches(a, "-pretty"), matches(a, "-graph"):
		case matches(a, "-Version"):
			fmt.Fprintln(o.Stdout, "tc utility, vnic (iproute2-6.1.0's grammar)")
			return nil, nil, nil
		case matches(a, "-iec"):
			g.iec = true
		case matches(a, "-help"):
			fmt.Fprint(o.Stderr, TCUsage)
			return nil, nil, nil
		case matches(a, "-force"):
		case matches(a, "-batch"):
			return nil, nil, &Error{Msg: "vnic: tc -batch is not supported.", Code: exitFail, Bare: true}
		case matches(a, "-netns"):
			if len(args) < 2 {
				return nil, nil, &Error{Msg: "Cannot open network namespace \"(null)\": No such file or directory", Code: exitUsage, Bare: true}
			}
			args = args[1:]
			g.netns, g.hasNetns = args[0], true
		case matches(a, "-Numeric"), matches(a, "-names"), matches(a, "-nm"):
		case matches(a, "-cf"), matches(a, "-conf"):
			if len(args) < 2 {
				return nil, nil, incomplete()
			}
			args = args[1:]
		case isColor(a), matches(a, "-timestamp"), matches(a, "-tshort"), matches(a, "-oneline"), matches(a, "-brief"):
		case matches(a, "-json"):
			return nil, nil, &Error{Msg: "vnic: tc -json is not supported: vnic's tc prints text.", Code: exitFail, Bare: true}
		default:
			return nil, nil, &Error{Msg: fmt.Sprintf("Option \"%s\" is unknown, try \"tc -help\".", a), Code: exitUsage, Bare: true}
		}
		args = args[1:]
	}
	return g, args, nil
}

// TCNetns returns the host tc's global -n/-netns NAME names ("" without
// one), for a caller that must bind its socket before RunTC.
func TCNetns(args []string) string {
	g, _, err := parseTCGlobals(args, Options{Stdout: io.Discard, Stderr: io.Discard})
	if err != nil || g == nil {
		return ""
	}
	return g.netns
}

// TCNeedsHost reports whether a tc command line talks to a host (usage
// texts, -V and option errors do not).
func TCNeedsHost(args []string) bool {
	g, rest, err := parseTCGlobals(args, Options{Stdout: io.Discard, Stderr: io.Discard})
	if err != nil || g == nil || len(rest) == 0 || !matches(rest[0], "qdisc") {
		return false
	}
	return len(rest) < 2 || !matches(rest[1], "help")
}

// qdisc is do_qdisc.
func (c *tcCmd) qdisc(args []string) error {
	if len(args) == 0 {
		return c.qdiscList(nil)
	}
	ack := mnl.Acknowledge
	switch a := args[0]; {
	case matches(a, "add"):
		return c.qdiscModify(rtnetlink.RTMNewQdisc, ack|rtnetlink.FlagExcl|rtnetlink.FlagCreate, args[1:])
	case matches(a, "change"):
		return c.qdiscModify(rtnetlink.RTMNewQdisc, ack, args[1:])
	case matches(a, "replace"):
		return c.qdiscModify(rtnetlink.RTMNewQdisc, ack|rtnetlink.FlagCreate|rtnetlink.FlagReplace, args[1:])
	case matches(a, "link"):
		return c.qdiscModify(rtnetlink.RTMNewQdisc, ack|rtnetlink.FlagReplace, args[1:])
	case matches(a, "delete"):
		return c.qdiscModify(rtnetlink.RTMDelQdisc, ack, args[1:])
	case matches(a, "list"), matches(a, "show"), matches(a, "lst"):
		return c.qdiscList(args[1:])
	case matches(a, "help"):
		fmt.Fprint(c.o.Stderr, qdiscUsage)
		return nil
	default:
		return &Error{Msg: fmt.Sprintf("Command \"%s\" is unknown, try \"tc qdisc help\".", a), Code: exitUsage, Bare: true}
	}
}

// duparg is tc's duparg: exit(-1).
func duparg(key, arg string) error {
	return &Error{Msg: fmt.Sprintf("duplicate \"%s\": \"%s\" is the second value.", key, arg), Code: exitUsage}
}

// qdiscModify is tc_qdisc_modify.
func (c *tcCmd) qdiscModify(typ uint16, flags mnl.HeaderFlags, args []string) error {
	m := rtnetlink.QdiscMsg{}
	dev, kind := "", ""
	var opts []byte
	hasOpts := false
	i := 0
	for ; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "dev":
			v, err := nextArg(args, &i)
			if err != nil {
				return err
			}
			if dev != "" {
				return duparg("dev", v)
			}
			dev = v
		case a == "handle":
			if m.Handle != 0 {
				return duparg("handle", a)
			}
			v, err := nextArg(args, &i)
			if err != nil {
				return err
			}
			h, ok := getQdiscHandle(v)
			if !ok {
				return invarg("invalid qdisc ID", v)
			}
			m.Handle = h
		case a == "root":
			if m.Parent != 0 {
				return &Error{Msg: "\"root\" is duplicate parent ID", Code: exitUsage}
			}
			m.Parent = 0xffffffff
		case a == "clsact", a == "ingress":
			if m.Parent != 0 {
				return &Error{Msg: fmt.Sprintf("\"%s\" is a duplicate parent ID", a), Code: exitUsage}
			}
			// TC_H_CLSACT is TC_H_INGRESS: the kind tells them apart.
			m.Parent, m.Handle, kind = 0xfffffff1, 0xffff0000, a
			i++
			goto kindDone
		case a == "parent":
			v, err := nextArg(args, &i)
			if err != nil {
				return err
			}
			if m.Parent != 0 {
				return duparg("parent", v)
			}
			h, ok := getClassid(v)
			if !ok {
				return invarg("invalid parent ID", v)
			}
			m.Parent = h
		case matches(a, "estimator"):
			est, err := parseEstimator(args, &i, m.Rate != nil)
			if err != nil {
				return err
			}
			m.Rate = est
		case matches(a, "stab"):
			return &Error{Msg: "vnic: size tables (stab) are not supported.", Code: exitFail, Bare: true}
		case matches(a, "ingress_block"), matches(a, "egress_block"):
			v, err := nextArg(args, &i)
			if err != nil {
				return err
			}
			n, ok := getU32(v, 0)
			name := "ingress"
			if matches(a, "egress_block") {
				name = "egress"
			}
			if !ok || n == 0 {
				return invarg(fmt.Sprintf("invalid %s block index value", name), v)
			}
			if name == "ingress" {
				m.IngressBlock = &n
			} else {
				m.EgressBlock = &n
			}
		case matches(a, "help"):
			// tc prints its usage and goes on.
			fmt.Fprint(c.o.Stderr, qdiscUsage)
		default:
			kind = a
			if len(kind) > 15 {
				kind = kind[:15] // FILTER_NAMESZ
			}
			i++
			goto kindDone
		}
	}
kindDone:
	rest := args[min(i, len(args)):]
	m.Kind = kind
	switch {
	case kind == "netem":
		o, err := parseNetem(rest)
		if err != nil {
			return err
		}
		opts, hasOpts = o.MarshalRequest(), true
	case kind == "ingress" || kind == "clsact":
		if len(rest) > 0 && rest[0] != "help" {
			return &Error{Msg: fmt.Sprintf("What is \"%s\"?", rest[0]), Code: exitFail, Bare: true}
		}
	case kind != "" && len(rest) > 0:
		return &Error{Msg: fmt.Sprintf("Unknown qdisc \"%s\", hence option \"%s\" is unparsable", kind, rest[0]), Code: exitFail, Bare: true}
	}
	m.Options, m.HasOptions = opts, hasOpts
	if dev != "" {
		idx, err := c.ip.ifindex(dev)
		if err != nil {
			return err
		}
		if idx == 0 {
			return noDevice(dev)
		}
		m.Ifindex = int32(idx)
	}
	_, err := c.o.T.Route(typ, flags, m.Marshal())
	return err
}

// parseEstimator is parse_estimator: "estimator INTERVAL TIME_CONSTANT"
// as struct tc_estimator (tc_setup_estimator).
func parseEstimator(args []string, i *int, dup bool) ([]byte, error) {
	v, err := nextArg(args, i)
	if err != nil {
		return nil, err
	}
	if dup {
		return nil, duparg("estimator", v)
	}
	a, ok := getTime(v)
	if !ok {
		return nil, invarg("estimator", "invalid estimator interval")
	}
	if v, err = nextArg(args, i); err != nil {
		return nil, err
	}
	tconst, ok := getTime(v)
	if !ok {
		return nil, invarg("estimator", "invalid estimator time constant")
	}
	interval := 0
	for ; interval <= 5; interval++ {
		if float64(a) <= float64(int(1)<<interval)*(timeUnitsPerSec/4) {
			break
		}
	}
	outOfRange := &Error{Msg: "estimator parameters are out of range.", Code: exitUsage}
	if interval > 5 {
		return nil, outOfRange
	}
	interval -= 2
	ewma := 1
	for ; ewma < 32; ewma++ {
		w := 1.0 - 1.0/float64(uint64(1)<<ewma)
		if float64(a)/(-math.Log(w)) > float64(tconst) {
			break
		}
	}
	ewma--
	if ewma == 0 || ewma >= 31 {
		return nil, outOfRange
	}
	return []byte{byte(int8(interval)), byte(ewma)}, nil
}

// qdiscFilter is tc qdisc show's selection (filter_ifindex, filter_parent,
// filter_handle).
type qdiscFilter struct {
	ifindex        int32
	parent, handle uint32
}

// qdiscList is tc_qdisc_list.
func (c *tcCmd) qdiscList(args []string) error {
	var f qdiscFilter
	dev, invisible := "", false
	already := func(a string) error {
		if f.parent != 0 {
			return invarg("parent is already specified", a)
		}
		if f.handle != 0 {
			return invarg("handle is already specified", a)
		}
		return nil
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "dev":
			v, err := nextArg(args, &i)
			if err != nil {
				return err
			}
			dev = v
		case a == "root", a == "ingress", a == "clsact":
			if err := already(a); err != nil {
				return err
			}
			f.parent = 0xffffffff
			if a != "root" {
				f.parent = 0xfffffff1
			}
		case matches(a, "parent"):
			if err := already(a); err != nil {
				return err
			}
			v, err := nextArg(args, &i)
			if err != nil {
				return err
			}
			h, ok := getClassid(v)
			if !ok {
				return invarg("invalid parent ID", v)
			}
			f.parent = h
		case matches(a, "handle"):
			if err := already(a); err != nil {
				return err
			}
			v, err := nextArg(args, &i)
			if err != nil {
				return err
			}
			h, ok := getQdiscHandle(v)
			if !ok {
				return invarg("invalid handle ID", v)
			}
			f.handle = h
		case matches(a, "help"):
			fmt.Fprint(c.o.Stderr, qdiscUsage) // and tc goes on
		case a == "invisible":
			invisible = true
		default:
			return &Error{Msg: fmt.Sprintf("What is \"%s\"? Try \"tc qdisc help\".", a), Code: exitUsage, Bare: true}
		}
	}
	req := rtnetlink.QdiscMsg{DumpInvisible: invisible}
	if dev != "" {
		idx, err := c.ip.ifindex(dev)
		if err != nil {
			return err
		}
		if idx == 0 {
			return noDevice(dev)
		}
		req.Ifindex, f.ifindex = int32(idx), int32(idx)
	} else if _, err := c.ip.links(); err != nil {
		return err
	}
	msgs, err := c.o.T.Route(rtnetlink.RTMGetQdisc, mnl.Dump, req.Marshal())
	if err != nil {
		return &Error{Msg: nlMessage(err) + "Dump terminated", Code: exitFail, Bare: true}
	}
	var b strings.Builder
	for _, m := range msgs {
		var q rtnetlink.QdiscMsg
		if q.Unmarshal(m.Data) != nil {
			continue
		}
		c.printQdisc(&b, uint16(m.Header.Type), q, f)
	}
	io.WriteString(c.o.Stdout, b.String())
	return nil
}
