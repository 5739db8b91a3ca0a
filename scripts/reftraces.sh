#!/bin/sh
# reftraces.sh: run the reference traces of a synthetic Bitcoin world with one
# heistgraph binary on one data directory, and print for each a line
#   NAME VISITS sha256(JSON without "ms") sha256(GraphML)
# so that two binaries (or two stores of one world: by blocks, --bulk, with
# or without a graph) can be compared trace by trace: a change that keeps
# the meaning keeps every hash. The traces cover every policy and the
# largest a medium world has: each heist by haircut, heist 3 by --compare,
# heist 1 by fifo, lifo, tiho and poison, and every heist's seeds at once
# (one source) by haircut through CoinJoins, and by poison through CoinJoins
# without thresholds (no --min-amount, 10,000 hops) with a budget of 20,000
# visits and with the default budget ("big": the largest trace of the world;
# on the medium world of seed 1 it visits 34,786 transactions with the labels
# imported, where entities stop it, and 62,592 without them).
# Public tools only (POSIX sh, awk, sed, sha256sum).
#
# Usage: scripts/reftraces.sh BIN DATA WORLD OUTDIR
#   BIN     a heistgraph binary (go build -o hg ./cmd/heistgraph)
#   DATA    its data directory with WORLD ingested (labels imported; with
#           `cluster update --graph build` the traces read the graph)
#   WORLD   the world's directory (heistgraph synth --out WORLD), for truth.json
#   OUTDIR  where each trace's JSON and GraphML are kept (created)
# The commands themselves are printed to OUTDIR/commands.txt, so a single
# trace can be timed alone (scripts/paired.sh).
set -e
[ $# -eq 4 ] || { echo "usage: $0 BIN DATA WORLD OUTDIR" >&2; exit 2; }
bin=$1 data=$2 world=$3 out=$4
truth=$world/truth.json
[ -r "$truth" ] || { echo "$0: $truth: not readable" >&2; exit 2; }
mkdir -p "$out"
: >"$out/commands.txt"

seeds() { # heist number (1, 2, ...) or "all" -> --seed words; synth writes one heist a line
	awk -v want="$1" '/^\{"id":"heist-/ {
		n++
		if (want != "all" && n != want) next
		if (!match($0, /"seeds":\[[^]]*\]/)) next
		s = substr($0, RSTART + 9, RLENGTH - 10)
		gsub(/"/, "", s)
		k = split(s, parts, ",")
		for (i = 1; i <= k; i++) printf "--seed %s ", parts[i]
	}' "$truth"
}

one() { # name args...
	name=$1
	shift
	echo "$name $*" >>"$out/commands.txt"
	# shellcheck disable=SC2068 # the seeds are words
	"$bin" --data "$data" --quiet --json trace $@ --graphml "$out/$name.graphml" >"$out/$name.json"
	visits=$(awk -F: '/"txs_visited"/ { gsub(/[ ,]/, "", $2); v += $2 } END { print v + 0 }' "$out/$name.json")
	j=$(sed 's/"ms": *[0-9.]*//g' "$out/$name.json" | sha256sum | cut -c1-16)
	g=$(sha256sum <"$out/$name.graphml" | cut -c1-16)
	echo "$name $visits $j $g"
}

n=$(grep -c '^{"id":"heist-' "$truth")
i=1
while [ "$i" -le "$n" ] && [ "$i" -le 8 ]; do
	one "h0$i" $(seeds "$i")
	i=$((i + 1))
done
one h03cmp $(seeds 3) --compare
for p in fifo lifo tiho poison; do
	one "h01$p" $(seeds 1) --policy "$p"
done
one allhaircut $(seeds all) --through-coinjoin haircut
one allpoison $(seeds all) --policy poison --through-coinjoin poison --min-amount 0 --max-hops 10000 --budget 20000
one big $(seeds all) --policy poison --through-coinjoin poison --min-amount 0 --max-hops 10000
