#!/usr/bin/env bash
# scripts/setup-postgres.sh — installs Debian's PostgreSQL server (initdb,
# pg_ctl, postgres) that the PostgreSQL store tests start in a temporary
# directory on loopback (internal/pgtest). It starts no server itself.
# Idempotent: when initdb and pg_ctl are already installed it returns at once.
# scripts/test runs it before `go test`.
set -euo pipefail

installed() {
  command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1 && return 0
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null
}

if installed; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "postgresql: not installed and no apt-get here; install PostgreSQL (initdb, pg_ctl) by hand" >&2
  exit 1
fi
sudo=()
if [ "$(id -u)" != 0 ]; then
  sudo=(sudo)
fi
echo "postgresql: installing Debian's postgresql and postgresql-contrib" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq >/dev/null
"${sudo[@]}" apt-get install -y -qq --no-install-recommends postgresql postgresql-contrib >/dev/null
installed || { echo "postgresql: apt-get install did not produce initdb and pg_ctl" >&2; exit 1; }
