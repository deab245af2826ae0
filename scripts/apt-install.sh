#!/usr/bin/env bash
# Installs one Debian package for the test suite (called by the ensure-*.sh scripts once they have
# found what they need missing): refuses without root, says what it does on stderr.
# Usage: apt-install.sh PACKAGE WHAT   (WHAT: the missing thing, for the messages)
set -euo pipefail
package="$1"
what="$2"

if [ "$(id -u)" -ne 0 ]; then
  echo "tollgate: $what is missing and installing it needs root: run 'apt-get install $package'" >&2
  exit 1
fi

echo "tollgate: $what not found; installing it from Debian packages (apt-get install $package)..." >&2
apt-get update -qq >&2
# The package may try to start a system service on its default port; the tests never use it, and
# where there is no init system that step fails harmlessly inside the package's own scripts.
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >&2
