#!/bin/sh
# paired.sh: time two whole commands in turn (A B A B ...) with /usr/bin/time
# and print each one's median wall, user+system CPU and peak RSS, and the
# median of the pairwise A/B ratios (pairing keeps a ratio meaningful when
# the machine's speed drifts during the runs). Public tools only (POSIX sh,
# GNU time, awk).
#
# Usage: scripts/paired.sh RUNS 'COMMAND A' 'COMMAND B'
# Each command is run by sh -c, its output discarded; one warm-up run of
# each is not counted.
set -e
[ $# -eq 3 ] || { echo "usage: $0 RUNS 'COMMAND A' 'COMMAND B'" >&2; exit 2; }
runs=$1 a=$2 b=$3
out=$(mktemp)
trap 'rm -f "$out"' EXIT
one() { # label command
	/usr/bin/time -f "$1 %e %U %S %M" -a -o "$out" sh -c "$2" >/dev/null 2>&1 || echo "warning: $1 exited non-zero" >&2
}
sh -c "$a" >/dev/null 2>&1 || true
sh -c "$b" >/dev/null 2>&1 || true
i=0
while [ "$i" -lt "$runs" ]; do
	one A "$a"
	one B "$b"
	i=$((i + 1))
done
awk '
function median(arr, n,   i, j, t) {
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (arr[j] < arr[i]) { t = arr[i]; arr[i] = arr[j]; arr[j] = t }
	return n % 2 ? arr[(n + 1) / 2] : (arr[n / 2] + arr[n / 2 + 1]) / 2
}
$1 == "A" { na++; aw[na] = $2; ac[na] = $3 + $4; am[na] = $5 }
$1 == "B" { nb++; bw[nb] = $2; bc[nb] = $3 + $4; bm[nb] = $5; if (nb <= na && bw[nb] > 0) { rw[nb] = aw[nb] / bw[nb]; rc[nb] = (bc[nb] > 0 ? ac[nb] / bc[nb] : 0) } }
END {
	n = na < nb ? na : nb
	printf "%d pairs; medians\n", n
	printf "A: wall %.2f s, cpu %.2f s, peak RSS %.0f MiB\n", median(aw, na), median(ac, na), median(am, na) / 1024
	printf "B: wall %.2f s, cpu %.2f s, peak RSS %.0f MiB\n", median(bw, nb), median(bc, nb), median(bm, nb) / 1024
	printf "A/B: wall %.2f×, cpu %.2f×\n", median(rw, n), median(rc, n)
}' "$out"
