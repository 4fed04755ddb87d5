package iproute

import (
	"fmt"
	"net"
	"strings"

	"vnic/stack"
	"vnic/stack/ipv4/fib"
	"vnic/stack/neigh"
	"vnic/stack/rtnetlink"
)

// LinkFlags is iproute2's <FLAG,...> list.
func LinkFlags(f uint32) string {
	var s []string
	for _, x := range []struct {
		bit  uint32
		name string
	}{{stack.IFFLoopback, "LOOPBACK"}, {stack.IFFBroadcast, "BROADCAST"}, {stack.IFFNoARP, "NOARP"}, {stack.IFFPromisc, "PROMISC"},
		{stack.IFFAllMulti, "ALLMULTI"}, {stack.IFFMulticast, "MULTICAST"}, {stack.IFFUp, "UP"}, {stack.IFFLowerUp, "LOWER_UP"}} {
		if f&x.bit != 0 {
			s = append(s, x.name)
		}
	}
	if f&stack.IFFUp != 0 && f&stack.IFFRunning == 0 {
		s = append([]string{"NO-CARRIER"}, s...)
	}
	return "<" + strings.Join(s, ",") + ">"
}

var operNames = []string{"UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN", "TESTING", "DORMANT", "UP"}

// FormatLink is ip link show's two lines for a link.
func FormatLink(m rtnetlink.LinkMsg) string {
	state := "UNKNOWN"
	if int(m.Operstate) < len(operNames) {
		state = operNames[m.Operstate]
	}
	qd := m.Qdisc
	if qd == "" {
		qd = "noop"
	}
	s := fmt.Sprintf("%d: %s: %s mtu %d qdisc %s state %s mode DEFAULT group default qlen %d\n", m.Index, m.Name, LinkFlags(m.Flags), m.MTU, qd, state, m.TxQLen)
	kind := "ether"
	if m.Flags&stack.IFFLoopback != 0 {
		kind = "loopback"
	}
	return s + fmt.Sprintf("    link/%s %s brd %s", kind, macOr0(m.MAC), macOr0(m.Broadcast))
}

func macOr0(m net.HardwareAddr) string {
	if len(m) == 0 {
		return "00:00:00:00:00:00"
	}
	return m.String()
}

// FormatAddr is ip addr show's lines for an IPv4 address.
func FormatAddr(m rtnetlink.AddrMsg) string {
	s := fmt.Sprintf("    inet %v/%d", m.Local, m.PrefixLen)
	if m.Broadcast.IsValid() {
		s += fmt.Sprintf(" brd %v", m.Broadcast)
	}
	s += " scope " + fib.Scope(m.Scope).String()
	if m.Flags&rtnetlink.IFAFSecondary != 0 {
		s += " secondary"
	}
	s += " " + m.Label
	return s + "\n       valid_lft forever preferred_lft forever"
}

// FormatRoute is ip route show's line for a route; ifname names an
// interface index.
func FormatRoute(m rtnetlink.RouteMsg, ifname func(uint32) string) string {
	var b strings.Builder
	if t := fib.RouteType(m.Type); t != fib.RTNUnicast {
		b.WriteString(t.String() + " ")
	}
	if m.DstLen == 0 {
		b.WriteString("default")
	} else if m.DstLen == 32 {
		b.WriteString(m.Dst.String())
	} else {
		fmt.Fprintf(&b, "%v/%d", m.Dst, m.DstLen)
	}
	if m.TOS != 0 {
		fmt.Fprintf(&b, " tos 0x%02x", m.TOS)
	}
	if m.Gateway.IsValid() {
		fmt.Fprintf(&b, " via %v", m.Gateway)
	}
	if m.Oif != 0 {
		fmt.Fprintf(&b, " dev %s", ifname(m.Oif))
	}
	if m.Table != fib.TableMain && m.Table != fib.TableUnspec {
		fmt.Fprintf(&b, " table %s", TableName(m.Table))
	}
	if m.Protocol != fib.ProtoBoot {
		fmt.Fprintf(&b, " proto %s", ProtoName(m.Protocol))
	}
	if m.Scope != uint8(fib.ScopeUniverse) {
		fmt.Fprintf(&b, " scope %s", fib.Scope(m.Scope).String())
	}
	if m.PrefSrc.IsValid() {
		fmt.Fprintf(&b, " src %v", m.PrefSrc)
	}
	if m.HasPrio && m.Priority != 0 {
		fmt.Fprintf(&b, " metric %d", m.Priority)
	}
	if m.MTU != 0 {
		fmt.Fprintf(&b, " mtu %d", m.MTU)
	}
	if m.Flags&rtnetlink.RTMFOnLink != 0 {
		b.WriteString(" onlink")
	}
	return b.String()
}

// FormatNeigh is ip neigh show's line for an entry.
func FormatNeigh(m rtnetlink.NeighMsg, ifname func(uint32) string) string {
	s := fmt.Sprintf("%v dev %s", m.Dst, ifname(uint32(m.Index)))
	if len(m.LLAddr) > 0 && neigh.NUDState(m.State) != neigh.NUDIncomplete && neigh.NUDState(m.State) != neigh.NUDFailed {
		s += " lladdr " + m.LLAddr.String()
	}
	return s + " " + neigh.NUDState(m.State).String()
}
