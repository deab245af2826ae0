#!/usr/bin/env bash
# Makes sure PostgreSQL's server binaries (initdb, postgres) are there for the ledger's PostgreSQL
# tests (they start their own private server on a free loopback port in a temporary directory;
# see test/helpers/postgres.ts). On a fresh CI machine they are installed from Debian packages.
# Everything this script says goes to stderr.
set -euo pipefail

if compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || command -v initdb >/dev/null 2>&1 || [ -n "${PG_BIN:-}" ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "tollgate: PostgreSQL (initdb) is missing and installing it needs root: run 'apt-get install postgresql'" >&2
  exit 1
fi

echo "tollgate: initdb not found; installing PostgreSQL from Debian packages (apt-get install postgresql)..." >&2
apt-get update -qq >&2
# The package may try to start a system cluster on port 5432; the tests never use it, and where
# there is no init system that step fails harmlessly inside the package's own scripts.
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2

if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
  echo "tollgate: initdb still not found after installing the package" >&2
  exit 1
fi
echo "tollgate: $(ls -d /usr/lib/postgresql/*/bin | tail -1)/postgres" >&2
