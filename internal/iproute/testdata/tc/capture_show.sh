#!/bin/sh
# Capture iproute2's tc printing what vnic's host dumps: run as root from
# the repository's root on a machine with tc (iproute2 6.1 here). The test
# writes the messages, tc prints them from a scratch namespace (where lo is
# ifindex 1, so the other devices print as ifN), show.json keeps both.
set -e
dir=internal/iproute/testdata/tc
tmp=$(mktemp -d)
ns=vnicshow$$
trap 'ip netns del $ns 2>/dev/null; rm -rf $tmp' EXIT
VNIC_TC_DUMP=$tmp/dump.bin go test -count=1 -run TestTCShowAgainstIproute2 ./internal/iproute >/dev/null || true
ip netns add $ns
ip netns exec $ns tc monitor file $tmp/dump.bin >$tmp/text
ip netns exec $ns tc -s monitor file $tmp/dump.bin >$tmp/stats
python3 - "$tmp" >$dir/show.json <<'PY'
import json, sys
d = sys.argv[1]
print(json.dumps({"input": open(d + "/dump.bin", "rb").read().hex(),
                  "text": open(d + "/text").read(), "stats": open(d + "/stats").read()}, indent=1))
PY
