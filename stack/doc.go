// Package stack is the operating system's networking, Linux-shaped: the
// net_device core (names, flags, MTU, promiscuity and allmulti counters, the
// multicast list, features, queues, carrier and operstate), the sk_buff and
// its pool, NAPI and the NET_RX/NET_TX softirq, the receive path from
// netif_receive_skb through eth_type_trans to protocol handlers and capture
// taps, and the transmit path from dev_queue_xmit through a pfifo_fast qdisc
// per TX queue (or a root qdisc grafted in their place: netem,
// sch_netem.go) to the driver's start_xmit. A Host is one network
// namespace.
//
// The core knows no protocol. Protocols keep their state in a host or a
// device through typed keys (HostKey, DevKey: net_generic, dev->ip_ptr),
// learn of device changes from the host's netdev notifier chain, attach
// route decisions as a Dst (dst_entry) that they embed in their own, and
// keep per-packet state in the skb's control block (CB). IPv4 is
// stack/ipv4, the neighbour tables stack/neigh, sockets stack/sock, UDP
// stack/udp, the wiring stack/inet, netlink stack/netlink and
// stack/rtnetlink.
//
// The stack never sleeps or starts goroutines: time, timers and execution
// contexts come from the CPU and Clock interfaces (platform.go), which the
// hw package implements, so the same code runs in virtual and real time.
package stack
