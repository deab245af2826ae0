#!/usr/bin/env bash
# Installs the npm dependencies when they are missing or older than the lockfile,
# so that `npm start` and `npm test` work on a fresh clone with nothing installed by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x node_modules/.bin/node ] || [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "tollgate: installing npm dependencies (npm ci)..." >&2
  npm ci --no-audit --no-fund >&2
fi
