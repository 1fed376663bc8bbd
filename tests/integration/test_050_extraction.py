"""Token extraction (docs/conformance.md C18-C29; #token-location incl. step 5,
ValidateJWTTokenValue)."""

import urllib.parse

import pytest

from vjwt_env import assert_fail, assert_pass, locations
from vjwt_tokens import b64std, hmac_jwk, mint


@pytest.fixture(scope="module")
def srv(httpd, keys):
    key = "ValidateJWTIssuerSigningKey %s" % b64std(keys.hs64)
    spec = {
        "default": [key],
        "lower": ["ValidateJWTHeaderName authorization", key],
        "scheme": ["ValidateJWTRequireScheme Bearer", key],
        "xtoken": ["ValidateJWTHeaderName X-Token", "ValidateJWTRequireScheme Bearer", key],
        "query": ["ValidateJWTQueryParameterName access_token", key],
        "value": ['ValidateJWTTokenValue "%{HTTP:X-Tok}"', key],
    }
    # RequireScheme with a custom header has no effect and is warned about (C23;
    # docs/conformance.md#policy-files)
    return httpd.start("extraction", locations(spec),
                       allow_startup=[r"VJWT00016: .*RequireScheme has no effect"])


@pytest.fixture
def tok(keys):
    return mint(hmac_jwk(keys.hs64), "HS256")


def test_no_authorization_header(srv):
    """C18: no Authorization header: TokenNotPresent, body message "JWT not present.",
    WWW-Authenticate without error."""
    assert_fail(srv.get("/p/default/"), "TokenNotPresent")


def test_empty_authorization_header(srv):
    """Token location step 1.2 (docs/conformance.md#token-location): an empty Authorization value:
    TokenNotPresent."""
    assert_fail(srv.get("/p/default/", headers=[("Authorization", "")]), "TokenNotPresent")


def test_header_name_case_insensitive(srv, tok):
    """C19: ValidateJWTHeaderName authorization finds the Authorization header (and its
    Bearer scheme is still stripped)."""
    assert_pass(srv.get("/p/lower/", tok))
    assert_pass(srv.get("/p/lower/", headers=[("AUTHORIZATION", "Bearer " + tok)]))


def test_bearer_without_require_scheme(srv, tok):
    """C20: without RequireScheme, "Authorization: Bearer <valid>" passes."""
    assert_pass(srv.get("/p/default/", tok))


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
def test_require_scheme_case_insensitive(srv, tok, scheme):
    """C21: with RequireScheme Bearer, the scheme matches case-insensitively."""
    assert_pass(srv.get("/p/scheme/", tok, scheme=scheme))


def test_require_scheme_wrong_scheme(srv):
    """C22: with RequireScheme Bearer, "Authorization: Basic <x>" fails with
    TokenNotPresent and body message "JWT not present." (S1)."""
    assert_fail(srv.get("/p/scheme/", headers=[("Authorization", "Basic dXNlcjpwYXNz")]),
                "TokenNotPresent")


def test_require_scheme_wrong_scheme_with_jwt(srv, tok):
    """C22 (docs/conformance.md#departures): a valid JWT under another scheme (or none) is
    TokenNotPresent."""
    assert_fail(srv.get("/p/scheme/", tok, scheme="JWT"), "TokenNotPresent")
    assert_fail(srv.get("/p/scheme/", tok, scheme=None), "TokenNotPresent")
    assert_fail(srv.get("/p/scheme/", headers=[("Authorization", "Bearer" + tok)]),
                "TokenNotPresent")


def test_basic_without_require_scheme(srv):
    """Token location step 1.4: without RequireScheme the first word is dropped, so a Basic
    credential is an invalid token (JwtInvalid), not a missing one."""
    assert_fail(srv.get("/p/default/", headers=[("Authorization", "Basic dXNlcjpwYXNz")]),
                "JwtInvalid")


def test_custom_header_ignores_require_scheme(srv, tok):
    """C23: ValidateJWTHeaderName X-Token with RequireScheme Bearer: "X-Token: <valid>"
    passes (scheme ignored for custom headers)."""
    assert_pass(srv.get("/p/xtoken/", headers={"X-Token": tok}))
    assert_pass(srv.get("/p/xtoken/", headers={"x-token": tok}))


def test_custom_header_with_bearer_prefix(srv, tok):
    """C24: "X-Token: Bearer <valid>" fails with JwtInvalid (no scheme stripping)."""
    assert_fail(srv.get("/p/xtoken/", headers={"X-Token": "Bearer " + tok}), "JwtInvalid")


def test_custom_header_missing(srv, tok):
    """C18-like for a custom header: missing X-Token (Authorization present) is
    TokenNotPresent; only the configured source is looked at."""
    assert_fail(srv.get("/p/xtoken/", tok), "TokenNotPresent")


def test_empty_bearer_with_require_scheme(srv):
    """C25: "Authorization: Bearer " (empty token) fails with TokenNotPresent."""
    assert_fail(srv.get("/p/scheme/", headers=[("Authorization", "Bearer ")]),
                "TokenNotPresent")
    assert_fail(srv.get("/p/scheme/", headers=[("Authorization", "Bearer    ")]),
                "TokenNotPresent")


def test_empty_bearer_without_require_scheme(srv):
    """C25: "Authorization: Bearer " on the default policy.  httpd trims trailing
    whitespace from header values, so the module sees "Bearer"; docs/conformance.md C25 asks for
    TokenNotPresent."""
    assert_fail(srv.get("/p/default/", headers=[("Authorization", "Bearer ")]),
                "TokenNotPresent")


@pytest.mark.parametrize("loc", ["default", "scheme"])
def test_whitespace_tolerated(srv, tok, loc):
    """C26: several spaces between scheme and token, and whitespace around the value, are
    tolerated."""
    for v in ("Bearer    " + tok, "  Bearer " + tok + "  ", "\tBearer  " + tok + "\t"):
        assert_pass(srv.get("/p/%s/" % loc, headers=[("Authorization", v)]))


def test_query_parameter(srv, tok):
    """C27: ValidateJWTQueryParameterName access_token: ?access_token=<valid> passes; a
    missing parameter fails with TokenNotPresent."""
    assert_pass(srv.get("/p/query/", query={"access_token": tok}))
    assert_pass(srv.get("/p/query/", query=[("a", "1"), ("access_token", tok), ("b", "2")]))
    assert_fail(srv.get("/p/query/"), "TokenNotPresent")
    assert_fail(srv.get("/p/query/", query={"other": tok}), "TokenNotPresent")


def test_query_parameter_ignores_authorization(srv, tok):
    """C27: with a query-parameter source, an Authorization header alone is TokenNotPresent."""
    assert_fail(srv.get("/p/query/", tok), "TokenNotPresent")


def test_query_parameter_empty(srv):
    """C27 / docs/conformance.md#token-location step 3: an empty parameter is TokenNotPresent."""
    assert_fail(srv.get("/p/query/", raw_query="access_token="), "TokenNotPresent")
    assert_fail(srv.get("/p/query/", raw_query="access_token"), "TokenNotPresent")


def test_query_parameter_percent_decoded(srv, tok):
    """docs/conformance.md#token-location step 3: the parameter value is percent-decoded."""
    enc = "".join("%%%02X" % ord(c) if c in ".-_" else c for c in tok)
    assert enc != tok
    assert_pass(srv.get("/p/query/", raw_query="access_token=" + enc))


def test_query_parameter_first_occurrence(srv, tok):
    """C28: if the parameter appears twice, the first occurrence is used."""
    assert_pass(srv.get("/p/query/", raw_query="access_token=%s&access_token=bogus" % tok))
    assert_fail(srv.get("/p/query/", raw_query="access_token=bogus&access_token=%s" % tok),
                "JwtInvalid")


def test_query_parameter_name_not_a_prefix(srv, tok):
    """docs/conformance.md#token-location step 3: "xaccess_token" or "access_token_x" is not the
    parameter."""
    q = "xaccess_token=%s&access_token_x=%s" % (tok, tok)
    assert_fail(srv.get("/p/query/", raw_query=q), "TokenNotPresent")


def test_bare_token_in_authorization(srv, tok):
    """C29: without RequireScheme, an Authorization value with no space is the token."""
    assert_pass(srv.get("/p/default/", tok, scheme=None))


def test_two_authorization_headers(srv, tok):
    """docs/conformance.md#token-location step 5: two Authorization headers are joined with ", " by
    httpd and the result fails as JwtInvalid."""
    r = srv.get("/p/default/", headers=[("Authorization", "Bearer " + tok),
                                        ("Authorization", "Bearer " + tok)])
    assert_fail(r, "JwtInvalid")


def test_token_value_expression(srv, tok):
    """ValidateJWTTokenValue "%{HTTP:X-Tok}": the expression yields the token; empty or
    missing is TokenNotPresent."""
    assert_pass(srv.get("/p/value/", headers={"X-Tok": tok}))
    assert_fail(srv.get("/p/value/"), "TokenNotPresent")
    assert_fail(srv.get("/p/value/", tok), "TokenNotPresent")
