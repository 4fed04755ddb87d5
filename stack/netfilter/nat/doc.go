// Package nat is network address translation on top of connection
// tracking (net/netfilter/nf_nat_core.c, nf_nat_proto.c,
// nf_nat_masquerade.c, nf_nat_redirect.c).
//
// A connection is bound once per end: its destination before routing
// (PRE_ROUTING and LOCAL_OUT, NAT_DST −100), its source after (POST_ROUTING
// and LOCAL_IN, NAT_SRC 100). The first packet of a connection runs through
// the functions a table registered at the hook (Register: the iptables nat
// table's chains), whose SNAT, DNAT, MASQUERADE, REDIRECT and NETMAP
// targets call Setup, Masquerade or Redirect; a connection no rule binds is
// bound to itself (a null binding). Setup chooses the tuple as
// get_unique_tuple does — the tuple kept when it is in range and unique, a
// source's existing mapping reused, the address by the kernel's hash, the
// port searched in its class or the range — and alters the connection's
// reply tuple, so that conntrack finds the replies; the status bits
// IPS_SRC_NAT/IPS_DST_NAT and their _DONE bits say what was decided.
//
// Every packet of a bound connection is then rewritten at the hooks
// (ManipPacket): the addresses with the IPv4 header checksum, TCP and UDP
// ports and ICMP identifiers with their checksums, all by RFC 1624
// incremental updates (under CHECKSUM_PARTIAL only the pseudo-header's
// share; a zero UDP checksum stays none). An ICMP error quoting a NATed
// packet has the quote rewritten back and its outer header made the
// reply's. A destination rewritten at LOCAL_OUT routes the packet again
// (ipv4's RouteMeHarder); one rewritten at PRE_ROUTING drops the route it
// carried.
//
// A masqueraded connection remembers its device: the device going down or
// its address going deletes it (the netdev and inetaddr notifiers), and a
// packet of it leaving by another device kills it.
//
// vnic departs from Linux where noted: the source map (nf_nat_bysource)
// holds connections once they are confirmed, and the masquerade flush runs
// in the notifier's context rather than a work queue.
package nat
