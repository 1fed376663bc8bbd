#!/usr/bin/env bash
# make check: runs the validate-jwt CLI (in sanitizer builds: under ASan + UBSan) on the
# RFC 7515 A.1 example token from the shared test vectors: accepted, a changed signature,
# expired, from stdin, and a usage error; the --key grammar (the directive's: [id=KID] with a
# base64 secret, a file, n= e=) and its errors; --decryption-key (ValidateJWTDecryptionKey's
# grammar) and its errors; encrypted tokens (tests/data/jwe/pipeline.json) decrypted and
# judged; --policy with named values and decryption keys, options that
# override or replace the file's lists, and its errors; claim paths and --require-claim /
# --require-scope; --lint (clean, broken, warnings, certificate-id with and without
# --certificate, --json), --certificate, the steps of the verdict and --json; then (with
# python3-jwcrypto) keys fetched
# from a loopback server by --jwks-uri and --openid-config: accepted, an unknown kid, and a
# key source without keys (KeysUnavailable), the same RSA key as --key 'n=... e=...', a
# policy's openid-config fetched once per run, --offline (nothing fetched) and --fetch-proxy.
# Skips (exit 77) without the vectors.
set -euo pipefail
build=${VJWT_BUILD:-$PWD}
vectors=${VJWT_TESTVECTORS:-$(cd "$(dirname "$0")/../.." && pwd)/shared/testvectors}
vector="$vectors/rfc/rfc7515_A1_hs256.json"
[ -f "$vector" ] || { echo "check-cli: no $vector: skipped"; exit 77; }
cli="$build/tools/validate-jwt"
tmp=$(mktemp -d)
server=
trap '[ -z "$server" ] || kill "$server" 2>/dev/null; rm -rf "$tmp"' EXIT

# The published token and key (RFC 7515 A.1); exp is 1300819380.
/usr/bin/python3 - "$vector" "$tmp" <<'PY'
import base64, json, sys
t = json.load(open(sys.argv[1]))["tests"][0]
assert t["id"] == "rfc7515-A.1", t["id"]
open(sys.argv[2] + "/token", "w").write(t["jws"])
json.dump({"keys": [t["jwk"]]}, open(sys.argv[2] + "/jwks.json", "w"))
k = t["jwk"]["k"]
open(sys.argv[2] + "/secret", "w").write(
    base64.b64encode(base64.urlsafe_b64decode(k + "=" * (-len(k) % 4))).decode())
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
expect 2 "usage: validate-jwt" "two tokens" -- "$cli" --key "$key" "$token" "$token"
expect 2 "invalid option: --kee" "an unknown option" -- "$cli" --kee "$key" "$token"

# claim paths (RFC 6901) and the authorization providers' decisions
expect 0 "authorization: granted" "--require-claim of a namespaced (literal) claim" -- \
  "$cli" --key "$key" --now 1300819000 --require-claim "http://example.com/is_root=true" "$token"
expect 1 "authorization: 403 TokenClaimValueNotAllowed (jwt-claim /iss bob" "--require-claim denied" -- \
  "$cli" --key "$key" --now 1300819000 --require-claim /iss=bob "$token"
expect 1 "jwt-scope read: insufficient_scope" "--require-scope denied" -- \
  "$cli" --key "$key" --now 1300819000 --require-scope read "$token"
expect 0 "verdict: OK" "--claim with a JSON Pointer" -- \
  "$cli" --key "$key" --now 1300819000 --claim /iss=joe "$token"
expect 1 "TokenClaimValueNotAllowed" "--claim with a JSON Pointer, other value" -- \
  "$cli" --key "$key" --now 1300819000 --claim /iss=bob "$token"
expect 2 "JSON Pointer" "--require-claim with a bad pointer" -- \
  "$cli" --key "$key" --now 1300819000 --require-claim "/a~2=x" "$token"
expect 2 "expects NAME=VALUE" "--require-claim without a value" -- \
  "$cli" --key "$key" --now 1300819000 --require-claim iss "$token"

# --key takes the grammar of ValidateJWTIssuerSigningKey as one value
secret=$(cat "$tmp/secret")
expect 0 "verdict: OK" "--key 'id=KID BASE64-SECRET'" -- \
  "$cli" --key "id=k1 $secret" --now 1300819000 "$token"
expect 0 "verdict: OK" "--key 'id=KID file:PATH', options after the token" -- \
  "$cli" "$token" --key "id=k1 file:$tmp/jwks.json" --now 1300819000
expect 0 "verdict: OK" "'-' before the options" -- \
  sh -c 'printf "%s\n" "$1" | "$2" - --key "$3" --now 1300819000' sh "$token" "$cli" "$secret"
expect 2 "an RSA key needs both n= and e=" "--key n= without e=" -- \
  "$cli" --key "id=k1 n=AQAB" "$token"
expect 2 "an RSA key needs both n= and e=" "the old --key n=..,e=.. form" -- \
  "$cli" --key "n=AQAB,e=AQAB" "$token"
expect 2 "id= needs a key id" "--key with an empty id=" -- \
  "$cli" --key "id= $secret" "$token"
expect 2 "expected \[id=KID\] and one key" "--key with two values" -- \
  "$cli" --key "$secret $secret" "$token"
# policy options go through the core's setter: the directive's checks and notes
expect 2 "--min-rsa-bits: must be a number of bits from 1024" "--min-rsa-bits below 1024" -- \
    "$cli" --key "$key" --min-rsa-bits 12 "$token"
expect 2 "--alg: cannot allow unsigned tokens" "--alg none" -- "$cli" --key "$key" --alg none "$token"
expect 0 "VJWT00001: --skew 700" "a large --skew: a warning" -- \
    "$cli" --key "$key" --skew 700 --now 1300819300 "$token"
expect 1 "VJWT00002: .*the HMAC secret has 6 bytes" "a short secret: a warning" -- \
  "$cli" --key "c2VjcmV0" --now 1300819000 "$token"

# --decryption-key: the grammar of ValidateJWTDecryptionKey (a base64 symmetric key of a JWE
# length, a PEM or DER private key file); the keys load and the JWS is judged as before
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/rsa.pem" 2>/dev/null
openssl pkey -in "$tmp/rsa.pem" -pubout -out "$tmp/rsa.pub.pem"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -outform DER \
  -out "$tmp/ec384.der" 2>/dev/null
dkey=MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=   # 32 bytes
expect 0 "verdict: OK" "--decryption-key: base64, id= file:PEM, file:DER" -- \
  "$cli" --key "$secret" --decryption-key "$dkey" --decryption-key "id=r file:$tmp/rsa.pem" \
  --decryption-key "file:$tmp/ec384.der" --now 1300819000 "$token"
expect 0 "VJWT00300: the RSA decryption key has 2048 bits, below the floor of 3072" \
  "--decryption-key: an RSA key below --min-rsa-bits warns" -- \
  "$cli" --key "$secret" --decryption-key "file:$tmp/rsa.pem" --min-rsa-bits 3072 \
  --now 1300819000 "$token"
expect 2 "must be 16, 24, 32, 48 or 64 bytes .*, got 6" "--decryption-key of 6 bytes" -- \
  "$cli" --key "$secret" --decryption-key c2VjcmV0 "$token"
expect 2 "not valid base64" "--decryption-key not base64" -- \
  "$cli" --key "$secret" --decryption-key 'not*base64' "$token"
expect 2 "n/e keys are signing keys only" "--decryption-key n= e=" -- \
  "$cli" --key "$secret" --decryption-key "n=AQAB e=AQAB" "$token"
expect 2 "holds a public key or certificate; a decryption key needs the private key" \
  "--decryption-key with a public key file" -- \
  "$cli" --key "$secret" --decryption-key "file:$tmp/rsa.pub.pem" "$token"
expect 2 "certificate-id= names a ValidateJWTCertificate of the module" \
  "--decryption-key certificate-id=" -- \
  "$cli" --key "$secret" --decryption-key "certificate-id=c" "$token"

# Encrypted tokens (tests/data/jwe/pipeline.json, jwcrypto): a JWE around an RS256 token is
# decrypted and its inner token judged; without the decryption key, or with the inner token
# expired, it is refused with the pipeline's reasons.
/usr/bin/python3 - "$(dirname "$0")/../tests/data/jwe/pipeline.json" "$tmp" <<'PY'
import base64, json, sys
d = json.load(open(sys.argv[1]))
keys = {k["kid"]: k for k in d["keys"]}
json.dump(keys["signer-rs256"], open(sys.argv[2] + "/jwe-signer.json", "w"))
k = keys["dir-256"]["k"]
open(sys.argv[2] + "/jwe-dir", "w").write(
    base64.b64encode(base64.urlsafe_b64decode(k + "=" * (-len(k) % 4))).decode())
for name in ("dir_a256gcm_rs256", "dir_expired"):
    open(sys.argv[2] + "/" + name, "w").write(d["tokens"][name])
PY
jwe_args=(--key "file:$tmp/jwe-signer.json" --aud api://jwe --now 1700000000)
expect 0 "verdict: OK" "a JWE with --decryption-key" -- \
  "$cli" "${jwe_args[@]}" --decryption-key "id=dir-256 $(cat "$tmp/jwe-dir")" \
  "$(cat "$tmp/dir_a256gcm_rs256")"
expect 1 "encrypted token but no decryption keys" "a JWE without --decryption-key" -- \
  "$cli" "${jwe_args[@]}" "$(cat "$tmp/dir_a256gcm_rs256")"
expect 1 "TokenExpired" "a JWE whose inner token expired" -- \
  "$cli" "${jwe_args[@]}" --decryption-key "$(cat "$tmp/jwe-dir")" "$(cat "$tmp/dir_expired")"

# --policy: the file as ValidateJWTPolicy reads it; options act as the directives after
# ValidateJWTPolicy do (a scalar overrides, the first of a list replaces the file's list)
printf '%s\n' '<validate-jwt header-name="Authorization">' \
  '  <issuer-signing-keys><key>{{sig}}</key></issuer-signing-keys>' \
  "  <decryption-keys><key id=\"d\">$dkey</key></decryption-keys>" \
  '  <issuers><issuer>joe</issuer></issuers>' '</validate-jwt>' >"$tmp/pol.xml"
printf '%s\n' '<validate-jwt header-name="Authorization">' \
  '  <issuer-signing-keys><key certificate-id="c"/></issuer-signing-keys>' \
  '  <decryption-keys><key certificate-id="c"/></decryption-keys>' '</validate-jwt>' \
  >"$tmp/polcert.xml"
printf '%s\n' '<validate-jwt header-name="Authorization">' \
  '  <decryption-keys><key n="AQAB" e="AQAB"/></decryption-keys>' '</validate-jwt>' \
  >"$tmp/polne.xml"
other=c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0   # 36 bytes, not the key
expect 0 "verdict: OK" "--policy with --named-value" -- \
  "$cli" --policy "$tmp/pol.xml" --named-value "sig=$secret" --now 1300819000 "$token"
expect 1 "TokenSignatureInvalid" "--policy: the file's key is used" -- \
  "$cli" --policy "$tmp/pol.xml" --named-value "sig=$other" --now 1300819000 "$token"
expect 0 "verdict: OK" "--key (before --policy on the line) replaces the file's keys" -- \
  "$cli" --named-value "sig=$other" --key "$secret" --policy "$tmp/pol.xml" \
  --now 1300819000 "$token"
expect 1 "TokenIssuerNotAllowed" "--iss replaces the file's issuers" -- \
  "$cli" --policy "$tmp/pol.xml" --named-value "sig=$secret" --iss other --now 1300819000 \
  "$token"
expect 1 "TokenExpired" "--policy: lifetime checked" -- \
  "$cli" --policy "$tmp/pol.xml" --named-value "sig=$secret" --now 1300819381 "$token"
expect 0 "verdict: OK" "--policy: certificate-id keys replaced by --key and --decryption-key" -- \
  "$cli" --policy "$tmp/polcert.xml" --key "$secret" --decryption-key "file:$tmp/rsa.pem" \
  --now 1300819000 "$token"
expect 2 'polcert.xml:2: certificate-id="c" names a ValidateJWTCertificate' \
  "--policy with certificate-id" -- "$cli" --policy "$tmp/polcert.xml" "$token"
expect 2 'polcert.xml:3: certificate-id="c" .*<decryption-keys>' \
  "--policy with a decryption certificate-id" -- \
  "$cli" --policy "$tmp/polcert.xml" --key "$secret" "$token"
expect 2 'decryption-keys/key\[1\]: n/e keys are signing keys only' \
  "--policy: an n/e decryption key" -- "$cli" --policy "$tmp/polne.xml" "$token"
expect 2 "the named value {{sig}} is not defined" "--policy without its named value" -- \
  "$cli" --policy "$tmp/pol.xml" "$token"
expect 2 "cannot open" "--policy: a missing file" -- "$cli" --policy "$tmp/none.xml" "$token"
expect 2 "--policy-id and --named-value need --policy" "--policy-id alone" -- \
  "$cli" --key "$secret" --policy-id x "$token"
expect 2 "expects NAME=VALUE" "--named-value without =" -- \
  "$cli" --policy "$tmp/pol.xml" --named-value sig "$token"

# --lint: what configtest says about ValidateJWTPolicy FILE, with file and line; 0 clean, 1 not
printf '%s\n' '<validate-jwt header-name="Authorization">' \
  '  <issuer-signing-keys><key>{{sig}}</key></issuer-signing-keys>' \
  '  <audiences><audience>api://x</audience></audiences>' '</validate-jwt>' >"$tmp/clean.xml"
printf '%s\n' '<validate-jwt header-name="X-Token" require-scheme="Bearer" clock-skew="900">' \
  '  <issuer-signing-keys><key>c2VjcmV0</key></issuer-signing-keys>' \
  '  <openid-config url="http://idp.example/.well-known/openid-configuration"/>' \
  '</validate-jwt>' >"$tmp/warn.xml"
printf '%s\n' '<validate-jwt header-name="Authorization">' \
  '  <required-claims><claim name="x" match="some"/></required-claims>' '</validate-jwt>' \
  >"$tmp/broken.xml"
expect 0 "clean.xml: 0 error(s), 0 warning(s)" "--lint: a clean policy" -- \
  "$cli" --lint "$tmp/clean.xml" --named-value "sig=$secret"
expect 1 "clean.xml:2: error: .*the named value {{sig}} is not defined" \
  "--lint: a named value missing" -- "$cli" --lint "$tmp/clean.xml"
expect 1 "broken.xml:2: error: validate-jwt/required-claims/claim\[1\]/@match: 'some'" \
  "--lint: a broken policy" -- "$cli" --lint "$tmp/broken.xml"
expect 1 "warn.xml:1: warning: VJWT00015: validate-jwt/@clock-skew" "--lint: warnings" -- \
  "$cli" --lint "$tmp/warn.xml"
expect 1 "warn.xml:3: error: VJWT00007: validate-jwt/openid-config: .*plain http" \
  "--lint: an http openid-config" -- "$cli" --lint "$tmp/warn.xml"
expect 1 "warn.xml: 1 error(s), 3 warning(s)" "--lint: every finding counted" -- \
  "$cli" --lint "$tmp/warn.xml"
expect 1 'polcert.xml:2: error: VJWT00006: certificate-id=c names no certificate' \
  "--lint: certificate-id without --certificate" -- "$cli" --lint "$tmp/polcert.xml"
openssl req -x509 -key "$tmp/rsa.pem" -out "$tmp/rsa.crt" -subj /CN=cli -days 2 2>/dev/null
expect 1 'polcert.xml:3: error: VJWT00301: certificate-id=c is a decryption key' \
  "--lint: a decryption certificate-id with a certificate only" -- \
  "$cli" --lint "$tmp/polcert.xml" --certificate "c=$tmp/rsa.crt"
expect 0 "polcert.xml: 0 error(s)" "--lint: certificate-id with --certificate" -- \
  "$cli" --lint "$tmp/polcert.xml" --certificate "c=$tmp/rsa.pem"
expect 2 "usage: validate-jwt" "--lint with a token" -- "$cli" --lint "$tmp/clean.xml" "$token"
expect 2 "give one of them" "--lint and --policy" -- \
  "$cli" --lint "$tmp/clean.xml" --policy "$tmp/clean.xml"
expect 1 "cannot open" "--lint: a missing file" -- "$cli" --lint "$tmp/none.xml"
"$cli" --lint "$tmp/warn.xml" --json >"$tmp/lint.json" || true
if /usr/bin/python3 - "$tmp/lint.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["clean"] is False and d["errors"] == 1 and d["warnings"] == 3, d
f = d["findings"]
assert {x["level"] for x in f} == {"error", "warning"}, f
assert all(isinstance(x["line"], int) and x["line"] > 0 for x in f), f
assert [x["tag"] for x in f].count("VJWT00015") == 3, f
PY
then echo "check-cli: ok   --lint --json"; else echo "check-cli: FAIL --lint --json"; status=1; fi

# --certificate: the policy's certificate-id= keys, as ValidateJWTCertificate gives them
expect 1 "TokenSignatureKeyNotFound" "--policy with --certificate (an RSA key for an HS256 token)" -- \
  "$cli" --policy "$tmp/polcert.xml" --certificate "c=$tmp/rsa.pem" --now 1300819000 "$token"
expect 2 'certificate-id="c" is a decryption key, but --certificate c=.* holds no private key' \
  "--policy: a decryption certificate-id with a certificate only" -- \
  "$cli" --policy "$tmp/polcert.xml" --certificate "c=$tmp/rsa.crt" "$token"
expect 2 "--certificate: expects ID=FILE" "--certificate without =" -- \
  "$cli" --key "$secret" --certificate c "$token"
expect 2 "--certificate c=$tmp/none.pem" "--certificate: a missing file" -- \
  "$cli" --key "$secret" --certificate "c=$tmp/none.pem" "$token"

# the steps of the verdict, and --json
expect 1 "4. registered claims and lifetime  failed" "steps: the failing step" -- \
  "$cli" --key "$key" --aud x --now 1300819381 "$token"
expect 1 "5. audience                        not reached" "steps: after the failing step" -- \
  "$cli" --key "$key" --aud x --now 1300819381 "$token"
expect 0 "3. signature                       ok (alg HS256; 1 static key" "steps: all ok" -- \
  "$cli" --key "$key" --now 1300819000 "$token"
"$cli" --key "$key" --aud x --now 1300819000 --json "$token" >"$tmp/v.json" || true
if /usr/bin/python3 - "$tmp/v.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["valid"] is False and d["verdict"] == "TokenAudienceNotAllowed", d
assert d["header"]["alg"] == "HS256" and d["payload"]["iss"] == "joe", d
assert [s["result"] for s in d["steps"]] == ["ok", "ok", "ok", "ok", "failed", "not reached",
                                             "not reached"], d["steps"]
PY
then echo "check-cli: ok   --json"; else echo "check-cli: FAIL --json: $(cat "$tmp/v.json")"; status=1; fi
expect 2 "--fetch-proxy: expects none, env or an http:// or https:// proxy URL, got 'ftp://p'" "--fetch-proxy: a bad URL" -- \
  "$cli" --key "$key" --fetch-proxy ftp://p "$token"

# Keys from URLs, as the module fetches them: a loopback server (127.0.0.1, a free port,
# stops by itself after 120 s) serves a discovery document and a JWK Set of an RSA key;
# the tokens are minted by jwcrypto.
if ! /usr/bin/python3 -c 'import jwcrypto' 2>/dev/null; then
  echo "check-cli: no python3-jwcrypto: key source checks skipped"
  exit $status
fi
/usr/bin/python3 - "$tmp" <<'PY' &
import http.server, json, os, sys, threading, time
from jwcrypto import jwk, jwt
d = sys.argv[1]
key = jwk.JWK.generate(kty="RSA", size=2048, kid="k1")
other = jwk.JWK.generate(kty="RSA", size=2048, kid="k2")
hits = {}
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        hits[self.path] = hits.get(self.path, 0) + 1
        body = json.dumps(hits) if self.path == "/hits" else docs.get(self.path)
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write((body or "{}").encode())
    def log_message(self, *a):
        pass
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
base = "http://127.0.0.1:%d" % srv.server_address[1]
docs = {
    "/keys": json.dumps({"keys": [json.loads(key.export_public())]}),
    "/.well-known/openid-configuration": json.dumps({"issuer": base, "jwks_uri": base + "/keys"}),
}
def mint(k, kid, **claims):
    t = jwt.JWT(header={"alg": "RS256", "kid": kid},
                claims=dict(iss=base, sub="alice", exp=int(time.time()) + 600, **claims))
    t.make_signed_token(k)
    return t.serialize()
pub = json.loads(key.export_public())
for name, val in (("base", base), ("n", pub["n"]), ("e", pub["e"]),
                  ("tok_k1", mint(key, "k1")), ("tok_k2", mint(other, "k2"))):
    open(os.path.join(d, name + ".tmp"), "w").write(val)
    os.rename(os.path.join(d, name + ".tmp"), os.path.join(d, name))
threading.Timer(120, srv.shutdown).start()
srv.serve_forever()
PY
server=$!
for _ in $(seq 1 200); do [ -f "$tmp/tok_k2" ] && break; sleep 0.1; done
[ -f "$tmp/tok_k2" ] || { echo "check-cli: FAIL the loopback key server did not start"; exit 1; }
base=$(cat "$tmp/base")
expect 0 "verdict: OK" "keys from --jwks-uri" -- \
  "$cli" --jwks-uri "$base/keys" --iss "$base" "$(cat "$tmp/tok_k1")"
expect 0 "verdict: OK" "keys and issuer from --openid-config" -- \
  "$cli" --openid-config "$base/.well-known/openid-configuration" "$(cat "$tmp/tok_k1")"
expect 1 "TokenSignatureKeyNotFound" "a kid in no fetched key" -- \
  "$cli" --openid-config "$base/.well-known/openid-configuration" "$(cat "$tmp/tok_k2")"
expect 1 "KeysUnavailable" "a key source without keys" -- \
  "$cli" --jwks-uri "$base/missing" --iss "$base" "$(cat "$tmp/tok_k1")"
expect 0 "verdict: OK" "--key 'id=KID n=B64URL e=B64URL'" -- \
  "$cli" --key "id=k1 n=$(cat "$tmp/n") e=$(cat "$tmp/e")" "$(cat "$tmp/tok_k1")"

# a policy's openid-config is fetched once for the run (an unknown kid included); --offline
# fetches nothing; --fetch-proxy sends the fetches to the proxy (here: nothing listens)
hits() { # the hit counts without /hits itself
  curl -s --noproxy '*' "$base/hits" |
    /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); d.pop("/hits", None); print(json.dumps(d, sort_keys=True))'
}
printf '%s\n' '<validate-jwt header-name="Authorization">' \
  "  <openid-config url=\"$base/.well-known/openid-configuration\"/>" '</validate-jwt>' \
  >"$tmp/oidc.xml"
before=$(hits)
expect 1 "TokenSignatureKeyNotFound" "--policy with openid-config: an unknown kid" -- \
  "$cli" --policy "$tmp/oidc.xml" "$(cat "$tmp/tok_k2")"
after=$(hits)
if /usr/bin/python3 -c 'import json,sys; a=json.loads(sys.argv[1]); b=json.loads(sys.argv[2]); d={k: b[k]-a.get(k,0) for k in b if b[k] != a.get(k,0)}; assert d == {"/.well-known/openid-configuration": 1, "/keys": 1}, d' "$before" "$after"; then
  echo "check-cli: ok   the policy's openid-config fetched once"
else
  echo "check-cli: FAIL fetches: before $before after $after"; status=1
fi
expect 0 "verdict: OK" "--policy with openid-config: accepted" -- \
  "$cli" --policy "$tmp/oidc.xml" "$(cat "$tmp/tok_k1")"
before=$(hits)
expect 1 "TokenSignatureKeyNotFound" "--offline: static keys only" -- \
  "$cli" --policy "$tmp/oidc.xml" --offline "$(cat "$tmp/tok_k1")"
after=$(hits)
[ "$before" = "$after" ] && echo "check-cli: ok   --offline fetches nothing" ||
  { echo "check-cli: FAIL --offline fetched: $before -> $after"; status=1; }
expect 1 "KeysUnavailable" "--fetch-proxy to a proxy that is down" -- \
  "$cli" --policy "$tmp/oidc.xml" --fetch-proxy "http://u:Pr0xyPw@127.0.0.1:1" "$(cat "$tmp/tok_k1")"
if grep -q Pr0xyPw "$tmp/out"; then echo "check-cli: FAIL proxy password printed"; status=1; fi
exit $status
