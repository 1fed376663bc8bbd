#!/usr/bin/env bash
# Installs what is missing, builds from scratch and runs every test: the cmocka unit and
# vector tests (make check) and the pytest integration tests against a real httpd.
# Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/idp-setup.sh
FRESH=1 scripts/build.sh

status=0
echo "== unit tests (make check) =="
if ! make -j"$(nproc)" check; then
  status=1
  for f in tests/unit/*.log; do
    [ -f "$f" ] && { echo "---- $f"; tail -n 60 "$f"; }
  done
fi

echo "== integration tests (pytest, real httpd) =="
if ! make integration; then
  status=1
fi

if [ "$status" -ne 0 ]; then
  echo "test.sh: FAILED" >&2
else
  echo "test.sh: all tests passed"
fi
exit "$status"
