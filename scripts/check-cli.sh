#!/usr/bin/env bash
# make check: runs the validate-jwt CLI (in sanitizer builds: under ASan + UBSan) on the
# RFC 7515 A.1 example token from the shared test vectors: accepted, a changed signature,
# expired, from stdin, and a usage error. Skips (exit 77) without the vectors.
set -euo pipefail
build=${VJWT_BUILD:-$PWD}
vectors=${VJWT_TESTVECTORS:-$(cd "$(dirname "$0")/../.." && pwd)/shared/testvectors}
vector="$vectors/rfc/rfc7515_A1_hs256.json"
[ -f "$vector" ] || { echo "check-cli: no $vector: skipped"; exit 77; }
cli="$build/tools/validate-jwt"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The published token and key (RFC 7515 A.1); exp is 1300819380.
/usr/bin/python3 - "$vector" "$tmp" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))["tests"][0]
assert t["id"] == "rfc7515-A.1", t["id"]
open(sys.argv[2] + "/token", "w").write(t["jws"])
json.dump({"keys": [t["jwk"]]}, open(sys.argv[2] + "/jwks.json", "w"))
PY
token=$(cat "$tmp/token")
status=0

expect() { # expect EXIT-CODE TEXT DESCRIPTION -- command...
  local want=$1 text=$2 what=$3 rc=0
  shift 4
  "$@" >"$tmp/out" 2>&1 || rc=$?
  if [ "$rc" -ne "$want" ] || ! grep -q -- "$text" "$tmp/out"; then
    echo "check-cli: FAIL $what: exit $rc (want $want), output:"; cat "$tmp/out"; status=1
  else
    echo "check-cli: ok   $what"
  fi
}

key="file:$tmp/jwks.json"
expect 0 "verdict: OK" "the RFC 7515 A.1 token" -- \
  "$cli" --key "$key" --now 1300819000 "$token"
expect 0 "verdict: OK" "the token from stdin" -- \
  sh -c 'printf "%s\n" "$1" | "$2" --key "$3" --now 1300819000 -' sh "$token" "$cli" "$key"
expect 1 "TokenSignatureInvalid" "a changed signature" -- \
  "$cli" --key "$key" --now 1300819000 "${token%?}A"
expect 1 "TokenExpired" "after exp" -- \
  "$cli" --key "$key" --now 1300819381 "$token"
expect 2 "usage: validate-jwt" "no token" -- "$cli" --key "$key"
exit $status
