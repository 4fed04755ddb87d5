package iproute

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	mnl "github.com/mdlayher/netlink"

	"vnic/stack"
	"vnic/stack/ipv4/fib"
	"vnic/stack/neigh"
	"vnic/stack/netlink"
	"vnic/stack/rtnetlink"
)

// Transport is an rtnetlink socket bound to one host (ctl.Conn after
// RouteBind).
type Transport interface {
	Route(typ uint16, flags mnl.HeaderFlags, body []byte) ([]mnl.Message, error)
	ReceiveRoute(timeout time.Duration) ([]mnl.Message, error)
}

// Options are what Run needs besides the arguments.
type Options struct {
	T              Transport
	Stdout, Stderr io.Writer
	// Stop, when set, ends ip monitor when closed.
	Stop <-chan struct{}
	// Count ends ip monitor after this many events (0: no limit).
	Count int
}

// usageErr is a command-line error (exit 1, as ip's).
type usageErr struct{ msg string }

func (e usageErr) Error() string { return e.msg }

// Run is ip OBJECT [COMMAND [ARGS]] with iproute2's grammar, output and
// exit codes: 0, 1 for a command-line error, 2 for a refusal by the
// kernel side ("RTNETLINK answers: …").
func Run(args []string, o Options) int {
	err := run(args, o)
	if err == nil {
		return 0
	}
	var ue usageErr
	var ge *Error
	switch {
	case errors.As(err, &ue):
		fmt.Fprintln(o.Stderr, ue.msg)
		return 1
	case errors.As(err, &ge):
		fmt.Fprintln(o.Stderr, "Error: "+ge.Msg)
		return 1
	}
	var ee *netlink.Error
	if errors.As(err, &ee) {
		// iproute2 prints the extended ack's message when there is one,
		// else the errno.
		if ee.Msg != "" {
			fmt.Fprintln(o.Stderr, "Error: "+ee.Msg)
		} else {
			fmt.Fprintln(o.Stderr, "RTNETLINK answers: "+capitalise(ee.Errno.Error()))
		}
		return 2
	}
	fmt.Fprintln(o.Stderr, err)
	return 2
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// matches is iproute2's matches(): arg is a prefix of word.
func matches(arg, word string) bool { return arg != "" && strings.HasPrefix(word, arg) }

func run(args []string, o Options) error {
	if len(args) == 0 {
		return usageErr{"Usage: ip [ --host NAME ] OBJECT { COMMAND | help }\nwhere  OBJECT := { link | address | route | neigh | monitor }"}
	}
	obj, rest := args[0], args[1:]
	switch {
	case matches(obj, "link"):
		return runLink(rest, o)
	case matches(obj, "address"):
		return runAddr(rest, o)
	case matches(obj, "route"):
		return runRoute(rest, o)
	case matches(obj, "neighbour"), matches(obj, "neighbor"):
		return runNeigh(rest, o)
	case matches(obj, "monitor"):
		return runMonitor(rest, o)
	}
	return usageErr{fmt.Sprintf("Object \"%s\" is unknown, try \"ip help\".", obj)}
}

// links returns the links by index and name.
func links(t Transport) (map[uint32]rtnetlink.LinkMsg, error) {
	msgs, err := t.Route(rtnetlink.RTMGetLink, mnl.Dump, rtnetlink.LinkMsg{}.Marshal())
	if err != nil {
		return nil, err
	}
	out := map[uint32]rtnetlink.LinkMsg{}
	for _, m := range msgs {
		var l rtnetlink.LinkMsg
		if l.Unmarshal(m.Data) == nil {
			out[uint32(l.Index)] = l
		}
	}
	return out, nil
}

func ifindex(ls map[uint32]rtnetlink.LinkMsg, name string) (uint32, error) {
	for i, l := range ls {
		if l.Name == name {
			return i, nil
		}
	}
	return 0, &Error{fmt.Sprintf("Cannot find device \"%s\"", name)}
}

func namer(ls map[uint32]rtnetlink.LinkMsg) func(uint32) string {
	return func(i uint32) string {
		if l, ok := ls[i]; ok {
			return l.Name
		}
		return fmt.Sprintf("if%d", i)
	}
}

func sortedIdx(ls map[uint32]rtnetlink.LinkMsg) []uint32 {
	var idx []uint32
	for i := range ls {
		idx = append(idx, i)
	}
	sort.Slice(idx, func(a, b int) bool { return idx[a] < idx[b] })
	return idx
}

func runLink(args []string, o Options) error {
	ls, err := links(o.T)
	if err != nil {
		return err
	}
	if len(args) == 0 || matches(args[0], "show") || matches(args[0], "list") {
		dev := ""
		if len(args) > 1 {
			dev = args[len(args)-1]
		}
		for _, i := range sortedIdx(ls) {
			if dev == "" || ls[i].Name == dev {
				fmt.Fprintln(o.Stdout, FormatLink(ls[i]))
			}
		}
		if dev != "" {
			if _, err := ifindex(ls, dev); err != nil {
				return &Error{fmt.Sprintf("Device \"%s\" does not exist.", dev)}
			}
		}
		return nil
	}
	if !matches(args[0], "set") || len(args) < 3 {
		return usageErr{"Usage: ip link set DEVICE { up | down | mtu MTU }"}
	}
	dev := args[1]
	if args[1] == "dev" && len(args) > 3 {
		dev, args = args[2], args[1:]
	}
	idx, err := ifindex(ls, dev)
	if err != nil {
		return err
	}
	m := rtnetlink.LinkMsg{Index: int32(idx)}
	for i := 2; i < len(args); i++ {
		switch args[i] {
		case "up":
			m.Flags, m.Change = m.Flags|stack.IFFUp, m.Change|stack.IFFUp
		case "down":
			m.Flags, m.Change = m.Flags&^stack.IFFUp, m.Change|stack.IFFUp
		case "mtu":
			if i+1 >= len(args) {
				return usageErr{"Command line is not complete. Try option \"help\""}
			}
			n, err := strconv.ParseUint(args[i+1], 10, 32)
			if err != nil {
				return &Error{fmt.Sprintf("Invalid \"mtu\" value \"%s\"", args[i+1])}
			}
			m.MTU = uint32(n)
			i++
		default:
			return usageErr{fmt.Sprintf("Error: either \"dev\" is duplicate, or \"%s\" is a garbage.", args[i])}
		}
	}
	_, err = o.T.Route(rtnetlink.RTMNewLink, mnl.Acknowledge, m.Marshal())
	return err
}

func runAddr(args []string, o Options) error {
	ls, err := links(o.T)
	if err != nil {
		return err
	}
	if len(args) == 0 || matches(args[0], "show") || matches(args[0], "list") {
		dev := showDev(args, true)
		if dev != "" {
			if _, err := ifindex(ls, dev); err != nil {
				return &Error{fmt.Sprintf("Device \"%s\" does not exist.", dev)}
			}
		}
		msgs, err := o.T.Route(rtnetlink.RTMGetAddr, mnl.Dump, rtnetlink.AddrMsg{}.Marshal())
		if err != nil {
			return err
		}
		byIdx := map[uint32][]rtnetlink.AddrMsg{}
		for _, m := range msgs {
			var a rtnetlink.AddrMsg
			if a.Unmarshal(m.Data) == nil {
				byIdx[a.Index] = append(byIdx[a.Index], a)
			}
		}
		for _, i := range sortedIdx(ls) {
			l := ls[i]
			if dev != "" && l.Name != dev {
				continue
			}
			head := FormatLink(l)
			head = strings.Replace(head, " mode DEFAULT", "", 1)
			fmt.Fprintln(o.Stdout, head)
			for _, a := range byIdx[i] {
				fmt.Fprintln(o.Stdout, FormatAddr(a))
			}
		}
		return nil
	}
	kind, flags, err := change(args[0], rtnetlink.RTMNewAddr, rtnetlink.RTMDelAddr, "address")
	if err != nil {
		return err
	}
	var prefix netip.Prefix
	var brd string
	dev := ""
	for i := 1; i < len(args); i++ {
		switch args[i] {
		case "brd", "broadcast":
			if i+1 >= len(args) {
				return usageErr{"Command line is not complete. Try option \"help\""}
			}
			brd = args[i+1]
			i++
		case "dev":
			if i+1 >= len(args) {
				return usageErr{"Command line is not complete. Try option \"help\""}
			}
			dev = args[i+1]
			i++
		case "local":
			if i+1 >= len(args) {
				return usageErr{"Command line is not complete. Try option \"help\""}
			}
			i++
			fallthrough
		default:
			if prefix.IsValid() {
				return usageErr{fmt.Sprintf("Error: either \"local\" is duplicate, or \"%s\" is a garbage.", args[i])}
			}
			p, err := ParsePrefix(args[i])
			if err != nil {
				return &Error{fmt.Sprintf("any valid prefix is expected rather than \"%s\".", args[i])}
			}
			prefix = p
		}
	}
	if dev == "" {
		return usageErr{"Not enough information: \"dev\" argument is required."}
	}
	if !prefix.IsValid() {
		return usageErr{"Not enough information: an address is required."}
	}
	idx, err := ifindex(ls, dev)
	if err != nil {
		return err
	}
	m := rtnetlink.AddrMsg{PrefixLen: uint8(prefix.Bits()), Index: idx, Local: prefix.Addr(), Address: prefix.Addr()}
	switch brd {
	case "", "-":
	case "+":
		if prefix.Bits() < 31 {
			a := prefix.Addr().As4()
			v := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
			v |= ^uint32(0) >> prefix.Bits()
			m.Broadcast = netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
		}
	default:
		b, err := netip.ParseAddr(brd)
		if err != nil || !b.Is4() {
			return &Error{fmt.Sprintf("inet address is expected rather than \"%s\".", brd)}
		}
		m.Broadcast = b
	}
	_, err = o.T.Route(kind, flags, m.Marshal())
	return err
}

func routes(t Transport) ([]rtnetlink.RouteMsg, error) {
	msgs, err := t.Route(rtnetlink.RTMGetRoute, mnl.Dump, rtnetlink.RouteMsg{}.Marshal())
	if err != nil {
		return nil, err
	}
	var out []rtnetlink.RouteMsg
	for _, m := range msgs {
		var r rtnetlink.RouteMsg
		if r.Unmarshal(m.Data) == nil {
			out = append(out, r)
		}
	}
	return out, nil
}

func runRoute(args []string, o Options) error {
	ls, err := links(o.T)
	if err != nil {
		return err
	}
	name := namer(ls)
	if len(args) == 0 || matches(args[0], "show") || matches(args[0], "list") {
		table := uint32(fib.TableMain)
		for i := 1; i < len(args); i++ {
			if args[i] == "table" && i+1 < len(args) {
				t, ok := ParseTable(args[i+1])
				if !ok {
					return &Error{fmt.Sprintf("argument \"%s\" is wrong: table id value is invalid", args[i+1])}
				}
				table = t
				i++
			} else {
				return usageErr{fmt.Sprintf("Error: either \"to\" is duplicate, or \"%s\" is a garbage.", args[i])}
			}
		}
		rs, err := routes(o.T)
		if err != nil {
			return err
		}
		for _, r := range rs {
			if table == fib.TableUnspec || r.Table == table {
				fmt.Fprintln(o.Stdout, FormatRoute(r, name))
			}
		}
		return nil
	}
	cmd := args[0]
	if matches(cmd, "get") {
		return routeGet(args[1:], ls, o)
	}
	var kind uint16
	var flags mnl.HeaderFlags = mnl.Acknowledge
	switch {
	case matches(cmd, "add"):
		kind, flags = rtnetlink.RTMNewRoute, flags|rtnetlink.FlagCreate|rtnetlink.FlagExcl
	case matches(cmd, "replace"):
		kind, flags = rtnetlink.RTMNewRoute, flags|rtnetlink.FlagCreate|rtnetlink.FlagReplace
	case matches(cmd, "change"):
		kind, flags = rtnetlink.RTMNewRoute, flags|rtnetlink.FlagReplace
	case matches(cmd, "prepend"):
		kind, flags = rtnetlink.RTMNewRoute, flags|rtnetlink.FlagCreate
	case matches(cmd, "append"):
		kind, flags = rtnetlink.RTMNewRoute, flags|rtnetlink.FlagCreate|rtnetlink.FlagAppend
	case matches(cmd, "delete"):
		kind = rtnetlink.RTMDelRoute
	default:
		return usageErr{fmt.Sprintf("Command \"%s\" is unknown, try \"ip route help\".", cmd)}
	}
	spec, err := ParseRoute(args[1:])
	if err != nil {
		return err
	}
	m, err := spec.Message(kind, func(dev string) (uint32, error) { return ifindex(ls, dev) })
	if err != nil {
		return err
	}
	_, err = o.T.Route(kind, flags, m.Marshal())
	return err
}

// routeGet is ip route get ADDRESS [from ADDRESS iif STRING] [oif STRING]
// [tos TOS].
func routeGet(args []string, ls map[uint32]rtnetlink.LinkMsg, o Options) error {
	var m rtnetlink.RouteMsg
	m.DstLen = 32
	for i := 0; i < len(args); i++ {
		a := args[i]
		val := func() (string, error) {
			if i+1 >= len(args) {
				return "", usageErr{"Command line is not complete. Try option \"help\""}
			}
			i++
			return args[i], nil
		}
		switch a {
		case "from":
			v, err := val()
			if err != nil {
				return err
			}
			ad, e := netip.ParseAddr(v)
			if e != nil || !ad.Is4() {
				return &Error{fmt.Sprintf("inet address is expected rather than \"%s\".", v)}
			}
			m.Src = ad
		case "iif", "oif", "dev":
			v, err := val()
			if err != nil {
				return err
			}
			idx, err := ifindex(ls, v)
			if err != nil {
				return err
			}
			if a == "iif" {
				m.Iif = idx
			} else {
				m.Oif = idx
			}
		case "tos", "dsfield":
			v, err := val()
			if err != nil {
				return err
			}
			n, e := strconv.ParseUint(v, 0, 8)
			if e != nil {
				return &Error{fmt.Sprintf("\"%s\" is not a valid TOS value", v)}
			}
			m.TOS = uint8(n)
		case "to":
			continue
		default:
			ad, e := netip.ParseAddr(a)
			if e != nil || !ad.Is4() || m.Dst.IsValid() {
				return usageErr{fmt.Sprintf("Error: either \"to\" is duplicate, or \"%s\" is a garbage.", a)}
			}
			m.Dst = ad
		}
	}
	if !m.Dst.IsValid() {
		return usageErr{"need at least a destination address"}
	}
	msgs, err := o.T.Route(rtnetlink.RTMGetRoute, 0, m.Marshal())
	if err != nil {
		return err
	}
	if len(msgs) != 1 {
		return fmt.Errorf("ip route get: %d answers", len(msgs))
	}
	var r rtnetlink.RouteMsg
	if err := r.Unmarshal(msgs[0].Data); err != nil {
		return err
	}
	fmt.Fprintln(o.Stdout, FormatRouteGet(r, namer(ls)))
	return nil
}

// FormatRouteGet is ip route get's answer.
func FormatRouteGet(r rtnetlink.RouteMsg, ifname func(uint32) string) string {
	var b strings.Builder
	if t := fib.RouteType(r.Type); t != fib.RTNUnicast {
		b.WriteString(t.String() + " ")
	}
	b.WriteString(r.Dst.String())
	if r.Src.IsValid() {
		fmt.Fprintf(&b, " from %v", r.Src)
	}
	if r.Gateway.IsValid() {
		fmt.Fprintf(&b, " via %v", r.Gateway)
	}
	if r.Oif != 0 {
		fmt.Fprintf(&b, " dev %s", ifname(r.Oif))
	}
	if r.Table != fib.TableMain && r.Table != fib.TableUnspec {
		fmt.Fprintf(&b, " table %s", TableName(r.Table))
	}
	if r.PrefSrc.IsValid() {
		fmt.Fprintf(&b, " src %v", r.PrefSrc)
	}
	if r.Flags&rtmFOffloadFailed != 0 {
		// RTM_F_OFFLOAD_FAILED shares its bit with RTCF_MULTICAST: ip
		// prints it for every multicast decision, and so does vnic.
		b.WriteString(" rt_offload_failed")
	}
	if r.HasUID {
		fmt.Fprintf(&b, " uid %d", r.UID)
	}
	b.WriteString(" \n    cache ")
	if f := r.Flags &^ 0xffff; f != 0 {
		b.WriteString("<" + cacheFlags(f) + "> ")
	}
	if r.MTU != 0 {
		fmt.Fprintf(&b, "mtu %d ", r.MTU)
	}
	if r.Iif != 0 {
		fmt.Fprintf(&b, "iif %s ", ifname(r.Iif))
	}
	return b.String()
}

// rtmFOffloadFailed is RTM_F_OFFLOAD_FAILED in rtm_flags.
const rtmFOffloadFailed = 0x20000000

// cacheFlags names a decision's RTCF_* bits as ip's print_cache_flags
// does, in its order; bits it has no name for come last, in hex.
func cacheFlags(f uint32) string {
	var names []string
	for _, n := range []struct {
		bit  uint32
		name string
	}{{0x80000000, "local"}, {0x40000000, "reject"}, {0x20000000, "mc"}, {0x10000000, "brd"}} {
		if f&n.bit != 0 {
			names = append(names, n.name)
			f &^= n.bit
		}
	}
	if f != 0 {
		names = append(names, fmt.Sprintf("%x", f))
	}
	return strings.Join(names, ",")
}

func runNeigh(args []string, o Options) error {
	ls, err := links(o.T)
	if err != nil {
		return err
	}
	if len(args) == 0 || matches(args[0], "show") || matches(args[0], "list") {
		dev := showDev(args, false)
		msgs, err := o.T.Route(rtnetlink.RTMGetNeigh, mnl.Dump, rtnetlink.NeighMsg{}.Marshal())
		if err != nil {
			return err
		}
		var ns []rtnetlink.NeighMsg
		for _, m := range msgs {
			var n rtnetlink.NeighMsg
			if n.Unmarshal(m.Data) == nil && (dev == "" || ls[uint32(n.Index)].Name == dev) {
				ns = append(ns, n)
			}
		}
		sort.Slice(ns, func(a, b int) bool {
			if ns[a].Index != ns[b].Index {
				return ns[a].Index < ns[b].Index
			}
			return ns[a].Dst.Less(ns[b].Dst)
		})
		for _, n := range ns {
			fmt.Fprintln(o.Stdout, FormatNeigh(n, namer(ls)))
		}
		return nil
	}
	kind, flags, err := change(args[0], rtnetlink.RTMNewNeigh, rtnetlink.RTMDelNeigh, "neigh")
	if err != nil {
		return err
	}
	m := rtnetlink.NeighMsg{State: uint16(neigh.NUDPermanent), Type: 1}
	dev := ""
	for i := 1; i < len(args); i++ {
		a := args[i]
		if (a == "lladdr" || a == "dev" || a == "nud" || a == "to") && i+1 >= len(args) {
			return usageErr{"Command line is not complete. Try option \"help\""}
		}
		switch a {
		case "lladdr":
			hw, err := net.ParseMAC(args[i+1])
			if err != nil || len(hw) != 6 {
				return &Error{fmt.Sprintf("\"%s\" is invalid lladdr.", args[i+1])}
			}
			m.LLAddr = hw
			i++
		case "dev":
			dev = args[i+1]
			i++
		case "nud":
			if args[i+1] != "permanent" {
				return &Error{fmt.Sprintf("nud state \"%s\" is not supported here: only permanent entries can be added", args[i+1])}
			}
			i++
		case "to":
			i++
			fallthrough
		default:
			ad, e := netip.ParseAddr(args[i])
			if e != nil || !ad.Is4() {
				return &Error{fmt.Sprintf("any valid address is expected rather than \"%s\".", args[i])}
			}
			m.Dst = ad
		}
	}
	if dev == "" || !m.Dst.IsValid() {
		return usageErr{"Device and destination are required arguments."}
	}
	idx, err := ifindex(ls, dev)
	if err != nil {
		return err
	}
	m.Index = int32(idx)
	_, err = o.T.Route(kind, flags, m.Marshal())
	return err
}

// runMonitor prints notifications until Stop closes or Count events were
// printed. The transport must have been bound with the groups wanted.
func runMonitor(args []string, o Options) error {
	ls, err := links(o.T)
	if err != nil {
		return err
	}
	n := 0
	for {
		select {
		case <-o.Stop:
			return nil
		default:
		}
		msgs, err := o.T.ReceiveRoute(200 * time.Millisecond)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			if errors.Is(err, syscall.ECONNRESET) || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		for _, m := range msgs {
			line := ""
			switch uint16(m.Header.Type) {
			case uint16(mnl.Overrun):
				line = "(events lost: the monitor fell behind)"
			case rtnetlink.RTMNewLink, rtnetlink.RTMDelLink:
				var l rtnetlink.LinkMsg
				if l.Unmarshal(m.Data) == nil {
					ls[uint32(l.Index)] = l
					line = FormatLink(l)
				}
			case rtnetlink.RTMNewAddr, rtnetlink.RTMDelAddr:
				var a rtnetlink.AddrMsg
				if a.Unmarshal(m.Data) == nil {
					line = fmt.Sprintf("%d: %s%s", a.Index, namer(ls)(a.Index), FormatAddr(a))
				}
			case rtnetlink.RTMNewRoute, rtnetlink.RTMDelRoute:
				var r rtnetlink.RouteMsg
				if r.Unmarshal(m.Data) == nil {
					line = FormatRoute(r, namer(ls))
				}
			case rtnetlink.RTMNewNeigh, rtnetlink.RTMDelNeigh:
				var nm rtnetlink.NeighMsg
				if nm.Unmarshal(m.Data) == nil {
					line = FormatNeigh(nm, namer(ls))
				}
			default:
				continue
			}
			switch uint16(m.Header.Type) {
			case rtnetlink.RTMDelLink, rtnetlink.RTMDelAddr, rtnetlink.RTMDelRoute, rtnetlink.RTMDelNeigh:
				line = "Deleted " + line
			}
			fmt.Fprintln(o.Stdout, line)
			n++
			if o.Count > 0 && n >= o.Count {
				return nil
			}
		}
	}
}

// MonitorGroups maps ip monitor's objects to RTMGRP bits.
func MonitorGroups(args []string) (uint32, error) {
	const link, neigh, addr, route = 0x1, 0x4, 0x10, 0x40
	if len(args) == 0 {
		return link | neigh | addr | route, nil
	}
	var g uint32
	for _, a := range args {
		switch {
		case a == "all":
			g |= link | neigh | addr | route
		case matches(a, "link"):
			g |= link
		case matches(a, "address"):
			g |= addr
		case matches(a, "route"):
			g |= route
		case matches(a, "neigh"):
			g |= neigh
		default:
			return 0, usageErr{fmt.Sprintf("Argument \"%s\" is unknown, try \"ip monitor help\".", a)}
		}
	}
	return g, nil
}

// change maps an add, replace or delete command to its message type and
// request flags (ip's NLM_F_CREATE|EXCL for add, CREATE|REPLACE for
// replace).
func change(cmd string, newType, delType uint16, object string) (uint16, mnl.HeaderFlags, error) {
	flags := mnl.Acknowledge
	switch {
	case matches(cmd, "add"):
		return newType, flags | rtnetlink.FlagCreate | rtnetlink.FlagExcl, nil
	case matches(cmd, "replace"):
		return newType, flags | rtnetlink.FlagCreate | rtnetlink.FlagReplace, nil
	case matches(cmd, "delete"):
		return delType, flags, nil
	}
	return 0, 0, usageErr{fmt.Sprintf("Command \"%s\" is unknown, try \"ip %s help\".", cmd, object)}
}

// showDev reads a show command's device: "dev NAME", or (bare) a lone
// NAME as ip address show takes it.
func showDev(args []string, bare bool) string {
	dev := ""
	for i := 1; i < len(args); i++ {
		switch {
		case args[i] == "dev" && i+1 < len(args):
			dev = args[i+1]
			i++
		case bare:
			dev = args[i]
		}
	}
	return dev
}
