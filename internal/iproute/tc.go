package iproute

import (
	"fmt"
	"io"
	"strings"
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
// duparg is tc's duparg: exit(-1).
// qdiscModify is tc_qdisc_modify.
// parseEstimator is parse_estimator: "estimator INTERVAL TIME_CONSTANT"
// as struct tc_estimator (tc_setup_estimator).
// qdiscFilter is tc qdisc show's selection (filter_ifindex, filter_parent,
// filter_handle).
// qdiscList is tc_qdisc_list.
