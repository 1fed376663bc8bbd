"""Nested <Location> merging: a child inherits the parent's fields and overrides them field by
field; a list directive in the child replaces the parent's list (DESIGN.md Configuration).  Note:
docs/conformance.md C134: a ValidateJWTPolicy replaces an outer policy as a whole, while directives
(DESIGN.md and the module contract) merge field by field, which is what is tested here."""

import pytest

from vjwt_env import assert_fail, assert_pass, locations
from vjwt_tokens import b64std, hmac_jwk, mint


@pytest.fixture(scope="module")
def srv(httpd, keys):
    spec = {
        "inh": ["ValidateJWTIssuerSigningKey %s" % b64std(keys.hs64),
                "ValidateJWTAudience api://parent",
                "ValidateJWTIssuer https://parent.example/",
                "ValidateJWTRequiredClaim role admin",
                "ValidateJWTFailedValidationHTTPCode 403",
                'ValidateJWTFailedValidationErrorMessage "parent says no"'],
        "inh/aud": ["ValidateJWTAudience api://child"],
        "inh/keys": ["ValidateJWTIssuerSigningKey %s" % b64std(keys.hs64b)],
        "inh/claims": ["ValidateJWTRequiredClaim dept sales"],
        "inh/query": ["ValidateJWTQueryParameterName tok"],
        "inh/code": ["ValidateJWTFailedValidationHTTPCode 401"],
    }
    return httpd.start("inheritance", locations(spec))


def _tok(key, **kw):
    c = dict(aud="api://parent", iss="https://parent.example/", role="admin")
    c.update(kw)
    return mint(hmac_jwk(key), "HS256", **c)


def test_parent_policy(srv, keys):
    """Control: the parent policy on its own."""
    assert_pass(srv.get("/p/inh/", _tok(keys.hs64)))
    assert_fail(srv.get("/p/inh/", _tok(keys.hs64, aud="api://child")),
                "TokenAudienceNotAllowed", status=403, message="parent says no")


def test_child_replaces_audience_list_inherits_rest(srv, keys):
    """The child's audience list replaces the parent's; key, issuer, claims, status and
    message are inherited."""
    assert_pass(srv.get("/p/inh/aud/", _tok(keys.hs64, aud="api://child")))
    assert_fail(srv.get("/p/inh/aud/", _tok(keys.hs64, aud="api://parent")),
                "TokenAudienceNotAllowed", status=403, message="parent says no")
    assert_fail(srv.get("/p/inh/aud/", _tok(keys.hs64, aud="api://child",
                                           iss="https://child.example/")),
                "TokenIssuerNotAllowed", status=403, message="parent says no")
    assert_fail(srv.get("/p/inh/aud/", _tok(keys.hs64, aud="api://child", role="user")),
                "TokenClaimValueNotAllowed", status=403, message="parent says no")


def test_child_key_list_replaces_parent_keys(srv, keys):
    """A key directive in the child replaces the parent's key list."""
    assert_pass(srv.get("/p/inh/keys/", _tok(keys.hs64b)))
    r = srv.get("/p/inh/keys/", _tok(keys.hs64))
    assert r.status == 403, r
    assert r.vjwt_reason == "TokenSignatureInvalid", r
    assert_fail(r, "TokenSignatureInvalid", status=403, message="parent says no")


def test_child_claims_replace_parent_claims(srv, keys):
    """A required-claim directive in the child replaces the parent's claim list."""
    assert_pass(srv.get("/p/inh/claims/", _tok(keys.hs64, role=None, dept="sales")))
    assert_fail(srv.get("/p/inh/claims/", _tok(keys.hs64, dept="hr")),
                "TokenClaimValueNotAllowed", status=403, message="parent says no")


def test_child_token_source_override(srv, keys):
    """A child may use another token source than the parent (header -> query)."""
    tok = _tok(keys.hs64)
    assert_pass(srv.get("/p/inh/query/", query={"tok": tok}))
    assert_fail(srv.get("/p/inh/query/", tok), "TokenNotPresent", status=403,
                message="parent says no")


def test_child_status_override(srv, keys):
    """A single scalar field (status) overridden in the child; the message is inherited,
    and the 401 brings back the WWW-Authenticate challenge."""
    assert_fail(srv.get("/p/inh/code/"), "TokenNotPresent", status=401,
                message="parent says no")
