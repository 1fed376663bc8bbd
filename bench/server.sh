#!/usr/bin/env bash
# Whole-server benchmark: Debian's apache2 (mpm_event) with this module, with
# mod_auth_openidc and with nothing, pinned to core 0; wrk pinned to core 1.
# Usage: bench/server.sh [BUILD_DIR]   (or: make bench-server)
# Knobs (environment): BENCH_SECONDS, BENCH_ROUNDS, BENCH_FUTEX_SECONDS, BENCH_MEMORY,
# BENCH_OUT, ... - see bench/README.md. Run by hand; never in CI.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=$(cd "${1:-$HERE/..}" && pwd)

if [ ! -f "$BUILD/.libs/mod_validate_jwt.so" ]; then
  echo "server.sh: no $BUILD/.libs/mod_validate_jwt.so; build first (scripts/build.sh)" >&2
  exit 1
fi

# the tools, from apt when missing (Debian 12, as root)
missing=()
for pkg in wrk apache2 libapache2-mod-auth-openidc python3-jwcrypto python3-cryptography \
           strace util-linux; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "server.sh: installing ${missing[*]}" >&2
  if [ "$(id -u)" -ne 0 ]; then
    echo "server.sh: not root; install them first: apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}" >&2
fi
if [ "$(nproc)" -lt 2 ]; then
  echo "server.sh: needs 2 cores (httpd on core 0, wrk on core 1)" >&2
  exit 1
fi

# the Python driver starts and stops every server itself (by PID); this trap stops the
# driver if the shell is interrupted
/usr/bin/python3 "$HERE/server_bench.py" "$BUILD" &
driver=$!
trap 'kill -TERM "$driver" 2>/dev/null || true; wait "$driver" 2>/dev/null || true' INT TERM HUP
trap 'kill -TERM "$driver" 2>/dev/null || true' EXIT
wait "$driver"
rc=$?
trap - EXIT
exit $rc
