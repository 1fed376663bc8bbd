"""Which key may verify which token (README "Key choice"), against the real httpd:

* issuer binding: a token whose iss is the discovered issuer of an OpenID source is verified
  only by that source's keys and the static keys of the location, never by another
  identity provider's keys configured in the same location (two FakeIdPs); a token whose
  iss is no discovered issuer may still be verified by every key;
* kid binding: a kid that names a key of another type does not fall back to the other keys
  of the set (TokenSignatureInvalid); a kid that names no key still does;
* lenient JWK members: key sets shaped like Battle.net's (n in standard base64 with
  padding) and Google's of August 2023 (n in base64url with padding) load, tokens minted by
  jwcrypto verify, and the lenient decoding is logged once per fetched set (VJWT00220) or
  configured file (VJWT00040).
"""

import json
import re

import pytest

from vjwt_env import assert_fail, assert_pass, assert_unavailable, load_modules, locations
from vjwt_fakeidp import public_jwk
from vjwt_tokens import mint

ISS_A = "https://idp-a.fake.test"
ISS_B = "https://idp-b.fake.test"
ISS_STATIC = "https://static.fake.test"
TENANT_ISS = "https://login-t.fake.test/{tenantid}/v2.0"


def _std_b64(url):
    """base64url (no padding) -> standard base64 with padding, as Battle.net publishes n."""
    s = url.replace("-", "+").replace("_", "/")
    return s + "=" * (-len(s) % 4)


def _padded(url):
    """base64url with '=' padding, as Google served n in August 2023."""
    return url + "=" * (-len(url) % 4)


@pytest.fixture(scope="module")
def env(httpd, keys, fakeidp):
    A, B = fakeidp(), fakeidp()
    A.add_jwks("/a/jwks", [public_jwk(keys.rsa1, kid="a1")])
    A.add_discovery("/a/.well-known/openid-configuration", ISS_A, "/a/jwks")
    B.add_jwks("/b/jwks", [public_jwk(keys.rsa2, kid="b1"), public_jwk(keys.ed25519, kid="b2")])
    B.add_discovery("/b/.well-known/openid-configuration", ISS_B, "/b/jwks")
    B.add_jwks("/c/jwks", [public_jwk(keys.ec256b, kid="c1")])
    B.add_jwks("/t/jwks", [public_jwk(keys.ed25519b, kid="t1")])
    B.add_discovery("/t/.well-known/openid-configuration", TENANT_ISS, "/t/jwks")
    # kid binding: an RSA key and an EC key in one set
    A.add_jwks("/kid/jwks", [public_jwk(keys.rsa1, kid="shared-r"),
                             public_jwk(keys.ec256, kid="e")])
    # lenient members
    n1 = public_jwk(keys.rsa1)["n"]
    n2 = public_jwk(keys.rsa2)["n"]
    A.add_jwks("/bnet/jwks", [public_jwk(keys.rsa1, kid="bnet", n=_std_b64(n1), alg="RS256",
                                         use="sig")])
    A.add_jwks("/google/jwks", [public_jwk(keys.rsa2, kid="g1", n=_padded(n2), alg="RS256",
                                           use="sig"),
                                public_jwk(keys.ec256, kid="g2")])
    # garbage stays garbage: the only key of this set is skipped, the set refused
    A.add_jwks("/garbage/jwks", [public_jwk(keys.rsa1, kid="junk", n="!!" + _std_b64(n1)),
                                 public_jwk(keys.ec256, kid="junk2", x=" " + public_jwk(keys.ec256)["x"])])
    lenient_file = httpd.write_file("keys/lenient-260.jwks.json", json.dumps(
        {"keys": [public_jwk(keys.rsa2, kid="file-r", n=_std_b64(n2))]}))
    spec = {
        "bind": ["ValidateJWTOpenIDConfig %s" % A.url("/a/.well-known/openid-configuration"),
                 "ValidateJWTOpenIDConfig %s" % B.url("/b/.well-known/openid-configuration"),
                 "ValidateJWTOpenIDConfig %s" % B.url("/t/.well-known/openid-configuration"),
                 "ValidateJWTJWKSURI %s" % B.url("/c/jwks"),
                 "ValidateJWTIssuerSigningKey file:keys/ec256.pub.pem",
                 "ValidateJWTIssuer %s" % ISS_STATIC],
        "kid": ["ValidateJWTJWKSURI %s" % A.url("/kid/jwks")],
        "bnet": ["ValidateJWTJWKSURI %s" % A.url("/bnet/jwks")],
        "google": ["ValidateJWTJWKSURI %s" % A.url("/google/jwks")],
        "file": ["ValidateJWTIssuerSigningKey file:%s" % lenient_file],
        "garbage": ["ValidateJWTJWKSURI %s" % A.url("/garbage/jwks")],
    }
    server_conf = "\n".join([
        load_modules("socache_shmcb"),
        "ValidateJWTKeysRefetchInterval 1",
        "ValidateJWTKeysRefreshInterval 3600",
        "ValidateJWTFetchTimeout 2 4",
    ])
    srv = httpd.start("key-binding", locations(spec), server_conf=server_conf)
    yield {"srv": srv, "A": A, "B": B}
    # the refused /garbage/jwks set is retried every second: no noise for later modules
    httpd.stop()


@pytest.fixture(autouse=True)
def _garbage_set_lines(expect_log):
    # the refused /garbage/jwks set, fetched in the background at any time
    expect_log(r"(VJWT00201|VJWT00202).*/garbage/jwks")


def test_issuer_binds_discovered_keys(env, keys):
    """A token with IdP A's iss signed by IdP B's key (same location) is refused, with or
    without B's kid; A's own key and the location's static key verify it."""
    srv = env["srv"]
    assert_pass(srv.get("/p/bind/", mint(keys.rsa1, "RS256", kid="a1", iss=ISS_A)))
    assert_pass(srv.get("/p/bind/", mint(keys.rsa1, "RS256", iss=ISS_A)))
    assert_pass(srv.get("/p/bind/", mint(keys.rsa2, "RS256", kid="b1", iss=ISS_B)))
    # B's key, A's issuer
    assert_fail(srv.get("/p/bind/", mint(keys.rsa2, "RS256", iss=ISS_A)),
                "TokenSignatureInvalid")
    assert_fail(srv.get("/p/bind/", mint(keys.rsa2, "RS256", kid="b1", iss=ISS_A)),
                "TokenSignatureKeyNotFound")
    assert_fail(srv.get("/p/bind/", mint(keys.ed25519, "EdDSA", kid="b2", iss=ISS_A)),
                "TokenSignatureKeyNotFound")
    # A's key, B's issuer
    assert_fail(srv.get("/p/bind/", mint(keys.rsa1, "RS256", kid="a1", iss=ISS_B)),
                "TokenSignatureKeyNotFound")
    # a JWKS URL's key (no discovered issuer) does not verify A's tokens either
    r = srv.get("/p/bind/", mint(keys.ec256b, "ES256", kid="c1", iss=ISS_A))
    assert_fail(r, r.vjwt_reason)
    assert r.vjwt_reason in ("TokenSignatureInvalid", "TokenSignatureKeyNotFound"), r
    # the static key of the location does
    assert_pass(srv.get("/p/bind/", mint(keys.ec256, "ES256", iss=ISS_A)))
    assert_pass(srv.get("/p/bind/", mint(keys.ec256, "ES256", iss=ISS_B)))


def test_tenant_template_binds(env, keys):
    """A {tenantid} discovery issuer binds its keys to tokens whose iss it matches with their
    tid (the same matching as the issuer check)."""
    srv = env["srv"]
    iss = TENANT_ISS.replace("{tenantid}", "t-42")
    assert_pass(srv.get("/p/bind/", mint(keys.ed25519b, "EdDSA", kid="t1", iss=iss, tid="t-42")))
    assert_fail(srv.get("/p/bind/", mint(keys.ed25519, "EdDSA", iss=iss, tid="t-42")),
                "TokenSignatureInvalid")


def test_other_issuer_keeps_every_key(env, keys):
    """An iss that is no discovered issuer (here a configured one) may be verified by any
    key of the location, as before: e.g. Entra v1 tokens with v2 discovery keys."""
    srv = env["srv"]
    assert_pass(srv.get("/p/bind/", mint(keys.rsa2, "RS256", kid="b1", iss=ISS_STATIC)))
    assert_pass(srv.get("/p/bind/", mint(keys.rsa1, "RS256", iss=ISS_STATIC)))
    assert_pass(srv.get("/p/bind/", mint(keys.ec256b, "ES256", kid="c1", iss=ISS_STATIC)))


def test_kid_of_other_type_does_not_fall_back(env, keys):
    """kid = an RSA key's id, alg ES256, signed with the set's EC key: refused
    (TokenSignatureInvalid); a kid that names no key still tries every key."""
    srv = env["srv"]
    assert_fail(srv.get("/p/kid/", mint(keys.ec256, "ES256", kid="shared-r")),
                "TokenSignatureInvalid")
    assert_pass(srv.get("/p/kid/", mint(keys.ec256, "ES256", kid="e")))
    assert_pass(srv.get("/p/kid/", mint(keys.ec256, "ES256")))
    assert_pass(srv.get("/p/kid/", mint(keys.ec256, "ES256", kid="no-such-kid")))
    assert_pass(srv.get("/p/kid/", mint(keys.rsa1, "RS256", kid="shared-r")))


def test_lenient_sets_load(env, keys):
    """Key sets shaped like Battle.net's and Google's verify jwcrypto tokens; each fetched
    set is reported once per fetch (VJWT00220, notice), naming the URL."""
    srv, A = env["srv"], env["A"]
    assert_pass(srv.get("/p/bnet/", mint(keys.rsa1, "RS256", kid="bnet")))
    assert_pass(srv.get("/p/google/", mint(keys.rsa2, "RS256", kid="g1")))
    assert_pass(srv.get("/p/google/", mint(keys.ec256, "ES256", kid="g2")))
    log = srv.read_errlog().splitlines()
    for path in ("/bnet/jwks", "/google/jwks"):
        lines = [l for l in log if "VJWT00220" in l and A.url(path) in l]
        assert lines, "no VJWT00220 line for %s" % path
        assert len(lines) <= A.hits(path), lines
        assert all("[validate_jwt:notice]" in l for l in lines), lines
    # tokens stay strict: a padded signature segment is not base64url
    tok = mint(keys.rsa1, "RS256", kid="bnet")
    assert_fail(srv.get("/p/bnet/", tok + "="), "JwtInvalid")


def test_lenient_file_loads(env, keys):
    """A configured JWKS file with a standard-base64 n loads; the glue says so once at
    startup (VJWT00040)."""
    srv = env["srv"]
    assert_pass(srv.get("/p/file/", mint(keys.rsa2, "RS256", kid="file-r")))
    lines = [l for l in srv.startup_lines if "VJWT00040" in l]
    assert lines and re.search(r"lenient-260\.jwks\.json", lines[0]), srv.startup_lines


def test_garbage_members_refused(env, keys):
    """Members with characters outside both alphabets (or whitespace) are still refused: the
    set has no usable key, requests get 503, and the skipped keys are logged (VJWT00202)
    without harm to the child (the notes outlive the refused set)."""
    srv = env["srv"]
    for _ in range(3):
        assert_unavailable(srv.get("/p/garbage/", mint(keys.rsa1, "RS256", kid="junk")), 1)
    log = srv.read_errlog()
    assert re.search(r"VJWT00202.*junk/0: \"n\" is not valid base64url", log), log
    assert re.search(r"VJWT00202.*junk2/1: \"x\" is not valid base64url", log), log
