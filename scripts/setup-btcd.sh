#!/usr/bin/env bash
# scripts/setup-btcd.sh — installs the pinned btcd and btcctl that the node
# integration tests start (internal/btcdtest), built from the Go module proxy
# into $(go env GOPATH)/bin, where the tests look for them. Idempotent: when
# the installed btcd is already this version it returns at once.
# scripts/test runs it before `go test`.
set -euo pipefail
export PATH="/usr/local/go/bin:$PATH"

BTCD_VERSION=v0.26.2

bin="$(go env GOPATH)/bin"
installed() {
  [ -x "$bin/btcd" ] && [ -x "$bin/btcctl" ] || return 1
  go version -m "$bin/btcd" | grep -Eq "^[[:space:]]+mod[[:space:]]+github.com/btcsuite/btcd[[:space:]]+${BTCD_VERSION}([[:space:]]|$)" || return 1
  go version -m "$bin/btcctl" | grep -Eq "^[[:space:]]+mod[[:space:]]+github.com/btcsuite/btcd[[:space:]]+${BTCD_VERSION}([[:space:]]|$)"
}

if installed; then
  exit 0
fi
echo "btcd ${BTCD_VERSION}: installing btcd and btcctl into $bin" >&2
# Outside the module, so its go.mod plays no part in the build.
cd "$(mktemp -d)"
GOBIN="$bin" GOFLAGS=-mod=mod go install "github.com/btcsuite/btcd@${BTCD_VERSION}" "github.com/btcsuite/btcd/cmd/btcctl@${BTCD_VERSION}"
installed || { echo "btcd ${BTCD_VERSION}: install did not produce the pinned binaries in $bin" >&2; exit 1; }
