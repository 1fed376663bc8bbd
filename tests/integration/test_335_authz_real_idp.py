"""Require jwt-scope / jwt-claim, ValidateJWTTokenType, ValidateJWTMaxTokenAge and
ValidateJWTClaimHeader with access tokens of a real OpenID Provider (panva's oidc-provider,
tests/idp: RFC 9068 tokens, typ at+jwt, scope from the client_credentials request)."""

import pytest

from vjwt_authz import DENIED_LOG, INSUFFICIENT_SCOPE, assert_forbidden
from vjwt_env import assert_fail, assert_pass
from vjwt_idp import DEFAULT_RESOURCE
from vjwt_tokens import b64std, hmac_jwk, mint


@pytest.fixture(scope="module")
def srv(httpd, keys, real_idp):
    common = ["AuthType JWT", "ValidateJWTOpenIDConfig %s" % real_idp.discovery,
              "ValidateJWTAudience %s" % DEFAULT_RESOURCE,
              "ValidateJWTIssuerSigningKey %s" % b64std(keys.hs64)]
    spec = {
        "write": ["Require jwt-scope write"],
        "rw": ["Require jwt-scope read write"],
        "client": ["Require jwt-claim client_id client-es256 client-rs256"],
        "at": ["ValidateJWTTokenType at+jwt", "ValidateJWTMaxTokenAge 120",
               "ValidateJWTClaimHeader client_id X-Client", "ValidateJWTClaimHeader scope X-Scope",
               "Require valid-user"],
    }
    locs = "\n".join('<Location "/p/%s">\n%s\n</Location>' % (
        n, "\n".join("    " + d for d in common + ds)) for n, ds in spec.items())
    return httpd.start("authz-real-idp", locs)


def test_scope(srv, real_idp, expect_log):
    expect_log(DENIED_LOG)
    assert_pass(srv.get("/p/write/", real_idp.token("RS256", scope="read write")))
    assert_pass(srv.get("/p/rw/", real_idp.token("ES256", scope="read write")))
    assert_forbidden(srv.get("/p/write/", real_idp.token("RS256", scope="read")),
                     INSUFFICIENT_SCOPE, scope="write")
    assert_forbidden(srv.get("/p/rw/", real_idp.token("PS256", scope="read")),
                     INSUFFICIENT_SCOPE, scope="read write")


def test_claim(srv, real_idp, expect_log):
    expect_log(DENIED_LOG)
    assert_pass(srv.get("/p/client/", real_idp.token("RS256")))
    assert_pass(srv.get("/p/client/", real_idp.token("ES256")))
    assert_forbidden(srv.get("/p/client/", real_idp.token("PS256")))


def test_type_age_headers(srv, real_idp, keys):
    r = assert_pass(srv.get("/p/at/", real_idp.token("EdDSA", scope="read write")))
    assert r.env.get("HTTP_X_CLIENT") == "client-eddsa", r.env
    assert r.env.get("HTTP_X_SCOPE") == "read write", r.env
    # an HS256 token of the same issuer shape but typ JWT (an ID-token-like token) is refused
    h = hmac_jwk(keys.hs64)
    assert_fail(srv.get("/p/at/", mint(h, "HS256", aud=DEFAULT_RESOURCE, iss=real_idp.issuer)),
                "JwtInvalid")
    assert_pass(srv.get("/p/at/", mint(h, "HS256", typ="at+jwt", aud=DEFAULT_RESOURCE,
                                       iss=real_idp.issuer)))
