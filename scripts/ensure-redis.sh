#!/usr/bin/env bash
# Makes sure `redis-server` is on PATH for the Redis limit-store tests (they start their own
# private server on a free loopback port; see test/helpers/redis.ts). On a fresh CI machine it is
# installed from Debian packages. Everything this script says goes to stderr.
set -euo pipefail

if command -v redis-server >/dev/null 2>&1; then
  exit 0
fi

bash "$(dirname "$0")/apt-install.sh" redis-server redis-server

if ! command -v redis-server >/dev/null 2>&1; then
  echo "tollgate: redis-server still not on PATH after installing the package" >&2
  exit 1
fi
echo "tollgate: $(redis-server --version)" >&2
