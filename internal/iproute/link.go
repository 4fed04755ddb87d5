package iproute

import (
	"fmt"
	"strconv"

	mnl "github.com/mdlayher/netlink"

	"vnic/stack"
	"vnic/stack/rtnetlink"
)

func (c *cmd) link(args []string) error {
	if sel, ok := listCmd(args); ok {
		return c.linkShow(sel)
	}
	switch {
	case matches(args[0], "set"):
		return c.linkSet(args[1:])
	case matches(args[0], "help"):
		return usageErr{linkUsage}
	case matches(args[0], "add"), matches(args[0], "delete"), matches(args[0], "change"), matches(args[0], "replace"):
		return &Error{Msg: fmt.Sprintf("ip link %s is not supported: vnic's devices come from its topology.", args[0]), Code: exitNL}
	}
	return &Error{Msg: fmt.Sprintf("Command \"%s\" is unknown, try \"ip link help\".", args[0]), Code: exitUsage, Bare: true}
}

// linkFilter is ip link show's and ip address show's device selection.
type linkFilter struct {
	name string
	up   bool
}

func (f linkFilter) keep(l rtnetlink.LinkMsg) bool {
	return (f.name == "" || l.Name == f.name) && (!f.up || l.Flags&stack.IFFUp != 0)
}

func (c *cmd) linkShow(args []string) error {
	var f linkFilter
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "up":
			f.up = true
		case matches(a, "help"):
			return usageErr{linkUsage}
		default:
			if a == "dev" {
				if i+1 >= len(args) {
					return incomplete()
				}
				i++
				a = args[i]
			}
			if f.name != "" {
				return duparg2("dev", a)
			}
			f.name = a
		}
	}
	ls, err := c.links()
	if err != nil {
		return err
	}
	if f.name != "" {
		if i, _ := c.ifindex(f.name); i == 0 {
			return notExist(f.name)
		}
	}
	p := newOut(c.g)
	p.list()
	for _, i := range sortedIdx(ls) {
		l := ls[i]
		if !f.keep(l) {
			continue
		}
		p.openObj("")
		if c.g.brief {
			c.linkBrief(p, l)
		} else {
			c.linkInfo(p, l, forLink)
			p.end()
		}
		p.closeObj()
	}
	p.done()
	c.write(p)
	return nil
}

// linkFlagNames is print_link_flags' list, NO-CARRIER first.
func linkFlagNames(f uint32) []string {
	var s []string
	if f&stack.IFFUp != 0 && f&stack.IFFRunning == 0 {
		s = append(s, "NO-CARRIER")
	}
	for _, x := range []struct {
		bit  uint32
		name string
	}{{stack.IFFLoopback, "LOOPBACK"}, {stack.IFFBroadcast, "BROADCAST"}, {stack.IFFNoARP, "NOARP"}, {stack.IFFPromisc, "PROMISC"},
		{stack.IFFAllMulti, "ALLMULTI"}, {stack.IFFMulticast, "MULTICAST"}, {stack.IFFUp, "UP"}, {stack.IFFLowerUp, "LOWER_UP"}} {
		if f&x.bit != 0 {
			s = append(s, x.name)
		}
	}
	return s
}

func (p *out) linkFlags(f uint32) {
	names := linkFlagNames(f)
	if p.json {
		p.openArr("flags")
		for _, n := range names {
			p.elem(n)
		}
		p.closeArr()
		return
	}
	p.put("<")
	for i, n := range names {
		if i > 0 {
			p.put(",")
		}
		p.put(n)
	}
	p.put("> ")
}

var operNames = []string{"UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN", "TESTING", "DORMANT", "UP"}

func operName(s uint8) string {
	if int(s) < len(operNames) {
		return operNames[s]
	}
	return strconv.Itoa(int(s))
}

// linkType names ARPHRD_* as ll_type_n2a does.
func linkType(l rtnetlink.LinkMsg) string {
	if l.Type == 772 || l.Flags&stack.IFFLoopback != 0 {
		return "loopback"
	}
	if l.Type == 1 || l.Type == 0 {
		return "ether"
	}
	return fmt.Sprintf("[%d]", l.Type)
}

// What a link record is printed for: ip link prints the link mode and
// queue length, ip address the queue length, ip monitor neither.
const (
	forLink = iota
	forAddr
	forMonitor
	forAddrHead // ip address's head line alone
)

// linkInfo is print_linkinfo without its final newline: the head line
// and, unless an address listing under -4 leaves it out, the link/ line.
// IFLA_LINKMODE and IFLA_GROUP are printed as the kernel sends them for
// vnic's devices (mode DEFAULT, group default: vnic has neither dormant
// mode nor device groups).
func (c *cmd) linkInfo(p *out, l rtnetlink.LinkMsg, what int) {
	p.num("ifindex", "%d: ", uint64(l.Index))
	p.str("ifname", "%s: ", l.Name)
	p.linkFlags(l.Flags)
	p.num("mtu", "mtu %d ", uint64(l.MTU))
	if l.Qdisc != "" {
		p.str("qdisc", "qdisc %s ", l.Qdisc)
	}
	p.str("operstate", "state %s ", operName(l.Operstate))
	if what == forLink {
		p.str("linkmode", "mode %s ", "DEFAULT")
	}
	p.str("group", "group %s ", "default")
	if what != forMonitor {
		p.num("txqlen", "qlen %d", uint64(l.TxQLen))
	}
	if what == forAddrHead || what == forAddr && c.g.family == famInet {
		return
	}
	p.nl()
	p.str("link_type", "    link/%s ", linkType(l))
	p.str("address", "%s", macOr0(l.MAC))
	p.str("broadcast", " brd %s", macOr0(l.Broadcast))
}

// linkBrief is ip -brief link's line.
func (c *cmd) linkBrief(p *out, l rtnetlink.LinkMsg) {
	p.str("ifname", "%-16s ", l.Name)
	p.str("operstate", "%-14s ", operName(l.Operstate))
	p.str("address", "%s ", macOr0(l.MAC))
	p.linkFlags(l.Flags)
	p.end()
}

// linkSet is ip link set { DEVICE | dev DEVICE } [ up | down ] [ mtu MTU ].
func (c *cmd) linkSet(args []string) error {
	var m rtnetlink.LinkMsg
	dev := ""
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "up":
			m.Flags, m.Change = m.Flags|stack.IFFUp, m.Change|stack.IFFUp
		case a == "down":
			m.Flags, m.Change = m.Flags&^stack.IFFUp, m.Change|stack.IFFUp
		case a == "mtu":
			if i+1 >= len(args) {
				return incomplete()
			}
			i++
			n, err := strconv.ParseUint(args[i], 0, 32)
			if err != nil {
				return invarg("Invalid \"mtu\" value\n", args[i])
			}
			m.MTU = uint32(n)
		case unsupportedLinkSet[a]:
			return &Error{Msg: fmt.Sprintf("ip link set %s is not supported by vnic.", a), Code: exitNL}
		case matches(a, "help"):
			return usageErr{linkUsage}
		default:
			if a == "dev" {
				if i+1 >= len(args) {
					return incomplete()
				}
				i++
				a = args[i]
			}
			if dev != "" {
				return duparg2("dev", a)
			}
			dev = a
		}
	}
	if dev == "" {
		return &Error{Msg: "Not enough information: \"dev\" argument is required.", Code: exitUsage, Bare: true}
	}
	idx, err := c.dev(dev)
	if err != nil {
		return err
	}
	m.Index = int32(idx)
	_, err = c.o.T.Route(rtnetlink.RTMNewLink, mnl.Acknowledge, m.Marshal())
	return err
}

// unsupportedLinkSet are ip link set's keywords vnic's devices do not
// take.
var unsupportedLinkSet = map[string]bool{"arp": true, "multicast": true, "allmulticast": true, "promisc": true, "trailers": true,
	"carrier": true, "txqueuelen": true, "txqlen": true, "qlen": true, "name": true, "address": true, "broadcast": true, "brd": true,
	"peer": true, "netns": true, "alias": true, "vf": true, "master": true, "nomaster": true, "type": true, "group": true,
	"mode": true, "state": true, "dynamic": true, "xdp": true, "addrgenmode": true, "protodown": true, "gso_max_size": true,
	"gso_max_segs": true, "link-netns": true, "link-netnsid": true}
