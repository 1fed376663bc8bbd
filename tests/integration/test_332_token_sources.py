"""ValidateJWTCookieName (a fourth token source) and ValidateJWTForwardToken Off (README.md
"Where the token is").

- The token may come from a cookie; one source per scope, like the other three.
- Several cookies of that name (in one Cookie line or in two) refuse the token (JwtInvalid):
  a sibling subdomain could plant one.
- ForwardToken Off removes the token before the backend sees the request: the Authorization
  header (or the configured header), the query parameter (the rest of the query kept, as a
  proxied backend and a CGI see it), or the cookie (the other cookies kept).
"""

import json

import pytest

from vjwt_backend import echo_backend
from vjwt_env import assert_fail, assert_pass, load_modules
from vjwt_tokens import b64std, hmac_jwk, mint


@pytest.fixture(scope="module")
def backend():
    with echo_backend(with_path=True) as port:
        yield port


SCOPES = {
    "cookie": ["ValidateJWTCookieName jwt"],
    "cookie-off": ["ValidateJWTCookieName jwt", "ValidateJWTForwardToken Off"],
    "auth-on": [],
    "auth-off": ["ValidateJWTForwardToken Off"],
    "hdr-off": ["ValidateJWTHeaderName X-Token", "ValidateJWTForwardToken Off"],
    "query-on": ["ValidateJWTQueryParameterName access_token"],
    "query-off": ["ValidateJWTQueryParameterName access_token", "ValidateJWTForwardToken Off"],
}


def _locs(prefix, key, proxy):
    out = []
    skip = ["AuthType JWT", key, "ValidateJWTQueryParameterName access_token",
            "ValidateJWTForwardToken Off", "<RequireAny>", "  Require method GET",
            "  Require valid-user", "</RequireAny>"]
    if proxy:
        skip.append('ProxyPass "http://127.0.0.1:%d/skipped"' % proxy)
    out.append('<Location "%sskipped">\n%s\n</Location>' % (
        prefix, "\n".join("    " + l for l in skip)))
    for name, lines in SCOPES.items():
        body = ["AuthType JWT", "Require valid-user", key] + lines
        if proxy:
            body.append('ProxyPass "http://127.0.0.1:%d/%s"' % (proxy, name))
        out.append('<Location "%s%s">\n%s\n</Location>' % (
            prefix, name, "\n".join("    " + l for l in body)))
    return "\n".join(out)


@pytest.fixture(scope="module")
def srv(httpd, keys, backend):
    key = "ValidateJWTIssuerSigningKey %s" % b64std(keys.hs64)
    server_conf = load_modules("proxy", "proxy_http")
    locs = _locs("/p/", key, None) + "\n" + _locs("/x/", key, backend)
    return httpd.start("token-sources", locs, server_conf=server_conf)


@pytest.fixture
def tok(keys):
    return mint(hmac_jwk(keys.hs64), "HS256", sub="alice")


def _proxied(resp):
    assert resp.status == 200 and resp.header("X-Backend") == "proxy-echo", resp
    d = resp.json
    return d["path"], dict((k.lower(), v) for k, v in d["headers"])


# --- cookie ---------------------------------------------------------------------------
def test_cookie_source(srv, tok):
    r = assert_pass(srv.get("/p/cookie/", headers={"Cookie": "a=1; jwt=%s; b=2" % tok}))
    assert r.env["REMOTE_USER"] == "alice"
    assert tok in r.env["HTTP_COOKIE"]  # forwarded by default
    assert_pass(srv.get("/p/cookie/", headers={"Cookie": 'jwt="%s"' % tok}))


def test_cookie_absent(srv, tok):
    assert_fail(srv.get("/p/cookie/"), "TokenNotPresent")
    assert_fail(srv.get("/p/cookie/", tok), "TokenNotPresent")  # Authorization is not read
    assert_fail(srv.get("/p/cookie/", headers={"Cookie": "JWT=%s" % tok}), "TokenNotPresent")
    assert_fail(srv.get("/p/cookie/", headers={"Cookie": "jwt="}), "TokenNotPresent")


@pytest.mark.parametrize("cookies", [
    [("Cookie", "jwt=%(t)s; jwt=%(t)s")],
    [("Cookie", "jwt=%(t)s; other=1; jwt=x")],
    [("Cookie", "jwt=%(t)s"), ("Cookie", "jwt=%(t)s")],
    [("Cookie", "a=1; jwt=x"), ("Cookie", "jwt=%(t)s")],
])
def test_cookie_duplicates_refused(srv, tok, cookies):
    hdrs = [(k, v % {"t": tok}) for k, v in cookies]
    r = assert_fail(srv.get("/p/cookie/", headers=hdrs), "JwtInvalid")
    assert "More than one cookie" in (r.header("X-VJWT-Message") or ""), r.header(
        "X-VJWT-Message")


def test_cookie_removed(srv, tok):
    r = assert_pass(srv.get("/p/cookie-off/", headers={"Cookie": "a=1; jwt=%s; b=2" % tok}))
    assert r.env.get("HTTP_COOKIE") == "a=1; b=2", r.env.get("HTTP_COOKIE")
    r = assert_pass(srv.get("/p/cookie-off/", headers={"Cookie": "jwt=%s" % tok}))
    assert "HTTP_COOKIE" not in r.env, r.env.get("HTTP_COOKIE")


def test_cookie_removed_proxied(srv, tok):
    _, h = _proxied(srv.get("/x/cookie-off/", headers=[("Cookie", "a=1; jwt=%s" % tok),
                                                       ("Cookie", "b=2")]))
    assert tok not in json.dumps(h), h
    assert "a=1" in h.get("cookie", "") and "b=2" in h.get("cookie", ""), h


# --- forward token --------------------------------------------------------------------
def test_authorization_forwarded_by_default(srv, tok):
    r = assert_pass(srv.get("/p/auth-on/", tok))
    assert r.env.get("HTTP_AUTHORIZATION") == "Bearer " + tok
    _, h = _proxied(srv.get("/x/auth-on/", tok))
    assert h.get("authorization") == "Bearer " + tok


def test_authorization_removed(srv, tok):
    r = assert_pass(srv.get("/p/auth-off/", tok))
    assert "HTTP_AUTHORIZATION" not in r.env
    _, h = _proxied(srv.get("/x/auth-off/", tok))
    assert "authorization" not in h, h


def test_header_removed(srv, tok):
    r = assert_pass(srv.get("/p/hdr-off/", headers={"X-Token": tok, "X-Other": "k"}))
    assert "HTTP_X_TOKEN" not in r.env and r.env.get("HTTP_X_OTHER") == "k"
    _, h = _proxied(srv.get("/x/hdr-off/", headers={"X-Token": tok}))
    assert "x-token" not in h, h


def test_query_forwarded_by_default(srv, tok):
    path, _ = _proxied(srv.get("/x/query-on/", raw_query="a=1&access_token=%s&b=2" % tok))
    assert path == "/query-on/?a=1&access_token=%s&b=2" % tok, path


@pytest.mark.parametrize("query,rest", [
    ("a=1&access_token=%(t)s&b=%%20x", "a=1&b=%20x"),
    ("access_token=%(t)s", None),
    ("access_token=%(t)s&z", "z"),
    ("x=access_token&access_token=%(t)s", "x=access_token"),
])
def test_query_removed(srv, tok, query, rest):
    q = query % {"t": tok}
    r = assert_pass(srv.get("/p/query-off/", raw_query=q))
    assert r.env.get("QUERY_STRING", "") == (rest or ""), r.env.get("QUERY_STRING")
    assert tok not in r.env.get("REQUEST_URI", ""), r.env.get("REQUEST_URI")
    path, _ = _proxied(srv.get("/x/query-off/", raw_query=q))
    assert path == "/query-off/" + ("?" + rest if rest else ""), path


def test_one_source_per_scope(httpd):
    rc, out, conf, _ = httpd.configtest(locations=(
        '<Location "/p/two">\n    ValidateJWTQueryParameterName t\n'
        '    ValidateJWTCookieName jwt\n</Location>'))
    assert rc != 0, out
    assert "ValidateJWTCookieName" in out and "already takes the token" in out, out
    rc, out, conf, _ = httpd.configtest(locations=(
        '<Location "/p/two">\n    ValidateJWTCookieName jwt\n'
        '    ValidateJWTHeaderName X-T\n</Location>'))
    assert rc != 0 and "a cookie (ValidateJWTCookieName)" in out, out


def test_removed_where_authentication_is_skipped(srv, tok):
    """Require method GET in a RequireAny: httpd never authenticates a GET, the token is
    not even validated, and still does not reach the backend."""
    r = srv.get("/p/skipped/", raw_query="a=1&access_token=not-even-a-jwt")
    assert r.status == 200 and r.env.get("QUERY_STRING") == "a=1", r
    path, _ = _proxied(srv.get("/x/skipped/", raw_query="access_token=%s&b=2" % tok))
    assert path == "/skipped/?b=2", path
