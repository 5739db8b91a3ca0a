#!/usr/bin/env bash
# scripts/setup-geth.sh — installs the pinned geth that the EVM integration
# tests start in dev mode (internal/gethtest), built from the Go module proxy
# into $(go env GOPATH)/bin, where the tests look for it. Idempotent: when the
# installed geth is already this version it returns at once. The first build
# takes a few minutes on two cores.
# scripts/test runs it before `go test`.
set -euo pipefail
export PATH="/usr/local/go/bin:$PATH"

GETH_VERSION=v1.17.10

bin="$(go env GOPATH)/bin"
installed() {
  [ -x "$bin/geth" ] || return 1
  go version -m "$bin/geth" | grep -Eq "^[[:space:]]+mod[[:space:]]+github.com/ethereum/go-ethereum[[:space:]]+${GETH_VERSION}([[:space:]]|$)"
}

if installed; then
  exit 0
fi
echo "geth ${GETH_VERSION}: installing geth into $bin" >&2
# Outside the module, so its go.mod plays no part in the build.
cd "$(mktemp -d)"
GOBIN="$bin" GOFLAGS=-mod=mod go install "github.com/ethereum/go-ethereum/cmd/geth@${GETH_VERSION}"
installed || { echo "geth ${GETH_VERSION}: install did not produce the pinned binary in $bin" >&2; exit 1; }
