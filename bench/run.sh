#!/usr/bin/env bash
# Micro-benchmark of the core pipeline (parse + verify + claims) per algorithm, through
# tools/validate-jwt --repeat. Tokens and keys come from jwcrypto. Usage: bench/run.sh [BUILD]
# Prints microseconds per validation and peak RSS of the process.
set -euo pipefail
BUILD=${1:-$(cd "$(dirname "$0")/.." && pwd)}
N=${BENCH_N:-20000}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
/usr/bin/python3 "$(dirname "$0")/mint.py" "$WORK"
printf '%-8s %10s %12s %10s\n' alg n us/validation maxrss_kB
for alg in HS256 RS256 PS256 ES256 ES384 EdDSA; do
  token=$(cat "$WORK/$alg.jwt")
  key=$(cat "$WORK/$alg.key")
  start=$(date +%s.%N)
  /usr/bin/time -f '%M' -o "$WORK/rss" "$BUILD/tools/validate-jwt" --key "$key" --repeat "$N" "$token" >/dev/null
  end=$(date +%s.%N)
  us=$(echo "($end - $start) * 1000000 / $N" | bc -l)
  printf '%-8s %10d %12.1f %10s\n' "$alg" "$N" "$us" "$(cat "$WORK/rss")"
done
# The request path in the core (vjwt_validate_request): afresh and through the token cache.
if [ -x "$BUILD/bench/bench_request" ]; then
  "$BUILD/bench/bench_request" "$WORK" "${BENCH_REQUEST_N:-2000}"
fi
