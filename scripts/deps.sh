#!/usr/bin/env bash
# Installs the Debian 12 packages mod_validate_jwt needs to build, test and run its demo.
# Does nothing when they are all present. Needs root (or sudo) only when something is missing.
set -euo pipefail

# build-essential brings gcc-12 and with it libasan8 and libubsan1 (the sanitizer build of
# scripts/test.sh); clang is needed only for make fuzz.
PKGS=(
  build-essential autoconf automake libtool pkg-config
  apache2 apache2-dev libapr1-dev libaprutil1-dev
  libssl-dev libjansson-dev libxml2-dev libcurl4-openssl-dev libcmocka-dev
  python3 python3-pytest python3-jwcrypto python3-cryptography python3-requests
  curl ca-certificates
  redis-server memcached
  tinyproxy
)
# node + npm run the real OpenID Provider of the key-fetching tests (tests/idp); a node that
# is already on PATH (e.g. from nodesource) is used as is.
if ! command -v node >/dev/null 2>&1; then
  PKGS+=(nodejs npm)
fi

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps.sh: installing: ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "deps.sh: need root or sudo to install ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# policy-rc.d keeps the freshly installed apache2 service from starting on port 80.
created_policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod 755 /usr/sbin/policy-rc.d
  created_policy=1
fi
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
[ -n "$created_policy" ] && $SUDO rm -f /usr/sbin/policy-rc.d
exit 0
