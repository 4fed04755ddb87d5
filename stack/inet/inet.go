// Package inet wires a host's Internet protocols together (inet_init):
// IPv4 with ARP, ICMP, ping and raw sockets, then the transports that
// register with it (UDP, TCP). Netfilter's modules join here later, so
// that IPv4 never imports what builds on it.
package inet

import (
	"vnic/stack"
	"vnic/stack/ipv4"
	"vnic/stack/tcp"
	"vnic/stack/udp"
)

// Init is inet_init for h: IPv4 (see ipv4.InetInit), UDP and TCP.
func Init(h *stack.Host, cfg ipv4.InetConfig) (*ipv4.Inet, error) {
	in, err := ipv4.InetInit(h, cfg)
	if err != nil {
		return nil, err
	}
	if _, err := udp.Init(in); err != nil {
		return nil, err
	}
	if _, err := tcp.Init(in); err != nil {
		return nil, err
	}
	return in, nil
}
