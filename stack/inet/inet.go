// Package inet wires a host's Internet protocols together (inet_init):
// IPv4 with ARP, ICMP, ping and raw sockets, then the transports that
// register with it (UDP). Later transports and netfilter's modules join
// here, so that IPv4 never imports what builds on it.
package inet

import (
	"vnic/stack"
	"vnic/stack/ipv4"
	"vnic/stack/udp"
)

// Init is inet_init for h: IPv4 (see ipv4.InetInit) and UDP.
func Init(h *stack.Host, cfg ipv4.InetConfig) (*ipv4.Inet, error) {
	in, err := ipv4.InetInit(h, cfg)
	if err != nil {
		return nil, err
	}
	if _, err := udp.Init(in); err != nil {
		return nil, err
	}
	return in, nil
}
