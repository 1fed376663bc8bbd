"""Background refresh and ValidateJWTKeysMaxStale (docs/conformance.md C70, C73, C74).

Server-wide: refresh every 1 s, refetch floor 1 s, keys unusable 3 s after their last
successful fetch.
"""

import time

import pytest

from vjwt_env import (FETCH_FAIL_RE, assert_pass, assert_unavailable, load_modules, locations,
                      wait_errlog)
from vjwt_fakeidp import public_jwk
from vjwt_tokens import mint

REFRESH = 1
REFETCH = 1
MAX_STALE = 3


@pytest.fixture(scope="module")
def env(httpd, keys, fakeidp):
    A = fakeidp()    # goes down (stale test)
    B = fakeidp()    # stays up (refresh counting)
    A.add_jwks("/a/jwks", [public_jwk(keys.ec256, kid="a")])
    B.add_jwks("/b/jwks", [public_jwk(keys.ec256, kid="b")])
    spec = {"a": ["ValidateJWTJWKSURI %s" % A.url("/a/jwks")],
            "b": ["ValidateJWTJWKSURI %s" % B.url("/b/jwks")],
            "static-a": ["ValidateJWTJWKSURI %s" % A.url("/a/jwks"),
                         "ValidateJWTIssuerSigningKey file:keys/rsa1.pub.pem"]}
    server_conf = "\n".join([
        load_modules("socache_shmcb"),
        "ValidateJWTKeysRefreshInterval %d" % REFRESH,
        "ValidateJWTKeysRefetchInterval %d" % REFETCH,
        "ValidateJWTKeysMaxStale %d" % MAX_STALE,
        "ValidateJWTFetchTimeout 1 2",
    ])
    srv = httpd.start("refresh-stale", locations(spec), server_conf=server_conf)
    return {"srv": srv, "A": A, "B": B}


def test_refresh_interval(env, keys):
    """C70: after the refresh interval the JWKS is fetched again, in the background
    (about once per interval, never more often than the refetch floor)."""
    srv, B = env["srv"], env["B"]
    assert_pass(srv.get("/p/b/", mint(keys.ec256, "ES256", kid="b")))
    n0 = B.hits("/b/jwks")
    time.sleep(4.0)
    n1 = B.hits("/b/jwks")
    times = B.hit_times("/b/jwks")
    gaps = [round(y - x, 2) for x, y in zip(times, times[1:])]
    print("refresh interval %d s: %d fetches in 4 s, gaps %s" % (REFRESH, n1 - n0, gaps))
    assert 2 <= n1 - n0 <= 6, "expected about 4 refreshes in 4 s, got %d (gaps %s)" % (
        n1 - n0, gaps)
    assert_pass(srv.get("/p/b/", mint(keys.ec256, "ES256", kid="b")))


def test_max_stale(env, keys, expect_log):
    """C73 + ValidateJWTKeysMaxStale: while the IdP is down, cached keys verify until they
    are MaxStale seconds old; then 503 KeysUnavailable (C74) with Retry-After, except for
    tokens a static key verifies; when the IdP is back, tokens pass without a restart."""
    srv, A = env["srv"], env["A"]
    expect_log(FETCH_FAIL_RE)
    tok = mint(keys.ec256, "ES256", kid="a")
    assert_pass(srv.get("/p/a/", tok))
    pos = srv.errlog_size()
    A.down()
    try:
        last_ok = max(A.hit_times("/a/jwks"))
        # well inside MaxStale: still served from the cache
        assert time.time() - last_ok < MAX_STALE - 1
        assert_pass(srv.get("/p/a/", tok))
        assert wait_errlog(srv, FETCH_FAIL_RE, pos, timeout=3), "failed refresh not logged"
        # wait until the keys are stale
        deadline = last_ok + MAX_STALE + 4
        first_503 = None
        while time.time() < deadline:
            r = srv.get("/p/a/", tok)
            if r.status == 503:
                first_503 = time.time()
                break
            assert_pass(r)
            time.sleep(0.2)
        assert first_503 is not None, "keys still used %.1f s after the last fetch" % (
            time.time() - last_ok)
        age = first_503 - last_ok
        print("keys became unusable %.2f s after the last successful fetch (MaxStale %d)"
              % (age, MAX_STALE))
        assert age >= MAX_STALE - 0.2, "keys dropped after %.2f s < MaxStale" % age
        assert_unavailable(r, REFETCH)
        # a static key still verifies its own tokens
        assert_pass(srv.get("/p/static-a/", mint(keys.rsa1, "RS256")))
        assert_unavailable(srv.get("/p/static-a/", tok), REFETCH)
    finally:
        A.up()
    deadline = time.time() + REFETCH + REFRESH + 3
    while True:
        r = srv.get("/p/a/", tok)
        if r.status == 200 or time.time() > deadline:
            break
        time.sleep(0.2)
    assert_pass(r)
