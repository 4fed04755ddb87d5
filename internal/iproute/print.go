package iproute

import (
	"net"
	"strings"

	"vnic/stack/rtnetlink"
)

// The text printers for one record, as ip prints it (without the final
// newline); ifname names an interface index.

// printer is a text-mode command context naming devices with ifname.
func printer(ifname func(uint32) string) *cmd {
	return &cmd{name: ifname}
}

func text(f func(p *out)) string {
	p := newOut(globals{})
	f(p)
	return strings.TrimSuffix(p.String(), "\n")
}

// FormatLink is ip link show's two lines for a link.
func FormatLink(m rtnetlink.LinkMsg) string {
	return text(func(p *out) { printer(nil).linkInfo(p, m, forLink) })
}

// FormatAddr is ip address show's lines for an IPv4 address.
func FormatAddr(m rtnetlink.AddrMsg) string {
	return text(func(p *out) { p.addrInfo(m) })
}

// FormatRoute is ip route show's line for a route, its trailing blank
// included.
func FormatRoute(m rtnetlink.RouteMsg, ifname func(uint32) string) string {
	return text(func(p *out) { printer(ifname).printRoute(p, m, nil) })
}

// FormatRouteGet is ip route get's answer.
func FormatRouteGet(r rtnetlink.RouteMsg, ifname func(uint32) string) string {
	return FormatRoute(r, ifname)
}

// FormatNeigh is ip neigh show's line for an entry.
func FormatNeigh(m rtnetlink.NeighMsg, ifname func(uint32) string) string {
	return text(func(p *out) { printer(ifname).printNeigh(p, m, false) })
}

// LinkFlags is iproute2's <FLAG,...> list.
func LinkFlags(f uint32) string {
	return "<" + strings.Join(linkFlagNames(f), ",") + ">"
}

func macOr0(m net.HardwareAddr) string {
	if len(m) == 0 {
		return "00:00:00:00:00:00"
	}
	return m.String()
}
