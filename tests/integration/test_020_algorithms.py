"""Every algorithm with every key form (docs/conformance.md C39, C53-C60, C62 (HS with a long
enough secret); key forms (docs/conformance.md#key-choice): base64 secret, n/e, certificate-id,
file: PEM key, file: PEM certificate, file: JWK, file: JWKS)."""

import pytest

from vjwt_env import assert_fail, assert_pass, locations
from vjwt_tokens import (b64std, der_ecdsa, flip_sig_bit, hmac_jwk, mint, pss_engine,
                         replace_sig, claims, sign_raw, b64u_dec)

SERVER = ("ValidateJWTCertificate rsa1cert keys/rsa1.crt.pem\n"
          "ValidateJWTCertificate ec256cert keys/ec256.crt.pem\n")


@pytest.fixture(scope="module")
def srv(httpd, keys):
    spec = {
        "hs": ["ValidateJWTIssuerSigningKey %s" % b64std(keys.hs64)],
        "rsa-ne": ["ValidateJWTIssuerSigningKey %s" % keys.ne(keys.rsa1)],
        "rsa-pem": ["ValidateJWTIssuerSigningKey file:keys/rsa1.pub.pem"],
        "rsa-cert": ["ValidateJWTIssuerSigningKey certificate-id=rsa1cert"],
        "rsa-crtfile": ["ValidateJWTIssuerSigningKey file:keys/rsa1.crt.pem"],
        "rsa-jwk": ["ValidateJWTIssuerSigningKey file:keys/rsa2.jwk.json"],
        "jwks": ["ValidateJWTIssuerSigningKey file:keys/jwks.json"],
        "ec256-pem": ["ValidateJWTIssuerSigningKey file:keys/ec256.pub.pem"],
        "ec384-pem": ["ValidateJWTIssuerSigningKey file:keys/ec384.pub.pem"],
        "ec521-pem": ["ValidateJWTIssuerSigningKey file:keys/ec521.pub.pem"],
        "ec256-cert": ["ValidateJWTIssuerSigningKey certificate-id=ec256cert"],
        "ed-jwk": ["ValidateJWTIssuerSigningKey file:keys/ed25519.jwk.json"],
    }
    return httpd.start("algorithms", locations(spec), SERVER)


RSA_ALGS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"]
RSA_LOCS = ["rsa-ne", "rsa-pem", "rsa-cert", "rsa-crtfile", "jwks"]


@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512"])
def test_hmac_base64_secret_passes(srv, keys, alg):
    """C39 C62: HS256/384/512 tokens signed with the base64-decoded 64-byte secret pass."""
    assert_pass(srv.get("/p/hs/", mint(hmac_jwk(keys.hs64), alg)))


@pytest.mark.parametrize("loc", RSA_LOCS)
@pytest.mark.parametrize("alg", RSA_ALGS)
def test_rsa_algorithms_pass(srv, keys, alg, loc):
    """C55 C56: RS256/384/512 and PS256/384/512 verify with the RSA key given as n/e,
    file: PEM public key, certificate-id, file: PEM certificate and file: JWKS."""
    assert_pass(srv.get("/p/%s/" % loc, mint(keys.rsa1, alg)))


@pytest.mark.parametrize("alg", ["RS256", "PS512"])
def test_rsa_single_jwk_file_passes(srv, keys, alg):
    """Key form file: with a single JWK (RSA)."""
    assert_pass(srv.get("/p/rsa-jwk/", mint(keys.rsa2, alg)))


@pytest.mark.parametrize("loc", RSA_LOCS)
def test_rsa_other_modulus_fails(srv, keys, loc):
    """C55: a token signed with a different RSA key fails with TokenSignatureInvalid."""
    assert_fail(srv.get("/p/%s/" % loc, mint(keys.rsa2, "RS256")), "TokenSignatureInvalid")


def test_ps256_wrong_salt_length_fails(srv, keys):
    """C56: PS256 with salt length 20 (not 32) fails with TokenSignatureInvalid."""
    tok = sign_raw(keys.rsa1, "PS256", {"alg": "PS256", "typ": "JWT"}, claims(),
                   engine=pss_engine(20))
    assert_fail(srv.get("/p/rsa-pem/", tok), "TokenSignatureInvalid")


def test_ps256_standard_salt_via_sign_raw_passes(srv, keys):
    """Control for C56: the same path with the standard salt length (32) passes."""
    tok = sign_raw(keys.rsa1, "PS256", {"alg": "PS256", "typ": "JWT"}, claims(),
                   engine=pss_engine(32))
    assert_pass(srv.get("/p/rsa-pem/", tok))


@pytest.mark.parametrize("alg,key,loc", [
    ("ES256", "ec256", "ec256-pem"),
    ("ES384", "ec384", "ec384-pem"),
    ("ES512", "ec521", "ec521-pem"),
    ("ES256", "ec256", "ec256-cert"),
    ("ES256", "ec256", "jwks"),
    ("ES384", "ec384", "jwks"),
    ("ES512", "ec521", "jwks"),
])
def test_ecdsa_passes(srv, keys, alg, key, loc):
    """C57: ES256/384/512 with raw R||S signatures pass with the matching EC key (file: PEM,
    certificate-id, file: JWKS)."""
    assert_pass(srv.get("/p/%s/" % loc, mint(getattr(keys, key), alg)))


def test_es256_der_signature_fails(srv, keys):
    """C58: the same ES256 signature DER-encoded fails with TokenSignatureInvalid."""
    tok = der_ecdsa(mint(keys.ec256, "ES256"))
    assert_fail(srv.get("/p/ec256-pem/", tok), "TokenSignatureInvalid")


@pytest.mark.parametrize("which", ["r0", "s0", "zero"])
def test_es256_zero_r_or_s_fails(srv, keys, which):
    """C59: an ES256 signature with r = 0, s = 0 or all 64 bytes zero fails with
    TokenSignatureInvalid."""
    tok = mint(keys.ec256, "ES256")
    raw = b64u_dec(tok.split(".")[2])
    assert len(raw) == 64
    if which == "r0":
        raw = bytes(32) + raw[32:]
    elif which == "s0":
        raw = raw[:32] + bytes(32)
    else:
        raw = bytes(64)
    assert_fail(srv.get("/p/ec256-pem/", replace_sig(tok, raw)), "TokenSignatureInvalid")


def test_es256_wrong_length_signature_fails(srv, keys):
    """C58/RFC 7518 3.4: an ES256 signature that is not 64 bytes fails (TokenSignatureInvalid)."""
    tok = mint(keys.ec256, "ES256")
    raw = b64u_dec(tok.split(".")[2])
    assert_fail(srv.get("/p/ec256-pem/", replace_sig(tok, raw[:63])), "TokenSignatureInvalid")


def test_es256_never_verified_with_p384_key(srv, keys):
    """C60: an ES256 token meets only a P-384 key: the key is skipped, so no usable key
    (TokenSignatureKeyNotFound)."""
    assert_fail(srv.get("/p/ec384-pem/", mint(keys.ec256, "ES256")),
                "TokenSignatureKeyNotFound")


def test_es384_token_on_p256_key_fails(srv, keys):
    """C60 (reverse): an ES384 token never uses a P-256 key."""
    assert_fail(srv.get("/p/ec256-pem/", mint(keys.ec384, "ES384")),
                "TokenSignatureKeyNotFound")


def test_eddsa_jwk_file_passes(srv, keys):
    """EdDSA (Ed25519) verifies with a key from file: holding one JWK."""
    assert_pass(srv.get("/p/ed-jwk/", mint(keys.ed25519, "EdDSA")))


def test_eddsa_jwks_file_passes(srv, keys):
    """EdDSA (Ed25519) verifies with an OKP key from a JWKS file."""
    assert_pass(srv.get("/p/jwks/", mint(keys.ed25519b, "EdDSA")))


def test_eddsa_bad_signature_fails(srv, keys):
    """C40 for EdDSA: one flipped bit fails with TokenSignatureInvalid."""
    assert_fail(srv.get("/p/ed-jwk/", flip_sig_bit(mint(keys.ed25519, "EdDSA"))),
                "TokenSignatureInvalid")


def test_eddsa_other_key_fails(srv, keys):
    """An Ed25519 token signed with another key fails with TokenSignatureInvalid."""
    assert_fail(srv.get("/p/ed-jwk/", mint(keys.ed25519b, "EdDSA")), "TokenSignatureInvalid")


@pytest.mark.parametrize("alg", ["RS256", "ES256"])
def test_asymmetric_token_with_only_hmac_key(srv, keys, alg):
    """C53: an RS256 (or ES256) token when only an HMAC key is configured fails with 401
    (never 5xx), reason TokenSignatureKeyNotFound."""
    key = keys.rsa1 if alg == "RS256" else keys.ec256
    assert_fail(srv.get("/p/hs/", mint(key, alg)), "TokenSignatureKeyNotFound")


@pytest.mark.parametrize("loc", ["rsa-pem", "rsa-cert", "rsa-ne"])
@pytest.mark.parametrize("form", ["pem", "der"])
def test_alg_confusion_hmac_with_rsa_public_key_bytes(srv, keys, loc, form):
    """C54 (S2): an HS256 token whose HMAC secret is the RSA public key (PEM or DER bytes)
    is rejected: the RSA key is never used as an HMAC secret (TokenSignatureKeyNotFound)."""
    secret = keys.rsa1_pub_pem if form == "pem" else keys.rsa1_pub_der
    tok = mint(hmac_jwk(secret), "HS256")
    assert_fail(srv.get("/p/%s/" % loc, tok), "TokenSignatureKeyNotFound")


def test_hs256_token_against_ec_and_okp_keys(srv, keys):
    """C53-like: an HS256 token meets only an EC key (key skipped): KeyNotFound, not 5xx."""
    assert_fail(srv.get("/p/ec256-pem/", mint(hmac_jwk(keys.hs64), "HS256")),
                "TokenSignatureKeyNotFound")
    assert_fail(srv.get("/p/ed-jwk/", mint(hmac_jwk(keys.hs64), "HS256")),
                "TokenSignatureKeyNotFound")
