// Package ss is iproute2's ss for TCP over vnic's control socket: its
// command line (ParseArgs), the requests it sends (struct
// inet_diag_req_v2 per family, Options.Requests), the replies it reads
// (struct inet_diag_msg and its INET_DIAG_* attributes, struct tcp_info)
// and its output, column widths and all (Printer). It follows ss of
// iproute2-6.1.0 as it prints Linux's answers: the tests hold ss's own
// output over the same bytes.
//
// The wire structs (inet_diag.go, tcp_info.go) are shared with the
// daemon side (internal/control serves the vnic_diag family), so a reply
// is byte for byte what Linux answers on NETLINK_SOCK_DIAG.
//
// Options: -t (required: TCP is the one table vnic serves; -A tcp says
// the same), -a, -l, -n, -r (accepted: vnic's hosts have no names, the
// addresses stay numeric), -o, -e, -m, -p (accepted: vnic's sockets
// belong to no process), -i, -H, -O, -4, -6, -f inet|inet6, -N NAME (the
// host), -h, and the state filters (state NAME, exclude NAME, and ss's
// groups). Without -n ports are named from /etc/services, except those
// in the host's ip_local_port_range, as ss names them. Filter
// expressions (sport = :80 …), other tables (-u, -x, -w …), -s, -E, -K,
// -D, -F, -b, -Z are refused with what vnic does not do.
//
// ss decodes more than vnic sends: the printer handles DCTCP's, BBR's
// and Vegas's attributes, INET_DIAG_MEMINFO and SKMEMINFO, the mark and
// the shutdown state, so that a dump taken from Linux prints as ss prints
// it; cgroup paths (-e), MD5 keys and ULP (TLS, MPTCP) details are left
// out.
package ss
