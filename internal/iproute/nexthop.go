package iproute

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"syscall"

	mnl "github.com/mdlayher/netlink"

	"vnic/stack/ipv4/fib"
	"vnic/stack/netlink"
	"vnic/stack/rtnetlink"
)

// ip nexthop: iproute2 6.1's ipnexthop.c grammar and print_nexthop's
// output.

const nexthopUsage = `Usage: ip nexthop { list | flush } [ protocol ID ] SELECTOR
       ip nexthop { add | replace } id ID NH [ protocol ID ]
       ip nexthop { get | del } id ID
       ip nexthop bucket list BUCKET_SELECTOR
       ip nexthop bucket get id ID index INDEX
SELECTOR := [ id ID ] [ dev DEV ] [ vrf NAME ] [ master DEV ]
            [ groups ] [ fdb ]
BUCKET_SELECTOR := SELECTOR | [ nhid ID ]
NH := { blackhole | [ via ADDRESS ] [ dev DEV ] [ onlink ]
        [ encap ENCAPTYPE ENCAPHDR ] |
        group GROUP [ fdb ] [ type TYPE [ TYPE_ARGS ] ] }
GROUP := [ <id[,weight]>/<id[,weight]>/... ]
TYPE := { mpath | resilient }
TYPE_ARGS := [ RESILIENT_ARGS ]
RESILIENT_ARGS := [ buckets BUCKETS ] [ idle_timer IDLE ]
                  [ unbalanced_timer UNBALANCED ]
ENCAPTYPE := [ mpls ]
ENCAPHDR := [ MPLSLABEL ]
`

func (c *cmd) nexthop(args []string) error {
	if sel, ok := listCmd(args); ok {
		return c.nexthopList(sel, false)
	}
	switch {
	case matches(args[0], "flush"):
		return c.nexthopList(args[1:], true)
	case matches(args[0], "help"):
		return usageErr{nexthopUsage}
	case matches(args[0], "add"):
		return c.nexthopModify(args[1:], rtnetlink.FlagCreate|rtnetlink.FlagExcl)
	case matches(args[0], "replace"):
		return c.nexthopModify(args[1:], rtnetlink.FlagCreate|rtnetlink.FlagReplace)
	case matches(args[0], "delete"):
		return c.nexthopIDCmd(rtnetlink.RTMDelNexthop, args[1:])
	case matches(args[0], "get"):
		return c.nexthopIDCmd(rtnetlink.RTMGetNexthop, args[1:])
	case matches(args[0], "bucket"):
		return c.nexthopBucket(args[1:])
	}
	return &Error{Msg: fmt.Sprintf("Command \"%s\" is unknown, try \"ip nexthop help\".", args[0]), Code: exitUsage, Bare: true}
}

// parseNexthopID reads id ID.
func parseNexthopID(v string) (uint32, error) {
	n, err := strconv.ParseUint(v, 0, 32)
	if err != nil {
		return 0, invarg("invalid id value", v)
	}
	return uint32(n), nil
}

func (c *cmd) nexthopModify(args []string, flags mnl.HeaderFlags) error {
	if c.g.family == famInet6 {
		return errIPv6
	}
	m := rtnetlink.NexthopMsg{Family: 2}
	for i := 0; i < len(args); i++ {
		a := args[i]
		next := func() (string, error) { return nextArg(args, &i) }
		var v string
		var err error
		switch {
		case a == "id":
			if v, err = next(); err != nil {
				return err
			}
			if m.ID, err = parseNexthopID(v); err != nil {
				return err
			}
		case a == "via":
			if v, err = next(); err != nil {
				return err
			}
			if isIPv6(v) {
				return errIPv6
			}
			ad, e := netip.ParseAddr(v)
			if e != nil || !ad.Is4() {
				return &Error{Msg: fmt.Sprintf("inet address is expected rather than \"%s\".", v)}
			}
			m.Gateway = ad
		case a == "dev":
			if v, err = next(); err != nil {
				return err
			}
			if m.Oif, err = c.dev(v); err != nil {
				return err
			}
		case a == "onlink":
			m.Flags |= rtnetlink.RTNHFOnLink
		case a == "blackhole":
			m.Blackhole, m.Family = true, 0
		case a == "group":
			if v, err = next(); err != nil {
				return err
			}
			for _, e := range strings.Split(v, "/") {
				id, w, hasW := strings.Cut(e, ",")
				n, err := strconv.ParseUint(id, 0, 32)
				if err != nil {
					return invarg("\"id\" value is invalid\n", id)
				}
				g := rtnetlink.NexthopGrp{ID: uint32(n), Weight: 1}
				if hasW {
					k, err := strconv.ParseUint(w, 0, 16)
					if err != nil || k == 0 || k > 256 {
						return invarg("\"weight\" is invalid\n", w)
					}
					g.Weight = uint16(k)
				}
				m.Group = append(m.Group, g)
			}
			m.Family = 0
		case a == "type":
			if v, err = next(); err != nil {
				return err
			}
			switch v {
			case "mpath":
				m.GroupType, m.HasType = rtnetlink.NhGrpTypeMpath, true
			case "resilient":
				m.GroupType, m.HasType = rtnetlink.NhGrpTypeRes, true
				if i+1 < len(args) {
					// parse_nh_group_type_res: NHA_RES_GROUP, perhaps
					// empty, when anything follows.
					m.HasRes = true
					if err := parseResArgs(args, &i, &m); err != nil {
						return err
					}
				}
			default:
				return invarg("\"type\" value is invalid\n", v)
			}
		case matches(a, "protocol"):
			if v, err = next(); err != nil {
				return err
			}
			p, ok := ParseProto(v)
			if !ok {
				return invarg("\"protocol\" value is invalid\n", v)
			}
			m.Protocol = p
		case a == "encap", a == "fdb":
			return &Error{Msg: fmt.Sprintf("nexthop %s is not supported by vnic.", a), Code: exitNL}
		case matches(a, "help"):
			return usageErr{nexthopUsage}
		default:
			return invarg("", a)
		}
	}
	_, err := c.o.T.Route(rtnetlink.RTMNewNexthop, mnl.Acknowledge|flags, m.Marshal())
	return err
}

// parseResArgs reads RESILIENT_ARGS after type resilient (args[*i]):
// buckets, idle_timer and unbalanced_timer in seconds, until a word that
// is none of them, which it leaves to the caller.
func parseResArgs(args []string, i *int, m *rtnetlink.NexthopMsg) error {
	for *i+1 < len(args) {
		a := args[*i+1]
		if a != "buckets" && a != "idle_timer" && a != "unbalanced_timer" {
			return nil
		}
		*i++
		v, err := nextArg(args, i)
		if err != nil {
			return err
		}
		switch a {
		case "buckets":
			n, e := strconv.ParseUint(v, 0, 16)
			if e != nil {
				return invarg("invalid buckets value", v)
			}
			m.Buckets, m.ResAttrs = uint16(n), m.ResAttrs|rtnetlink.ResBuckets
		case "idle_timer":
			n, e := strconv.ParseUint(v, 0, 32)
			if e != nil || n >= math.MaxUint32/100 {
				return invarg("invalid idle timer value", v)
			}
			m.IdleTimer, m.ResAttrs = uint32(n)*100, m.ResAttrs|rtnetlink.ResIdleTimer // seconds to clock_t
		default:
			n, e := strconv.ParseUint(v, 0, 32)
			if e != nil || n >= math.MaxUint32/100 {
				return invarg("invalid unbalanced timer value", v)
			}
			m.UnbalancedTimer, m.ResAttrs = uint32(n)*100, m.ResAttrs|rtnetlink.ResUnbalancedTimer
		}
	}
	return nil
}

// nexthopIDCmd is ip nexthop del|get id ID.
func (c *cmd) nexthopIDCmd(typ uint16, args []string) error {
	if len(args) < 2 || args[0] != "id" {
		if len(args) == 0 {
			return &Error{Msg: "Nexthop id is required", Bare: true, Code: exitUsage}
		}
		return invarg("expecting id", args[0])
	}
	id, err := parseNexthopID(args[1])
	if err != nil {
		return err
	}
	body := rtnetlink.NexthopMsg{ID: id}.Marshal()
	if typ == rtnetlink.RTMDelNexthop {
		_, err := c.o.T.Route(typ, mnl.Acknowledge, body)
		return err
	}
	msgs, err := c.o.T.Route(typ, 0, body)
	if err != nil {
		return err
	}
	if _, err := c.links(); err != nil {
		return err
	}
	p := newOut(c.g)
	p.list() // ipnh_get_id's new_json_obj: an array of the one
	for _, msg := range msgs {
		var nh rtnetlink.NexthopMsg
		if nh.Unmarshal(msg.Data) == nil {
			p.openObj("")
			c.printNexthop(p, nh)
			p.closeObj()
			p.end()
		}
	}
	p.done()
	c.write(p)
	return nil
}

// nexthopList is ip nexthop show and flush with their selectors.
func (c *cmd) nexthopList(args []string, flush bool) error {
	var f rtnetlink.NexthopMsg
	var id uint32
	var proto uint8
	hasProto := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		next := func() (string, error) { return nextArg(args, &i) }
		var v string
		var err error
		switch {
		case a == "id":
			if v, err = next(); err != nil {
				return err
			}
			if id, err = parseNexthopID(v); err != nil {
				return err
			}
		case a == "dev":
			if v, err = next(); err != nil {
				return err
			}
			if f.Oif, err = c.dev(v); err != nil {
				return err
			}
		case a == "groups":
			f.Groups = true
		case matches(a, "protocol"):
			if v, err = next(); err != nil {
				return err
			}
			p, ok := ParseProto(v)
			if !ok {
				return invarg("invalid protocol", v)
			}
			proto, hasProto = p, true
		case matches(a, "master"), matches(a, "vrf"):
			if v, err = next(); err != nil {
				return err
			}
			idx, err := c.ifindex(v)
			if err != nil {
				return err
			}
			switch {
			case matches(a, "master") && idx == 0:
				return invarg("Device does not exist\n", v)
			case matches(a, "vrf") && (idx == 0 || !c.isVRF(idx)):
				return invarg("Invalid VRF\n", v)
			}
			f.Master = idx
		case a == "fdb":
			return &Error{Msg: fmt.Sprintf("ip nexthop show %s is not supported by vnic.", a), Code: exitNL}
		case matches(a, "help"):
			return usageErr{nexthopUsage}
		default:
			return invarg("Unknown argument", a)
		}
	}
	if c.g.family == famInet6 {
		if !flush {
			c.emptyList()
		}
		return nil
	}
	if id != 0 && !flush {
		return c.nexthopIDCmd(rtnetlink.RTMGetNexthop, []string{"id", strconv.FormatUint(uint64(id), 10)})
	}
	msgs, err := c.o.T.Route(rtnetlink.RTMGetNexthop, mnl.Dump, f.Marshal())
	if err != nil {
		return &nlErr{err: err, after: "Dump terminated"}
	}
	var nhs []rtnetlink.NexthopMsg
	for _, msg := range msgs {
		var nh rtnetlink.NexthopMsg
		if nh.Unmarshal(msg.Data) != nil || id != 0 && nh.ID != id || hasProto && nh.Protocol != proto {
			continue
		}
		nhs = append(nhs, nh)
	}
	if flush {
		// Each dumped nexthop is deleted and counted, as iproute2 counts
		// them (a group emptied by its members' deletion is gone already).
		n := 0
		for _, nh := range nhs {
			_, _ = c.o.T.Route(rtnetlink.RTMDelNexthop, mnl.Acknowledge, rtnetlink.NexthopMsg{ID: nh.ID}.Marshal())
			n++
		}
		if n == 0 {
			fmt.Fprintln(c.o.Stdout, "Nothing to flush")
		} else {
			fmt.Fprintf(c.o.Stdout, "Flushed %d nexthops\n", n)
		}
		return nil
	}
	if _, err := c.links(); err != nil {
		return err
	}
	p := newOut(c.g)
	p.list()
	for _, nh := range nhs {
		p.openObj("")
		c.printNexthop(p, nh)
		p.closeObj()
		p.end()
	}
	p.done()
	c.write(p)
	return nil
}

// printNexthop is print_nexthop.
func (c *cmd) printNexthop(p *out, nh rtnetlink.NexthopMsg) {
	p.num("id", "id %d ", uint64(nh.ID))
	if len(nh.Group) > 0 {
		if p.json {
			p.openArr("group")
			for _, g := range nh.Group {
				p.openObj("")
				p.num("id", "", uint64(g.ID))
				if g.Weight != 1 {
					p.num("weight", "", uint64(g.Weight))
				}
				p.closeObj()
			}
			p.closeArr()
		} else {
			parts := make([]string, len(nh.Group))
			for i, g := range nh.Group {
				parts[i] = strconv.FormatUint(uint64(g.ID), 10)
				if g.Weight != 1 {
					parts[i] += "," + strconv.FormatUint(uint64(g.Weight), 10)
				}
			}
			p.fp("group %s ", strings.Join(parts, "/"))
		}
		if nh.HasType && nh.GroupType == rtnetlink.NhGrpTypeRes {
			p.str("type", "type %s ", "resilient")
		}
		if nh.HasRes {
			// print_nh_res_group: the timers in seconds as print_tv
			// prints them (%g).
			p.openObj("resilient_args")
			p.num("buckets", "buckets %d ", uint64(nh.Buckets))
			p.tv("idle_timer", "idle_timer %s ", uint64(nh.IdleTimer))
			p.tv("unbalanced_timer", "unbalanced_timer %s ", uint64(nh.UnbalancedTimer))
			p.tv("unbalanced_time", "unbalanced_time %s ", nh.UnbalancedTime)
			p.closeObj()
		}
	}
	if nh.Blackhole {
		p.jnull("blackhole")
		p.fp("blackhole ")
	}
	if nh.Gateway.IsValid() {
		p.str("gateway", "via %s ", nh.Gateway.String())
	}
	if nh.Oif != 0 {
		p.str("dev", "dev %s ", c.ifname(nh.Oif))
	}
	if nh.Scope != 0 {
		p.str("scope", "scope %s ", fib.Scope(nh.Scope).String())
	}
	p.openArr("flags")
	if nh.Flags&rtnetlink.RTNHFOnLink != 0 {
		p.elem("onlink")
		p.fp("onlink ")
	}
	p.closeArr()
	if c.g.details > 0 {
		p.str("protocol", "proto %s ", ProtoName(nh.Protocol))
	}
}

// tv prints a time in clock_t as print_tv does after __jiffies_to_tv:
// seconds with %g, text and JSON alike.
func (p *out) tv(key, format string, clockT uint64) {
	sec := clockT / 100
	usec := (clockT - sec*100) * 10000
	v := strconv.FormatFloat(float64(sec)+float64(usec)/1000000, 'g', 6, 64)
	if p.json {
		p.name(key)
		p.value(v)
		return
	}
	fmt.Fprintf(&p.b, format, v)
}

// nexthopBucket is ip nexthop bucket (do_ipnh_bucket).
func (c *cmd) nexthopBucket(args []string) error {
	if len(args) == 0 {
		return c.nexthopBucketList(nil)
	}
	switch a := args[0]; {
	case matches(a, "list"), matches(a, "show"), matches(a, "lst"):
		return c.nexthopBucketList(args[1:])
	case matches(a, "get"):
		return c.nexthopBucketGet(args[1:])
	case matches(a, "help"):
		return usageErr{nexthopUsage}
	default:
		return &Error{Msg: fmt.Sprintf("Command \"%s\" is unknown, try \"ip nexthop help\".", a), Code: exitUsage, Bare: true}
	}
}

// nexthopBucketList is ipnh_bucket_list: the buckets of the resilient
// groups, those of one group (id), of one member (nhid), through a
// device (dev) or a device enslaved to a master (master, vrf).
func (c *cmd) nexthopBucketList(args []string) error {
	f := rtnetlink.NexthopBucketMsg{}
	if c.g.family == famInet {
		f.Family = syscall.AF_INET
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		var v string
		var err error
		if a == "id" || a == "nhid" || matches(a, "dev") || matches(a, "master") || matches(a, "vrf") {
			if v, err = nextArg(args, &i); err != nil {
				return err
			}
		}
		switch {
		case matches(a, "dev"), matches(a, "master"):
			idx, err := c.ifindex(v)
			if err != nil {
				return err
			}
			if idx == 0 {
				return invarg("Device does not exist\n", v)
			}
			if matches(a, "dev") {
				f.Oif = idx
			} else {
				f.Master = idx
			}
		case matches(a, "vrf"):
			idx, err := c.ifindex(v)
			if err != nil {
				return err
			}
			if idx == 0 || !c.isVRF(idx) {
				return invarg("Invalid VRF\n", v)
			}
			f.Master = idx
		case a == "id":
			if f.ID, err = parseNexthopID(v); err != nil {
				return err
			}
		case a == "nhid":
			if f.NhID, err = parseNexthopID(v); err != nil {
				return err
			}
			if f.NhID != 0 {
				f.HasBucket, f.BucketAttrs = true, rtnetlink.BucketNhID
			}
		case matches(a, "help"):
			return usageErr{nexthopUsage}
		default:
			return invarg("", a)
		}
	}
	if c.g.family == famInet6 {
		c.emptyList()
		return nil
	}
	msgs, err := c.o.T.Route(rtnetlink.RTMGetNexthopBucket, mnl.Dump, f.Marshal())
	if err != nil {
		var ee *netlink.Error
		if errno, ok := rtnetlink.UnwrapErrno(err); ok && errno == syscall.ENOENT && !(errors.As(err, &ee) && ee.Msg != "") {
			// libnetlink says nothing of an ENOENT ending a dump.
			return &Error{Msg: "Dump terminated", Code: exitNL, Bare: true}
		}
		return &nlErr{err: err, after: "Dump terminated"}
	}
	c.printBuckets(msgs)
	return nil
}

// nexthopBucketGet is ipnh_bucket_get: ip nexthop bucket get id ID index
// INDEX.
func (c *cmd) nexthopBucketGet(args []string) error {
	var id uint32
	var index uint16
	hasIndex := false
	for i := 0; i < len(args); i++ {
		switch args[i] {
		case "id":
			v, err := nextArg(args, &i)
			if err != nil {
				return err
			}
			if id, err = parseNexthopID(v); err != nil {
				return err
			}
		case "index":
			v, err := nextArg(args, &i)
			if err != nil {
				return err
			}
			n, e := strconv.ParseUint(v, 0, 16)
			if e != nil {
				return invarg("invalid bucket index value", v)
			}
			index, hasIndex = uint16(n), true
		default:
			return usageErr{nexthopUsage}
		}
	}
	if id == 0 || !hasIndex {
		return usageErr{nexthopUsage}
	}
	if c.g.family == famInet6 {
		return errIPv6
	}
	req := rtnetlink.NexthopBucketMsg{ID: id, HasBucket: true, BucketAttrs: rtnetlink.BucketIndex, Index: index}
	if c.g.family == famInet {
		req.Family = syscall.AF_INET
	}
	msgs, err := c.o.T.Route(rtnetlink.RTMGetNexthopBucket, 0, req.Marshal())
	if err != nil {
		return err
	}
	c.printBuckets(msgs)
	return nil
}

// PrintNexthopBucket is print_nexthop_bucket: one bucket as a record
// (ip monitor prints the notifications of migrations with it too).
func PrintNexthopBucket(p *out, b rtnetlink.NexthopBucketMsg) {
	p.openObj("")
	if b.ID != 0 {
		p.num("id", "id %d ", uint64(b.ID))
	}
	if b.HasBucket {
		p.openObj("bucket")
		if b.BucketAttrs&rtnetlink.BucketIndex != 0 {
			p.num("index", "index %d ", uint64(b.Index))
		}
		if b.BucketAttrs&rtnetlink.BucketIdleTime != 0 {
			p.tv("idle_time", "idle_time %s ", b.IdleTime)
		}
		if b.BucketAttrs&rtnetlink.BucketNhID != 0 {
			p.num("nhid", "nhid %d ", uint64(b.NhID))
		}
		p.closeObj()
	}
	printRtFlags(p, b.Flags)
	p.end()
	p.closeObj()
}

// printBuckets prints the bucket messages of a dump or a get.
func (c *cmd) printBuckets(msgs []mnl.Message) {
	p := newOut(c.g)
	p.list()
	for _, msg := range msgs {
		var b rtnetlink.NexthopBucketMsg
		if b.Unmarshal(msg.Data) == nil {
			PrintNexthopBucket(p, b)
		}
	}
	p.done()
	c.write(p)
}
