#!/usr/bin/env bash
# Makes sure PostgreSQL's server binaries (initdb, postgres) are there for the ledger's PostgreSQL
# tests (they start their own private server on a free loopback port in a temporary directory;
# see test/helpers/postgres.ts). On a fresh CI machine they are installed from Debian packages.
# Everything this script says goes to stderr.
set -euo pipefail

if compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || command -v initdb >/dev/null 2>&1 || [ -n "${PG_BIN:-}" ]; then
  exit 0
fi

bash "$(dirname "$0")/apt-install.sh" postgresql "PostgreSQL (initdb)"

if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
  echo "tollgate: initdb still not found after installing the package" >&2
  exit 1
fi
echo "tollgate: $(ls -d /usr/lib/postgresql/*/bin | tail -1)/postgres" >&2
