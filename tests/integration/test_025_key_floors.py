"""Key-strength floors and key-less policies, which log warnings at startup
(docs/conformance.md C47, C61, C62)."""

import re

import pytest

from vjwt_env import assert_fail, assert_pass, locations
from vjwt_tokens import b64std, hmac_jwk, mint

# validate_jwt may warn at startup about the weak keys and the key-less policy below;
# with the logs not yet open a directive handler's warning goes to stderr.
STARTUP_ALLOWED = [r"validate_jwt", r"(?i)vjwt", r"ValidateJWT"]


@pytest.fixture(scope="module")
def srv(httpd, keys):
    spec = {
        "rsa1024-default": ["ValidateJWTIssuerSigningKey file:keys/rsa1024.pub.pem"],
        "rsa1024-floor": ["ValidateJWTMinRSAKeyBits 1024",
                          "ValidateJWTIssuerSigningKey file:keys/rsa1024.pub.pem"],
        "hs16": ["ValidateJWTIssuerSigningKey %s" % b64std(keys.hs16)],
        "hs32": ["ValidateJWTIssuerSigningKey %s" % b64std(keys.hs32)],
        "nokeys": ["ValidateJWTAudience api://default"],
    }
    return httpd.start("key-floors", locations(spec), allow_startup=STARTUP_ALLOWED)


def _startup_warnings(srv):
    return [l for l in srv.startup_lines
            if re.search(r"\[validate_jwt:(warn|error)\]", l) or
            (not l.startswith("[") and l.strip())]


def test_startup_warns_about_weak_keys(srv):
    """C61 C62 C47: the configuration loads, and startup logs warnings (weak RSA key,
    short HMAC secret, policy without keys)."""
    w = _startup_warnings(srv)
    assert w, "no startup warning from validate_jwt:\n%s" % "\n".join(srv.startup_lines)
    text = "\n".join(w)
    assert re.search(r"(?i)rsa|1024|bits", text), "no RSA key-size warning:\n" + text
    assert re.search(r"(?i)hmac|secret|symmetric|oct|bytes|HS\d", text), \
        "no short-secret warning:\n" + text


def test_rsa1024_rejected_by_default(srv, keys):
    """C61: a 1024-bit RSA key can't verify under the default 2048-bit floor; tokens fail
    with 401 (the key is unusable: no usable key, or a signature failure)."""
    r = srv.get("/p/rsa1024-default/", mint(keys.rsa1024, "RS256"))
    assert r.status == 401, r
    assert r.vjwt_reason in ("TokenSignatureKeyNotFound", "TokenSignatureInvalid"), r
    assert_fail(r, r.vjwt_reason)


def test_rsa1024_accepted_with_lowered_floor(srv, keys):
    """C61: with ValidateJWTMinRSAKeyBits 1024 the same key verifies."""
    assert_pass(srv.get("/p/rsa1024-floor/", mint(keys.rsa1024, "RS256")))


def test_hmac_16_byte_secret_unusable(srv, keys):
    """C62: a 16-byte secret is shorter than every HS hash output; HS256 fails."""
    r = srv.get("/p/hs16/", mint(hmac_jwk(keys.hs16), "HS256"))
    assert r.status == 401, r
    assert r.vjwt_reason in ("TokenSignatureKeyNotFound", "TokenSignatureInvalid"), r
    assert_fail(r, r.vjwt_reason)


def test_hmac_32_byte_secret_hs256_ok(srv, keys):
    """C62: a 32-byte secret works for HS256."""
    assert_pass(srv.get("/p/hs32/", mint(hmac_jwk(keys.hs32), "HS256")))


@pytest.mark.parametrize("alg", ["HS384", "HS512"])
def test_hmac_32_byte_secret_not_for_hs512(srv, keys, alg):
    """C62: a 32-byte secret can't be used for HS384/HS512 (shorter than the hash)."""
    r = srv.get("/p/hs32/", mint(hmac_jwk(keys.hs32), alg))
    assert r.status == 401, r
    assert r.vjwt_reason in ("TokenSignatureKeyNotFound", "TokenSignatureInvalid"), r
    assert_fail(r, r.vjwt_reason)


def test_policy_without_keys_rejects_signed_tokens(srv, keys):
    """C47: a policy with no keys (and no openid-config) rejects every signed token with
    TokenSignatureKeyNotFound."""
    assert_fail(srv.get("/p/nokeys/", mint(hmac_jwk(keys.hs64), "HS256")),
                "TokenSignatureKeyNotFound")
    assert_fail(srv.get("/p/nokeys/", mint(keys.rsa1, "RS256")), "TokenSignatureKeyNotFound")
