#!/usr/bin/env bash
# The demo: installs what is missing, builds mod_validate_jwt, starts Debian's apache2 on
# 127.0.0.1:8080 with the module protecting a small echo API, prints a valid token and
# curl lines that show 200 with it and 401 without it and with a tampered one. Runs until
# Ctrl-C, then stops httpd and removes its files. DEMO_ONCE=1 exits after the checks.
set -euo pipefail
cd "$(dirname "$0")/.."
TOP=$PWD
PORT=${DEMO_PORT:-8080}
scripts/deps.sh
scripts/build.sh >/dev/null

ROOT=$(mktemp -d /tmp/vjwt-demo.XXXXXX)
chmod 755 "$ROOT"
cleanup() {
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
/usr/bin/python3 demo/mint.py keygen "$ROOT"
chmod 644 "$ROOT"/idp-public.pem
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
LoadModule validate_jwt_module $TOP/.libs/mod_validate_jwt.so
ScriptSock "$ROOT/run/cgid.sock"
LogFormat "%h \"%r\" %>s user=%u reason=%{VALIDATE_JWT_ERROR_REASON}e" vjwt
CustomLog "$ROOT/logs/access.log" vjwt
ScriptAlias /echo "$ROOT/cgi-bin/echo"

<Location "/echo">
    AuthType JWT
    ValidateJWTIssuerSigningKey id=demo-key-1 file:idp-public.pem
    ValidateJWTIssuer https://idp.demo.local
    ValidateJWTAudience api://echo
    ValidateJWTRequiredClaim scp match=any "separator= " echo.read
    Require valid-user
</Location>
CONF

/usr/sbin/apache2 -t -f "$ROOT/httpd.conf"
/usr/sbin/apache2 -k start -f "$ROOT/httpd.conf"
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break; sleep 0.1; done

TOKEN=$(/usr/bin/python3 demo/mint.py token "$ROOT")
TAMPERED=$(/usr/bin/python3 - "$TOKEN" <<'PY'
import sys, base64, json
h, p, s = sys.argv[1].split(".")
claims = json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
claims["sub"] = "mallory"
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
echo "A valid RS256 token from the demo identity provider (iss https://idp.demo.local, aud api://echo, 1 hour):"
echo "$TOKEN"
show "200: valid token" -H "Authorization: Bearer $TOKEN" "$URL"
show "401: no token" "$URL"
show "401: tampered token (sub changed, signature kept)" -H "Authorization: Bearer $TAMPERED" "$URL"
echo "### what the module logged (error.log, info level; never the token)"
grep VJWT "$ROOT/logs/error.log" | tail -n 2
echo
echo "Try it yourself:"
echo "  TOKEN='$TOKEN'"
echo "  curl -i -H \"Authorization: Bearer \$TOKEN\" $URL"
echo "  curl -i $URL"
if [ "${DEMO_ONCE:-0}" = 1 ]; then
  exit 0
fi
echo
echo "httpd keeps running; press Ctrl-C to stop it and clean up."
while kill -0 "$(cat "$ROOT/httpd.pid" 2>/dev/null)" 2>/dev/null; do sleep 1; done
