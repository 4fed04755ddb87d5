#!/bin/sh
# benchcmp.sh BASE: build BASE's and the working tree's benchmarks, run them
# interleaved (base, head, base, head, … COUNT rounds, so that the machine's
# drift falls on both alike) and print benchstat's comparison.
#
#   BENCH     benchmark regexp (default: the data path's figures)
#   PKGS      packages (default: those holding them)
#   COUNT     rounds (default 6)
#   BENCHTIME -benchtime (default 1s)
#   OUT       where the raw results are kept (default bin/benchcmp)
#
# A package that does not build at BASE (it did not exist yet) is run at
# HEAD alone and benchstat shows it without a comparison.
set -eu

base=${1:?usage: benchcmp.sh BASE (a git revision)}
bench=${BENCH:-'^Benchmark(RxPath|TxPath|VirtualTime|Demo|IPv4Forward|UDPDeliver|UDPSend|SKBAllocFree|Checksum1500)$'}
pkgs=${PKGS:-'./driver ./cmd/vnic ./stack ./stack/ipv4 ./offload'}
count=${COUNT:-6}
benchtime=${BENCHTIME:-1s}
go=${GO:-go}
benchstat=${BENCHSTAT:-golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da}

top=$(git rev-parse --show-toplevel)
out=${OUT:-$top/bin/benchcmp}
rev=$(git -C "$top" rev-parse --verify "$base^{commit}") || {
	echo "benchcmp: $base is not a revision of this repository" >&2
	exit 2
}
rm -rf "$out"
mkdir -p "$out/base" "$out/head"
tree=$(mktemp -d "${TMPDIR:-/tmp}/vnic-benchcmp.XXXXXX")
cleanup() {
	git -C "$top" worktree remove --force "$tree" >/dev/null 2>&1 || rm -rf "$tree"
}
trap cleanup EXIT INT TERM
git -C "$top" worktree add --detach "$tree" "$rev" >/dev/null

# build SIDE DIR: one test binary per package, built with the profile the
# side's tree has (as its make bench would).
build() {
	side=$1 dir=$2
	for p in $pkgs; do
		name=$(echo "$p" | sed 's|^\./||; s|/|_|g')
		pgo=off
		[ -f "$dir/cmd/vnic/default.pgo" ] && pgo="$dir/cmd/vnic/default.pgo"
		if (cd "$dir" && $go test -c -pgo="$pgo" -o "$out/$side/$name.test" "$p") >"$out/$side/$name.build" 2>&1; then
			echo "benchcmp: built $p at $side"
		else
			echo "benchcmp: $p does not build at $side (see $out/$side/$name.build)" >&2
			rm -f "$out/$side/$name.test"
		fi
	done
}
build base "$tree"
build head "$top"

# run SIDE ROUND: every package's binary once, appended to SIDE.txt. A test
# binary runs in its package's directory (testdata paths).
run() {
	side=$1 dir=$2
	for p in $pkgs; do
		name=$(echo "$p" | sed 's|^\./||; s|/|_|g')
		bin="$out/$side/$name.test"
		[ -x "$bin" ] || continue
		(cd "$dir/$p" && "$bin" -test.run '^$' -test.bench "$bench" -test.benchmem \
			-test.benchtime "$benchtime" -test.count 1) >>"$out/$side.txt"
	done
}
i=1
while [ "$i" -le "$count" ]; do
	echo "benchcmp: round $i of $count" >&2
	run base "$tree"
	run head "$top"
	i=$((i + 1))
done
$go run "$benchstat" base="$out/base.txt" head="$out/head.txt"
