#!/bin/sh
# bench-import-stix.sh: peak memory and wall time of `heistgraph import stix` on a
# large partner bundle (100,000 objects, about 60 MB: 1,000 OpenCTI-style indicators
# with wallet patterns and their relationships, the rest notes of 500 bytes), paired
# with its reference: the same file loaded whole by Python's json.load (a reader that
# holds the document). Usage: scripts/bench-import-stix.sh [RUNS]
# (docs/benchmarks.md, "Partner STIX import (issue 25)")
set -e
cd "$(dirname "$0")/.."
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
go build -o "$t/heistgraph" ./cmd/heistgraph
python3 - "$t/big.json" <<'PY'
import json, sys
objs = [{"type": "incident", "spec_version": "2.1", "id": "incident--00000000-0000-4000-8000-000000000000",
         "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z", "name": "bench incident"}]
addrs = ["3Cwgr2g7vsi1bXDUkpEnVoRLA9w4FZfC69", "1E38kt7ryhbRXUzbam6iQ6sd93VHUUdjEE", "1KFHE7w8BhaENAswwryaoccDb6qcT6DbYY"]
for i in range(1000):
    ind = "indicator--00000000-0000-4000-8000-%012d" % i
    objs.append({"type": "indicator", "spec_version": "2.1", "id": ind, "created": "2024-01-01T00:00:00.000Z",
                 "modified": "2024-01-01T00:00:00.000Z", "pattern": "[cryptocurrency-wallet:value = '%s']" % addrs[i % 3],
                 "pattern_type": "stix", "valid_from": "2024-01-01T00:00:00.000Z"})
    objs.append({"type": "relationship", "spec_version": "2.1", "id": "relationship--00000000-0000-4000-8000-%012d" % i,
                 "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z", "relationship_type": "indicates",
                 "source_ref": ind, "target_ref": objs[0]["id"]})
while len(objs) < 100000:
    objs.append({"type": "note", "spec_version": "2.1", "id": "note--00000000-0000-4000-8000-%012d" % len(objs),
                 "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z", "content": "x" * 500,
                 "object_refs": [objs[0]["id"]]})
json.dump({"type": "bundle", "id": "bundle--00000000-0000-4000-8000-000000000000", "objects": objs}, open(sys.argv[1], "w"))
PY
ls -l "$t/big.json" >&2
"$(dirname "$0")/paired.sh" "${1:-5}" "$t/heistgraph --quiet --data $t/d import stix $t/big.json" \
	"python3 -c 'import json,sys; json.load(open(sys.argv[1]))' $t/big.json"
