#!/bin/sh
# The expected outputs: iproute2-6.1.0's ss printing each dump
# (TCPDIAG_FILE) with each command line of args.txt whose first word
# names the dump's kind (kernel-*.diag, synthetic.diag), and on a
# terminal for each line of tty.txt (script(1)). Port names come
# from the machine's /etc/services (the ports services lists must map as
# there) and the ephemeral range from PROC_IP_LOCAL_PORT_RANGE.
set -eu
range=$(mktemp)
trap 'rm -f "$range"' EXIT
printf '32768\t60999\n' >"$range"
mkdir -p out
grep -v '^#' args.txt | while read -r kind args; do
	for f in "$kind"*.diag; do
		name=$(printf '%s' "$f $args" | tr ' ' '_')
		# shellcheck disable=SC2086
		TCPDIAG_FILE=$f PROC_IP_LOCAL_PORT_RANGE=$range ss $args >"out/$name.out"
	done
done
grep -v '^#' tty.txt | while read -r kind width args; do
	f=$kind.diag
	name=$(printf '%s' "$f w$width $args" | tr ' ' '_')
	TCPDIAG_FILE=$f PROC_IP_LOCAL_PORT_RANGE=$range script -qc "stty cols $width rows 50; ss $args" /dev/null </dev/null | tr -d '\r' >"out/$name.out"
done
