package iproute

import (
	"fmt"
	"io"
	"math"
	"strings"

	mnl "github.com/mdlayher/netlink"

	"vnic/stack/rtnetlink"
)

// tc qdisc (tc_qdisc.c): add, change, replace, link, delete and show.

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

func duparg(key, arg string) error {
	return &Error{Msg: fmt.Sprintf("duplicate \"%s\": \"%s\" is the second value.", key, arg), Code: exitUsage}
}

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

type qdiscFilter struct {
	ifindex        int32
	parent, handle uint32
}

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
