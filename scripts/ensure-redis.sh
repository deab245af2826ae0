#!/usr/bin/env bash
# Makes sure `redis-server` is on PATH for the Redis limit-store tests (they start their own
# private server on a free loopback port; see test/helpers/redis.ts). On a fresh CI machine it is
# installed from Debian packages. Everything this script says goes to stderr.
set -euo pipefail

if command -v redis-server >/dev/null 2>&1; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "tollgate: redis-server is missing and installing it needs root: run 'apt-get install redis-server'" >&2
  exit 1
fi

echo "tollgate: redis-server not found; installing it from Debian packages (apt-get install redis-server)..." >&2
apt-get update -qq >&2
# The package may try to start a system service on port 6379; the tests never use it, and where
# there is no init system that step fails harmlessly inside the package's own scripts.
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >&2

if ! command -v redis-server >/dev/null 2>&1; then
  echo "tollgate: redis-server still not on PATH after installing the package" >&2
  exit 1
fi
echo "tollgate: $(redis-server --version)" >&2
