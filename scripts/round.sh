#!/bin/sh
# round.sh: measure two heistgraph binaries side by side on one synthetic
# Bitcoin world, as docs/benchmarks.md's "round merged" sections do: each
# binary ingests the world into its own stores (so a change of the store's
# layout is measured as its users meet it), and then
#   - the store on disk after the next open (du -sb), by blocks and --bulk,
#     and its ratio to the world's blocks;
#   - store dump (sha256) and store digest of each store: a change that keeps
#     the meaning keeps both, by either path;
#   - ingest with clustering, by blocks and --bulk, RUNS pairs each;
#   - cluster update --from-scratch and store dump, RUNS pairs each;
#   - the reference traces (scripts/reftraces.sh) on each side's store with
#     its graph: the hashes must be equal line by line;
#   - the largest reference trace ("big") and heist 2 as whole commands;
#   - with btcd's addblock on PATH, NEW's --bulk ingest paired with it (the peer).
# The pairs are scripts/paired.sh's (medians and pairwise ratios, A = OLD).
# The engines' own benchmarks (scripts/pairbench.sh) take the stores this
# script leaves: SCRATCH/o/bulk and SCRATCH/n/bulk (graph built), e.g.
#   PAIR_OLD_ENV="HEISTGRAPH_BENCH_DATA=SCRATCH/o/bulk HEISTGRAPH_BENCH_WORLD=WORLD" \
#   PAIR_NEW_ENV="HEISTGRAPH_BENCH_DATA=SCRATCH/n/bulk HEISTGRAPH_BENCH_WORLD=WORLD" \
#     scripts/pairbench.sh OLDCOMMIT NEWCOMMIT ./txgraph 'TraceGraph/(haircut|poison100k)/graph' 3 3x
# Public tools only (POSIX sh, GNU time, du, sha256sum, awk).
#
# Usage: scripts/round.sh OLD NEW WORLD SCRATCH [RUNS]
#   OLD, NEW  heistgraph binaries (go build -o ... ./cmd/heistgraph)
#   WORLD     heistgraph synth --out WORLD --seed 1 --scale medium
#   SCRATCH   a directory for the stores (emptied first)
#   RUNS      pairs of each whole command (default 3)
set -e
[ $# -ge 4 ] || { echo "usage: $0 OLD NEW WORLD SCRATCH [RUNS]" >&2; exit 2; }
old=$1 new=$2 world=$3 scratch=$4 runs=${5:-3}
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$scratch"
mkdir -p "$scratch/o" "$scratch/n"
blocks=$(cat "$world"/blk*.dat | wc -c)
echo "world $world: $blocks bytes of blocks; OLD $old, NEW $new; $(date -u +%H:%M) UTC, load $(cut -d' ' -f1-3 /proc/loadavg)"

for side in o n; do
	if [ $side = o ]; then hg=$old; else hg=$new; fi
	for path in blocks bulk; do
		d=$scratch/$side/$path
		flag=
		[ $path = bulk ] && flag=--bulk
		"$hg" --data "$d" --quiet ingest btc $flag --blocks "$world" --network regtest >/dev/null
		"$hg" --data "$d" --quiet labels import "$world/labels.csv" --format csv >/dev/null
		size=$(du -sb "$d" | cut -f1)
		dump=$("$hg" --data "$d" --quiet store dump | sha256sum | cut -c1-16)
		digest=$("$hg" --data "$d" --quiet store digest --chain btc-regtest | cut -c1-16)
		echo "$side $path: store $size B, $(awk -v s="$size" -v b="$blocks" 'BEGIN { printf "%.2f", s / b }')× the blocks; dump $dump; digest $digest"
	done
	"$hg" --data "$scratch/$side/bulk" --quiet cluster update --graph build >/dev/null
	cp -r "$scratch/$side/blocks" "$scratch/$side/scratch"
done

echo "ingest with clustering, by blocks:"
sh "$here/paired.sh" "$runs" \
	"rm -rf $scratch/pa && $old --data $scratch/pa --quiet ingest btc --blocks $world --network regtest" \
	"rm -rf $scratch/pb && $new --data $scratch/pb --quiet ingest btc --blocks $world --network regtest"
echo "ingest with clustering, --bulk:"
sh "$here/paired.sh" "$runs" \
	"rm -rf $scratch/pa && $old --data $scratch/pa --quiet ingest btc --bulk --blocks $world --network regtest" \
	"rm -rf $scratch/pb && $new --data $scratch/pb --quiet ingest btc --bulk --blocks $world --network regtest"
rm -rf "$scratch/pa" "$scratch/pb"
echo "cluster update --from-scratch:"
sh "$here/paired.sh" "$runs" \
	"$old --data $scratch/o/scratch --quiet cluster update --from-scratch" \
	"$new --data $scratch/n/scratch --quiet cluster update --from-scratch"
echo "from-scratch dumps: $("$old" --data "$scratch/o/scratch" --quiet store dump | sha256sum | cut -c1-16) $("$new" --data "$scratch/n/scratch" --quiet store dump | sha256sum | cut -c1-16)"
echo "store dump:"
sh "$here/paired.sh" "$runs" \
	"$old --data $scratch/o/scratch --quiet store dump" \
	"$new --data $scratch/n/scratch --quiet store dump"

echo "reference traces (NAME VISITS JSON GRAPHML), OLD then NEW:"
sh "$here/reftraces.sh" "$old" "$scratch/o/bulk" "$world" "$scratch/o/traces" >"$scratch/o/traces.txt"
sh "$here/reftraces.sh" "$new" "$scratch/n/bulk" "$world" "$scratch/n/traces" >"$scratch/n/traces.txt"
if cmp -s "$scratch/o/traces.txt" "$scratch/n/traces.txt"; then
	echo "identical: $(wc -l <"$scratch/n/traces.txt") traces"
else
	echo "DIFFERENT:"
	diff "$scratch/o/traces.txt" "$scratch/n/traces.txt" || true
fi
for name in big h02; do
	args=$(grep "^$name " "$scratch/n/traces/commands.txt" | cut -d' ' -f2-)
	echo "trace $name ($(grep "^$name " "$scratch/n/traces.txt" | cut -d' ' -f2) visits), whole command:"
	sh "$here/paired.sh" "$runs" \
		"$old --data $scratch/o/bulk --quiet --json trace $args" \
		"$new --data $scratch/n/bulk --quiet --json trace $args"
done

# The peer: btcd's own importer with both of its indexes on the same blocks
# (go install github.com/btcsuite/btcd/cmd/addblock@v0.26.2), one pair
# against NEW's --bulk ingest, when it is on PATH (about a minute a run).
if command -v addblock >/dev/null 2>&1; then
	echo "btcd addblock --txindex --addrindex (A) against NEW's ingest --bulk (B):"
	sh "$here/paired.sh" 1 \
		"rm -rf $scratch/bb && addblock --regtest -b $scratch/bb -p 0 -i $world/blk00000.dat --txindex --addrindex" \
		"rm -rf $scratch/pb && $new --data $scratch/pb --quiet ingest btc --bulk --blocks $world --network regtest"
	echo "btcd's store: $(du -sb "$scratch/bb" | cut -f1) B"
	rm -rf "$scratch/bb" "$scratch/pb"
fi
