#!/bin/sh
# pairbench.sh: run one package's Go benchmarks as built at two commits,
# interleaved (old new old new ...), so that their figures are taken side by
# side: the in-package benches swing by a third between runs even on an
# idle machine, and only rounds taken together compare. Public tools only
# (POSIX sh, git, go).
#
# Usage: scripts/pairbench.sh OLD NEW PKG BENCH ROUNDS [BENCHTIME]
#   OLD, NEW   commits (anything git rev-parse takes; NEW may be "worktree"
#              for the files as they are now)
#   PKG        the package, e.g. ./txgraph
#   BENCH      the -bench pattern, e.g. 'TraceGraph/(haircut|poison100k)/graph'
#   ROUNDS     how many old/new pairs
#   BENCHTIME  -benchtime (default 3x)
# PAIR_OLD_ENV and PAIR_NEW_ENV, if set, are extra VAR=value words for each
# side (e.g. each side's HEISTGRAPH_BENCH_DATA, a store its own binary
# wrote). Every benchmark line is printed prefixed by its side and round.
set -e
[ $# -ge 5 ] || { echo "usage: $0 OLD NEW PKG BENCH ROUNDS [BENCHTIME]" >&2; exit 2; }
old=$1 new=$2 pkg=$3 bench=$4 rounds=$5 benchtime=${6:-3x}
root=$(cd "$(dirname "$0")" && git rev-parse --show-toplevel)
tmp=$(mktemp -d)
trap 'git -C "$root" worktree remove --force "$tmp/old" >/dev/null 2>&1; git -C "$root" worktree remove --force "$tmp/new" >/dev/null 2>&1; rm -rf "$tmp"' EXIT
build() { # side rev: the test binary $tmp/side.test, run in its package's directory $tmp/side.dir
	if [ "$2" = worktree ]; then
		dir=$root
	else
		git -C "$root" worktree add -q --detach "$tmp/$1" "$2"
		dir=$tmp/$1
	fi
	(cd "$dir" && go test -c -o "$tmp/$1.test" "$pkg")
	echo "$dir/$pkg" >"$tmp/$1.dir"
}
build old "$old"
build new "$new"
echo "old $(git -C "$root" rev-parse --short "$old"), new $( [ "$new" = worktree ] && echo worktree || git -C "$root" rev-parse --short "$new"), $pkg -bench '$bench' -benchtime $benchtime, $rounds rounds"
i=1
while [ "$i" -le "$rounds" ]; do
	for side in old new; do
		if [ $side = old ]; then extra=$PAIR_OLD_ENV; else extra=$PAIR_NEW_ENV; fi
		# shellcheck disable=SC2086 # extra is a list of words
		(cd "$(cat "$tmp/$side.dir")" && env $extra "$tmp/$side.test" -test.run '^$' -test.bench "$bench" -test.benchtime "$benchtime" -test.benchmem 2>&1) |
			grep '^Benchmark' | sed "s/^/$side $i /"
	done
	i=$((i + 1))
done
