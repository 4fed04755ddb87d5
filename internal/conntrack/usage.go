package conntrack

import "strings"

// Usage is what -h prints: the commands and options vnic's conntrack
// takes, in conntrack 1.4.7's layout.
const Usage = `Command line interface for the connection tracking system. Version 1.4.7
Usage: conntrack [commands] [options]

Commands:
  -L [table] [options]		List conntrack or expectation table
  -G [table] parameters		Get conntrack or expectation
  -D [table] parameters		Delete conntrack or expectation
  -U [table] parameters		Update a conntrack (its mark)
  -E [table] [options]		Show events
  -F [table]			Flush table
  -C [table]			Show counter
  -S				Show statistics

Tables: conntrack, dying, unconfirmed (vnic serves no expectation table)

Conntrack parameters and options:
  -n, --src-nat ip			source NAT ip
  -g, --dst-nat ip			destination NAT ip
  -j, --any-nat ip			source or destination NAT ip
  -m, --mark mark			Set mark
  -e, --event-mask eventmask		Event mask, eg. NEW,DESTROY
  -o, --output type[,...]		Output format: extended, id, timestamp, save

Common parameters and options:
  -s, --src, --orig-src ip		Source address from original direction
  -d, --dst, --orig-dst ip		Destination address from original direction
  -r, --reply-src ip		Source address from reply direction
  -q, --reply-dst ip		Destination address from reply direction
  -p, --protonum proto		Layer 4 Protocol, eg. 'tcp'
  -f, --family proto		Layer 3 Protocol, eg. 'ipv4'
  -t, --timeout timeout		Timeout (a filter of -D)
  -u, --status status		Status, eg. ASSURED
  -w, --zone value		Conntrack zone
  -b, --buffer-size		Netlink socket buffer size (-E)
  --mask-src ip			Source mask address
  --mask-dst ip			Destination mask address

`

// helpName is the protocol -h -p names.
func helpName(c *command) string {
	if c.proto == unknownHandler {
		return "unknown"
	}
	return c.proto.name
}

// protoHelp is an extension's help: the options vnic takes for it.
func protoHelp(h *protoHandler) string {
	var b strings.Builder
	switch h {
	case tcpHandler, udpHandler:
		b.WriteString("  --orig-port-src\t\toriginal source port\n  --orig-port-dst\t\toriginal destination port\n")
		b.WriteString("  --reply-port-src\t\treply source port\n  --reply-port-dst\t\treply destination port\n")
		if h == tcpHandler {
			b.WriteString("  --state\t\t\tTCP state, fe. ESTABLISHED\n")
		}
	case icmpHandler:
		b.WriteString("  --icmp-type\t\t\ticmp type\n  --icmp-code\t\t\ticmp code\n  --icmp-id\t\t\ticmp id\n")
	}
	return b.String()
}
