#!/usr/bin/env bash
# scripts/setup-chromium.sh — installs Chromium from Debian's packages for the
# tests that render HTML reports in a real headless browser
# (cmd/heistgraph: TestReportInChromium). scripts/test runs it before go test.
#
# Idempotent and quiet: it does nothing when /usr/bin/chromium exists. It
# needs root (or sudo) and the Debian mirrors; tests find the browser at
# /usr/bin/chromium or through $HEISTGRAPH_CHROMIUM.
set -euo pipefail

if [ -x /usr/bin/chromium ] || { [ -n "${HEISTGRAPH_CHROMIUM:-}" ] && [ -x "$HEISTGRAPH_CHROMIUM" ]; }; then
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo="sudo -n"
  else
    echo "setup-chromium: not root and no sudo: install the Debian package chromium yourself" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! { $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core; } >"$log" 2>&1; then
  echo "setup-chromium: apt-get install chromium failed:" >&2
  tail -20 "$log" >&2
  exit 1
fi
[ -x /usr/bin/chromium ] || { echo "setup-chromium: installed, but /usr/bin/chromium is missing" >&2; exit 1; }
