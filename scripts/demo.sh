#!/usr/bin/env bash
# The demo: installs what is missing, builds mod_validate_jwt, starts a real OpenID provider
# (node oidc-provider, tests/idp) on 127.0.0.1:8180 and Debian's apache2 on 127.0.0.1:8080
# with the module protecting a small echo API through the provider's discovery document,
# gets an access token from the provider, and shows 200 with it and 401 without it and with
# a tampered one. Runs until Ctrl-C, then stops both servers and removes their files.
# DEMO_ONCE=1 exits after the checks.
set -euo pipefail
cd "$(dirname "$0")/.."
TOP=$PWD
PORT=${DEMO_PORT:-8080}
IDP_PORT=${DEMO_IDP_PORT:-8180}
IDP="http://127.0.0.1:$IDP_PORT"
AUDIENCE="https://api.mod-validate-jwt.test/"
scripts/deps.sh
scripts/idp-setup.sh
scripts/build.sh >/dev/null

ROOT=$(mktemp -d /tmp/vjwt-demo.XXXXXX)
chmod 755 "$ROOT"
IDP_PID=""
cleanup() {
  if [ -n "$IDP_PID" ]; then
    kill -TERM "$IDP_PID" 2>/dev/null || true
    wait "$IDP_PID" 2>/dev/null || true
  fi
  if [ -f "$ROOT/httpd.pid" ]; then
    kill "$(cat "$ROOT/httpd.pid")" 2>/dev/null || true
    for _ in $(seq 50); do [ -f "$ROOT/httpd.pid" ] || break; sleep 0.1; done
  fi
  rm -rf "$ROOT"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

mkdir -p "$ROOT/logs" "$ROOT/cgi-bin" "$ROOT/run"
install -m 755 demo/echo.py "$ROOT/cgi-bin/echo"

# The identity provider: oidc-provider with fresh RS256/PS256/ES256/EdDSA keys.
node tests/idp/idp.mjs genkeys demo > "$ROOT/idp-keys.json"
IDP_PORT=$IDP_PORT IDP_JWKS_FILE="$ROOT/idp-keys.json" IDP_DEFAULT_RESOURCE="$AUDIENCE" \
  node tests/idp/idp.mjs > "$ROOT/logs/idp.log" 2>&1 &
IDP_PID=$!
for _ in $(seq 100); do grep -q IDP_READY "$ROOT/logs/idp.log" 2>/dev/null && break; sleep 0.1; done
grep -q IDP_READY "$ROOT/logs/idp.log" || { cat "$ROOT/logs/idp.log"; echo "demo: the identity provider did not start" >&2; exit 1; }
MODDIR=$(apxs -q LIBEXECDIR)
RUNUSER=www-data; id -u www-data >/dev/null 2>&1 || RUNUSER=nobody
RUNGROUP=$(id -gn "$RUNUSER")

cat > "$ROOT/httpd.conf" <<CONF
ServerRoot "$ROOT"
ServerName demo.local
Listen 127.0.0.1:$PORT
PidFile "$ROOT/httpd.pid"
DefaultRuntimeDir "$ROOT/run"
ErrorLog "$ROOT/logs/error.log"
LogLevel warn validate_jwt:info
User $RUNUSER
Group $RUNGROUP
LoadModule mpm_event_module $MODDIR/mod_mpm_event.so
LoadModule authz_core_module $MODDIR/mod_authz_core.so
LoadModule authz_user_module $MODDIR/mod_authz_user.so
LoadModule authn_core_module $MODDIR/mod_authn_core.so
LoadModule alias_module $MODDIR/mod_alias.so
LoadModule cgid_module $MODDIR/mod_cgid.so
LoadModule socache_shmcb_module $MODDIR/mod_socache_shmcb.so
LoadModule validate_jwt_module $TOP/.libs/mod_validate_jwt.so
ScriptSock "$ROOT/run/cgid.sock"
LogFormat "%h \"%r\" %>s user=%u reason=%{VALIDATE_JWT_ERROR_REASON}e" vjwt
CustomLog "$ROOT/logs/access.log" vjwt
ScriptAlias /echo "$ROOT/cgi-bin/echo"

<Location "/echo">
    AuthType JWT
    ValidateJWTOpenIDConfig $IDP/.well-known/openid-configuration
    ValidateJWTAudience $AUDIENCE
    ValidateJWTRequiredClaim scope match=any "separator= " read
    Require valid-user
</Location>
CONF

/usr/sbin/apache2 -t -f "$ROOT/httpd.conf"
/usr/sbin/apache2 -k start -f "$ROOT/httpd.conf"
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break; sleep 0.1; done

token() {
  curl -sf -u "client-$1:test-secret" -d grant_type=client_credentials -d scope="read write" \
    "$IDP/token" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}
TOKEN=$(token rs256)
TAMPERED=$(/usr/bin/python3 - "$TOKEN" <<'PY'
import sys, base64, json
h, p, s = sys.argv[1].split(".")
claims = json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
claims["scope"] = "read write admin"
p2 = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
print(".".join([h, p2, s]))
PY
)
URL="http://127.0.0.1:$PORT/echo"

show() {
  local title=$1; shift
  echo
  echo "### $title"
  printf '$ curl -i'; printf " %q" "$@"; echo
  curl -s -i "$@" | tr -d '\r'
  echo
}

echo "mod_validate_jwt demo: httpd on http://127.0.0.1:$PORT protecting /echo"
echo
echo "Identity provider (node oidc-provider): $IDP/.well-known/openid-configuration"
echo "An RS256 access token from it (client_credentials, aud $AUDIENCE, 5 minutes):"
echo "$TOKEN"
show "200: valid token" -H "Authorization: Bearer $TOKEN" "$URL"
show "401: no token" "$URL"
echo
for alg in ps256 es256 eddsa; do
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $(token $alg)" "$URL")
  echo "### $code: ${alg^^} token from the same provider"
done
show "401: tampered token (scope changed, signature kept)" -H "Authorization: Bearer $TAMPERED" "$URL"
echo "### what the module logged (error.log, info level; never the token)"
grep -E "VJWT00(200|100)" "$ROOT/logs/error.log" | tail -n 3
echo
echo "Try it yourself:"
echo "  TOKEN=\$(curl -s -u client-ps256:test-secret -d grant_type=client_credentials -d scope=read $IDP/token | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"access_token\"])')"
echo "  curl -i -H \"Authorization: Bearer \$TOKEN\" $URL"
echo "  curl -i $URL"
if [ "${DEMO_ONCE:-0}" = 1 ]; then
  exit 0
fi
echo
echo "httpd and the identity provider keep running; press Ctrl-C to stop them and clean up."
while kill -0 "$(cat "$ROOT/httpd.pid" 2>/dev/null)" 2>/dev/null; do sleep 1; done
