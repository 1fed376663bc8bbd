"""IdP faults from the start: a source that never answered well (docs/conformance.md C74).

No keys were ever fetched: a token that no static key verifies gets 503 KeysUnavailable
with `Retry-After: <refetch interval>` and the 503 body, within the fetch timeout; a token
that a static key verifies still passes; once the fault is gone, tokens pass without a
restart. The faults are those of test_210 (vjwt_fakeidp.faults), switched on before httpd
starts, so every child's background thread keeps retrying them (every refetch interval).
"""

import time

import pytest

from vjwt_env import (FETCH_FAIL_RE, assert_pass, assert_unavailable, crash_lines, load_modules,
                      locations, log_level, wait_errlog)
from vjwt_fakeidp import KeySource, faults, public_jwk
from vjwt_tokens import mint

REFETCH = 1          # ValidateJWTKeysRefetchInterval
CONNECT_TIMEOUT = 1  # ValidateJWTFetchTimeout CONNECT TOTAL
TOTAL_TIMEOUT = 2
SLOW = TOTAL_TIMEOUT + 1.5
FAULTS = faults(SLOW)
COLD_FAULTS = ("http500", "slow", "garbage", "huge-length", "empty-keys", "no-keys",
               "redirect-loop", "disc-no-issuer", "disc-no-jwks-uri")


@pytest.fixture(scope="module")
def env(httpd, keys, fakeidp):
    C = fakeidp()                # faults from the start (never fetched)
    Z = fakeidp()                # listener stopped from the start (connection refused)
    Z2 = fakeidp()               # the same, never brought up
    cold = {}
    for n in COLD_FAULTS:
        route, mode, params = FAULTS[n]
        s = cold[n] = KeySource(C, "cold-" + n, keys.ec256, disc=(route == "disc"))
        r = C.set_mode(s.path_for(route), mode, **params)
        r.fault_keys = [public_jwk(keys.rsa_attacker, kid="attacker")]
    down_cold = KeySource(Z, "down-cold", keys.ec256, disc=False)
    down_static = KeySource(Z2, "down-static", keys.ec256, disc=False)
    Z.down()
    Z2.down()
    spec = {"cold-" + n: [s.directive()] for n, s in cold.items()}
    spec["down-cold"] = [down_cold.directive()]
    spec["down-static"] = [down_static.directive(),
                           "ValidateJWTIssuerSigningKey file:keys/rsa1.pub.pem"]
    server_conf = "\n".join([
        load_modules("socache_shmcb"),
        "ValidateJWTKeysRefetchInterval %d" % REFETCH,
        "ValidateJWTKeysRefreshInterval 3600",
        "ValidateJWTFetchTimeout %d %d" % (CONNECT_TIMEOUT, TOTAL_TIMEOUT),
    ])
    srv = httpd.start("jwks-faults-cold", locations(spec), server_conf=server_conf,
                      allow_startup=[FETCH_FAIL_RE])
    return {"srv": srv, "C": C, "Z": Z, "Z2": Z2, "cold": cold, "down_cold": down_cold,
            "down_static": down_static}


@pytest.fixture(autouse=True)
def _fetch_failures_expected(expect_log):
    # the background thread retries every failing source every REFETCH seconds
    expect_log(FETCH_FAIL_RE)


def _fail_lines_are_warn(lines):
    for l in lines:
        assert log_level(l)[1] == "warn", "fetch failure not logged at warn: %s" % l


@pytest.mark.parametrize("fault", COLD_FAULTS)
def test_fault_from_start_unavailable(env, keys, fault):
    """C74: a source that never answered well: 503 KeysUnavailable with Retry-After (the
    refetch interval) and the 503 body, within the fetch timeout; a token signed by a key
    only the faulty answer holds is not accepted; the failure is logged naming the URL."""
    srv, s = env["srv"], env["cold"][fault]
    loc = "/p/cold-%s/" % fault
    t0 = time.time()
    r = srv.get(loc, s.good())
    took = time.time() - t0
    assert_unavailable(r, REFETCH)
    # waiting for another process's attempt is bounded by two fetch timeouts (an attempt
    # of a discovery source is two GETs)
    assert took < 2 * TOTAL_TIMEOUT + 1, "cold start waited %.1f s (fetch timeout %d s)" % (
        took, TOTAL_TIMEOUT)
    if fault.startswith("huge"):
        assert_unavailable(srv.get(loc, mint(keys.rsa_attacker, "RS256", kid="attacker",
                                             iss=s.iss)), REFETCH)
    assert s.hits() >= 1
    # logged (maybe already by the background fetch at startup), naming the URL
    lines = wait_errlog(srv, FETCH_FAIL_RE + ".*/cold-%s/" % fault, 0, timeout=SLOW + 1)
    assert lines, "no VJWT00201 line names the failing source %s" % s.name
    _fail_lines_are_warn(lines)


@pytest.fixture(scope="module")
def cold_faults_off(env):
    C = env["C"]
    for name, s in env["cold"].items():
        C.set_mode(s.path_for(FAULTS[name][0]), "normal", drop=())
    time.sleep(REFETCH + 0.3)


@pytest.mark.parametrize("fault", COLD_FAULTS)
def test_fault_from_start_recovers(env, cold_faults_off, keys, fault):
    """C74: once the IdP answers, tokens pass without a restart."""
    srv, s = env["srv"], env["cold"][fault]
    deadline = time.time() + SLOW + 2   # a slow background fetch may still be running
    while True:
        r = srv.get("/p/cold-%s/" % fault, s.good())
        if r.status != 503 or time.time() > deadline:
            break
        time.sleep(0.2)
    assert_pass(r)


def test_down_from_start_then_recovers(env, keys):
    """C74: IdP down from the start (connection refused): 503 + Retry-After; HEAD too;
    after the IdP comes up, the same token passes without a restart."""
    srv, Z, s = env["srv"], env["Z"], env["down_cold"]
    assert_unavailable(srv.get("/p/down-cold/", s.good()), REFETCH)
    assert_unavailable(srv.head("/p/down-cold/", s.good()), REFETCH)
    # a missing token is still a 401 (nothing to verify)
    r = srv.get("/p/down-cold/")
    assert r.status == 401 and r.vjwt_reason == "TokenNotPresent", r
    Z.up()
    try:
        time.sleep(REFETCH + 0.3)
        assert_pass(srv.get("/p/down-cold/", s.good()))
    finally:
        Z.down()


def test_static_key_still_verifies_when_source_down(env, keys):
    """C74: "no static key verifies the token": with an unreachable source, a token
    signed by the location's ValidateJWTIssuerSigningKey passes; another token gets 503."""
    srv, s = env["srv"], env["down_static"]
    assert not env["Z2"].is_up
    assert_pass(srv.get("/p/down-static/", mint(keys.rsa1, "RS256")))
    assert_unavailable(srv.get("/p/down-static/", s.good()), REFETCH)


def test_no_crashed_children(env):
    """No fault made an httpd child crash (segfault, abort, 'exit signal')."""
    srv = env["srv"]
    assert srv.running
    assert crash_lines(srv) == []
