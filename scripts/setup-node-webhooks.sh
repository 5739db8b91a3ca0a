#!/usr/bin/env bash
# scripts/setup-node-webhooks.sh — installs the standardwebhooks npm package
# (pinned in internal/webhooktest/testdata/package-lock.json) into
# internal/webhooktest/testdata/node_modules (gitignored), where the
# webhook tests' independent Standard Webhooks verifier (verify.mjs) finds
# it. Needs node and npm: without them it says so and, outside CI, exits 0
# (the verifier tests then skip, naming this script; in CI they must run).
# Idempotent: when the pinned version is installed it returns at once.
# scripts/test runs it before `go test`.
set -euo pipefail
cd "$(dirname "$0")/../internal/webhooktest/testdata"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "setup-node-webhooks: node and npm not found: the Standard Webhooks verifier tests cannot run" >&2
  case "${CI:-}" in ""|0|false) exit 0 ;; *) exit 1 ;; esac
fi
want=$(node -e 'console.log(require("./package-lock.json").packages["node_modules/standardwebhooks"].version)')
have=$(node -e 'try { console.log(require("./node_modules/standardwebhooks/package.json").version) } catch { console.log("") }')
if [ "$have" = "$want" ]; then
  exit 0
fi
echo "standardwebhooks ${want}: installing into $(pwd)/node_modules" >&2
npm ci --no-audit --no-fund --ignore-scripts >&2
