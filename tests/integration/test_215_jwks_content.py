"""What a fetched JWKS and discovery document contribute (docs/conformance.md C77, C78, C79,
C81; RFC 7517): `use`/`key_ops`/`alg` are respected, unusable JWKs are skipped (one
warn line each, VJWT00202) while the others are used, an x5c-only RSA JWK works, and a
discovery issuer with `{tenantid}` matches the token's `tid`.
"""

import base64
import re

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from vjwt_env import (JWK_SKIP_RE, assert_fail, assert_pass, load_modules, locations,
                      log_level)
from vjwt_fakeidp import public_jwk
from vjwt_tokens import mint

TENANT_ISS = "https://login.fake.test/{tenantid}/v2.0"


def _tenant_iss(tid):
    return TENANT_ISS.replace("{tenantid}", tid)


@pytest.fixture(scope="module")
def env(httpd, keys, fakeidp):
    F = fakeidp()
    crt = x509.load_pem_x509_certificate(open(httpd.path("keys/rsa1.crt.pem"), "rb").read())
    rsa1_x5c = base64.b64encode(crt.public_bytes(Encoding.DER)).decode()
    F.add_jwks("/mixed/jwks", [
        public_jwk(keys.rsa1, use="enc", kid="enc-key"),                # C77
        public_jwk(keys.rsa2, alg="RS256", kid="rs256-only"),           # C78
        {"kty": "XYZ", "kid": "weird", "foo": "bar"},                   # C79
        {"kty": "RSA", "kid": "broken", "n": "!!!", "e": "AQAB"},       # bad members
        public_jwk(keys.ec256, kid="ec"),
        public_jwk(keys.ed25519, key_ops=["encrypt"], kid="ops"),       # no "verify"
    ])
    F.add_jwks("/x5c/jwks", [
        {"kty": "RSA", "kid": "x5c-only", "use": "sig", "x5c": [rsa1_x5c]},
        public_jwk(keys.rsa2, kid="mm", x5c=[rsa1_x5c]),                # x5c != n/e
    ])
    F.add_jwks("/tenant/jwks", [public_jwk(keys.ec256, kid="t")])
    F.add_discovery("/tenant/.well-known/openid-configuration", TENANT_ISS, "/tenant/jwks")
    spec = {
        "mixed": ["ValidateJWTJWKSURI %s" % F.url("/mixed/jwks")],
        "x5c": ["ValidateJWTJWKSURI %s" % F.url("/x5c/jwks")],
        "tenant": ["ValidateJWTOpenIDConfig %s" % F.url("/tenant/.well-known/openid-configuration")],
        # a configured issuer with the same text is compared literally
        "static-tenant": ["ValidateJWTIssuerSigningKey file:keys/ec256.pub.pem",
                          "ValidateJWTIssuer %s" % TENANT_ISS],
    }
    server_conf = "\n".join([
        load_modules("socache_shmcb"),
        "ValidateJWTKeysRefetchInterval 1",
        "ValidateJWTKeysRefreshInterval 3600",
        "ValidateJWTFetchTimeout 2 4",
    ])
    srv = httpd.start("jwks-content", locations(spec), server_conf=server_conf,
                      allow_startup=[JWK_SKIP_RE])
    return {"srv": srv, "F": F}


@pytest.fixture(autouse=True)
def _skip_lines_expected(expect_log):
    # the JWKs skipped at each fetch of /mixed/jwks and /x5c/jwks
    expect_log(JWK_SKIP_RE)


def test_use_enc_not_used(env, keys):
    """C77: a JWKS key with use "enc" does not verify signatures (with or without its kid)."""
    srv = env["srv"]
    r = srv.get("/p/mixed/", mint(keys.rsa1, "RS256"))
    assert r.status == 401, "use=enc key verified a signature: %r" % r
    # without kid the RS256-only key is tried (and fails)
    assert_fail(r, r.vjwt_reason)
    assert r.vjwt_reason in ("TokenSignatureInvalid", "TokenSignatureKeyNotFound"), r
    assert_fail(srv.get("/p/mixed/", mint(keys.rsa1, "RS256", kid="enc-key")),
                "TokenSignatureKeyNotFound")


def test_alg_binds_key(env, keys):
    """C78: a JWKS key with alg RS256 verifies RS256 but not a PS256 token."""
    srv = env["srv"]
    assert_pass(srv.get("/p/mixed/", mint(keys.rsa2, "RS256", kid="rs256-only")))
    assert_pass(srv.get("/p/mixed/", mint(keys.rsa2, "RS256")))
    r = srv.get("/p/mixed/", mint(keys.rsa2, "PS256", kid="rs256-only"))
    assert r.status == 401, "alg RS256 key verified PS256: %r" % r
    assert_fail(srv.get("/p/mixed/", mint(keys.rsa2, "PS256")), "TokenSignatureKeyNotFound")


def test_unusable_jwks_skipped_rest_used(env, keys):
    """C79: unknown kty and invalid members: those JWKs are skipped, the others used; each
    skipped JWK is logged at warn (VJWT00202) once per fetch, naming its kid."""
    srv, F = env["srv"], env["F"]
    assert_pass(srv.get("/p/mixed/", mint(keys.ec256, "ES256", kid="ec")))
    assert_pass(srv.get("/p/mixed/", mint(keys.ec256, "ES256")))
    fetches = F.hits("/mixed/jwks")
    log = srv.read_errlog().splitlines()
    for kid in ("weird", "broken"):
        lines = [l for l in log if re.search(JWK_SKIP_RE, l) and kid in l]
        assert lines, "skipped JWK %r not logged (VJWT00202 naming the kid)" % kid
        for l in lines:
            assert log_level(l)[1] == "warn", l
        assert len(lines) <= fetches, "JWK %r logged %d times for %d fetches:\n%s" % (
            kid, len(lines), fetches, "\n".join(lines))


def test_key_ops_without_verify_skipped(env, keys):
    """RFC 7517 4.3: a JWK whose key_ops lacks "verify" is not used."""
    assert_fail(env["srv"].get("/p/mixed/", mint(keys.ed25519, "EdDSA", kid="ops")),
                "TokenSignatureKeyNotFound")


def test_x5c_only_rsa_key(env, keys):
    """An RSA JWK with only x5c (no n/e) verifies with the certificate's key."""
    srv = env["srv"]
    assert_pass(srv.get("/p/x5c/", mint(keys.rsa1, "RS256", kid="x5c-only")))
    assert_pass(srv.get("/p/x5c/", mint(keys.rsa1, "PS256")))


def test_x5c_mismatch_skipped(env, keys):
    """RFC 7517 4.7: a JWK whose x5c and n/e disagree is not used."""
    r = env["srv"].get("/p/x5c/", mint(keys.rsa2, "RS256", kid="mm"))
    assert r.status == 401, "JWK with mismatching x5c verified: %r" % r


def test_tenantid_issuer(env, keys):
    """C81: discovery issuer https://login.fake.test/{tenantid}/v2.0 accepts a token whose
    iss is that with {tenantid} replaced by its tid claim."""
    srv = env["srv"]
    for tid in ("72f988bf-86f1-41af-91ab-2d7cd011db47", "contoso"):
        assert_pass(srv.get("/p/tenant/", mint(keys.ec256, "ES256", kid="t",
                                               iss=_tenant_iss(tid), tid=tid)))


@pytest.mark.parametrize("case", ["tid-mismatch", "no-tid", "other-host"])
def test_tenantid_issuer_mismatch(env, keys, case):
    """C81: the substitution uses the token's own tid; anything else is
    TokenIssuerNotAllowed."""
    iss, tid = {
        "tid-mismatch": (_tenant_iss("tenant-a"), "tenant-b"),
        "no-tid": (_tenant_iss("tenant-a"), None),
        "other-host": ("https://login.other.test/tenant-a/v2.0", "tenant-a"),
    }[case]
    tok = mint(keys.ec256, "ES256", kid="t", iss=iss, tid=tid)
    assert_fail(env["srv"].get("/p/tenant/", tok), "TokenIssuerNotAllowed")


def test_tenantid_not_substituted_in_configured_issuer(env, keys):
    """docs/conformance.md#audience-issuer: {tenantid} is replaced only in issuers from discovery
    documents, never in ValidateJWTIssuer values."""
    srv = env["srv"]
    tok = mint(keys.ec256, "ES256", iss=_tenant_iss("tenant-a"), tid="tenant-a")
    assert_fail(srv.get("/p/static-tenant/", tok), "TokenIssuerNotAllowed")
    assert_pass(srv.get("/p/static-tenant/", mint(keys.ec256, "ES256", iss=TENANT_ISS)))
