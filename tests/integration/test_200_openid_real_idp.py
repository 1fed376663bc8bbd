"""Keys from a real OpenID Provider (docs/conformance.md C66, C67, C68, C71, C75, C76).

The provider is panva's oidc-provider 9.13.3 (tests/idp/idp.mjs, node) on a free
loopback port. It issues RFC 9068 access tokens (typ at+jwt, aud = the default resource
indicator, iss = http://127.0.0.1:PORT) for client_credentials, signed with RS256, PS256,
ES256 or EdDSA; its discovery document names /jwks. httpd finds the keys only through
`ValidateJWTOpenIDConfig` / `ValidateJWTJWKSURI`.

Rotation is done in place: the IdP re-reads its key file on SIGHUP.
"""

import time
import uuid

import pytest

import vjwt_idp
from vjwt_env import assert_fail, assert_pass, load_modules, locations
from vjwt_idp import DEFAULT_RESOURCE
from vjwt_tokens import mint

REFETCH = 1
REFRESH = 2   # every child re-reads the keys (shared cache or fetch) this often
ALGS = ("RS256", "PS256", "ES256", "EdDSA")


@pytest.fixture(scope="module")
def rot_idp(tmp_path_factory):
    """A real IdP owned by the rotation test (its keys change)."""
    ok, why = vjwt_idp.idp_available()
    if not ok:
        pytest.fail("real OpenID Provider unavailable: %s" % why, pytrace=False)
    p = vjwt_idp.OidcProvider(str(tmp_path_factory.mktemp("idp-rot")), prefix="r1").start()
    yield p
    p.stop()


@pytest.fixture(scope="module")
def srv(httpd, keys, real_idp, real_idp2, rot_idp):
    aud = "ValidateJWTAudience %s" % DEFAULT_RESOURCE
    spec = {
        # C66: keys of the discovery document's jwks_uri; issuer from discovery (C67)
        "idp": ["ValidateJWTOpenIDConfig %s" % real_idp.discovery, aud],
        # C75: two discovery documents: keys and issuers of both
        "two": ["ValidateJWTOpenIDConfig %s" % real_idp.discovery,
                "ValidateJWTOpenIDConfig %s" % real_idp2.discovery, aud],
        # C67: keys of idp2 (JWKS URL, no issuer), issuer of idp1 only
        "keys2-iss1": ["ValidateJWTOpenIDConfig %s" % real_idp.discovery,
                       "ValidateJWTJWKSURI %s/jwks" % real_idp2.issuer, aud],
        # C68: discovery issuer + listed issuer (union); C76: + a static key
        "plus": ["ValidateJWTOpenIDConfig %s" % real_idp.discovery,
                 "ValidateJWTIssuer https://issuer.example/",
                 "ValidateJWTIssuerSigningKey file:keys/rsa1.pub.pem", aud],
        # a JWKS URL alone: keys, no issuer check
        "jwksuri": ["ValidateJWTJWKSURI %s/jwks" % real_idp.issuer, aud],
        "wrong-aud": ["ValidateJWTOpenIDConfig %s" % real_idp.discovery,
                      "ValidateJWTAudience https://other.example/"],
        "rot": ["ValidateJWTOpenIDConfig %s" % rot_idp.discovery, aud],
    }
    server_conf = "\n".join([
        load_modules("socache_shmcb"),
        "ValidateJWTKeysRefetchInterval %d" % REFETCH,
        "ValidateJWTKeysRefreshInterval %d" % REFRESH,
        "ValidateJWTFetchTimeout 2 4",
    ])
    return httpd.start("openid-real-idp", locations(spec), server_conf=server_conf)


@pytest.mark.parametrize("alg", ALGS)
def test_real_idp_access_token_accepted(srv, real_idp, alg):
    """C66: an oidc-provider access token (typ at+jwt) signed with alg verifies with the
    key published at the discovery document's jwks_uri."""
    tok = real_idp.token(alg)
    r = assert_pass(srv.get("/p/idp/", tok))
    assert r.env.get("REMOTE_USER") == "client-%s" % alg.lower()
    assert r.env.get("VALIDATE_JWT_CLAIM_iss") == real_idp.issuer


@pytest.mark.parametrize("alg", ALGS)
def test_jwks_uri_keys(srv, real_idp, alg):
    """ValidateJWTJWKSURI: the IdP's JWKS URL alone gives the keys."""
    assert_pass(srv.get("/p/jwksuri/", real_idp.token(alg)))


def test_tampered_real_token_rejected(srv, real_idp):
    """A bit flip in a real token's signature fails (the keys are really checked)."""
    from vjwt_tokens import flip_sig_bit
    tok = real_idp.token("ES256")
    assert_fail(srv.get("/p/idp/", flip_sig_bit(tok, 5)), "TokenSignatureInvalid")


def test_wrong_audience_rejected(srv, real_idp):
    """The token's aud (the default resource) is checked against ValidateJWTAudience."""
    assert_fail(srv.get("/p/wrong-aud/", real_idp.token("RS256")), "TokenAudienceNotAllowed")


def test_other_issuer_rejected(srv, real_idp, real_idp2):
    """C67: with the issuer from idp1's discovery document only, a token of idp2 whose
    signature verifies (idp2's keys are configured by JWKS URL) fails with
    TokenIssuerNotAllowed; idp1's token passes."""
    assert_pass(srv.get("/p/keys2-iss1/", real_idp.token("RS256")))
    assert_fail(srv.get("/p/keys2-iss1/", real_idp2.token("RS256")), "TokenIssuerNotAllowed")


def test_other_issuer_rejected_own_key(srv, keys, real_idp):
    """C67: a token signed by a configured key but with an iss that is neither the
    discovery issuer nor listed fails with TokenIssuerNotAllowed."""
    tok = mint(keys.rsa1, "RS256", iss="https://evil.example/", aud=DEFAULT_RESOURCE)
    assert_fail(srv.get("/p/plus/", tok), "TokenIssuerNotAllowed")


def test_two_discovery_documents(srv, real_idp, real_idp2):
    """C75: with two ValidateJWTOpenIDConfig, tokens of both IdPs pass (keys and issuers
    of both documents)."""
    for alg in ALGS:
        assert_pass(srv.get("/p/two/", real_idp.token(alg)))
        assert_pass(srv.get("/p/two/", real_idp2.token(alg)))


def test_discovery_issuer_and_listed_issuer(srv, keys, real_idp):
    """C68: discovery issuer and ValidateJWTIssuer are both accepted (union)."""
    assert_pass(srv.get("/p/plus/", real_idp.token("PS256")))
    tok = mint(keys.rsa1, "RS256", iss="https://issuer.example/", aud=DEFAULT_RESOURCE)
    assert_pass(srv.get("/p/plus/", tok))


def test_discovery_and_static_key(srv, keys, real_idp):
    """C76: openid-config keys and a ValidateJWTIssuerSigningKey together: tokens signed
    by either pass (the static key's token carries the discovery issuer)."""
    assert_pass(srv.get("/p/plus/", real_idp.token("EdDSA")))
    tok = mint(keys.rsa1, "RS256", iss=real_idp.issuer, aud=DEFAULT_RESOURCE)
    assert_pass(srv.get("/p/plus/", tok))
    # a key from neither source
    bad = mint(keys.rsa_attacker, "RS256", kid="nope", iss=real_idp.issuer,
               aud=DEFAULT_RESOURCE)
    assert_fail(srv.get("/p/plus/", bad), "TokenSignatureKeyNotFound")


def _until_accepted(srv, token, within=2.0):
    """The first answer to token that is not a 401 TokenSignatureKeyNotFound, within the
    given seconds. An unknown kid refetches at once unless this child's background refresh
    of the source is fetching at that very moment: a request never waits for another
    thread's fetch (README "Keys from OpenID discovery and JWKS URLs"), it is judged on the keys the
    child has, and the refresh installs the new ones a few milliseconds later."""
    deadline = time.time() + within
    while True:
        r = srv.get("/p/rot/", token)
        if r.status != 401 or r.vjwt_reason != "TokenSignatureKeyNotFound" or \
                time.time() > deadline:
            return r
        time.sleep(0.05)


def test_rotation_by_sighup(srv, keys, rot_idp):
    """C71, C70 with a real IdP: after the IdP rotates its keys (SIGHUP), tokens with the
    new kids are accepted (an unknown kid makes httpd refetch at once, or the background
    refresh got them first); the old keys keep working while they are published; once
    they are removed, tokens signed with them are rejected in every child within the
    refresh interval (2 s)."""
    gen1 = rot_idp.read_keys()
    old = {alg: rot_idp.token(alg) for alg in ALGS}
    for alg in ALGS:
        assert_pass(srv.get("/p/rot/", old[alg]))

    # step 1: new keys first (used for signing), old keys still published
    gen2 = rot_idp.genkeys("r2")
    rot_idp.rotate({"keys": gen2["keys"] + gen1["keys"]})
    assert rot_idp.published_kids()[0] == "r2-rs256"
    new = {alg: rot_idp.token(alg) for alg in ALGS}
    time.sleep(REFETCH + 0.3)
    for alg in ALGS:
        assert_pass(_until_accepted(srv, new[alg]))
        assert_pass(srv.get("/p/rot/", old[alg]))

    # step 2: old keys removed
    rot_idp.rotate({"keys": gen2["keys"]})
    t_removed = time.time()
    time.sleep(REFETCH + 0.3)
    # an unknown kid makes the child that gets it refetch (the key set now lacks r1-*)
    probe = mint(keys.rsa_attacker, "RS256", kid="probe-" + uuid.uuid4().hex,
                 iss=rot_idp.issuer, aud=DEFAULT_RESOURCE)
    assert_fail(srv.get("/p/rot/", probe), "TokenSignatureKeyNotFound")
    # every child drops the old keys by its next refresh; poll until 8 requests in a row
    # (fresh connections, spread over the children) refuse the old token
    deadline = t_removed + REFRESH * 2 + 2
    streak, last = 0, None
    while streak < 8 and time.time() < deadline:
        last = srv.get("/p/rot/", old["ES256"])
        streak = streak + 1 if last.status == 401 else 0
        if last.status != 401:
            time.sleep(0.1)
    assert streak >= 8, "old key still accepted %.1f s after its removal: %r" % (
        time.time() - t_removed, last)
    print("old key refused everywhere %.1f s after its removal" % (time.time() - t_removed))
    for alg in ALGS:
        assert_fail(srv.get("/p/rot/", old[alg]), "TokenSignatureKeyNotFound")
        assert_pass(srv.get("/p/rot/", new[alg]))
