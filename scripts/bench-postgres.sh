#!/usr/bin/env bash
# scripts/bench-postgres.sh — ingest of one synthetic world into the embedded
# store (Pebble) and into PostgreSQL, in the same run, and point lookups
# (show tx) on both. Starts a throwaway PostgreSQL (fsync on, defaults
# otherwise) on loopback in a temporary directory and stops it at the end.
# Usage: scripts/bench-postgres.sh [small|medium] [lookups]
set -euo pipefail
scale=${1:-small}
lookups=${2:-200}
cd "$(dirname "$0")/.."
bash scripts/setup-postgres.sh
bin=$(dirname "$(readlink -f "$(command -v initdb || ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1)")")
tmp=$(mktemp -d)
as=()
if [ "$(id -u)" = 0 ]; then
  chown postgres "$tmp" 2>/dev/null || chown nobody "$tmp"
  as=(runuser -u "$(stat -c %U "$tmp")" --)
fi
cleanup() {
  "${as[@]}" "$bin/pg_ctl" -D "$tmp/pg" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
go build -o "$tmp/heistgraph" ./cmd/heistgraph
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
echo bench > "$tmp/pw"
chmod 644 "$tmp/pw"
"${as[@]}" "$bin/initdb" -D "$tmp/pg" -U bench --pwfile "$tmp/pw" -A scram-sha-256 -E UTF8 --locale=C >/dev/null
"${as[@]}" "$bin/pg_ctl" -D "$tmp/pg" -l "$tmp/pg.log" -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$tmp" -w start >/dev/null
url="postgres://bench:bench@127.0.0.1:$port/postgres?sslmode=disable"
hg="$tmp/heistgraph"
"$hg" --quiet --json synth --out "$tmp/world" --seed 1 --scale "$scale" > "$tmp/synth.json"
read -r blocks txs bytes < <(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["blocks"], d["txs"], d["bytes"])' "$tmp/synth.json")
ingest() { # backend flags...
  local start end
  start=$(date +%s.%N)
  "$hg" --quiet "$@" ingest btc --blocks "$tmp/world" --network regtest --cluster=false >/dev/null
  end=$(date +%s.%N)
  echo "$end - $start" | bc
}
tp=$(ingest --data "$tmp/data")
tq=$(ingest --store "$url")
[ -n "${BENCH_STOP_AFTER_INGEST:-}" ] && { echo "pebble $tp s, postgres $tq s"; "${as[@]}" cat "$tmp/pg.log" | tail -5; exit 0; }
# Point lookups: show tx of the first transactions of blocks 1..lookups, one process each.
ids=()
for h in $(seq 1 "$lookups"); do
  ids+=("$("$hg" --data "$tmp/data" --json show block "$h" --chain btc-regtest 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["txids"][0])' 2>/dev/null || true)")
done
lookup() { # backend flags...
  local start end
  start=$(date +%s.%N)
  for id in "${ids[@]}"; do
    [ -n "$id" ] && "$hg" --quiet "$@" --chain btc-regtest show tx "$id" >/dev/null
  done
  end=$(date +%s.%N)
  echo "($end - $start) * 1000 / ${#ids[@]}" | bc -l
}
lp=$(lookup --data "$tmp/data")
lq=$(lookup --store "$url")
mb=$(echo "$bytes / 1000000" | bc -l)
printf 'world: synth --scale %s --seed 1: %s blocks, %s txs, %.1f MB of raw blocks\n' "$scale" "$blocks" "$txs" "$mb"
printf 'ingest  pebble   %7.1f s  %7.0f txs/s  %6.2f MB/s\n' "$tp" "$(echo "$txs / $tp" | bc -l)" "$(echo "$mb / $tp" | bc -l)"
printf 'ingest  postgres %7.1f s  %7.0f txs/s  %6.2f MB/s\n' "$tq" "$(echo "$txs / $tq" | bc -l)" "$(echo "$mb / $tq" | bc -l)"
printf 'show tx pebble   %6.1f ms a lookup (a process each, %d lookups)\n' "$lp" "${#ids[@]}"
printf 'show tx postgres %6.1f ms a lookup (a process each, %d lookups)\n' "$lq" "${#ids[@]}"
