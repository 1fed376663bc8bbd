"""Audience and issuer checks (docs/conformance.md C93-C104, #audience-issuer)."""

import pytest

from vjwt_env import assert_fail, assert_pass, locations
from vjwt_tokens import b64std, hmac_jwk, mint

AUDS = ["api://x", "https://api.example.com", "https://slash.example/"]
ISSS = ["https://issuer.example/", "accounts.google.com"]


@pytest.fixture(scope="module")
def srv(httpd, keys):
    key = "ValidateJWTIssuerSigningKey %s" % b64std(keys.hs64)
    spec = {
        "audiss": [key, "ValidateJWTAudience %s" % " ".join(AUDS),
                   "ValidateJWTIssuer %s" % " ".join(ISSS)],
        "aud-only": [key, "ValidateJWTAudience api://x"],
        "aud-repeat": [key, "ValidateJWTAudience api://one", "ValidateJWTAudience api://two"],
        "none": [key],
        "slash-off": [key, "ValidateJWTAudience https://api.example.com",
                      "ValidateJWTIgnoreAudienceTrailingSlash Off"],
    }
    return httpd.start("audience-issuer", locations(spec))


@pytest.fixture
def hkey(keys):
    return hmac_jwk(keys.hs64)


@pytest.mark.parametrize("aud", AUDS)
def test_string_audience_passes(srv, hkey, aud):
    """C93: a string aud equal to a configured audience passes."""
    assert_pass(srv.get("/p/audiss/", mint(hkey, "HS256", aud=aud)))


def test_array_audience_passes(srv, hkey):
    """C94: an array aud holding any configured audience passes."""
    assert_pass(srv.get("/p/audiss/", mint(hkey, "HS256", aud=["other", "api://x"])))
    assert_pass(srv.get("/p/audiss/", mint(hkey, "HS256", aud=["https://api.example.com"])))


def test_array_audience_no_match(srv, hkey):
    """C95: an array aud with no configured audience fails with TokenAudienceNotAllowed."""
    assert_fail(srv.get("/p/audiss/", mint(hkey, "HS256", aud=["a", "b"])),
                "TokenAudienceNotAllowed")


@pytest.mark.parametrize("aud", [None, [], ""])
def test_missing_or_empty_audience(srv, hkey, aud):
    """C96: audiences configured, a token without aud, or with [] or "", fails with
    TokenAudienceNotAllowed."""
    tok = mint(hkey, "HS256", aud=aud) if aud is not None else mint(hkey, "HS256", aud=None)
    assert_fail(srv.get("/p/audiss/", tok), "TokenAudienceNotAllowed")


@pytest.mark.parametrize("aud", ["anything", ["a", "b"], None])
def test_no_audiences_configured(srv, hkey, aud):
    """C97: with no audiences configured, any aud (or none) is accepted."""
    assert_pass(srv.get("/p/none/", mint(hkey, "HS256", aud=aud)))


def test_audience_case_sensitive(srv, hkey):
    """C98: API://x != api://x (TokenAudienceNotAllowed)."""
    assert_fail(srv.get("/p/aud-only/", mint(hkey, "HS256", aud="API://x")),
                "TokenAudienceNotAllowed")
    assert_fail(srv.get("/p/aud-only/", mint(hkey, "HS256", aud="api://X")),
                "TokenAudienceNotAllowed")


def test_audience_trailing_slash_tolerated(srv, hkey):
    """C99: an audience differing only by one trailing '/' is accepted (either side)."""
    assert_pass(srv.get("/p/audiss/", mint(hkey, "HS256", aud="https://api.example.com/")))
    assert_pass(srv.get("/p/audiss/", mint(hkey, "HS256", aud="https://slash.example")))


def test_audience_two_trailing_slashes_not_tolerated(srv, hkey):
    """C99: only one trailing slash is tolerated."""
    assert_fail(srv.get("/p/audiss/", mint(hkey, "HS256", aud="https://api.example.com//")),
                "TokenAudienceNotAllowed")


def test_audience_trailing_slash_switch_off(srv, hkey):
    """C99 (switch): with ValidateJWTIgnoreAudienceTrailingSlash Off the slash counts."""
    assert_pass(srv.get("/p/slash-off/", mint(hkey, "HS256", aud="https://api.example.com")))
    assert_fail(srv.get("/p/slash-off/", mint(hkey, "HS256", aud="https://api.example.com/")),
                "TokenAudienceNotAllowed")


def test_audience_directive_repeatable(srv, hkey):
    """ValidateJWTAudience lines accumulate within a scope."""
    assert_pass(srv.get("/p/aud-repeat/", mint(hkey, "HS256", aud="api://one")))
    assert_pass(srv.get("/p/aud-repeat/", mint(hkey, "HS256", aud="api://two")))
    assert_fail(srv.get("/p/aud-repeat/", mint(hkey, "HS256", aud="api://three")),
                "TokenAudienceNotAllowed")


@pytest.mark.parametrize("iss", ISSS)
def test_any_configured_issuer_passes(srv, hkey, iss):
    """C100: an iss equal to any one of several configured issuers passes."""
    assert_pass(srv.get("/p/audiss/", mint(hkey, "HS256", iss=iss, aud="api://x")))


@pytest.mark.parametrize("iss", ["https://issuer.example", "https://ISSUER.example/",
                                 "https://issuer.example//", "https://accounts.google.com",
                                 "Accounts.google.com"])
def test_issuer_exact_match(srv, hkey, iss):
    """C101: an iss differing only by a trailing slash or letter case fails with
    TokenIssuerNotAllowed."""
    assert_fail(srv.get("/p/audiss/", mint(hkey, "HS256", iss=iss, aud="api://x")),
                "TokenIssuerNotAllowed")


def test_missing_issuer(srv, hkey):
    """C102: issuers configured, a token without iss fails with TokenIssuerNotAllowed."""
    assert_fail(srv.get("/p/audiss/", mint(hkey, "HS256", iss=None, aud="api://x")),
                "TokenIssuerNotAllowed")


@pytest.mark.parametrize("iss", ["https://whatever.example", None])
def test_issuer_not_checked_when_unconfigured(srv, hkey, iss):
    """C103: with no issuers configured, iss isn't checked."""
    assert_pass(srv.get("/p/none/", mint(hkey, "HS256", iss=iss)))
    assert_pass(srv.get("/p/aud-only/", mint(hkey, "HS256", iss=iss, aud="api://x")))


def test_audience_checked_before_issuer(srv, hkey):
    """C104 (S10): a token failing both audience and issuer checks gets
    TokenAudienceNotAllowed."""
    assert_fail(srv.get("/p/audiss/", mint(hkey, "HS256", iss="https://evil.example/",
                                           aud="api://other")),
                "TokenAudienceNotAllowed")
