#!/usr/bin/env bash
# Installs what is missing, builds from scratch and runs every test: the cmocka unit and
# vector tests, fuzz replays and checks (make check), built with ASan + UBSan out of tree
# from the release tarball (make distcheck), and the pytest integration tests against a
# real httpd with the module built in tree; with VJWT_PACKAGE_TEST=1 also the Debian
# package test (scripts/package-test.sh: it installs and purges the package on this machine).
# Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/idp-setup.sh
FRESH=1 scripts/build.sh

status=0
# The core, the CLI, the unit tests and the fuzz replays with -fsanitize=address,undefined
# (the module is not: httpd loads it without the sanitizer runtime). distcheck builds the
# tarball, configures it in mod_validate_jwt-*/_build/sub with a read-only source tree
# and runs make check there. Any sanitizer finding, leaks included, fails the run.
echo "== unit tests: make distcheck with --enable-sanitizers (ASan + UBSan, out of tree) =="
if ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  make -j"$(nproc)" distcheck DISTCHECK_CONFIGURE_FLAGS="--enable-werror --enable-sanitizers"; then
  rm -f mod_validate_jwt-*.tar.gz
else
  status=1
  for f in mod_validate_jwt-*/_build/sub/tests/unit/*.log mod_validate_jwt-*/_build/sub/scripts/*.log; do
    [ -f "$f" ] && { echo "---- $f"; tail -n 60 "$f"; }
  done
fi

echo "== integration tests (pytest, real httpd) =="
if ! make integration; then
  status=1
fi

# The package test changes this machine's apache2 (installs, enables, purges the package):
# only when asked for.
if [ "${VJWT_PACKAGE_TEST:-0}" = 1 ]; then
  echo "== package test (VJWT_PACKAGE_TEST=1): build, install, a2enmod, configtest, request, purge =="
  if ! scripts/package-test.sh; then
    status=1
  fi
fi

if [ "$status" -ne 0 ]; then
  echo "test.sh: FAILED" >&2
else
  echo "test.sh: all tests passed"
fi
exit "$status"
