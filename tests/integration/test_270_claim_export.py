"""Claims handed to the backend, and what the client can't hand to it.

- Client X-JWT-Claim-* headers (any case, '-' or '_') never reach a CGI or proxied backend
  of a scope where the module is configured, even when httpd skips authentication there.
- Claims whose names differ only in case (or '-'/'_') are not exported at all.
- Large array claims cost linear time and memory; arrays above 1000 elements aren't exported.
- Client-controlled values can't forge fields of the module's log lines.
"""

import os
import re
import time

import pytest

from vjwt_backend import echo_backend
from vjwt_env import assert_fail, assert_pass, load_modules
from vjwt_tokens import b64std, hmac_jwk, mint

SPOOF = [("X-JWT-Claim-sub", "evil"), ("X_JWT_Claim_sub", "evil2"),
         ("X-JWT-Claim_roles", "admin"), ("x-jwt-claim-EXTRA", "x")]


@pytest.fixture(scope="module")
def backend():
    with echo_backend() as port:
        yield port


def _scopes(prefix, key, tail):
    """The three configurations where httpd skips authentication for some requests."""
    return "\n".join([
        '<Location "%sanyget">' % prefix,
        "    AuthType JWT", "    " + key, tail("anyget"),
        "    <RequireAny>", "        Require method GET", "        Require valid-user",
        "    </RequireAny>",
        "</Location>",
        '<Location "%sip">' % prefix,
        "    AuthType JWT", "    " + key, tail("ip"),
        "    <RequireAny>", "        Require ip 127.0.0.1", "        Require valid-user",
        "    </RequireAny>",
        "</Location>",
        '<Location "%sprot">' % prefix,
        "    AuthType JWT", "    " + key, "    ValidateJWTPassClaimsAs headers", tail("prot"),
        "    Require valid-user",
        "</Location>",
        '<Location "%sprot/open">' % prefix,
        "    Require all granted",
        "</Location>",
        '<Location "%sauth">' % prefix,
        "    AuthType JWT", "    " + key, "    ValidateJWTPassClaimsAs both",
        "    ValidateJWTRequiredClaim roles Reader", "    ValidateJWTOutputTokenVariableName jwt",
        "    ValidateJWTMaxTokenLength 1048576",
        tail("auth"),
        "    Require valid-user",
        "</Location>",
    ])


@pytest.fixture(scope="module")
def srv(httpd, keys, backend):
    key = "ValidateJWTIssuerSigningKey %s" % b64std(keys.hs64)
    server_conf = load_modules("proxy", "proxy_http", "authz_host")
    # /p/... is the CGI echo backend (vjwt_env); /x/... is proxied to the echo server
    locs = _scopes("/p/", key, lambda name: "") + "\n" + _scopes(
        "/x/", key, lambda name: '    ProxyPass "http://127.0.0.1:%d/%s"' % (backend, name))
    return httpd.start("claim-export", locs, server_conf=server_conf)


@pytest.fixture
def hkey(keys):
    return hmac_jwk(keys.hs64)


def _proxied_headers(resp):
    assert resp.status == 200, resp
    assert resp.header("X-Backend") == "proxy-echo", resp
    return [(k, v) for k, v in resp.json]


def _claimish(name):
    return re.match(r"(?i)x[-_]jwt[-_]claim[-_]", name) is not None


PATHS = ["anyget/", "ip/", "prot/open/"]


@pytest.mark.parametrize("path", PATHS)
def test_spoofed_headers_stripped_proxy(srv, path):
    """Authentication skipped (Require method GET | ip | all granted sub-location): no
    client claim header, in any spelling, reaches the proxied backend."""
    got = _proxied_headers(srv.get("/x/" + path, headers=SPOOF))
    assert not [h for h in got if _claimish(h[0])], got


@pytest.mark.parametrize("path", PATHS)
def test_spoofed_headers_stripped_cgi(srv, path):
    """Same for a CGI backend: no HTTP_X_JWT_CLAIM_* in its environment."""
    r = srv.get("/p/" + path, headers=SPOOF)
    assert r.status == 200, r
    env = r.env
    assert not [k for k in env if k.startswith("HTTP_X_JWT_CLAIM")], env


def test_authenticated_headers_are_ours(srv, hkey):
    """With a token the backend sees the token's claims, never the client's."""
    tok = mint(hkey, "HS256", sub="alice", roles=["Reader", "x"])
    got = dict((k.lower(), v) for k, v in _proxied_headers(
        srv.get("/x/auth/", tok, headers=SPOOF)))
    assert got.get("x-jwt-claim-sub") == "alice", got
    assert got.get("x-jwt-claim-roles") == "Reader,x", got
    assert "x-jwt-claim-extra" not in got and "x_jwt_claim_sub" not in got, got
    assert "x-jwt-claim_roles" not in got, got


def test_case_colliding_claims_not_exported(srv, hkey):
    """{"roles":"Reader","ROLES":"Admin"}: the check passes on roles, but neither value is
    exported (env, headers, <output-var>_CLAIM_*), and the request log says why."""
    tok = mint(hkey, "HS256", sub="u", roles="Reader", ROLES="Admin")
    r = assert_pass(srv.get("/p/auth/", tok))
    env = r.env
    lower = {k.lower(): v for k, v in env.items()}
    for k in ("validate_jwt_claim_roles", "jwt_claim_roles", "http_x_jwt_claim_roles"):
        assert k not in lower, env
    assert "Admin" not in env.values(), env
    assert env.get("VALIDATE_JWT_CLAIM_sub") == "u", env
    assert [l for l in r.errlog if "VJWT00110" in l and '"roles"' in l and '"ROLES"' in l], \
        r.errlog
    # proxied: no header either
    got = _proxied_headers(srv.get("/x/auth/", tok))
    assert not [h for h in got if h[0].lower() == "x-jwt-claim-roles"], got


def _child_rss_kb(srv):
    """Resident set of the server's children (by the PID we started), in kB."""
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/status" % pid) as fh:
                st = fh.read()
        except OSError:
            continue
        if re.search(r"^PPid:\s*%d$" % srv.proc.pid, st, re.M) and "apache2" in st.split("\n")[0]:
            total += int(re.search(r"^VmRSS:\s*(\d+)", st, re.M).group(1))
    return total


def test_large_array_claim_not_exported(srv, hkey):
    """A 5,000-element claim: over the 1000-element cap, not exported, logged at info; the
    children's memory barely grows over repeated requests."""
    tok = mint(hkey, "HS256", sub="u", roles="Reader", big=list(range(5000)))
    r = assert_pass(srv.get("/p/auth/", tok))
    assert "VALIDATE_JWT_CLAIM_big" not in r.env, sorted(r.env)
    assert [l for l in r.errlog if "VJWT00111" in l and '"big"' in l], r.errlog
    before = _child_rss_kb(srv)
    assert before > 0
    t0 = time.monotonic()
    for _ in range(30):
        assert srv.get("/x/auth/", tok).status == 200
    elapsed = time.monotonic() - t0
    grown = _child_rss_kb(srv) - before
    assert grown < 8 * 1024, "children grew by %d kB" % grown
    assert elapsed < 30, elapsed


def test_log_fields_cannot_be_forged(srv, hkey):
    """A kid (and alg/typ/claims) with '"' can't add fields to the VJWT00100 log line: the
    line has exactly one reason= field outside quoted values, and the quote is escaped."""
    kid = 'k" status=200 reason=OK'
    tok = mint(hkey, "HS256", kid=kid, typ='x" reason=OK', exp=1000, nbf=900, iat=900, sub='s" reason=OK')
    r = assert_fail(srv.get("/p/auth/", tok), "TokenExpired")
    lines = [l for l in r.errlog if "VJWT00100" in l]
    assert len(lines) == 1, r.errlog
    line = lines[0]
    # '"' is written \x22 (httpd's error log then doubles the backslash)
    assert re.search(r'kid="k\\+x22 status=200 reason=OK"', line), line
    unquoted = re.sub(r'"(?:[^"\\]|\\.)*"', '""', line)
    assert len(re.findall(r"\breason=", unquoted)) == 1, line
    assert len(re.findall(r"\bstatus=", unquoted)) == 1, line
