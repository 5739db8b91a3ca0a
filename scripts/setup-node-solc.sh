#!/usr/bin/env bash
# scripts/setup-node-solc.sh — installs the solc npm package (solc-js, pinned
# in internal/gethtest/testdata/package-lock.json) into
# internal/gethtest/testdata/node_modules (gitignored), where
# TestContractsCompiled recompiles contracts.sol with it and checks the
# shipped contracts.json (the bytecode the geth tests deploy) is what the
# source compiles to. Needs node and npm: without them it says so and,
# outside CI, exits 0 (that test then skips, naming this script; in CI it
# must run). Idempotent: when the pinned version is installed it returns at
# once. scripts/test runs it before `go test`.
set -euo pipefail
cd "$(dirname "$0")/../internal/gethtest/testdata"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "setup-node-solc: node and npm not found: the contract recompilation test cannot run" >&2
  case "${CI:-}" in ""|0|false) exit 0 ;; *) exit 1 ;; esac
fi
want=$(node -e 'console.log(require("./package-lock.json").packages["node_modules/solc"].version)')
have=$(node -e 'try { console.log(require("./node_modules/solc/package.json").version) } catch { console.log("") }')
if [ "$have" = "$want" ]; then
  exit 0
fi
echo "solc ${want}: installing into $(pwd)/node_modules" >&2
npm ci --no-audit --no-fund --ignore-scripts >&2
