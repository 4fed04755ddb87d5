#!/bin/sh
# How the kernel-*.diag dumps were made: sockets.py's sockets in a
# scratch network namespace, dumped by iproute2-6.1.0's ss -D (the raw
# NETLINK_SOCK_DIAG replies, up to NLMSG_DONE) with each congestion
# control (set on each socket: TCP_CONGESTION). Then gen.sh prints them with ss. Run as root from this
# directory; the namespace is deleted on the way out.
set -eu
ns=vnic-ss-capture
cleanup() { ip netns del "$ns" 2>/dev/null || true; }
trap cleanup EXIT INT TERM
for cc in cubic bbr; do
	ip netns add "$ns"
	ip -n "$ns" link set lo up
	ip -n "$ns" link add v0 type veth peer name v1
	ip -n "$ns" link set v0 up
	ip -n "$ns" addr add 198.18.0.1/24 dev v0
	ip -n "$ns" route add 198.18.1.0/24 dev v0
	fifo=$(mktemp -u)
	mkfifo "$fifo"
	ip netns exec "$ns" timeout 30 python3 sockets.py 5 "$cc" >"$fifo" &
	read -r ready <"$fifo"
	rm -f "$fifo"
	[ "$ready" = ready ]
	ip netns exec "$ns" ss -4 -tai -D "kernel-$cc.diag"
	ip netns exec "$ns" ss -4 -taim -D "kernel-$cc-mem.diag"
	ip netns exec "$ns" ss -6 -tai -D "kernel-$cc-6.diag"
	wait
	cleanup
done
