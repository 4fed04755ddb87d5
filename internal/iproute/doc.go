// Package iproute is iproute2's ip over rtnetlink: its grammar, output
// and exit codes, for `vnic ip` (the client) and the topology file's
// routes (one parser, one printer). It follows ip 6.1 as it answers
// against Linux 6.x; the tests hold ip's output captured from the kernel.
// RunTC is iproute2's tc for qdiscs (netem's grammar and printers,
// tc*.go; docs/tc.md), held to tc 6.1's requests and output.
//
// Run takes ip's global options before the object, in ip's order and with
// its prefixes (-h is -human, -b -batch, -r -resolve, -f -family):
//
//   - -4 and -0 (-family inet, link) choose the family; -6 (inet6) answers
//     as ip does on a host without IPv6 addresses: empty listings (and
//     "[]" with -json), flushes with nothing to flush, and anything that
//     would send an IPv6 address to the host refused ("IPv6 is not
//     supported: vnic's stack is IPv4 only.", exit 2);
//   - -o (-oneline) joins a record's lines with "\", -j (-json) and -p
//     (-pretty) print iproute2's JSON keys and shapes (json_writer's
//     layout), -br (-brief) the brief link, address and neighbour
//     formats, -d (-details) route types, protocols, scopes and the main
//     table as ip prints them, -s (-stats) the flush rounds;
//   - -l N bounds a flush's rounds, -n NAME names the host (Options.Netns,
//     or Netns for a caller that binds first), -V prints the version,
//     -help and help the usage; -c/-color, -iec, -human, -Numeric, -force
//     and -rcvbuf are taken and change nothing vnic prints;
//   - -batch, -resolve, -all, ip monitor's timestamps (-t, -ts) and the mpls and bridge
//     families are refused with what vnic does not do; any other option is
//     ip's `Option "-x" is unknown, try "ip -help".` (exit 255).
//
// Objects: link (show, set up/down/mtu), address (show, add, replace,
// change, del, flush), route (show with a SELECTOR, flush, get, add, del,
// change, replace, append, prepend, test), neigh (show, flush, add, del,
// change, replace), monitor. Each prints ip's records, trailing blanks
// included, and answers with ip's words: `Device "X" does not exist.` for
// link and address listings, `Cannot find device "X"` elsewhere, "Flush
// requires arguments." (`"ip route flush" requires arguments.`) for a
// flush without a selector. Exit codes are ip's: 1 for most errors, 2 for
// a refusal by the host ("RTNETLINK answers: …", or "Error: …" with the
// extended ack's message), 255 for usage errors (usage texts, incomplete
// command lines, invalid arguments, duplicates and garbage).
//
// A flush is ip's: dump, delete every selected object (each as dumped,
// with RTM_DEL*), dump again until nothing is selected; deletes of what
// is already gone (a secondary address going with its primary) are not
// errors. route flush cache writes the host's net.ipv4.route.flush, as
// ip writes /proc/sys/net/ipv4/route/flush.
//
// What the host does not send is not printed: link statistics (-s link
// prints no counters), the link details of -d, neighbour cache times;
// address lifetimes are forever (vnic's addresses are permanent), link
// mode and group are DEFAULT and default (vnic has neither).
//
// Where vnic differs from ip on purpose: ip address show to PREFIX -json
// prints no empty objects for the addresses it leaves out (ip 6.1 does),
// and ip neigh lists by device and address (the kernel's hash order is
// not reproducible). ip monitor prints text under -json, as ip 6.1 does.
package iproute
