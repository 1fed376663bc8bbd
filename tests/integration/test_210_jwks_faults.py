"""IdP faults while fetching discovery documents and JWKS (docs/conformance.md C69, C70, C71,
C73), against our own fault-injecting server (vjwt_fakeidp.FakeIdP).

Every fault is tried after keys were fetched (test_fault_keeps_cached_keys): the fault
is switched on, an unknown-kid token makes httpd refetch (the refetch interval is 1 s),
the fetch fails, is logged (VJWT00201, warn), and the cached keys keep verifying; a token
signed by a key only the faulty answer holds (or a tampered token) never passes; after
the fault, the source works again. Faults from the start (no keys ever, 503) are in
test_211_jwks_faults_cold.py.

No fault may crash httpd (the guard looks for "exit signal"/segfault after each test, and
the last test reads the whole log).
"""

import time
import uuid

import pytest
from jwcrypto import jwk

from vjwt_env import (FETCH_FAIL_RE, assert_fail, assert_pass, crash_lines, load_modules,
                      locations, log_level, wait_errlog)
from vjwt_fakeidp import KeySource, faults, public_jwk
from vjwt_tokens import flip_sig_bit, mint

REFETCH = 1          # ValidateJWTKeysRefetchInterval
CONNECT_TIMEOUT = 1  # ValidateJWTFetchTimeout CONNECT TOTAL
TOTAL_TIMEOUT = 2
SLOW = TOTAL_TIMEOUT + 1.5

FAULTS = faults(SLOW)


def _src(idp, keys, fault):
    return KeySource(idp, fault, keys.ec256, disc=(FAULTS[fault][0] == "disc"))


@pytest.fixture(scope="module")
def env(httpd, keys, fakeidp):
    F = fakeidp()                # faults after the keys were fetched
    D = fakeidp()                # listener stopped after the keys were fetched
    warm = {n: _src(F, keys, n) for n in FAULTS}
    down_warm = KeySource(D, "down-warm", keys.ec256, disc=True)
    redirected = KeySource(F, "redirected", keys.ec256, disc=False)
    F.add_raw("/redirect-hop", None)
    F.set_mode("/redirect-hop", "redirect", location=F.url(redirected.jwks))
    maxage = KeySource(F, "maxage", keys.ec256, disc=False)
    F.routes[maxage.jwks].max_age = 1
    steady = KeySource(F, "steady", keys.ec256, disc=False)

    spec = {}
    for n, s in warm.items():
        spec[n] = [s.directive()]
    spec["down-warm"] = [down_warm.directive()]
    spec["redirected"] = ["ValidateJWTJWKSURI %s" % F.url("/redirect-hop")]
    spec["maxage"] = [maxage.directive()]
    spec["steady"] = [steady.directive()]
    server_conf = "\n".join([
        load_modules("socache_shmcb"),
        "ValidateJWTKeysRefetchInterval %d" % REFETCH,
        "ValidateJWTKeysRefreshInterval 3600",
        "ValidateJWTFetchTimeout %d %d" % (CONNECT_TIMEOUT, TOTAL_TIMEOUT),
        "ValidateJWTFetchMaxSize 1048576",
    ])
    srv = httpd.start("jwks-faults", locations(spec), server_conf=server_conf)
    return {"srv": srv, "F": F, "D": D, "warm": warm, "down_warm": down_warm,
            "redirected": redirected, "maxage": maxage, "steady": steady}


@pytest.fixture(autouse=True)
def _fetch_failures_expected(expect_log):
    # A fault of one test may still be retried in the background (every REFETCH seconds)
    # while the next test starts; fetch-failure lines are expected throughout this module.
    expect_log(FETCH_FAIL_RE)


def _probe(src, keys, kid=None):
    """A token whose kid httpd does not know (an unknown kid triggers a refetch), signed by
    a key that is in no good document."""
    return mint(keys.rsa_attacker, "RS256", kid=kid or "probe-%s" % uuid.uuid4().hex,
                iss=src.iss)


def _fail_lines_are_warn(lines):
    for l in lines:
        assert log_level(l)[1] == "warn", "fetch failure not logged at warn: %s" % l


@pytest.fixture(scope="module")
def faults_on(env, keys):
    """Every warm source has its keys; then every fault is switched on at once and the
    refetch interval is let pass (one sleep for all the fault tests)."""
    srv, F = env["srv"], env["F"]
    for name, s in env["warm"].items():
        assert_pass(srv.get("/p/%s/" % name, s.good()))
    for name, s in env["warm"].items():
        route, mode, params = FAULTS[name]
        r = F.set_mode(s.path_for(route), mode, **params)
        r.fault_keys = [public_jwk(keys.rsa_attacker, kid="attacker")]
    time.sleep(REFETCH + 0.3)                    # past the refetch floor of every source
    return env


@pytest.fixture(scope="module")
def faults_off(env):
    """Every fault switched off again; each source publishes a new key "new"; the refetch
    interval is let pass."""
    F = env["F"]
    newkey = jwk.JWK.generate(kty="EC", crv="P-256")
    for name, s in env["warm"].items():
        route = FAULTS[name][0]
        F.set_mode(s.path_for(route), "normal", drop=())
        F.set_jwks(s.jwks, [public_jwk(s.key, kid="good"), public_jwk(newkey, kid="new")])
    time.sleep(REFETCH + 0.3)
    return newkey


@pytest.mark.parametrize("fault", list(FAULTS))
def test_fault_keeps_cached_keys(faults_on, keys, fault):
    """C73 (+ C71 refetch trigger): a failed refresh keeps the last good keys; nothing
    the faulty answer holds is used; the failure is logged at warn (VJWT00201) naming the
    URL; the request that triggered the fetch waited at most the fetch timeout."""
    env = faults_on
    srv, F, s = env["srv"], env["F"], env["warm"][fault]
    route = FAULTS[fault][0]
    loc = "/p/%s/" % fault
    path = s.path_for(route)
    n0, pos = F.hits(path), srv.errlog_size()
    t0 = time.time()
    # unknown kid -> refetch -> the fault; the key the faulty answer holds is not used
    resp = srv.get(loc, _probe(s, keys, kid="attacker"))
    took = time.time() - t0
    assert_fail(resp, "TokenSignatureKeyNotFound")
    assert F.hits(path) > n0, "no refetch of %s after an unknown kid" % path
    assert took < TOTAL_TIMEOUT + 1.5, "request waited %.1f s (fetch timeout %d s)" % (
        took, TOTAL_TIMEOUT)
    lines = wait_errlog(srv, FETCH_FAIL_RE + ".*/%s/" % fault, pos, timeout=SLOW + 1)
    assert lines, "fetch failure (%s) not logged with VJWT00201 and the URL" % fault
    _fail_lines_are_warn(lines)
    # the cached keys still verify; bad tokens still fail
    assert_pass(srv.get(loc, s.good()))
    assert_fail(srv.get(loc, flip_sig_bit(s.good(), 3)), "TokenSignatureInvalid")
    assert_fail(srv.get(loc, mint(keys.ec256b, "ES256", kid="good", iss=s.iss)),
                "TokenSignatureInvalid")
    if route == "disc":
        # the issuer from the last good discovery document is still the issuer
        assert_fail(srv.get(loc, mint(keys.ec256, "ES256", kid="good",
                                      iss="https://other.fake.test")),
                    "TokenIssuerNotAllowed")


@pytest.mark.parametrize("fault", list(FAULTS))
def test_fault_recovers(env, faults_off, keys, fault):
    """After the fault: the source works again; a new key is picked up (unknown kid, or
    the background retry) and the old one still verifies."""
    srv, s = env["srv"], env["warm"][fault]
    loc = "/p/%s/" % fault
    assert_pass(srv.get(loc, mint(faults_off, "ES256", kid="new", iss=s.iss)))
    assert_pass(srv.get(loc, s.good()))


def test_down_after_keys_cached(env, keys):
    """C73: the IdP goes down (connection refused) after the keys were fetched: the cached
    keys keep verifying (an unknown kid tries a refetch, which fails and is logged)."""
    srv, D, s = env["srv"], env["D"], env["down_warm"]
    assert_pass(srv.get("/p/down-warm/", s.good()))
    D.down()
    try:
        time.sleep(REFETCH + 0.3)
        pos = srv.errlog_size()
        assert_fail(srv.get("/p/down-warm/", _probe(s, keys)), "TokenSignatureKeyNotFound")
        lines = wait_errlog(srv, FETCH_FAIL_RE, pos)
        assert lines, "refused connection not logged"
        _fail_lines_are_warn(lines)
        for _ in range(3):
            assert_pass(srv.get("/p/down-warm/", s.good()))
        assert_fail(srv.get("/p/down-warm/", mint(keys.ec256, "ES256", kid="good",
                                                  iss="https://x.fake.test")),
                    "TokenIssuerNotAllowed")
    finally:
        D.up()


def test_one_redirect_is_followed(env, keys):
    """A JWKS URL answering with one redirect (<= 3) gives the keys of the target."""
    srv, s = env["srv"], env["redirected"]
    assert_pass(srv.get("/p/redirected/", s.good()))
    assert env["F"].hits("/redirect-hop") >= 1


def test_refresh_schedule(env, keys):
    """C69: repeated requests with known kids cause no new fetch (refresh interval 3600 s,
    no Cache-Control). C70: `Cache-Control: max-age=1` on a JWKS makes the background
    refresh run about every second (clamped to the refetch interval) although the refresh
    interval is 3600 s."""
    srv, F, s, st = env["srv"], env["F"], env["maxage"], env["steady"]
    assert_pass(srv.get("/p/maxage/", s.good()))
    assert_pass(srv.get("/p/steady/", st.good()))
    n0, m0 = F.hits(s.jwks), F.hits(st.jwks)
    assert m0 >= 1
    t_end = time.time() + 4.0
    while time.time() < t_end:
        assert_pass(srv.get("/p/steady/", st.good()))
        time.sleep(0.2)
    n1, m1 = F.hits(s.jwks), F.hits(st.jwks)
    times = F.hit_times(s.jwks)
    gaps = [round(b - a, 2) for a, b in zip(times, times[1:])]
    print("max-age=1 source: %d refreshes in 4 s, gaps %s" % (n1 - n0, gaps))
    assert m1 == m0, "C69: fetched %d more times without a reason" % (m1 - m0)
    assert n1 - n0 >= 2, "max-age=1 did not shorten the refresh (hits %d -> %d)" % (n0, n1)
    # one child's background thread fetches; others read the shared cache
    assert n1 - n0 <= 4 + 2, "refreshed too often: %d in 4 s (gaps %s)" % (n1 - n0, gaps)
    assert all(g >= REFETCH - 0.2 for g in gaps[-(n1 - n0):]), \
        "refreshes closer than the refetch interval: %s" % gaps
    assert_pass(srv.get("/p/maxage/", s.good()))


def test_no_crashed_children(env):
    """No fault made an httpd child crash (segfault, abort, 'exit signal')."""
    srv = env["srv"]
    assert srv.running
    assert crash_lines(srv) == []
    # still serving
    assert_pass(srv.get("/p/steady/", env["steady"].good()))
