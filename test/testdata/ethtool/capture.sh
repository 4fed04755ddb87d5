#!/usr/bin/env bash
# Captures the real ethtool's output that vnic's CLI is golden-tested
# against (ethtool/cli/golden_test.go). Run as root on a machine with
# Debian's ethtool 6.1; it creates a network namespace with a veth pair and
# removes it again. The host's own interface is only read (-g, -c, -x).
#
#   sudo test/testdata/ethtool/capture.sh [HOST_IFACE]
set -euo pipefail
cd "$(dirname "$0")"
ns=vnic-golden-$$
host_if=${1:-eth0}
cleanup() { ip netns del "$ns" 2>/dev/null || true; }
trap cleanup EXIT
ip netns add "$ns"
ip -n "$ns" link add va type veth peer name vb
ip -n "$ns" link set va up
ip -n "$ns" link set vb up
run() { # name, args...: stdout, stderr and exit code of one command
	local name=$1; shift
	set +e
	ip netns exec "$ns" ethtool "$@" >"$name.out" 2>"$name.err"
	echo $? >"$name.rc"
	set -e
}
ethtool --version >version.txt
uname -r >>version.txt
run veth-i -i va
run veth-k -k va
run veth-k-json --json -k va
run veth-l -l va
run veth-P -P va
run veth-settings va
run veth-K-rxcsum -K va rxcsum off
run veth-K-lro -K va lro on
run veth-K-tx-off -K va tx off
run veth-k-json-after-tx-off --json -k va
run veth-k-after-tx-off -k va
run veth-K-tx-on -K va tx on
run veth-k-extra -k va extra
run veth-g-nosuch -g nosuch
run veth-i-nosuch -i nosuch
run veth-G-noval -G va rx
run veth-G-unknown -G va foo 1
run veth-G-badval -G va rx abc
run veth-L-toomany -L va rx 5
run veth-no-mode -g
for m in g c x; do
	ethtool -$m "$host_if" >"host-$m.out" 2>&1 || true
done
