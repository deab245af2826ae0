#!/usr/bin/env bash
# `npm start`: install what is missing, then run the gateway on Node 24 from node_modules.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
exec node_modules/.bin/node bin/tollgate.js start "$@"
