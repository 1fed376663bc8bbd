"""ValidateJWTClaimHeader CLAIM HEADER and ValidateJWTPassClaimsAs ... payload (README.md
"Claims" and "Success").

- After success HEADER carries the claim (a name or an RFC 6901 path): strings as they are,
  numbers and booleans as JSON text, arrays joined with ',' (an element holding ',' JSON-
  encoded), objects as compact JSON.
- A client-sent HEADER (and X-JWT-Payload) never reaches the backend of such a scope: not
  on success, not on failure, not where authentication is skipped; CGI and proxied backends.
- payload: VALIDATE_JWT_PAYLOAD = the payload JSON, X-JWT-Payload = its base64url.
"""

import base64
import json

import pytest

from vjwt_backend import echo_backend
from vjwt_env import assert_fail, assert_pass, load_modules
from vjwt_tokens import b64std, b64u, hmac_jwk, mint


@pytest.fixture(scope="module")
def backend():
    with echo_backend() as port:
        yield port


HEADERS = ["ValidateJWTClaimHeader /realm_access/roles X-Roles",
           "ValidateJWTClaimHeader sub X-User",
           "ValidateJWTClaimHeader n X-Num",
           "ValidateJWTClaimHeader flag X-Flag",
           "ValidateJWTClaimHeader obj X-Obj",
           "ValidateJWTClaimHeader mixed X-Mixed",
           "ValidateJWTClaimHeader https://example.com/tenant X-Tenant"]
SPOOF = [("X-Roles", "admin"), ("x-user", "evil"), ("X-JWT-Payload", "e30"),
         ("X-Tenant", "t0")]


def _scopes(prefix, key, tail):
    return "\n".join([
        '<Location "%shdr">' % prefix,
        "    AuthType JWT", "    " + key, *["    " + h for h in HEADERS], tail("hdr"),
        "    ValidateJWTPassClaimsAs none",
        "    Require valid-user",
        "</Location>",
        '<Location "%spayload">' % prefix,
        "    AuthType JWT", "    " + key, "    ValidateJWTPassClaimsAs environment payload",
        tail("payload"),
        "    Require valid-user",
        "</Location>",
        '<Location "%sanyget">' % prefix,
        "    AuthType JWT", "    " + key, *["    " + h for h in HEADERS], tail("anyget"),
        "    ValidateJWTPassClaimsAs payload",
        "    <RequireAny>", "        Require method GET", "        Require valid-user",
        "    </RequireAny>",
        "</Location>",
        '<Location "%sopen">' % prefix,
        "    " + key, *["    " + h for h in HEADERS], tail("open"),
        "    Require all granted",
        "</Location>",
    ])


@pytest.fixture(scope="module")
def srv(httpd, keys, backend):
    key = "ValidateJWTIssuerSigningKey %s" % b64std(keys.hs64)
    server_conf = load_modules("proxy", "proxy_http")
    locs = _scopes("/p/", key, lambda name: "") + "\n" + _scopes(
        "/x/", key, lambda name: '    ProxyPass "http://127.0.0.1:%d/%s"' % (backend, name))
    return httpd.start("claim-headers", locs, server_conf=server_conf)


@pytest.fixture
def hkey(keys):
    return hmac_jwk(keys.hs64)


CLAIMS = {"sub": "alice", "realm_access": {"roles": ["admin", "a,b"]}, "n": 3.5,
          "flag": False, "obj": {"k": [1, "x"]}, "mixed": ["s", 2, True, {"o": 1}],
          "https://example.com/tenant": "t1"}
EXPECT = {"x-roles": 'admin,"a,b"', "x-user": "alice", "x-num": "3.5", "x-flag": "false",
          "x-obj": '{"k":[1,"x"]}', "x-mixed": 's,2,true,{"o":1}', "x-tenant": "t1"}


def _proxied(resp):
    assert resp.status == 200 and resp.header("X-Backend") == "proxy-echo", resp
    return dict((k.lower(), v) for k, v in resp.json)


def _cgi(resp):
    env = resp.env
    return dict((k[5:].lower().replace("_", "-"), v) for k, v in env.items()
                if k.startswith("HTTP_"))


@pytest.mark.parametrize("prefix,view", [("/p/", _cgi), ("/x/", _proxied)])
def test_claim_headers_values(srv, hkey, prefix, view):
    r = srv.get(prefix + "hdr/", mint(hkey, "HS256", **CLAIMS), headers=SPOOF)
    if prefix == "/p/":
        assert_pass(r)
    got = view(r)
    for k, v in EXPECT.items():
        assert got.get(k) == v, (k, got.get(k), v)
    assert "x-jwt-payload" not in got, got


@pytest.mark.parametrize("prefix,view", [("/p/", _cgi), ("/x/", _proxied)])
def test_claim_headers_missing_claims_unset(srv, hkey, prefix, view):
    """Claims the token lacks: their headers are absent, and the client's copies gone."""
    got = view(srv.get(prefix + "hdr/", mint(hkey, "HS256", sub="bob"), headers=SPOOF))
    assert got.get("x-user") == "bob"
    for h in ("x-roles", "x-tenant", "x-num", "x-jwt-payload"):
        assert h not in got, (h, got)


@pytest.mark.parametrize("prefix,view", [("/p/", _cgi), ("/x/", _proxied)])
@pytest.mark.parametrize("path", ["anyget/", "open/"])
def test_spoofed_claim_headers_stripped_when_skipped(srv, prefix, view, path):
    """Authentication skipped (Require method GET in RequireAny; Require all granted): the
    client's copies of the configured headers and X-JWT-Payload never reach the backend."""
    got = view(srv.get(prefix + path, headers=SPOOF))
    for h, _ in SPOOF:
        assert h.lower() not in got, (h, got)


def test_spoofed_headers_on_failure(srv, hkey):
    """On failure the backend is not reached at all; and the failure response is the usual."""
    assert_fail(srv.get("/p/hdr/", "x.y.z", headers=SPOOF), "JwtInvalid")


def test_payload_export(srv, hkey):
    tok = mint(hkey, "HS256", sub="alice", nested={"a": [1, 2]})
    env = assert_pass(srv.get("/p/payload/", tok, headers=SPOOF)).env
    seg = tok.split(".")[1]
    raw = base64.urlsafe_b64decode(seg + "=" * (-len(seg) % 4)).decode()
    assert env.get("VALIDATE_JWT_PAYLOAD") == raw, env.get("VALIDATE_JWT_PAYLOAD")
    assert json.loads(env["VALIDATE_JWT_PAYLOAD"])["nested"] == {"a": [1, 2]}
    assert env.get("HTTP_X_JWT_PAYLOAD") == seg == b64u(raw.encode()), env.get(
        "HTTP_X_JWT_PAYLOAD")
    assert env.get("VALIDATE_JWT_CLAIM_sub") == "alice"  # environment kept


def test_payload_proxied(srv, hkey):
    tok = mint(hkey, "HS256", sub="alice")
    got = _proxied(srv.get("/x/payload/", tok, headers=SPOOF))
    assert got.get("x-jwt-payload") == tok.split(".")[1], got


def test_payload_only(srv, hkey):
    """ValidateJWTPassClaimsAs payload alone: no VALIDATE_JWT_CLAIM_*."""
    env = srv.get("/p/anyget/", mint(hkey, "HS256", sub="z"), method="POST").env
    assert "VALIDATE_JWT_PAYLOAD" in env and "HTTP_X_JWT_PAYLOAD" in env, env
    assert not [k for k in env if k.startswith("VALIDATE_JWT_CLAIM_")], env
