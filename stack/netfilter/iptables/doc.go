// Package iptables is the x_tables rule engine with IPv4's built-in tables
// (net/netfilter/x_tables.c, net/ipv4/netfilter/ip_tables.c and
// iptable_{filter,mangle,nat,raw,security}.c), its matches and targets
// (net/netfilter/xt_*.c, ipt_*.c).
//
// A host's tables come into being when they are first asked for, as Linux
// loads a table's module on demand: only then does the table register its
// hook functions with the host's netfilter registry, at Linux's priorities
// (raw −300, mangle −150, nat's DNAT −100, filter 0, security 50, nat's
// SNAT 100).
//
// A table's rules are a TableSpec: chains of rules, each an ipt_ip part
// (IPMatch), a list of matches and a target, both extensions named as in
// Linux with their uapi structures (TCPInfo is struct xt_tcp, …). Replace
// checks a spec as translate_table does (every extension known and content
// with its rule's protocol, table and hooks, jumps resolved, no loops,
// policies ACCEPT or DROP), compiles it into an immutable ruleset and swaps
// it in at once: a packet traverses one ruleset, old or new, never a mix
// (ipt_do_table reads one snapshot). Get returns the spec with the rules'
// packet and byte counters; a rule given the ID of a current rule keeps its
// counters across the swap, so that a client editing the table (libiptc's
// get, change, replace) loses no count.
//
// Extensions register a MatchType or TargetType (xt_register_match). The
// nat table gives its chains to the NAT core (stack/netfilter/nat), which
// runs them for the first packet of each connection not yet bound at the
// hook's end; its targets (SNAT, DNAT, MASQUERADE, REDIRECT, NETMAP) call
// nat's Setup, Masquerade and Redirect, and hold a reference on the host's
// connection tracking while their rule is in.
package iptables
