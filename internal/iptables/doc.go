// Package iptables is the userspace side of vnic's x_tables: iptables
// 1.8.9's command line (do_command4 with getopt_long's grammar, the
// extensions' option parsers and their printers), libiptc's editing of a
// table (get, change, commit), iptables-save's and iptables-restore's
// formats, and the control socket's codec that carries a table between
// the CLI and a host (family vnic_iptables).
//
// The messages, exit codes and output are those of Debian's iptables
// 1.8.9 in its legacy (x_tables) variant, which vnic's tests record and
// compare against. The rule engine is stack/netfilter/iptables; this
// package builds its TableSpec and reads it back.
package iptables
