package iproute

import (
	"fmt"
	"net"
	"strconv"

	mnl "github.com/mdlayher/netlink"
	"vnic/internal/netns"

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
	case matches(args[0], "add"):
		return c.linkAdd(args[1:])
	case matches(args[0], "delete"):
		return c.linkDel(args[1:])
	case matches(args[0], "change"), matches(args[0], "replace"):
		return &Error{Msg: fmt.Sprintf("ip link %s is not supported by vnic: use ip link set.", args[0]), Code: exitNL}
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
		{stack.IFFAllMulti, "ALLMULTI"}, {stack.IFFMulticast, "MULTICAST"}, {stack.IFFMaster, "MASTER"}, {stack.IFFUp, "UP"}, {stack.IFFLowerUp, "LOWER_UP"}} {
		if f&x.bit != 0 {
			s = append(s, x.name)
		}
	}
	return s
}

func (p *out) linkFlags(f uint32, mdown bool) {
	names := linkFlagNames(f)
	if mdown {
		names = append(names, "M-DOWN")
	}
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
	c.linkName(p, l, "%s: ")
	p.linkFlags(l.Flags, c.peerDown(l))
	p.num("mtu", "mtu %d ", uint64(l.MTU))
	if l.Qdisc != "" {
		p.str("qdisc", "qdisc %s ", l.Qdisc)
	}
	if l.HasMaster && l.Master != 0 {
		p.str("master", "master %s ", c.ifname(l.Master))
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
	if l.Link != 0 && l.LinkNetnsID >= 0 {
		// The peer is in another namespace: its name when ip netns
		// knows the nsid, the number else.
		if name := c.nsidName(l.LinkNetnsID); name != "" && !p.json {
			p.put(" link-netns " + name)
		} else {
			p.num("link_netnsid", " link-netnsid %d", uint64(l.LinkNetnsID))
		}
	}
}

// linkName is print_name_and_link: NAME, or NAME@PEER for a device with
// an IFLA_LINK (a veth's peer; @ifN when the peer is in another
// namespace or unknown), padded as format pads.
func (c *cmd) linkName(p *out, l rtnetlink.LinkMsg, format string) {
	if l.Link == 0 {
		p.str("ifname", format, l.Name)
		return
	}
	peer := fmt.Sprintf("if%d", l.Link)
	if l.LinkNetnsID < 0 {
		peer = c.ifname(uint32(l.Link))
	}
	if p.json {
		if l.LinkNetnsID < 0 && peer != fmt.Sprintf("if%d", l.Link) {
			p.str("link", "", peer)
		} else {
			p.num("link_index", "", uint64(l.Link))
		}
		p.str("ifname", "", l.Name)
		return
	}
	p.fp(format, l.Name+"@"+peer)
}

// peerDown is ip's M-DOWN: the device's peer (in the same namespace) is
// down.
func (c *cmd) peerDown(l rtnetlink.LinkMsg) bool {
	if l.Link == 0 || l.LinkNetnsID >= 0 {
		return false
	}
	peer, ok := c.ls[uint32(l.Link)]
	return ok && peer.Flags&stack.IFFUp == 0
}

// nsidName is the name of the host ip netns knows by nsid ("" none).
func (c *cmd) nsidName(id int32) string {
	if c.o.Namespaces == nil {
		return ""
	}
	nc, err := c.o.Namespaces()
	if err != nil {
		return ""
	}
	hs, err := netns.List(nc)
	if err != nil {
		return ""
	}
	for _, h := range hs {
		if h.NSID == id {
			return h.Name
		}
	}
	return ""
}

// linkBrief is ip -brief link's line.
func (c *cmd) linkBrief(p *out, l rtnetlink.LinkMsg) {
	c.linkName(p, l, "%-16s ")
	p.str("operstate", "%-14s ", operName(l.Operstate))
	p.str("address", "%s ", macOr0(l.MAC))
	p.linkFlags(l.Flags, c.peerDown(l))
	p.end()
}

// linkAttrs reads the device attributes ip link add and set share
// (iplink_parse): up/down, mtu, address, netns, carrier; it stops at
// what it does not know and returns where.
type linkAttrs struct {
	m     rtnetlink.LinkMsg
	dev   string
	netns string
}

func (c *cmd) linkArgs(args []string, la *linkAttrs, set bool) (int, error) {
	m := &la.m
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "up":
			m.Flags, m.Change = m.Flags|stack.IFFUp, m.Change|stack.IFFUp
		case a == "down":
			m.Flags, m.Change = m.Flags&^stack.IFFUp, m.Change|stack.IFFUp
		case a == "mtu":
			v, err := nextArg(args, &i)
			if err != nil {
				return i, err
			}
			if m.MTU != 0 {
				return i, duparg2("mtu", v)
			}
			n, err := strconv.ParseUint(v, 0, 32)
			if err != nil {
				return i, invarg("Invalid \"mtu\" value\n", v)
			}
			m.MTU = uint32(n)
		case a == "address":
			v, err := nextArg(args, &i)
			if err != nil {
				return i, err
			}
			mac, err := net.ParseMAC(v)
			if err != nil || len(mac) != 6 {
				return i, &Error{Msg: fmt.Sprintf("\"%s\" is invalid lladdr.", v), Bare: true}
			}
			m.MAC = mac
		case matches(a, "netns"):
			v, err := nextArg(args, &i)
			if err != nil {
				return i, err
			}
			if la.netns != "" {
				return i, duparg2("netns", v)
			}
			la.netns = v
		case set && (a == "vrf" || a == "master"):
			v, err := nextArg(args, &i)
			if err != nil {
				return i, err
			}
			idx, err := c.ifindex(v)
			if err != nil {
				return i, err
			}
			if a == "vrf" && !c.isVRF(idx) {
				return i, invarg("Not a valid VRF name\n", v)
			}
			if idx == 0 {
				return i, invarg("Device does not exist\n", v)
			}
			la.m.Master, la.m.HasMaster = idx, true
		case set && a == "nomaster":
			la.m.Master, la.m.HasMaster = 0, true
		case set && a == "carrier":
			v, err := nextArg(args, &i)
			if err != nil {
				return i, err
			}
			if v != "on" && v != "off" {
				return i, &Error{Msg: fmt.Sprintf("argument of \"carrier\" must be one of \"off\", \"on\", not \"%s\"", v), Code: 22}
			}
			on := v == "on"
			m.Carrier = &on
		case !set && (a == "type" || matches(a, "help")):
			return i, nil
		case set && matches(a, "help"):
			return i, usageErr{linkUsage}
		case unsupportedLinkSet[a], set && a == "name":
			return i, &Error{Msg: fmt.Sprintf("ip link %s is not supported by vnic.", a), Code: exitNL}
		default:
			if a == "dev" || a == "name" {
				v, err := nextArg(args, &i)
				if err != nil {
					return i, err
				}
				a = v
			}
			if la.dev != "" {
				return i, duparg2("dev", a)
			}
			la.dev = a
		}
	}
	return len(args), nil
}

// isVRF reports whether the device of index idx is a VRF (name_is_vrf).
func (c *cmd) isVRF(idx uint32) bool {
	ls, err := c.links()
	if err != nil {
		return false
	}
	l, ok := ls[idx]
	return ok && l.Kind == "vrf"
}

// vrfTable is the table of the VRF called name (ip route … vrf NAME),
// "Invalid VRF" when there is none.
func (c *cmd) vrfTable(name string) (uint32, error) {
	idx, err := c.ifindex(name)
	if err != nil {
		return 0, err
	}
	if idx == 0 || !c.isVRF(idx) {
		return 0, invarg("Invalid VRF\n", name)
	}
	return c.ls[idx].VRFTable, nil
}

// resolveNetns turns a netns NAME into the handle the request carries.
func (c *cmd) resolveNetns(la *linkAttrs) error {
	if la.netns == "" {
		return nil
	}
	h, err := c.netnsHandle(la.netns)
	if err != nil {
		return err
	}
	la.m.NetnsFD, la.m.HasNetns = h, true
	return nil
}

// linkSet is ip link set { DEVICE | dev DEVICE } [ up | down ] [ mtu MTU ]
// [ address LLADDR ] [ netns NAME ] [ carrier on|off ].
func (c *cmd) linkSet(args []string) error {
	var la linkAttrs
	if _, err := c.linkArgs(args, &la, true); err != nil {
		return err
	}
	if la.dev == "" {
		return &Error{Msg: "Not enough information: \"dev\" argument is required.", Code: exitUsage, Bare: true}
	}
	idx, err := c.dev(la.dev)
	if err != nil {
		return err
	}
	if err := c.resolveNetns(&la); err != nil {
		return err
	}
	la.m.Index = int32(idx)
	_, err = c.o.T.Route(rtnetlink.RTMNewLink, mnl.Acknowledge, la.m.Marshal())
	return err
}

// linkAdd is ip link add [ name ] NAME [ up ] [ mtu MTU ] [ address
// LLADDR ] [ netns NAME ] type { dummy | veth [ peer [ name ] NAME [ mtu
// MTU ] [ address LLADDR ] [ netns NAME ] ] }.
func (c *cmd) linkAdd(args []string) error {
	var la linkAttrs
	i, err := c.linkArgs(args, &la, false)
	if err != nil {
		return err
	}
	if i < len(args) && matches(args[i], "help") {
		return usageErr{linkUsage}
	}
	if i >= len(args) {
		return &Error{Msg: "Not enough information: \"type\" argument is required", Bare: true}
	}
	if i+1 >= len(args) {
		return incomplete()
	}
	kind, rest := args[i+1], args[i+2:]
	la.m.Name, la.m.Kind = la.dev, kind
	if err := c.resolveNetns(&la); err != nil {
		return err
	}
	switch kind {
	case "veth":
		if len(rest) > 0 {
			if rest[0] != "peer" {
				return &Error{Msg: fmt.Sprintf("veth: unknown argument \"%s\"", rest[0]), Code: exitUsage}
			}
			var pa linkAttrs
			n, err := c.linkArgs(rest[1:], &pa, false)
			if err != nil {
				return err
			}
			if n < len(rest)-1 {
				return &Error{Msg: fmt.Sprintf("veth: unknown argument \"%s\"", rest[1+n]), Code: exitUsage}
			}
			if err := c.resolveNetns(&pa); err != nil {
				return err
			}
			pa.m.Name = pa.dev
			la.m.Peer = &pa.m
		}
	case "dummy":
		if len(rest) > 0 {
			return &Error{Msg: fmt.Sprintf("dummy: unknown argument \"%s\"", rest[0]), Code: exitUsage}
		}
	case "vrf":
		// vrf_parse_opt: table ID, which the kernel requires.
		for j := 0; j < len(rest); j++ {
			if rest[j] != "table" {
				return &Error{Msg: fmt.Sprintf("vrf: unknown command \"%s\"?", rest[j]), Code: exitUsage, Bare: true}
			}
			v, err := nextArg(rest, &j)
			if err != nil {
				return err
			}
			id, ok := ParseTable(v)
			if !ok {
				return invarg("\"table\" value is invalid\n", v)
			}
			la.m.VRFTable = id
		}
	}
	_, err = c.o.T.Route(rtnetlink.RTMNewLink, mnl.Acknowledge|rtnetlink.FlagCreate|rtnetlink.FlagExcl, la.m.Marshal())
	return err
}

// linkDel is ip link delete { DEVICE | dev DEVICE } [ type TYPE ].
func (c *cmd) linkDel(args []string) error {
	dev := ""
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "type":
			if _, err := nextArg(args, &i); err != nil {
				return err
			}
		case matches(a, "help"):
			return usageErr{linkUsage}
		default:
			if a == "dev" {
				v, err := nextArg(args, &i)
				if err != nil {
					return err
				}
				a = v
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
	_, err = c.o.T.Route(rtnetlink.RTMDelLink, mnl.Acknowledge, rtnetlink.LinkMsg{Index: int32(idx)}.Marshal())
	return err
}

// unsupportedLinkSet are ip link set's keywords vnic's devices do not
// take.
var unsupportedLinkSet = map[string]bool{"arp": true, "multicast": true, "allmulticast": true, "promisc": true, "trailers": true,
	"txqueuelen": true, "txqlen": true, "qlen": true, "broadcast": true, "brd": true,
	"peer": true, "alias": true, "vf": true, "type": true, "group": true,
	"mode": true, "state": true, "dynamic": true, "xdp": true, "addrgenmode": true, "protodown": true, "gso_max_size": true,
	"gso_max_segs": true, "link-netns": true, "link-netnsid": true}
