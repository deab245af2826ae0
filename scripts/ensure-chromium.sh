#!/usr/bin/env bash
# Makes sure Debian's `chromium` is on the machine for the dashboard test (it drives a private
# headless Chromium through playwright-core; see test/e2e/dashboard.test.ts). On a fresh CI machine
# it is installed from Debian packages. Everything this script says goes to stderr.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  exit 0
fi

bash "$(dirname "$0")/apt-install.sh" chromium chromium

if [ ! -x /usr/bin/chromium ]; then
  echo "tollgate: /usr/bin/chromium still missing after installing the package" >&2
  exit 1
fi
echo "tollgate: $(/usr/bin/chromium --version 2>/dev/null || echo chromium)" >&2
