package iproute

import (
	"errors"
	"fmt"
	"net/netip"
	"path"
	"strconv"
	"syscall"

	mnl "github.com/mdlayher/netlink"

	"vnic/stack/ipv4/fib"
	"vnic/stack/netlink"
	"vnic/stack/rtnetlink"
)

func (c *cmd) addr(args []string) error {
	if sel, ok := listCmd(args); ok {
		return c.addrShow(sel, false)
	}
	switch {
	case matches(args[0], "flush"):
		return c.addrShow(args[1:], true)
	case matches(args[0], "help"):
		return usageErr{addrUsage}
	case matches(args[0], "save"), matches(args[0], "restore"), matches(args[0], "showdump"):
		return &Error{Msg: fmt.Sprintf("ip address %s is not supported by vnic.", args[0]), Code: exitNL}
	}
	return c.addrChange(args)
}

// addrFilter is ip address show's and flush's selection.
type addrFilter struct {
	linkFilter
	scope    fib.Scope
	hasScope bool
	to       netip.Prefix // valid: addresses inside it
	label    string       // a shell pattern (fnmatch)
	// flags, flagMask: the IFA_F_* bits an address must have (flags) of
	// those ip's FLAG words named (flagMask).
	flags, flagMask uint32
}

// addrSelect: the filter chooses addresses (not only links), so links
// without a chosen address are not listed.
func (f addrFilter) addrSelect() bool {
	return f.hasScope || f.to.IsValid() || f.label != "" || f.flagMask != 0
}

func (f addrFilter) keepAddr(a rtnetlink.AddrMsg) bool {
	if f.hasScope && fib.Scope(a.Scope) != f.scope {
		return false
	}
	if f.to.IsValid() && !f.to.Contains(a.Local) {
		return false
	}
	if f.label != "" {
		if ok, _ := path.Match(f.label, a.Label); !ok {
			return false
		}
	}
	return a.Flags&f.flagMask == f.flags
}

func parseAddrFilter(args []string) (addrFilter, error) {
	var f addrFilter
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "up":
			f.up = true
		case a == "scope":
			if i+1 >= len(args) {
				return f, incomplete()
			}
			i++
			s, ok := ParseScope(args[i])
			if !ok && args[i] != "all" {
				return f, invarg("invalid \"scope\"\n", args[i])
			}
			f.scope, f.hasScope = s, args[i] != "all"
		case a == "to":
			if i+1 >= len(args) {
				return f, incomplete()
			}
			i++
			if isIPv6(args[i]) {
				return f, errIPv6
			}
			p, err := ParsePrefix(args[i])
			if err != nil {
				return f, err
			}
			f.to = p.Masked()
		case a == "label":
			if i+1 >= len(args) {
				return f, incomplete()
			}
			i++
			f.label = args[i]
		case a == "primary", a == "secondary", a == "temporary", a == "permanent", a == "dynamic":
			bit, set := uint32(rtnetlink.IFAFSecondary), a == "secondary" || a == "temporary"
			if a == "permanent" || a == "dynamic" {
				bit, set = rtnetlink.IFAFPermanent, a == "permanent"
			}
			f.flagMask |= bit
			if set {
				f.flags |= bit
			} else {
				f.flags &^= bit
			}
		case matches(a, "help"):
			return f, usageErr{addrUsage}
		default:
			if a == "dev" {
				if i+1 >= len(args) {
					return f, incomplete()
				}
				i++
				a = args[i]
			}
			if f.name != "" {
				return f, duparg2("dev", a)
			}
			f.name = a
		}
	}
	return f, nil
}

// addrShow is ip address show, and flush when flush is set.
func (c *cmd) addrShow(args []string, flush bool) error {
	if flush && len(args) == 0 {
		return &Error{Msg: "Flush requires arguments.", Bare: true}
	}
	f, err := parseAddrFilter(args)
	if err != nil {
		return err
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
	if flush {
		return c.addrFlush(f)
	}
	p := newOut(c.g)
	p.list()
	if c.g.family == famInet6 {
		// No IPv6 addresses: ip lists no link when the family has none.
		p.done()
		c.write(p)
		return nil
	}
	byIdx := map[uint32][]rtnetlink.AddrMsg{}
	if c.g.family != famLink {
		as, err := c.addrs()
		if err != nil {
			return err
		}
		for _, a := range as {
			if f.keepAddr(a) {
				byIdx[a.Index] = append(byIdx[a.Index], a)
			}
		}
	}
	for _, i := range sortedIdx(ls) {
		l := ls[i]
		if !f.keep(l) {
			continue
		}
		as := byIdx[i]
		if len(as) == 0 && (c.g.family == famInet || f.addrSelect()) {
			continue
		}
		switch {
		case c.g.brief:
			p.openObj("")
			if c.g.family == famLink {
				c.linkBrief(p, l)
			} else {
				p.str("ifname", "%-16s ", l.Name)
				p.str("operstate", "%-14s ", operName(l.Operstate))
				p.openArr("addr_info")
				for _, a := range as {
					p.openObj("")
					p.str("local", "%s", a.Local.String())
					p.num("prefixlen", "/%d ", uint64(a.PrefixLen))
					p.closeObj()
				}
				p.closeArr()
				p.end()
			}
			p.closeObj()
		case c.g.oneline && !p.json:
			if c.g.family == famLink {
				c.linkInfo(p, l, forAddr)
				p.end()
			}
			for _, a := range as {
				p.fp("%d: %s", i, l.Name)
				p.addrInfo(a)
			}
		default:
			p.openObj("")
			switch {
			case f.label != "":
				// ip prints no link for a label selection.
			case f.to.IsValid():
				// Nor the link/ line for a to selection.
				c.linkInfo(p, l, forAddrHead)
				p.end()
			default:
				c.linkInfo(p, l, forAddr)
				p.end()
			}
			if c.g.family != famLink {
				p.openArr("addr_info")
				for _, a := range as {
					p.openObj("")
					p.addrInfo(a)
					p.closeObj()
				}
				p.closeArr()
			}
			p.closeObj()
		}
	}
	p.done()
	c.write(p)
	return nil
}

func (c *cmd) addrs() ([]rtnetlink.AddrMsg, error) {
	msgs, err := c.o.T.Route(rtnetlink.RTMGetAddr, mnl.Dump, rtnetlink.AddrMsg{}.Marshal())
	if err != nil {
		return nil, &nlErr{err: err, after: "Dump terminated"}
	}
	var out []rtnetlink.AddrMsg
	for _, m := range msgs {
		var a rtnetlink.AddrMsg
		if a.Unmarshal(m.Data) == nil {
			out = append(out, a)
		}
	}
	return out, nil
}

// addrInfo is print_addrinfo for an IPv4 address: its line, then the
// lifetimes line. vnic's addresses are permanent: IFA_CACHEINFO's
// lifetimes are forever (the kernel's INFINITY_LIFE_TIME in JSON).
func (p *out) addrInfo(a rtnetlink.AddrMsg) {
	p.fp("    ")
	p.str("family", "%s ", "inet")
	p.str("local", "%s", a.Local.String())
	if a.Address.IsValid() && a.Address != a.Local {
		p.fp(" peer ")
		p.str("address", "%s", a.Address.String())
	}
	p.num("prefixlen", "/%d ", uint64(a.PrefixLen))
	if a.Broadcast.IsValid() {
		p.str("broadcast", "brd %s ", a.Broadcast.String())
	}
	if a.Metric != 0 {
		p.num("metric", "metric %d ", uint64(a.Metric))
	}
	p.str("scope", "scope %s ", fib.Scope(a.Scope).String())
	if a.Flags&rtnetlink.IFAFSecondary != 0 {
		p.flag("secondary")
	}
	if a.Flags&rtnetlink.IFAFNoPrefixRoute != 0 {
		p.flag("noprefixroute")
	}
	if a.Flags&rtnetlink.IFAFPermanent == 0 {
		p.flag("dynamic")
	}
	if a.Label != "" {
		p.str("label", "%s", a.Label)
	}
	p.nl()
	p.fp("       valid_lft forever")
	p.jnum("valid_life_time", 0xffffffff)
	p.fp(" preferred_lft forever")
	p.jnum("preferred_life_time", 0xffffffff)
	p.end()
}

// flag is a print_bool flag: "name " in text, "name":true in JSON.
func (p *out) flag(name string) {
	p.fp("%s ", name)
	p.jbool(name)
}

// jnum is a JSON-only number.
func (p *out) jnum(key string, v uint64) {
	if p.json {
		p.num(key, "", v)
	}
}

// addrFlush is ip address flush.
func (c *cmd) addrFlush(f addrFilter) error {
	return c.flushRounds(rtnetlink.RTMDelAddr, "*** Flush remains incomplete after %d rounds. ***\n", "addresses", func() ([][]byte, error) {
		as, err := c.addrs()
		if err != nil {
			return nil, err
		}
		var del [][]byte
		for _, a := range as {
			if l, ok := c.ls[a.Index]; ok && f.keep(l) && f.keepAddr(a) {
				del = append(del, a.Marshal())
			}
		}
		return del, nil
	})
}

// flushRounds is ip's flush loop (route, address and neighbour flush):
// dump what the selection keeps, send each back as delType as it was
// dumped, again until nothing is left (at most -loops rounds, then bail
// goes to stderr), with -s's round reports counting noun. Deletes of
// objects already gone are ignored (a secondary address goes with its
// primary). A dump's refusal ends it with "Flush terminated".
func (c *cmd) flushRounds(delType uint16, bail, noun string, dump func() ([][]byte, error)) error {
	if c.g.family == famInet6 || c.g.family == famLink {
		c.flushDone(0)
		return nil
	}
	for round := 0; ; round++ {
		del, err := dump()
		if err != nil {
			if ne, ok := err.(*nlErr); ok {
				ne.after = "Flush terminated"
			}
			return err
		}
		if len(del) == 0 {
			c.flushDone(round)
			return nil
		}
		if c.g.loops > 0 && round >= c.g.loops {
			fmt.Fprintf(c.o.Stderr, bail, c.g.loops)
			return errSilent
		}
		for _, b := range del {
			if _, err := c.o.T.Route(delType, mnl.Acknowledge, b); err != nil && !gone(err) {
				return &nlErr{err: err, after: "Flush terminated"}
			}
		}
		if c.g.stats > 0 {
			fmt.Fprintf(c.o.Stdout, "\n*** Round %d, deleting %d %s ***\n", round+1, len(del), noun)
		}
	}
}

// flushDone is the end of a flush under -s.
func (c *cmd) flushDone(round int) {
	if c.g.stats == 0 {
		return
	}
	if round == 0 {
		fmt.Fprintln(c.o.Stdout, "Nothing to flush.")
		return
	}
	s := ""
	if round > 1 {
		s = "s"
	}
	fmt.Fprintf(c.o.Stdout, "*** Flush is complete after %d round%s ***\n", round, s)
}

// errSilent ends a command with exit 1 after it printed its own message.
var errSilent = &Error{Msg: "", Code: exitFail, Bare: true}

// gone: a flush's delete met an object already deleted (a secondary
// address going with its primary, an entry that expired meanwhile).
func gone(err error) bool {
	var ee *netlink.Error
	if errors.As(err, &ee) {
		err = ee.Errno
	}
	return errors.Is(err, syscall.EADDRNOTAVAIL) || errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ESRCH)
}

// addrChange is ip address { add | change | replace | del } IFADDR dev IFNAME
// (ipaddr_modify).
func (c *cmd) addrChange(args []string) error {
	var kind uint16
	var flags mnl.HeaderFlags
	var err error
	if matches(args[0], "change") || args[0] == "chg" {
		kind, flags = rtnetlink.RTMNewAddr, mnl.Acknowledge|rtnetlink.FlagReplace
	} else if kind, flags, err = change(args[0], rtnetlink.RTMNewAddr, rtnetlink.RTMDelAddr, "address"); err != nil {
		return err
	}
	var prefix, peer netip.Prefix
	var brd string
	var metric uint32
	var ifaFlags uint32
	dev := ""
	for i := 1; i < len(args); i++ {
		a := args[i]
		val := func() (string, error) { return nextArg(args, &i) }
		switch a {
		case "brd", "broadcast":
			if brd, err = val(); err != nil {
				return err
			}
		case "dev":
			if dev, err = val(); err != nil {
				return err
			}
		case "peer", "remote":
			v, err := val()
			if err != nil {
				return err
			}
			if peer.IsValid() {
				return &Error{Msg: fmt.Sprintf("duplicate \"peer\": \"%s\" is the second value.", v), Code: exitUsage}
			}
			if peer, err = ParsePrefix(v); err != nil {
				return err
			}
		case "metric", "priority", "preference":
			v, err := val()
			if err != nil {
				return err
			}
			n, e := strconv.ParseUint(v, 0, 32)
			if e != nil {
				return invarg("\"metric\" value is invalid\n", v)
			}
			metric = uint32(n)
		case "noprefixroute":
			ifaFlags |= rtnetlink.IFAFNoPrefixRoute
		case "label", "scope", "anycast", "valid_lft", "preferred_lft",
			"home", "nodad", "mngtmpaddr", "autojoin", "proto":
			return &Error{Msg: fmt.Sprintf("ip address %s is not supported by vnic.", a), Code: exitNL}
		case "local":
			if a, err = val(); err != nil {
				return err
			}
			fallthrough
		default:
			if prefix.IsValid() {
				return duparg2("local", a)
			}
			if isIPv6(a) {
				return errIPv6
			}
			p, err := ParsePrefix(a)
			if err != nil {
				return err
			}
			prefix = p
		}
	}
	if dev == "" {
		return &Error{Msg: "Not enough information: \"dev\" argument is required.", Bare: true}
	}
	idx, err := c.dev(dev)
	if err != nil {
		return err
	}
	m := rtnetlink.AddrMsg{Index: idx, Metric: metric, Flags: ifaFlags}
	switch {
	case peer.IsValid():
		// The peer is IFA_ADDRESS and its length the prefix length.
		m.PrefixLen, m.Address = uint8(peer.Bits()), peer.Addr()
		if prefix.IsValid() {
			m.Local = prefix.Addr()
		}
	case prefix.IsValid():
		m.PrefixLen, m.Local, m.Address = uint8(prefix.Bits()), prefix.Addr(), prefix.Addr()
	}
	switch brd {
	case "", "-":
	case "+":
		// The subnet's (the peer's when there is one) host bits set.
		if m.Address.IsValid() && m.PrefixLen < 31 {
			a := m.Address.As4()
			v := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
			v |= ^uint32(0) >> m.PrefixLen
			m.Broadcast = netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
		}
	default:
		b, err := netip.ParseAddr(brd)
		if err != nil || !b.Is4() {
			return &Error{Msg: fmt.Sprintf("inet address is expected rather than \"%s\".", brd)}
		}
		m.Broadcast = b
	}
	_, err = c.o.T.Route(kind, flags, m.Marshal())
	return err
}
