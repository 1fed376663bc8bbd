"""Require jwt-claim and Require jwt-scope (README.md "Authorization"): httpd authorization
on the token this module authenticated, parsed once at configuration time.

- jwt-claim NAME VALUE...: the claim (a literal name or an RFC 6901 JSON Pointer), or an
  element of an array claim, equals one of the values; numbers and booleans as in
  ValidateJWTRequiredClaim.
- jwt-scope SCOPE...: every scope is in "scope" (space-separated) or "scp" (string/array).
- A denial is 403 with the module's JSON body, WWW-Authenticate insufficient_scope for a
  scope, VALIDATE_JWT_ERROR_REASON=TokenClaimValueNotAllowed and a VJWT00320 line; an
  ErrorDocument 403 wins; <RequireAll>/<RequireAny>/Require not combine as usual.
"""

import pytest

from vjwt_authz import DENIED_LOG, INSUFFICIENT_SCOPE, assert_forbidden
from vjwt_env import assert_fail, assert_pass, load_modules
from vjwt_tokens import b64std, hmac_jwk, mint, now


def _loc(name, *lines, auth_type=True):
    body = (["AuthType JWT"] if auth_type else []) + list(lines)
    return '<Location "/p/%s">\n%s\n</Location>\n' % (name, "\n".join("    " + l for l in body))


@pytest.fixture(scope="module")
def srv(httpd, keys):
    key = "ValidateJWTIssuerSigningKey %s" % b64std(keys.hs64)
    locs = [
        _loc("role", key, "Require jwt-claim role admin"),
        _loc("role2", key, "Require jwt-claim role admin manager"),
        _loc("kc", key, "Require jwt-claim /realm_access/roles admin"),
        _loc("kc-client", key, "Require jwt-claim /resource_access/orders-api/roles read"),
        _loc("ns", key, "Require jwt-claim https://example.com/roles r1"),
        _loc("esc", key, "Require jwt-claim /a~1b/c~0d yes"),
        _loc("idx", key, "Require jwt-claim /groups/1 second"),
        _loc("num", key, "Require jwt-claim /info/level 3"),
        _loc("bool", key, "Require jwt-claim beta true"),
        _loc("obj", key, 'Require jwt-claim /info/o "{\\"k\\":1}"'),
        _loc("scope", key, "Require jwt-scope read write"),
        _loc("scope1", key, "Require jwt-scope read"),
        _loc("all", key, "<RequireAll>", "  Require jwt-scope read",
             "  Require jwt-claim role admin", "</RequireAll>"),
        _loc("any", key, "<RequireAny>", "  Require jwt-scope admin",
             "  Require jwt-claim role admin", "</RequireAny>"),
        _loc("anyuser", key, "<RequireAny>", "  Require jwt-scope admin",
             "  Require valid-user", "</RequireAny>"),
        _loc("not", key, "<RequireAll>", "  Require valid-user",
             "  Require not jwt-claim role guest", "</RequireAll>"),
        _loc("errdoc", key, 'ErrorDocument 403 "custom 403 text"', "Require jwt-scope read"),
        _loc("head", key, "Require jwt-scope read"),
        _loc("realm", key, "ValidateJWTRealm api", "Require jwt-scope read"),
        _loc("nowww", key, "ValidateJWTWWWAuthenticate Off", "Require jwt-scope read"),
        _loc("badtok", key, "Require jwt-claim role admin"),
        _loc("policyid", key, "ValidateJWTId pol-7", "Require jwt-claim role admin"),
        _loc("fof", key, "AuthzSendForbiddenOnFailure On", "Require jwt-scope read"),
        _loc("fof-claim", key, "AuthzSendForbiddenOnFailure On", "Require jwt-claim role admin"),
        _loc("errurl", key, "ErrorDocument 403 /s/static/", "Require jwt-scope read"),
        _loc("noauth", "Require jwt-claim role admin", auth_type=False),
        _loc("cors", key, "<LimitExcept OPTIONS>", "  Require jwt-scope read", "</LimitExcept>"),
    ]
    server_conf = load_modules("authz_host")
    return httpd.start("authz", "\n".join(locs), server_conf=server_conf)


@pytest.fixture
def hkey(keys):
    return hmac_jwk(keys.hs64)


@pytest.fixture
def denied(expect_log):
    expect_log(DENIED_LOG)


def tok(hkey, **claims):
    return mint(hkey, "HS256", **claims)


# --- jwt-claim ------------------------------------------------------------------------
def test_claim_granted(srv, hkey):
    r = assert_pass(srv.get("/p/role/", tok(hkey, role="admin")))
    assert "VALIDATE_JWT_ERROR_REASON" not in r.env
    assert_pass(srv.get("/p/role/", tok(hkey, role=["user", "admin"])))
    assert_pass(srv.get("/p/role2/", tok(hkey, role="manager")))


def test_claim_denied(srv, hkey, denied):
    r = assert_forbidden(srv.get("/p/role/", tok(hkey, role="user")))
    assert "role" in (r.header("X-VJWT-Message") or "")
    assert_forbidden(srv.get("/p/role/", tok(hkey, role=["user", "Admin"])))
    assert_forbidden(srv.get("/p/role/", tok(hkey)))  # missing claim


def test_claim_head(srv, hkey, denied):
    assert_forbidden(srv.head("/p/role/", tok(hkey, role="user")))


def test_claim_policy_id(srv, hkey, denied):
    r = assert_forbidden(srv.get("/p/policyid/", tok(hkey, role="x")))
    assert r.header("X-VJWT-Policy-Id") == "pol-7"


def test_authentication_first(srv, hkey):
    """No or a bad token: authentication fails first (401 of the module), no authz line."""
    assert_fail(srv.get("/p/badtok/"), "TokenNotPresent")
    assert_fail(srv.get("/p/badtok/", tok(hkey, role="admin", exp=now() - 10, nbf=None)),
                "TokenExpired")


@pytest.mark.parametrize("path,claims", [
    ("kc", {"realm_access": {"roles": ["user", "admin"]}}),
    ("kc-client", {"resource_access": {"orders-api": {"roles": ["read"]}}}),
    ("ns", {"https://example.com/roles": ["r1"]}),
    ("esc", {"a/b": {"c~d": "yes"}}),
    ("idx", {"groups": ["first", "second"]}),
    ("num", {"info": {"level": 3}}),
    ("bool", {"beta": True}),
    ("obj", {"info": {"o": {"k": 1}}}),
])
def test_claim_paths_granted(srv, hkey, path, claims):
    assert_pass(srv.get("/p/%s/" % path, tok(hkey, **claims)))


@pytest.mark.parametrize("path,claims", [
    ("kc", {"realm_access": {"roles": ["user"]}}),
    ("kc", {"realm_access": "admin"}),                    # path through a string
    ("kc", {"realm_access/roles": ["admin"]}),            # a literal member is not the path
    ("kc-client", {"resource_access": {"other": {"roles": ["read"]}}}),
    ("esc", {"a": {"b": {"c~d": "yes"}}}),                 # ~1 is one member "a/b"
    ("esc", {"a/b": {"c/d": "yes"}}),                      # ~0 is '~'
    ("idx", {"groups": ["second"]}),                       # index 1 missing
    ("num", {"info": {"level": "3.0"}}),
    ("num", {"info": {"level": 3.5}}),
    ("bool", {"beta": "True"}),
])
def test_claim_paths_denied(srv, hkey, denied, path, claims):
    assert_forbidden(srv.get("/p/%s/" % path, tok(hkey, **claims)))


# --- jwt-scope ------------------------------------------------------------------------
@pytest.mark.parametrize("claims", [
    {"scope": "read write"},
    {"scope": "write other read"},
    {"scp": "read write"},
    {"scp": ["write", "read"]},
    {"scope": "read", "scp": ["write"]},
])
def test_scope_granted(srv, hkey, claims):
    assert_pass(srv.get("/p/scope/", tok(hkey, **claims)))


@pytest.mark.parametrize("claims", [
    {"scope": "read"},
    {"scope": "readwrite"},
    {"scope": ["read", "write"]},      # scope must be a string
    {"scp": ["read write"]},           # array elements are whole scopes
    {"scope": "READ WRITE"},
    {},
])
def test_scope_denied(srv, hkey, denied, claims):
    assert_forbidden(srv.get("/p/scope/", tok(hkey, **claims)), INSUFFICIENT_SCOPE,
                     scope="read write")


def test_scope_realm_and_www_off(srv, hkey, denied):
    assert_forbidden(srv.get("/p/realm/", tok(hkey, scope="x")), INSUFFICIENT_SCOPE,
                     scope="read", realm="api")
    r = srv.get("/p/nowww/", tok(hkey, scope="x"))
    assert r.status == 403 and r.headers_all("WWW-Authenticate") == [], r


def test_scope_head(srv, hkey, denied):
    assert_forbidden(srv.head("/p/head/", tok(hkey, scope="x")), INSUFFICIENT_SCOPE,
                     scope="read")


# --- combinations ---------------------------------------------------------------------
def test_require_all(srv, hkey, denied):
    assert_pass(srv.get("/p/all/", tok(hkey, scope="read", role="admin")))
    assert_forbidden(srv.get("/p/all/", tok(hkey, scope="read", role="user")))
    assert_forbidden(srv.get("/p/all/", tok(hkey, scope="x", role="admin")), INSUFFICIENT_SCOPE,
                     scope="read")


def test_require_any(srv, hkey, denied):
    assert_pass(srv.get("/p/any/", tok(hkey, scope="admin", role="user")))
    assert_pass(srv.get("/p/any/", tok(hkey, scope="x", role="admin")))
    # both denied: the scope's body and challenge, two log lines
    assert_forbidden(srv.get("/p/any/", tok(hkey, scope="x", role="user")), INSUFFICIENT_SCOPE,
                     scope="admin", lines=2)


def test_denial_outweighed_leaves_no_trace(srv, hkey):
    """A jwt-scope denial that Require valid-user outweighs in <RequireAny>: success, no
    challenge, no error environment for the backend."""
    r = assert_pass(srv.get("/p/anyuser/", tok(hkey, scope="x")))
    assert r.headers_all("WWW-Authenticate") == [], r.header_list
    assert not [k for k in r.env if k.startswith("VALIDATE_JWT_ERROR")], r.env


def test_require_not(srv, hkey, expect_log):
    """Require not jwt-claim: the provider grants, httpd negates; the denial is httpd's own
    (401 for an authenticated user unless AuthzSendForbiddenOnFailure On), not the
    module's."""
    expect_log(DENIED_LOG)
    assert_pass(srv.get("/p/not/", tok(hkey, role="user")))
    r = srv.get("/p/not/", tok(hkey, role="guest"))
    assert r.status in (401, 403) and not r.reached_backend, r
    assert r.vjwt_reason is None and [l for l in r.errlog if "VJWT00320" in l] == [], r.errlog


def test_error_document_wins(srv, hkey, denied):
    r = srv.get("/p/errdoc/", tok(hkey, scope="x"))
    assert r.status == 403, r
    assert r.body == b"custom 403 text", r.body
    assert r.vjwt_reason == "TokenClaimValueNotAllowed"
    assert not r.reached_backend


def test_forbidden_on_failure(srv, hkey, denied):
    """AuthzSendForbiddenOnFailure On: httpd's 403 directly; the same response."""
    assert_forbidden(srv.get("/p/fof/", tok(hkey, scope="x")), INSUFFICIENT_SCOPE,
                     scope="read")
    assert_forbidden(srv.get("/p/fof-claim/", tok(hkey, role="x")))


def test_error_document_url(srv, hkey, denied):
    """A local URL ErrorDocument 403 is served with status 403 and the challenge."""
    r = srv.get("/p/errurl/", tok(hkey, scope="x"))
    assert r.status == 403, r
    assert r.json == {"static": True}, r.body
    assert r.headers_all("WWW-Authenticate") == [
        'Bearer realm="vjwt.test", error="insufficient_scope", scope="read"'], r.header_list
    assert [l for l in r.errlog if "VJWT00320" in l], r.errlog
    r = srv.get("/p/errurl/", tok(hkey, scope="read"))
    assert_pass(r)


def test_other_authentication(srv, hkey, expect_log):
    """A section without AuthType JWT: the provider never grants (no token of ours)."""
    expect_log(r"AH01629|AH00027|AH01630|AH01631|AuthType|authentication")
    r = srv.get("/p/noauth/", tok(hkey, role="admin"))
    assert r.status in (401, 403, 500) and not r.reached_backend, r


def test_cors_preflight(srv, hkey, expect_log):
    """<LimitExcept OPTIONS>: a preflight without a token reaches the backend; other methods
    need the token and the scope."""
    expect_log(DENIED_LOG)
    r = srv.request("/p/cors/", method="OPTIONS", headers={"X-JWT-Claim-sub": "evil"})
    assert r.status == 200 and r.reached_backend, r
    assert "HTTP_X_JWT_CLAIM_SUB" not in r.env
    assert_fail(srv.get("/p/cors/"), "TokenNotPresent")
    assert_pass(srv.get("/p/cors/", tok(hkey, scope="read")))
    assert_forbidden(srv.get("/p/cors/", tok(hkey, scope="x")), INSUFFICIENT_SCOPE, scope="read")
