"""Lifetime checks (docs/conformance.md C82-C92, #lifetime).  Times stay >= 100 s away from any
boundary."""

import pytest

from vjwt_env import assert_fail, assert_pass, locations
from vjwt_tokens import b64std, flip_sig_bit, hmac_jwk, mint, now


@pytest.fixture(scope="module")
def srv(httpd, keys):
    key = "ValidateJWTIssuerSigningKey %s" % b64std(keys.hs64)
    spec = {
        "default": [key],
        "noexp-off": ["ValidateJWTRequireExpirationTime Off", key],
        "noexp-false": ["ValidateJWTRequireExpirationTime false", key],
        "skew": ["ValidateJWTClockSkew 300", key],
    }
    return httpd.start("lifetime", locations(spec))


def OLD():
    """nbf/iat well before any past exp used here (nbf > exp would be JwtInvalid)."""
    return now() - 2000


@pytest.fixture
def hkey(keys):
    return hmac_jwk(keys.hs64)


def test_missing_exp_required_by_default(srv, hkey):
    """C82: with the default RequireExpirationTime, a token without exp fails with
    JwtInvalid."""
    assert_fail(srv.get("/p/default/", mint(hkey, "HS256", exp=None)), "JwtInvalid")


@pytest.mark.parametrize("loc", ["noexp-off", "noexp-false"])
def test_missing_exp_allowed(srv, hkey, loc):
    """C83: with RequireExpirationTime Off (or false), a token without exp passes."""
    assert_pass(srv.get("/p/%s/" % loc, mint(hkey, "HS256", exp=None)))


def test_past_exp_enforced_when_not_required(srv, hkey):
    """C84: RequireExpirationTime Off, a past exp still fails with TokenExpired."""
    assert_fail(srv.get("/p/noexp-off/", mint(hkey, "HS256", exp=now() - 100, nbf=OLD())), "TokenExpired")


@pytest.mark.parametrize("delta", [100, 3600, 86400 * 365])
def test_expired(srv, hkey, delta):
    """C85: exp in the past with ClockSkew 0 fails with TokenExpired."""
    assert_fail(srv.get("/p/default/", mint(hkey, "HS256", exp=now() - delta,
                                            nbf=now() - delta - 600, iat=now() - delta - 600)),
                "TokenExpired")


def test_expired_within_skew_passes(srv, hkey):
    """C86: exp = now-100 with ClockSkew 300 passes."""
    assert_pass(srv.get("/p/skew/", mint(hkey, "HS256", exp=now() - 100, nbf=OLD())))


def test_expired_beyond_skew_fails(srv, hkey):
    """C86 (S8): exp = now-500 with ClockSkew 300 fails with TokenExpired."""
    assert_fail(srv.get("/p/skew/", mint(hkey, "HS256", exp=now() - 500, nbf=now() - 900)),
                "TokenExpired")


def test_not_yet_valid(srv, hkey):
    """C87: nbf = now+100 with ClockSkew 0 fails with JwtInvalid."""
    assert_fail(srv.get("/p/default/", mint(hkey, "HS256", nbf=now() + 100)), "JwtInvalid")


def test_not_yet_valid_within_skew(srv, hkey):
    """C88: nbf = now+100 with ClockSkew 300 passes; nbf = now+500 fails (JwtInvalid)."""
    assert_pass(srv.get("/p/skew/", mint(hkey, "HS256", nbf=now() + 100)))
    assert_fail(srv.get("/p/skew/", mint(hkey, "HS256", nbf=now() + 500)), "JwtInvalid")


def test_fractional_exp(srv, hkey):
    """C89: a fractional exp (now+100.5) passes; a fractional past exp fails with
    TokenExpired; fractional nbf/iat are fine."""
    assert_pass(srv.get("/p/default/", mint(hkey, "HS256", exp=now() + 100.5,
                                            nbf=now() - 100.25, iat=now() - 100.75)))
    assert_fail(srv.get("/p/default/", mint(hkey, "HS256", exp=now() - 100.5, nbf=OLD())),
                "TokenExpired")


def test_future_iat_accepted(srv, hkey):
    """C90: a future iat doesn't cause rejection."""
    assert_pass(srv.get("/p/default/", mint(hkey, "HS256", iat=now() + 1000)))


def test_nbf_after_exp(srv, hkey):
    """C91: nbf later than exp fails with JwtInvalid.  On the 300 s skew policy
    nbf = now+200 and exp = now+100 are each acceptable alone, so only nbf > exp fails."""
    assert_fail(srv.get("/p/skew/", mint(hkey, "HS256", nbf=now() + 200, exp=now() + 100)),
                "JwtInvalid")


def test_expired_with_bad_signature(srv, hkey):
    """C92: an expired token with an invalid signature fails with TokenSignatureInvalid
    (signature checked before lifetime)."""
    tok = flip_sig_bit(mint(hkey, "HS256", exp=now() - 100, nbf=OLD()))
    assert_fail(srv.get("/p/default/", tok), "TokenSignatureInvalid")


@pytest.mark.parametrize("value", [1e300, 2 ** 60, -1e300])
def test_numeric_date_out_of_range(srv, hkey, value):
    """docs/conformance.md#lifetime: NumericDate values beyond +-2^53 fail with JwtInvalid."""
    assert_fail(srv.get("/p/default/", mint(hkey, "HS256", exp=value)), "JwtInvalid")
