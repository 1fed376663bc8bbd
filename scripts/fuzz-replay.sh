#!/usr/bin/env bash
# make check: replays the seed corpus of every fuzz target (built without libFuzzer).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${VJWT_BUILD:-$PWD}
status=0
for t in token jwks policy_xml discovery cache_record claims jwe; do
  "$build/tests/fuzz/fuzz_${t}_replay" "$top/tests/fuzz/corpus/$t" || status=1
done
exit $status
