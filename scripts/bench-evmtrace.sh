#!/bin/sh
# bench-evmtrace.sh: the EVM account trace and its store reads, paired in one
# run with their references: the implementation before the history-record
# rework (commit REF, default dc718f1; built from
# `git archive` with today's benchmark file) and the raw Pebble iteration
# over the same history keys. HEISTGRAPH_BENCH_BLOCKS sets the ledger size
# (default 20000). Usage: scripts/bench-evmtrace.sh [REF]
# (docs/benchmarks.md, "EVM trace speed")
set -e
cd "$(dirname "$0")/.."
ref=${1:-dc718f1}
blocks=${HEISTGRAPH_BENCH_BLOCKS:-20000}
export HEISTGRAPH_BENCH_BLOCKS=$blocks
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git archive "$ref" | tar -x -C "$tmp"
cp trace/account_bench_test.go trace/cputime_unix_test.go trace/cputime_other_test.go "$tmp/trace/"
(cd "$tmp" && go test -c -o "$tmp/ref.trace.test" ./trace)
go test -c -o "$tmp/new.trace.test" ./trace
go test -c -o "$tmp/new.pebble.test" ./store/pebble
uptime
for run in ref new; do
	echo "== trace, $run ($([ $run = ref ] && echo "$ref" || git rev-parse --short HEAD)), $blocks blocks"
	# The wide walk (poison) and the floor 3 times; the short walks of the
	# conserving policies (a few ms) 300 times, so that noise averages out.
	"$tmp/$run.trace.test" -test.run '^$' -test.bench 'BenchmarkAccountTrace$/(floor|policy=poison)' -test.benchtime 3x -test.benchmem -test.v |
		grep -E 'ledger:|^Benchmark.*-[0-9]+ '
	"$tmp/$run.trace.test" -test.run '^$' -test.bench 'BenchmarkAccountTrace$/policy=(haircut|fifo|tiho)' -test.benchtime 300x -test.benchmem -test.v |
		grep -E '^Benchmark.*-[0-9]+ '
done
echo "== store reads, $blocks blocks"
"$tmp/new.pebble.test" -test.run '^$' -test.bench BenchmarkAccountHistory -test.benchtime 3x -test.benchmem -test.v |
	grep -E 'bytes a transfer|^Benchmark.*-[0-9]+ '
uptime
