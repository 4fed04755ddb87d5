// Package conntrack is conntrack-tools 1.4.7's conntrack for the hosts of
// a running topology: its command line (Main), the requests it sends and
// the answers it reads, and the daemon side that answers them (Service),
// a ctnetlink-like family over stack/netfilter/conntrack.
//
// The messages carry ctnetlink's layout: struct nfgenmsg, then the
// kernel's CTA_* attributes in the kernel's order and byte order
// (CTA_TUPLE_ORIG and _REPLY with CTA_TUPLE_IP and CTA_TUPLE_PROTO,
// CTA_STATUS, CTA_MARK, CTA_ID, CTA_USE, CTA_TIMEOUT, CTA_PROTOINFO_TCP's
// state, CTA_COUNTERS_ORIG and _REPLY, CTA_ZONE, CTA_TUPLE_MASTER; the
// CTA_STATS_* of -S and -C), each message type as a generic netlink
// command (IPCTNL_MSG_CT_*). vnic adds the host (AttrHost: each host is
// a namespace, and a Unix socket has none), an event request's groups and
// an event's netlink type and flags. Events stream over a family of their
// own (EventFamilyName), so that a table dump, which must not lose
// messages, is batched as netlink_dump batches it.
//
// Main follows conntrack 1.4.7 where its behaviour is observable: getopt
// as glibc runs it, the table of legal options per command, the
// protocol extensions' options (tcp, udp, icmp), the parse of addresses
// (inet_aton), masks, marks, status words and event masks with their
// quirks, the kernel's dump filter and conntrack's own filter
// (nfct_filter, nfct_cmp), the output formats (default, -o extended, id,
// timestamp, save), the summaries and exit codes, the error messages.
// testdata/cli.golden holds conntrack's own answers to 235 command lines;
// the Kernel tests run Linux's conntrack beside vnic's over the same
// flows.
//
// What vnic's tracker does not do is refused with EOPNOTSUPP and a
// line saying why: creating entries (-I, -A), changing timeouts or status
// bits (-U -t, -U -u that changes a bit), zeroing counters (-z), labels,
// expectations, -o xml and -o ktimestamp, -R. docs/conntrack.md lists it
// all.
package conntrack
