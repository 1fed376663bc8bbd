#!/usr/bin/env bash
# Signature verification per algorithm (bench/bench_verify): the timing table, then futex
# calls per verification, each case counted in its own run under strace -f.
# Usage: bench/verify.sh [BUILD]; BENCH_SECONDS (default 2) per case.
set -euo pipefail
BUILD=${1:-$(cd "$(dirname "$0")/.." && pwd)}
SECS=${BENCH_SECONDS:-2}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
/usr/bin/python3 "$(dirname "$0")/mint_verify.py" "$WORK/keys.json"
"$BUILD/bench/bench_verify" "$WORK/keys.json" "$SECS"
echo
printf '%-6s %-8s %7s %12s %8s %14s\n' alg sig threads verifies futex futex/verify
for alg in HS256 RS256 PS256 ES256 EdDSA; do
  for sig in valid invalid; do
    for t in 1 2; do
      strace -f -c -e trace=futex -o "$WORK/st" \
        "$BUILD/bench/bench_verify" "$WORK/keys.json" 1 "$alg" "$sig" "$t" >"$WORK/out"
      n=$(awk 'NR==2 {print $4}' "$WORK/out")
      f=$(awk '$NF=="futex" {print $4}' "$WORK/st")
      f=${f:-0}
      printf '%-6s %-8s %7s %12s %8s %14.4f\n' "$alg" "$sig" "$t" "$n" "$f" "$(echo "$f / $n" | bc -l)"
    done
  done
done
