// Package stack is the operating system's networking, Linux-shaped: the
// net_device core (names, flags, MTU, promiscuity and allmulti counters, the
// multicast list, features, queues, carrier and operstate), the sk_buff and
// its pool, NAPI and the NET_RX/NET_TX softirq, the receive path from
// netif_receive_skb through eth_type_trans to protocol handlers and capture
// taps, and the transmit path from dev_queue_xmit through a pfifo_fast qdisc
// per TX queue to the driver's start_xmit. A Host is one network namespace.
//
// IPv4, ARP, routing, netfilter, UDP and TCP arrive with the IPv4 issue.
//
// The stack never sleeps or starts goroutines: time, timers and execution
// contexts come from the CPU and Clock interfaces (platform.go), which the
// hw package implements, so the same code runs in virtual and real time.
package stack
