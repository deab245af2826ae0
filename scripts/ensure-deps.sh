#!/usr/bin/env bash
# Installs the npm dependencies when they are missing or older than the lockfile,
# so that `npm start` and `npm test` work on a fresh clone with nothing installed by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x node_modules/.bin/node ] || [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "tollgate: installing npm dependencies (npm ci)..." >&2
  if [ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)" -lt 24 ]; then
    # npm checks engines against the Node that runs npm; these packages only ever run on node_modules' Node 24.
    echo "tollgate: npm warns EBADENGINE for tollgate, openai and undici on Node $(node --version): harmless, they run on the Node 24 npm installs into node_modules (README)" >&2
  fi
  npm ci --no-audit --no-fund >&2
fi
