package iproute

import (
	"fmt"
	"net"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	mnl "github.com/mdlayher/netlink"

	"vnic/stack/neigh"
	"vnic/stack/rtnetlink"
)

func (c *cmd) neigh(args []string) error {
	if sel, ok := listCmd(args); ok {
		return c.neighList(sel, false)
	}
	switch {
	case matches(args[0], "flush"):
		return c.neighList(args[1:], true)
	case matches(args[0], "help"):
		return usageErr{neighUsage}
	case matches(args[0], "get"):
		return c.neighGet(args[1:])
	case matches(args[0], "change"), args[0] == "chg":
		return c.neighChange(rtnetlink.RTMNewNeigh, mnl.Acknowledge|rtnetlink.FlagReplace, args[1:])
	}
	kind, flags, err := change(args[0], rtnetlink.RTMNewNeigh, rtnetlink.RTMDelNeigh, "neigh")
	if err != nil {
		return err
	}
	return c.neighChange(kind, flags, args[1:])
}

// nudNames are the states ip neigh's nud takes, in print order.
var nudNames = []struct {
	state neigh.NUDState
	name  string
}{{neigh.NUDIncomplete, "incomplete"}, {neigh.NUDReachable, "reachable"}, {neigh.NUDStale, "stale"}, {neigh.NUDDelay, "delay"},
	{neigh.NUDProbe, "probe"}, {neigh.NUDFailed, "failed"}, {neigh.NUDNoARP, "noarp"}, {neigh.NUDPermanent, "permanent"}}

// nudValid: the entry's link-layer address is usable (NUD_VALID): the
// kernel sends NDA_LLADDR only then.
const nudValid = neigh.NUDReachable | neigh.NUDStale | neigh.NUDDelay | neigh.NUDProbe | neigh.NUDPermanent | neigh.NUDNoARP

// parseNUD is nud_state_a2n: permanent, reachable and failed by any
// prefix, the others by name, or a number with one bit below 0x100.
func parseNUD(s string) (neigh.NUDState, bool) {
	switch {
	case matches(s, "permanent"):
		return neigh.NUDPermanent, true
	case matches(s, "reachable"):
		return neigh.NUDReachable, true
	case s == "none":
		return neigh.NUDNone, true
	}
	for _, n := range nudNames {
		if n.name == s {
			return n.state, true
		}
	}
	if matches(s, "failed") {
		return neigh.NUDFailed, true
	}
	n, err := strconv.ParseUint(s, 0, 32)
	if err != nil || n >= 0x100 || n&(n-1) != 0 {
		return 0, false
	}
	return neigh.NUDState(n), true
}

// neighFilter is ip neigh show's and flush's selection.
type neighFilter struct {
	index uint32
	to    netip.Prefix
	// states: the NUD bits shown; none: state NONE entries too.
	states neigh.NUDState
	none   bool
}

func (f neighFilter) keep(n rtnetlink.NeighMsg) bool {
	if f.index != 0 && uint32(n.Index) != f.index {
		return false
	}
	if f.to.IsValid() && !f.to.Contains(n.Dst) {
		return false
	}
	st := neigh.NUDState(n.State)
	if st == neigh.NUDNone {
		return f.none
	}
	return st&f.states != 0
}

func (c *cmd) neighList(args []string, flush bool) error {
	if flush && len(args) == 0 {
		return &Error{Msg: "Flush requires arguments.", Bare: true}
	}
	// ip shows every state but NONE, and flushes all but permanent and
	// noarp entries, unless nud says.
	f := neighFilter{states: 0xff}
	if flush {
		f.states, f.none = 0xff&^(neigh.NUDPermanent|neigh.NUDNoARP), true
	}
	nudSet := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		val := func() (string, error) { return nextArg(args, &i) }
		var v string
		var err error
		switch {
		case a == "dev":
			if v, err = val(); err != nil {
				return err
			}
			if f.index, err = c.dev(v); err != nil {
				return err
			}
		case a == "nud":
			if v, err = val(); err != nil {
				return err
			}
			if !nudSet {
				f.states, f.none, nudSet = 0, false, true
			}
			if v == "all" {
				f.states, f.none = 0xff, true
				break
			}
			s, ok := parseNUD(v)
			if !ok {
				return invarg("nud state is bad", v)
			}
			f.states |= s
			if s == neigh.NUDNone {
				f.none = true
			}
		case a == "proxy", a == "unused", a == "vrf", a == "master", a == "nomaster":
			return &Error{Msg: fmt.Sprintf("ip neigh %s is not supported by vnic.", a), Code: exitNL}
		case matches(a, "help"):
			return usageErr{neighUsage}
		default:
			if a == "to" {
				if a, err = val(); err != nil {
					return err
				}
			}
			if a == "all" || a == "any" {
				break
			}
			if isIPv6(a) {
				return errIPv6
			}
			p, err := ParsePrefix(a)
			if err != nil {
				return err
			}
			f.to = p.Masked()
		}
	}
	if _, err := c.links(); err != nil {
		return err
	}
	if flush {
		return c.neighFlush(f)
	}
	p := newOut(c.g)
	p.list()
	if c.g.family != famInet6 && c.g.family != famLink {
		ns, err := c.neighs(f)
		if err != nil {
			return err
		}
		for _, n := range ns {
			p.openObj("")
			if c.g.brief {
				c.neighBrief(p, n)
			} else {
				c.printNeigh(p, n, f.index != 0)
			}
			p.closeObj()
		}
	}
	p.done()
	c.write(p)
	return nil
}

func (c *cmd) neighs(f neighFilter) ([]rtnetlink.NeighMsg, error) {
	req := rtnetlink.NeighMsg{Index: int32(f.index)}
	msgs, err := c.o.T.Route(rtnetlink.RTMGetNeigh, mnl.Dump, req.Marshal())
	if err != nil {
		return nil, &nlErr{err: err, after: "Dump terminated"}
	}
	var ns []rtnetlink.NeighMsg
	for _, m := range msgs {
		var n rtnetlink.NeighMsg
		if n.Unmarshal(m.Data) == nil && f.keep(n) {
			ns = append(ns, n)
		}
	}
	// The kernel dumps in its hash order; vnic's order is by device and
	// address, which is stable.
	sort.SliceStable(ns, func(a, b int) bool {
		if ns[a].Index != ns[b].Index {
			return ns[a].Index < ns[b].Index
		}
		return ns[a].Dst.Less(ns[b].Dst)
	})
	return ns, nil
}

func (c *cmd) neighFlush(f neighFilter) error {
	return c.flushRounds(rtnetlink.RTMDelNeigh, "*** Flush not complete bailing out after %d rounds\n", "entries", func() ([][]byte, error) {
		ns, err := c.neighs(f)
		if err != nil {
			return nil, err
		}
		del := make([][]byte, len(ns))
		for i, n := range ns {
			del[i] = rtnetlink.NeighMsg{Index: n.Index, State: n.State, Type: n.Type, Dst: n.Dst}.Marshal()
		}
		return del, nil
	})
}

// ntfRouter is NTF_ROUTER in ndm_flags.
const ntfRouter = 0x80

// printNeigh is print_neigh; noDev: the selector named the device, which
// is then not printed.
func (c *cmd) printNeigh(p *out, n rtnetlink.NeighMsg, noDev bool) {
	p.str("dst", "%s ", n.Dst.String())
	if !noDev {
		p.str("dev", "dev %s ", c.ifname(uint32(n.Index)))
	}
	st := neigh.NUDState(n.State)
	if len(n.LLAddr) > 0 && st&nudValid != 0 {
		p.str("lladdr", "lladdr %s ", n.LLAddr.String())
	}
	if n.Flags&ntfRouter != 0 {
		p.flag("router")
	}
	p.openArr("state")
	for _, s := range nudNames {
		if st&s.state != 0 {
			name := neigh.NUDState(s.state).String()
			p.fp("%s ", name)
			p.elem(name)
		}
	}
	p.closeArr()
	p.end()
}

// neighBrief is ip -brief neigh's line.
func (c *cmd) neighBrief(p *out, n rtnetlink.NeighMsg) {
	p.str("dst", "%-39s ", n.Dst.String())
	p.str("dev", "%-16s ", c.ifname(uint32(n.Index)))
	if len(n.LLAddr) > 0 && neigh.NUDState(n.State)&nudValid != 0 {
		p.str("lladdr", "%s", n.LLAddr.String())
	}
	p.end()
}

// neighGet is ip neigh get { ADDR | proxy ADDR } dev DEV (ipneigh_get):
// the entry as ip neigh show prints it with its device, in text even
// under -j, as ip 6.1 prints it.
func (c *cmd) neighGet(args []string) error {
	var dst netip.Addr
	dev := ""
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "dev":
			v, err := nextArg(args, &i)
			if err != nil {
				return err
			}
			dev = v
		case matches(a, "proxy"):
			if _, err := nextArg(args, &i); err != nil {
				return err
			}
			return &Error{Msg: "ip neigh get proxy is not supported by vnic: it has no proxy entries.", Code: exitNL}
		default:
			if a == "to" {
				v, err := nextArg(args, &i)
				if err != nil {
					return err
				}
				a = v
			}
			if matches(a, "help") {
				return usageErr{neighUsage}
			}
			var err error
			if dst, err = neighDst(dst, a); err != nil {
				return err
			}
		}
	}
	if dev == "" || !dst.IsValid() {
		return &Error{Msg: "Device and address are required arguments.", Bare: true}
	}
	idx, err := c.ifindex(dev)
	if err != nil {
		return err
	}
	if idx == 0 {
		return noDevice(dev)
	}
	b, err := c.getOne(rtnetlink.RTMGetNeigh, rtnetlink.NeighMsg{Index: int32(idx), Dst: dst}.Marshal())
	if err != nil {
		return err
	}
	var n rtnetlink.NeighMsg
	if err := n.Unmarshal(b); err != nil {
		return err
	}
	p := newOut(globals{})
	c.printNeigh(p, n, false)
	c.write(p)
	return nil
}

// neighDst reads a neighbour's address a (have: the one already read:
// a second one is garbage).
func neighDst(have netip.Addr, a string) (netip.Addr, error) {
	if have.IsValid() {
		return have, duparg2("to", a)
	}
	if isIPv6(a) {
		return have, errIPv6
	}
	ad, err := netip.ParseAddr(a)
	if err != nil || !ad.Is4() {
		return have, &Error{Msg: fmt.Sprintf("any valid address is expected rather than \"%s\".", a)}
	}
	return ad, nil
}

// neighChange is ip neigh { add | del | change | replace } ADDR
// [ lladdr LLADDR ] [ nud STATE ] dev DEV.
func (c *cmd) neighChange(kind uint16, flags mnl.HeaderFlags, args []string) error {
	m := rtnetlink.NeighMsg{State: uint16(neigh.NUDPermanent), Type: 1}
	dev := ""
	for i := 0; i < len(args); i++ {
		a := args[i]
		val := func() (string, error) { return nextArg(args, &i) }
		var v string
		var err error
		switch a {
		case "lladdr":
			if v, err = val(); err != nil {
				return err
			}
			if m.LLAddr, err = parseLLAddr(v); err != nil {
				return err
			}
		case "dev":
			if dev, err = val(); err != nil {
				return err
			}
		case "nud":
			if v, err = val(); err != nil {
				return err
			}
			s, ok := parseNUD(v)
			if !ok {
				return invarg("nud state is bad", v)
			}
			m.State = uint16(s)
		case "router", "proxy", "use", "managed", "extern_learn", "protocol":
			return &Error{Msg: fmt.Sprintf("ip neigh %s is not supported by vnic.", a), Code: exitNL}
		case "help":
			return usageErr{neighUsage}
		case "to":
			if a, err = val(); err != nil {
				return err
			}
			fallthrough
		default:
			if m.Dst, err = neighDst(m.Dst, a); err != nil {
				return err
			}
		}
	}
	if dev == "" || !m.Dst.IsValid() {
		return &Error{Msg: "Device and destination are required arguments.", Code: exitUsage, Bare: true}
	}
	if c.g.family == famInet6 {
		return errIPv6
	}
	idx, err := c.dev(dev)
	if err != nil {
		return err
	}
	m.Index = int32(idx)
	_, err = c.o.T.Route(kind, flags, m.Marshal())
	return err
}

// parseLLAddr is ll_addr_a2n: bytes in hex, colon separated, at most 32
// (the kernel judges the length).
func parseLLAddr(s string) (net.HardwareAddr, error) {
	var hw net.HardwareAddr
	parts := strings.Split(s, ":")
	for _, part := range parts[:min(len(parts), 32)] {
		b, err := strconv.ParseUint(part, 16, 8)
		if err != nil {
			return nil, &Error{Msg: fmt.Sprintf("\"%s\" is invalid lladdr.", part), Bare: true}
		}
		hw = append(hw, byte(b))
	}
	return hw, nil
}
