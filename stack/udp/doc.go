// Package udp is UDP over IPv4 (Linux's net/ipv4/udp.c): sockets bound to
// an address and port (ephemeral ports from ip_local_port_range),
// connected or not, with UDP_CORK, SO_RCVBUF accounting, checksums (zero
// means none) and the asynchronous errors ICMP brings (ECONNREFUSED, …).
// Init registers it with a host's IPv4; stack/inet adapts a Conn to
// net.PacketConn.
package udp
