"""The token cache (README "Token cache"), seen from outside.

A repeated token is judged from the record its first validation left: same status, same
exports, same reason; only the clock is judged again. These tests run one child (the
cache is per child) with LogLevel validate_jwt:debug, so that the VJWT00102 line of a
cached acceptance ends with " cached".

- exports of a cached acceptance equal the first ones (env, headers, output variable);
- a cached token still expires on time, and TokenExpired wins over a wrong audience;
- a rejected token presented again is rejected for the same reason;
- two locations with different rules never share a verdict, nested merges neither;
- a key removed by the identity provider stops verifying cached tokens at the next fetch;
- ValidateJWTTokenCache arguments are checked by configtest.
"""

import re
import time

import pytest

import vjwt_env
from vjwt_env import assert_fail, assert_pass, load_modules
from vjwt_fakeidp import public_jwk
from vjwt_tokens import b64std, hmac_jwk, mint, now

JWKS = "/cache/jwks"
# one child, so that every request sees the same cache
ONE_CHILD = (["ServerLimit 1", "StartServers 1", "MinSpareServers 1", "MaxSpareServers 1",
              "MaxRequestWorkers 1"] if vjwt_env.MPM == "prefork" else
             ["ServerLimit 1", "StartServers 1", "MaxRequestWorkers 10", "ThreadsPerChild 10"])
ISS = "https://cache.fake.test"


@pytest.fixture(scope="module")
def env(httpd, keys, fakeidp):
    # (prefork: one process serves one request at a time and says so once: AH00161)
    F = fakeidp()
    F.add_jwks(JWKS, [public_jwk(keys.ec256, kid="k1"), public_jwk(keys.ec256b, kid="k2")])
    hs = "ValidateJWTIssuerSigningKey %s" % b64std(keys.hs64)
    locs = "\n".join([
        '<Location "/p/hs">',
        "    AuthType JWT", "    Require valid-user", "    " + hs,
        "    ValidateJWTPassClaimsAs both",
        "    ValidateJWTOutputTokenVariableName jwt",
        "    ValidateJWTAudience api://default",
        "</Location>",
        '<Location "/p/other-aud">',
        "    AuthType JWT", "    Require valid-user", "    " + hs,
        "    ValidateJWTAudience api://other",
        "</Location>",
        '<Location "/p/nest">',
        "    AuthType JWT", "    Require valid-user", "    " + hs,
        "</Location>",
        '<Location "/p/nest/inner">',
        "    ValidateJWTRequiredClaim role admin",
        "</Location>",
        '<Location "/p/idp">',
        "    AuthType JWT", "    Require valid-user",
        "    ValidateJWTJWKSURI %s" % F.url(JWKS),
        "</Location>",
    ])
    server_conf = "\n".join([
        load_modules("socache_shmcb"),
        "LogLevel warn validate_jwt:debug",
        "ValidateJWTKeysRefetchInterval 1",
        "ValidateJWTKeysRefreshInterval 2",
    ] + ONE_CHILD)
    srv = httpd.start("token-cache", locs, server_conf=server_conf)
    return {"srv": srv, "F": F}


@pytest.fixture(autouse=True)
def _one_child_busy(expect_log):
    expect_log(r"AH00161")


def _accepted_lines(resp):
    return [l for l in resp.errlog if "VJWT00102" in l]


def test_cached_acceptance_has_the_same_exports(env, keys):
    srv = env["srv"]
    tok = mint(hmac_jwk(keys.hs64), "HS256", role=["a", "b"], name="Ann")
    first = assert_pass(srv.get("/p/hs/", tok))
    second = assert_pass(srv.get("/p/hs/", tok))
    assert not any(l.endswith(" cached") for l in _accepted_lines(first)), first.errlog
    assert any(l.endswith(" cached") for l in _accepted_lines(second)), second.errlog
    e1, e2 = first.env, second.env
    keys_of_interest = [k for k in e1 if k.startswith(("VALIDATE_JWT_CLAIM_", "HTTP_X_JWT_CLAIM_",
                                                       "jwt"))] + ["REMOTE_USER"]
    assert "VALIDATE_JWT_CLAIM_role" in keys_of_interest
    assert "HTTP_X_JWT_CLAIM_NAME" in e1 or "HTTP_X_JWT_CLAIM_name" in e1
    for k in keys_of_interest:
        assert e1.get(k) == e2.get(k), k
    assert e2["jwt"] == tok
    assert e2["VALIDATE_JWT_CLAIM_role"] == "a,b"
    # client claim headers are still stripped on a cached acceptance
    spoofed = assert_pass(srv.get("/p/hs/", tok, headers={"X-JWT-Claim-role": "root"}))
    assert spoofed.env.get("HTTP_X_JWT_CLAIM_ROLE", spoofed.env.get("HTTP_X_JWT_CLAIM_role")) \
        == "a,b"


def test_cached_token_expires_on_time(env, keys):
    srv = env["srv"]
    t = now()
    tok = mint(hmac_jwk(keys.hs64), "HS256", exp=t + 2, nbf=t - 5, iat=t - 5)
    assert_pass(srv.get("/p/hs/", tok))
    assert_pass(srv.get("/p/hs/", tok))
    time.sleep(2.5)
    assert_fail(srv.get("/p/hs/", tok), "TokenExpired")
    # expired and for another audience: TokenExpired, from the cache and afresh alike
    bad_aud = mint(hmac_jwk(keys.hs64), "HS256", aud="api://nope", exp=t + 2, nbf=t - 5, iat=t - 5)
    assert_fail(srv.get("/p/hs/", bad_aud), "TokenExpired")
    assert_fail(srv.get("/p/hs/", bad_aud), "TokenExpired")


def test_rejected_token_again(env, keys):
    srv = env["srv"]
    forged = mint(hmac_jwk(keys.hs64), "HS256")
    forged = forged[:-4] + ("AAAA" if not forged.endswith("AAAA") else "BBBB")
    for _ in range(3):
        assert_fail(srv.get("/p/hs/", forged), "TokenSignatureInvalid")
    wrong_aud = mint(hmac_jwk(keys.hs64), "HS256", aud="api://nope")
    for _ in range(3):
        assert_fail(srv.get("/p/hs/", wrong_aud), "TokenAudienceNotAllowed")


def test_locations_do_not_share_verdicts(env, keys):
    srv = env["srv"]
    tok = mint(hmac_jwk(keys.hs64), "HS256")  # aud api://default
    for _ in range(2):
        assert_pass(srv.get("/p/hs/", tok))
        assert_fail(srv.get("/p/other-aud/", tok), "TokenAudienceNotAllowed")
    # a nested section merges its rules over its parent's: its verdict is its own
    user = mint(hmac_jwk(keys.hs64), "HS256", role="user")
    admin = mint(hmac_jwk(keys.hs64), "HS256", role="admin")
    for _ in range(2):
        assert_pass(srv.get("/p/nest/", user))
        assert_fail(srv.get("/p/nest/inner/", user), "TokenClaimValueNotAllowed")
        assert_pass(srv.get("/p/nest/inner/", admin))


def test_removed_key_stops_cached_tokens(env, keys):
    srv, F = env["srv"], env["F"]
    tok = mint(keys.ec256b, "ES256", kid="k2", iss=ISS)
    assert_pass(srv.get("/p/idp/", tok))
    assert_pass(srv.get("/p/idp/", tok))
    F.set_jwks(JWKS, [public_jwk(keys.ec256, kid="k1")])
    deadline = time.time() + 10
    while time.time() < deadline:
        r = srv.get("/p/idp/", tok)
        if r.status == 401:
            break
        time.sleep(0.3)
    assert_fail(r, "TokenSignatureKeyNotFound")
    assert_pass(srv.get("/p/idp/", mint(keys.ec256, "ES256", kid="k1", iss=ISS)))


@pytest.mark.parametrize("args,ok", [
    ("On", True), ("Off", True), ("On 100", True), ("On 100 64K", True), ("On 5000 16M", True),
    ("On 100 1G", True), ("On 100 1000", False), ("On 100 2G", False), ("On 100 10X", False),
    ("On 100 M", False), ("On 0", False), ("Maybe", False),
])
def test_configtest(httpd, args, ok):
    rc, out, _, _ = httpd.configtest(server_conf="ValidateJWTTokenCache %s" % args)
    if ok:
        assert rc == 0, out
    else:
        assert rc != 0
        assert re.search(r"line \d+ of .*ValidateJWTTokenCache", out, re.S), out
