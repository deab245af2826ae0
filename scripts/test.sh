#!/usr/bin/env bash
# `npm test`: the whole suite on a fresh machine. Installs npm packages (and redis-server and
# PostgreSQL, which the tests start privately on free loopback ports, and chromium for the
# dashboard test) when missing,
# then typecheck, lint, and every test through node's test runner (its closing lines are the verdict).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
bash scripts/ensure-redis.sh
bash scripts/ensure-postgres.sh
bash scripts/ensure-chromium.sh
export PATH="$PWD/node_modules/.bin:$PATH"
echo "node $(node --version)"
tsc -p tsconfig.json
eslint . --max-warnings=0
# `tollgate start` runs the JavaScript emitted from src/ (bin/build.js); emit it once here, so the
# tests that start the CLI do not each compile inside their readiness timeouts.
node -e "import('./bin/build.js').then((m) => { if (m.ensureBuild(process.cwd()) === null) process.exitCode = 1; })"
node --test --test-concurrency=2 --test-timeout=180000 --test-reporter=spec "src/**/*.test.ts" "test/**/*.test.ts" "bench/**/*.test.ts"
