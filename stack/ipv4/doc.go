// Package ipv4 is IPv4 without the FIB's tables and without transports
// (Linux's net/ipv4 less fib_trie, udp and tcp): addresses and their
// kernel routes (devinet.go), receive and options (ip_input.go,
// ip_options.go), forwarding (ip_forward.go), output and fragmentation
// (ip_output.go), reassembly (ip_fragment.go), route decisions and
// rp_filter (route.go, over stack/ipv4/fib), the route frontend
// (fib_frontend.go), ICMP (icmp.go), ARP (arp.go, over stack/neigh), ping
// and raw sockets, DSCP/ECN (inet_ecn.go), the SNMP counters (snmp.go) and
// IPv4's rtnetlink messages (rtnetlink.go).
//
// Transports register with the protocol table (AddProtocol: a receive
// handler and an ICMP error handler); IPv4 imports none of them. Its state
// lives in the host (Of) and in each device (the InDevice) through the
// core's typed keys; its view of an skb's control block is IPCB.
package ipv4
