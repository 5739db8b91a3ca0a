#!/bin/sh
# bench-demo.sh: the wall time of `heistgraph demo --no-serve --json`, paired
# with its reference: the same world built by the separate CLI commands
# (synth, ingest btc, labels import, one watch add per heist, alerts list).
# Usage: scripts/bench-demo.sh [RUNS]   (docs/benchmarks.md, "Demo (issue 21)")
set -e
cd "$(dirname "$0")/.."
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/heistgraph" ./cmd/heistgraph
cat >"$bin/steps.sh" <<'STEPS'
#!/bin/sh
set -e
hg=$1
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
$hg --quiet synth --out "$t/w" --seed 1 --scale small >/dev/null
$hg --quiet --data "$t/d" ingest btc --blocks "$t/w" >/dev/null
$hg --quiet --data "$t/d" labels import "$t/w/labels.csv" --format csv >/dev/null
for h in $(python3 -c "import json,sys; [print(h['id'] + '=' + ','.join(h['seeds'])) for h in json.load(open(sys.argv[1]))['heists']]" "$t/w/truth.json"); do
	$hg --quiet --data "$t/d" watch add --chain btc-regtest --name "${h%%=*}" --seed "${h#*=}" >/dev/null
done
$hg --quiet --data "$t/d" alerts list --json >/dev/null
STEPS
scripts/paired.sh "${1:-5}" "$bin/heistgraph --quiet demo --no-serve --json" "sh $bin/steps.sh $bin/heistgraph"
