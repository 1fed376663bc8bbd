#!/usr/bin/env bash
# The package test (scripts/test.sh runs it only with VJWT_PACKAGE_TEST=1: it changes this
# machine's apache2). Builds the .deb (scripts/package.sh, lintian included), installs it
# with apt, runs a2enmod validate_jwt and apachectl configtest on the system configuration,
# sends protected requests to an httpd of its own (a temp ServerRoot on a free loopback
# port, loading what a2enmod enabled in /etc/apache2/mods-enabled, stopped by PID), then
# purges the package, disables what a2enmod enabled for it, and checks that the system
# configuration still passes apachectl configtest.
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(cat VERSION)
pkg=libapache2-mod-validate-jwt
export DEBIAN_FRONTEND=noninteractive
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo

scripts/package.sh
deb=$(ls "$PWD"/build-deb/${pkg}_"$version"_*.deb)

tmp=$(mktemp -d)
httpd_pid=""
enabled_before=$(ls /etc/apache2/mods-enabled/)
created_policy=""
cleanup() {
  [ -z "$httpd_pid" ] || { kill "$httpd_pid" 2>/dev/null || true; wait "$httpd_pid" 2>/dev/null || true; }
  if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    $SUDO apt-get purge -y -q "$pkg" >/dev/null || true
  fi
  for m in authn_core authz_core authz_user socache_shmcb; do   # what a2enmod may have enabled for it
    if ! grep -qx "$m.load" <<<"$enabled_before" && [ -e /etc/apache2/mods-enabled/$m.load ]; then
      $SUDO a2dismod -q "$m" >/dev/null || true
    fi
  done
  [ -z "$created_policy" ] || $SUDO rm -f /usr/sbin/policy-rc.d
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "package-test: FAIL $*" >&2; exit 1; }

apachectl configtest >/dev/null 2>&1 || fail "the system's apache2 configuration fails configtest before the test"
# the package must not start or restart the system's apache2
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod 755 /usr/sbin/policy-rc.d
  created_policy=1
fi

echo "== package-test: install $deb"
$SUDO apt-get install -y -q "$deb"
[ -f /usr/lib/apache2/modules/mod_validate_jwt.so ] || fail "no module installed"
[ -x /usr/bin/validate-jwt ] || fail "no CLI in /usr/bin"
[ -f /usr/share/man/man1/validate-jwt.1.gz ] || fail "no man page"
[ -f /usr/share/doc/$pkg/README.md.gz ] || fail "no README"
grep -q '^# Depends: .*socache_shmcb' /etc/apache2/mods-available/validate_jwt.load ||
  fail "validate_jwt.load has no '# Depends: ... socache_shmcb'"
[ ! -e /etc/apache2/mods-enabled/validate_jwt.load ] || fail "enabled by the installation"

echo "== package-test: a2enmod validate_jwt, apachectl configtest"
$SUDO a2enmod validate_jwt
[ -e /etc/apache2/mods-enabled/validate_jwt.load ] || fail "a2enmod did not enable it"
[ -e /etc/apache2/mods-enabled/socache_shmcb.load ] || fail "a2enmod did not enable socache_shmcb"
apachectl configtest || fail "apachectl configtest with validate_jwt enabled"

echo "== package-test: protected requests"
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
/usr/bin/python3 - "$tmp" <<'PY'
import base64, os, sys, time
from jwcrypto import jwk, jwt
d = sys.argv[1]
secret = os.urandom(32)
open(os.path.join(d, "secret"), "w").write(base64.b64encode(secret).decode())
key = jwk.JWK(kty="oct", k=base64.urlsafe_b64encode(secret).rstrip(b"=").decode())
def mint(aud):
    t = jwt.JWT(header={"alg": "HS256"},
                claims={"sub": "pkg-test", "aud": aud, "exp": int(time.time()) + 600})
    t.make_signed_token(key)
    return t.serialize()
open(os.path.join(d, "good"), "w").write(mint("api://pkgtest"))
open(os.path.join(d, "bad"), "w").write(mint("api://other"))
PY
mkdir -p "$tmp/htdocs/api" "$tmp/run"
echo "protected" >"$tmp/htdocs/api/index.txt"
cat >"$tmp/httpd.conf" <<CONF
ServerRoot /etc/apache2
Include mods-enabled/*.load
Include mods-enabled/*.conf
ServerName localhost
Listen 127.0.0.1:$port
PidFile $tmp/run/httpd.pid
DefaultRuntimeDir $tmp/run
Mutex file:$tmp/run default
ErrorLog $tmp/error.log
LogLevel warn validate_jwt:info
User \${APACHE_RUN_USER}
Group \${APACHE_RUN_GROUP}
DocumentRoot $tmp/htdocs
<Directory $tmp/htdocs>
    Require all granted
</Directory>
<Location /api>
    AuthType JWT
    Require valid-user
    ValidateJWTIssuerSigningKey $(cat "$tmp/secret")
    ValidateJWTAudience api://pkgtest
</Location>
CONF
chmod -R a+rX "$tmp"
(set +u -a; . /etc/apache2/envvars; set +a; exec /usr/sbin/apache2 -f "$tmp/httpd.conf" -DFOREGROUND) &
httpd_pid=$!
for _ in $(seq 1 100); do
  curl -s -o /dev/null "http://127.0.0.1:$port/" && break
  kill -0 "$httpd_pid" 2>/dev/null || { cat "$tmp/error.log" >&2; fail "httpd did not start"; }
  sleep 0.1
done
code() { curl -s -o "$tmp/body" -w '%{http_code}' "$@"; }
[ "$(code "http://127.0.0.1:$port/api/index.txt")" = 401 ] || fail "no token: not 401"
[ "$(code -H "Authorization: Bearer $(cat "$tmp/bad")" "http://127.0.0.1:$port/api/index.txt")" = 401 ] ||
  fail "wrong audience: not 401"
[ "$(code -H "Authorization: Bearer $(cat "$tmp/good")" "http://127.0.0.1:$port/api/index.txt")" = 200 ] ||
  { cat "$tmp/error.log" >&2; fail "a valid token: not 200"; }
grep -q protected "$tmp/body" || fail "a valid token: not the protected file"
validate-jwt --key "$(cat "$tmp/secret")" --aud api://pkgtest "$(cat "$tmp/good")" >/dev/null ||
  fail "the installed validate-jwt does not accept the token"
kill "$httpd_pid"
wait "$httpd_pid" 2>/dev/null || true
httpd_pid=""
echo "package-test: 401 without a token, 401 for another audience, 200 with a valid one"

echo "== package-test: purge"
$SUDO apt-get purge -y -q "$pkg"
[ ! -e /etc/apache2/mods-enabled/validate_jwt.load ] || fail "still enabled after purge"
[ ! -e /etc/apache2/mods-available/validate_jwt.load ] || fail "validate_jwt.load left after purge"
[ ! -e /usr/lib/apache2/modules/mod_validate_jwt.so ] || fail "module left after purge"
apachectl configtest || fail "apachectl configtest after the purge"
echo "package-test: passed (the system's apache2 configuration passes configtest after the purge)"
