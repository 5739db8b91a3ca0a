#!/bin/sh
# ingestrate.sh: ingest a world into a fresh data directory and say whether
# the rate holds as the store grows: every 10 seconds (HG_EVERY) it samples the
# process's CPU ticks (/proc/PID/stat) and the last progress line's mb=,
# then prints, for each third of the blocks, the wall seconds, the CPU
# seconds, MB/s and MB per CPU-second (interpolated between samples), and
# the whole run's wall, CPU and peak RSS (GNU time). Linux only; public
# tools only (POSIX sh, awk, GNU time).
#
# Usage: scripts/ingestrate.sh BIN DATA WORLD [INGEST FLAGS...]
#   e.g. scripts/ingestrate.sh ./hg /tmp/lb /tmp/lw --bulk
#        (WORLD: heistgraph synth --seed 1 --scale large --out /tmp/lw)
# Extra global flags (e.g. --memory 1GiB) go in HG_FLAGS. DATA is removed
# first. The samples are kept in DATA.samples, the log in DATA.log.
set -e
[ $# -ge 3 ] || { echo "usage: $0 BIN DATA WORLD [INGEST FLAGS...]" >&2; exit 2; }
bin=$1 data=$2 world=$3
shift 3
rm -rf "$data"
blocks=$(cat "$world"/blk*.dat | wc -c)
: >"$data.samples"
# shellcheck disable=SC2086 # HG_FLAGS are words
/usr/bin/time -f "wall %e s, cpu %U+%S s, peak RSS %M KiB" -o "$data.time" \
	"$bin" --data "$data" $HG_FLAGS ingest btc "$@" --blocks "$world" --network regtest 2>"$data.log" >/dev/null &
tpid=$!
pid=
while [ -z "$pid" ] && kill -0 "$tpid" 2>/dev/null; do
	pid=$(pgrep -P "$tpid" | head -1) || true
	[ -n "$pid" ] || sleep 0.2
done
start=$(date +%s)
while [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; do
	ticks=$(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null) || break
	mb=$(grep -o 'mb=[0-9.]*' "$data.log" | tail -1 | cut -d= -f2)
	echo "$(($(date +%s) - start)) $ticks ${mb:-0}" >>"$data.samples"
	sleep "${HG_EVERY:-10}"
done
wait "$tpid" || { echo "$0: the ingest failed; see $data.log" >&2; exit 1; }
hz=$(getconf CLK_TCK)
awk -v hz="$hz" -v total="$blocks" '
{ t[n] = $1; c[n] = $2 / hz; m[n] = $3; n++ }
function at(mb,   i, f) { # sets T and C at mb (MB), interpolated
	for (i = 1; i < n; i++)
		if (m[i - 1] <= mb && mb <= m[i] && m[i] > m[i - 1]) {
			f = (mb - m[i - 1]) / (m[i] - m[i - 1])
			T = t[i - 1] + f * (t[i] - t[i - 1]); C = c[i - 1] + f * (c[i] - c[i - 1])
			return 1
		}
	return 0
}
END {
	mbTotal = total / 1e6; pm = 0; pt = t[0]; pc = c[0]
	for (k = 1; k <= 3; k++) {
		want = mbTotal * k / 3
		if (want > m[n - 1]) want = m[n - 1] # the last sample: the rest is the close
		if (!at(want) || want <= pm) break
		printf "third %d: %.0f MB in %.0f s wall, %.1f CPU-s: %.1f MB/s, %.2f MB per CPU-s\n", k, want - pm, T - pt, C - pc, (want - pm) / (T - pt), (want - pm) / (C - pc)
		pm = want; pt = T; pc = C
	}
}' "$data.samples"
echo "whole run ($blocks bytes of blocks): $(cat "$data.time")"
