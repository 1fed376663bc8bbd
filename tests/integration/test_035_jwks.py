"""JWK / JWKS file keys (docs/conformance.md#key-choice JWK constraints, RFC 7517; C77-C79 and
C43/C44 with JWKS kids, applied to `ValidateJWTIssuerSigningKey file:` JWK Sets instead of
openid-config)."""

import base64
import json

import pytest
from cryptography import x509

from vjwt_env import assert_fail, assert_pass, locations
from vjwt_tokens import mint


def _pub(k, **extra):
    d = json.loads(k.export_public())
    d.update(extra)
    return d


@pytest.fixture(scope="module")
def srv(httpd, keys):
    crt = x509.load_pem_x509_certificate(open(httpd.path("keys/rsa1.crt.pem"), "rb").read())
    from cryptography.hazmat.primitives.serialization import Encoding
    rsa1_x5c = base64.b64encode(crt.public_bytes(Encoding.DER)).decode()
    mixed = {"keys": [
        _pub(keys.rsa1, use="enc", kid="enc-key"),                 # C77: not for signatures
        _pub(keys.rsa2, alg="RS256", kid="rs256-only"),            # C78: not for PS256
        {"kty": "XYZ", "kid": "weird", "foo": "bar"},              # C79: ignored, rest used
        {"kty": "RSA", "kid": "broken", "n": "!!!", "e": "AQAB"},  # invalid members: ignored
        _pub(keys.ec256, kid="ec"),
        _pub(keys.ed25519, key_ops=["encrypt"], kid="ops"),        # key_ops without verify
    ]}
    shared = {"keys": [_pub(keys.rsa1, kid="shared"), _pub(keys.ec256, kid="shared")]}
    # x5c that does not match n/e: the JWK must be ignored (RFC 7517 4.7)
    x5c_mismatch = {"keys": [_pub(keys.rsa2, kid="mm", x5c=[rsa1_x5c]),
                             _pub(keys.ec384, kid="other")]}
    x5c_match = {"keys": [_pub(keys.rsa1, kid="ok", x5c=[rsa1_x5c])]}
    for name, data in (("mixed", mixed), ("shared", shared), ("x5c-mismatch", x5c_mismatch),
                       ("x5c-match", x5c_match)):
        httpd.write_file("keys/jwks-%s.json" % name, json.dumps(data))
    spec = {
        "mixed": ["ValidateJWTIssuerSigningKey file:keys/jwks-mixed.json"],
        "shared": ["ValidateJWTIssuerSigningKey file:keys/jwks-shared.json"],
        "mismatch": ["ValidateJWTIssuerSigningKey file:keys/jwks-x5c-mismatch.json"],
        "match": ["ValidateJWTIssuerSigningKey file:keys/jwks-x5c-match.json"],
        "jwks-kid": ["ValidateJWTIssuerSigningKey file:keys/jwks.json"],
    }
    # ignoring the odd JWKs may be worth a startup warning
    return httpd.start("jwks", locations(spec),
                       allow_startup=[r"validate_jwt:warn", r"ValidateJWT"])


def test_use_enc_key_not_used_for_signatures(srv, keys):
    """C77: a JWKS key with use "enc" does not verify signatures."""
    r = srv.get("/p/mixed/", mint(keys.rsa1, "RS256"))
    assert r.status == 401, r
    r2 = srv.get("/p/mixed/", mint(keys.rsa1, "RS256", kid="enc-key"))
    assert r2.status == 401, r2
    assert_fail(r, r.vjwt_reason)
    assert r.vjwt_reason in ("TokenSignatureInvalid", "TokenSignatureKeyNotFound")


def test_jwk_alg_binds_key(srv, keys):
    """C78: a JWKS key with alg RS256 verifies RS256 but is not used for a PS256 token."""
    assert_pass(srv.get("/p/mixed/", mint(keys.rsa2, "RS256")))
    assert_fail(srv.get("/p/mixed/", mint(keys.rsa2, "PS256")), "TokenSignatureKeyNotFound")


def test_unparseable_jwk_ignored_rest_used(srv, keys):
    """C79: a JWKS with an unknown kty / invalid member still gives its other keys."""
    assert_pass(srv.get("/p/mixed/", mint(keys.ec256, "ES256")))
    assert_pass(srv.get("/p/mixed/", mint(keys.ec256, "ES256", kid="ec")))


def test_key_ops_without_verify_skipped(srv, keys):
    """docs/conformance.md#key-choice: a JWK whose key_ops lacks "verify" is skipped."""
    assert_fail(srv.get("/p/mixed/", mint(keys.ed25519, "EdDSA")), "TokenSignatureKeyNotFound")


def test_shared_kid_different_kty(srv, keys):
    """docs/conformance.md#key-choice step 5: several keys may share a kid (RSA and EC); each
    verifies its own algorithm."""
    assert_pass(srv.get("/p/shared/", mint(keys.rsa1, "RS256", kid="shared")))
    assert_pass(srv.get("/p/shared/", mint(keys.ec256, "ES256", kid="shared")))


def test_jwks_kid_selection(srv, keys):
    """C43/C44 with JWKS kids: kid "rsa1" tries only that key; an unknown kid falls back to
    all keys."""
    assert_pass(srv.get("/p/jwks-kid/", mint(keys.rsa1, "RS256", kid="rsa1")))
    assert_pass(srv.get("/p/jwks-kid/", mint(keys.rsa1, "RS256", kid="unknown")))
    assert_fail(srv.get("/p/jwks-kid/", mint(keys.rsa2, "RS256", kid="rsa1")),
                "TokenSignatureInvalid")
    assert_fail(srv.get("/p/jwks-kid/", mint(keys.rsa2, "RS256", kid="unknown")),
                "TokenSignatureKeyNotFound")


def test_x5c_mismatch_ignored(srv, keys):
    """RFC 7517 4.7: a JWK whose x5c and n/e differ is ignored: neither key
    verifies."""
    for k in (keys.rsa2, keys.rsa1):
        r = srv.get("/p/mismatch/", mint(k, "RS256"))
        assert r.status == 401, "JWK with mismatching x5c was used: %r" % r
        assert_fail(r, "TokenSignatureKeyNotFound")


def test_x5c_matching_used(srv, keys):
    """A JWK whose x5c matches n/e is used."""
    assert_pass(srv.get("/p/match/", mint(keys.rsa1, "RS256")))
