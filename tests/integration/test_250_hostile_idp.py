"""A hostile identity provider: what a fetched key source may serve, and what httpd does.

One FakeIdP serves, per source, one fault: key sets with no usable key (only "use":"enc",
only unknown key types or curves, a kid twice with one copy malformed), 100,000 keys,
deeply nested JSON, NaN / 1e999 / 2^70 numbers, a gzip bomb, jwks_uri values with other
schemes or a non-loopback plain-http host, a redirect from loopback http to non-loopback
http, a chain of slow redirects, and Cache-Control max-age 0, -1 and 10^13.

For each: no child crashes (the conftest guard and an explicit scan for 'exit signal'),
the location that only has the hostile source answers 503 KeysUnavailable, and a location
with the hostile source plus a good second source answers 200 for a good token. Every
fetch ends within ValidateJWTFetchTimeout's total (redirects and discovery + JWKS
included), and a flood of random-kid tokens against a slow IdP never holds a request much
longer than that, while tokens with known kids are answered at once.

The file runs under event and prefork in one pytest run (the `mpm` fixture parameter).
"""

import json
import time
import uuid

import pytest
from jwcrypto import jwk

import vjwt_env
from vjwt_env import (FETCH_FAIL_RE, JWK_SKIP_RE, assert_pass, assert_unavailable, crash_lines,
                      load_modules, locations, wait_errlog)
from vjwt_fakeidp import KeySource, public_jwk
from vjwt_idp import run_threads
from vjwt_tokens import mint

REFETCH = 2          # ValidateJWTKeysRefetchInterval
CONNECT = 1          # ValidateJWTFetchTimeout CONNECT TOTAL
TOTAL = 2
MAX_SIZE = 16 * 1024 * 1024
SKIP_MORE_RE = r"VJWT00211"  # more than ten skipped keys in one set: one count line
HOP = 0.8            # each slow hop: under TOTAL, the chain over it
SLACK = 0.8          # scheduling slack on a busy 2-core machine

# name -> kind of answer. "unavailable": the source alone gives 503; "ok": its keys work.
UNUSABLE = ("enc-only", "unknown-kty", "dup-kid-malformed", "many-keys", "deep-nesting",
            "nan", "huge-float", "huge-int", "gzip-bomb", "jwks-uri-file", "jwks-uri-gopher",
            "jwks-uri-data", "jwks-uri-remote-http", "redirect-remote-http", "slow-redirects",
            "slow-disc-jwks")
MAX_AGES = {"max-age-0": 0, "max-age-minus-1": -1, "max-age-1e13": 10 ** 13}


def _bad_ec(kid):
    return {"kty": "EC", "crv": "P-256", "kid": kid, "x": "!!", "y": "AA"}


def _setup_source(F, keys, name):
    """A KeySource with the fault `name` switched on; returns it."""
    disc = name.startswith("jwks-uri") or name == "slow-disc-jwks"
    s = KeySource(F, name, keys.ec256, disc=disc)
    good = public_jwk(keys.ec256, kid="good")
    if name == "enc-only":
        F.set_jwks(s.jwks, [dict(good, use="enc"), public_jwk(keys.rsa1, kid="r", use="enc")])
    elif name == "unknown-kty":
        F.set_jwks(s.jwks, [{"kty": "EC", "crv": "P-192", "kid": "good", "x": good["x"],
                             "y": good["y"]},
                            {"kty": "OKP", "crv": "X448", "kid": "x448", "x": "AAAA"},
                            {"kty": "XYZ", "kid": "xyz"}])
    elif name == "dup-kid-malformed":
        F.set_jwks(s.jwks, [good, _bad_ec("good")])
    elif name == "many-keys":
        body = json.dumps({"keys": [_bad_ec("k%d" % i) for i in range(100000)]}).encode()
        F.set_mode(s.jwks, "raw", raw=body)
    elif name == "deep-nesting":
        F.set_mode(s.jwks, "raw", raw=b'{"keys": ' + b"[" * 100000 + b"]" * 100000 + b"}")
    elif name == "nan":
        F.set_mode(s.jwks, "raw", raw=('{"keys": [%s], "exp": NaN}' % json.dumps(good))
                   .encode())
    elif name == "huge-float":
        F.set_mode(s.jwks, "raw", raw=('{"keys": [%s], "exp": 1e999}' % json.dumps(good))
                   .encode())
    elif name == "huge-int":
        F.set_mode(s.jwks, "raw", raw=('{"keys": [%s], "exp": %d}' % (json.dumps(good), 2 ** 70))
                   .encode())
    elif name == "gzip-bomb":
        F.set_mode(s.jwks, "gzip_bomb", size=4 * MAX_SIZE)
    elif name == "jwks-uri-file":
        F.routes[s.disc].jwks_uri = "file:///etc/passwd"
    elif name == "jwks-uri-gopher":
        F.routes[s.disc].jwks_uri = "gopher://127.0.0.1:%d/_GET%%20/x" % F.port
    elif name == "jwks-uri-data":
        F.routes[s.disc].jwks_uri = "data:application/json,{}"
    elif name == "jwks-uri-remote-http":
        F.routes[s.disc].jwks_uri = "http://192.0.2.1/jwks"
    elif name == "redirect-remote-http":
        F.set_mode(s.jwks, "redirect", location="http://192.0.2.1/jwks")
    elif name == "slow-redirects":
        # three hops of HOP s each, every one under TOTAL; the keys at the end
        h2, h3 = "/%s/h2" % name, "/%s/h3" % name
        F.add_jwks(h3, [good])
        F.set_mode(h3, "slow", delay=HOP)
        F.add_raw(h2, None)
        F.set_mode(h2, "slow_redirect", delay=HOP, location=F.url(h3))
        F.set_mode(s.jwks, "slow_redirect", delay=HOP, location=F.url(h2))
    elif name == "slow-disc-jwks":
        # discovery and JWKS each under TOTAL, together over it
        F.set_mode(s.disc, "slow", delay=TOTAL * 0.6)
        F.set_mode(s.jwks, "slow", delay=TOTAL * 0.6)
    elif name in MAX_AGES:
        F.routes[s.jwks].max_age = MAX_AGES[name]
    else:
        raise AssertionError(name)
    return s


@pytest.fixture(scope="module", params=["event", "prefork"])
def env(request, httpd, keys, fakeidp):
    saved = vjwt_env.MPM
    vjwt_env.MPM = request.param
    F = fakeidp()
    G = KeySource(F, "second", keys.ed25519, disc=False)
    flood = KeySource(F, "flood", keys.ec256b, disc=False)
    src = {n: _setup_source(F, keys, n) for n in UNUSABLE + tuple(MAX_AGES)}
    spec = {}
    for n, s in src.items():
        spec["only-" + n] = [s.directive()]
        spec["mixed-" + n] = [s.directive(), G.directive()]
    spec["flood"] = [flood.directive()]
    server_conf = "\n".join([
        load_modules("socache_shmcb"),
        "ValidateJWTKeysRefetchInterval %d" % REFETCH,
        "ValidateJWTKeysRefreshInterval 3600",
        "ValidateJWTFetchTimeout %d %d" % (CONNECT, TOTAL),
        "ValidateJWTFetchMaxSize %d" % MAX_SIZE,
    ])
    try:
        srv = httpd.start("hostile-idp-" + request.param, locations(spec),
                          server_conf=server_conf, allow_startup=[FETCH_FAIL_RE, JWK_SKIP_RE, SKIP_MORE_RE])
    finally:
        vjwt_env.MPM = saved
    yield {"srv": srv, "F": F, "G": G, "src": src, "flood": flood, "mpm": request.param}
    httpd.stop()


@pytest.fixture(autouse=True)
def _faults_logged(expect_log):
    # every hostile source fails (and is retried) in the background all along
    expect_log(FETCH_FAIL_RE, JWK_SKIP_RE, SKIP_MORE_RE)


def _no_crash(srv):
    assert srv.running, "httpd is gone"
    lines = crash_lines(srv)
    assert lines == [], "a child crashed: %r" % lines[:3]


def test_random_kid_flood_against_slow_idp(env, keys):
    """Keys are loaded; then the IdP becomes slow (beyond the limit). 40 tokens with random
    kids, 8 at a time: none takes much longer than the fetch limit (only the requests that
    win a refetch fetch inline, bounded by it; the others are judged at once against the
    keys there are), tokens with the known kid are answered fast all along, and the IdP is
    asked at most once per refetch interval."""
    srv, F, s = env["srv"], env["F"], env["flood"]
    assert_pass(srv.get("/p/flood/", s.good()))
    F.set_mode(s.jwks, "slow", delay=TOTAL + 3)
    attacker = jwk.JWK.generate(kty="EC", crv="P-256")
    good = s.good()
    work = [("rnd", mint(attacker, "ES256", kid="rnd-" + uuid.uuid4().hex, iss=s.iss))
            for _ in range(40)]
    work = [w for pair in zip(work, [("good", good)] * len(work)) for w in pair]
    n0 = F.hits(s.jwks)
    t_start = time.time()

    def one(i):
        kind, tok = work[i]
        t0 = time.time()
        r = srv.get("/p/flood/", tok)
        return kind, r.status, r.vjwt_reason, time.time() - t0
    try:
        results = run_threads(8, one, list(range(len(work))))
    finally:
        F.normal(s.jwks)
    duration = time.time() - t_start
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors[:3]
    rnd = [r for r in results if r[0] == "rnd"]
    goods = [r for r in results if r[0] == "good"]
    bad = [r for r in rnd if r[1] != 401 or r[2] != "TokenSignatureKeyNotFound"]
    assert not bad, bad[:3]
    assert all(r[1] == 200 for r in goods), goods[:3]
    worst = max(r[3] for r in rnd)
    assert worst < TOTAL + SLACK, "a random-kid request took %.2f s (limit %d s)" % (
        worst, TOTAL)
    # known kids never wait for the slow fetch (a busy 2-core machine adds some jitter)
    times = sorted(r[3] for r in goods)
    assert times[-1] < TOTAL - 0.5, "known-kid requests were held: median %.2f s, max %.2f s" % (
        times[len(times) // 2], times[-1])
    hits = F.hits(s.jwks) - n0
    assert hits <= 1 + duration / REFETCH + 1, "%d fetches in %.1f s" % (hits, duration)
    _no_crash(srv)


def test_no_crash_after_start(env):
    """Every child loads every hostile source in the background right after it starts:
    none dies (the crash loop came ~1 s after start, with no request)."""
    time.sleep(2 * TOTAL + 1)
    _no_crash(env["srv"])


@pytest.mark.parametrize("name", UNUSABLE)
def test_unusable_source(env, keys, name):
    """The hostile source alone: 503 KeysUnavailable within the fetch time limit (a cold
    request waits at most that long for a fetch, its own or another's); with a good second
    source: a good token of that source passes; no child crashed."""
    srv, s, G = env["srv"], env["src"][name], env["G"]
    t0 = time.time()
    r = srv.get("/p/only-%s/" % name, s.good())
    took = time.time() - t0
    assert_unavailable(r, REFETCH)
    assert took < TOTAL + SLACK, "%s: the request took %.2f s (fetch limit %d s)" % (
        name, took, TOTAL)
    t0 = time.time()
    assert_pass(srv.get("/p/mixed-%s/" % name, G.good("EdDSA")))
    assert time.time() - t0 < TOTAL + SLACK
    _no_crash(srv)


SCHEME_OF = {"jwks-uri-file": "file", "jwks-uri-gopher": "gopher", "jwks-uri-data": "data"}


@pytest.mark.parametrize("name", sorted(SCHEME_OF) + ["jwks-uri-remote-http",
                                                      "redirect-remote-http"])
def test_supplied_url_refused(env, name):
    """A jwks_uri or redirect the provider supplies obeys the rules of configured URLs:
    other schemes are refused by name, plain http only to loopback; the failure is logged
    naming the source; nothing else is contacted."""
    srv = env["srv"]
    if name in SCHEME_OF:
        want = r"jwks_uri '%s:[^']*' uses the scheme '%s:'" % (SCHEME_OF[name], SCHEME_OF[name])
    elif name == "jwks-uri-remote-http":
        want = r"jwks_uri 'http://192\.0\.2\.1/jwks' uses plain http to a host that is not loopback"
    else:
        want = r"URL 'http://192\.0\.2\.1/jwks' uses plain http to a host that is not loopback"
    lines = wait_errlog(srv, FETCH_FAIL_RE + r".*/%s/.*%s" % (name, want), 0, timeout=3)
    assert lines, "no VJWT00201 line refusing the URL of %s" % name


def test_slow_redirects_bounded_by_total(env, keys):
    """Redirect hops of HOP s each (each under the limit, the chain over it): the whole fetch
    ends at the total limit and the source gets no keys (before, each hop had its own limit
    and the fetch took the sum)."""
    srv, F = env["srv"], env["F"]
    s = env["src"]["slow-redirects"]
    # let a background attempt end and the refetch floor pass: this request fetches itself
    # (or waits for another's attempt; either way at most the limit)
    time.sleep(REFETCH + 0.3)
    t0 = time.time()
    r = srv.get("/p/only-slow-redirects/", s.good())
    took = time.time() - t0
    assert_unavailable(r, REFETCH)
    assert took < TOTAL + SLACK, "fetch over slow redirects took %.2f s (total %d s)" % (
        took, TOTAL)
    assert F.hits(s.jwks) >= 1


@pytest.mark.parametrize("name", sorted(MAX_AGES))
def test_max_age_extremes(env, keys, name):
    """max-age 0, -1 and 10^13: the keys are used (no overflow turning into a refresh time
    in the past or a crash); refreshes stay at most one per refetch interval."""
    srv, s, F = env["srv"], env["src"][name], env["F"]
    assert_pass(srv.get("/p/only-%s/" % name, s.good()))
    n0 = F.hits(s.jwks)
    time.sleep(REFETCH + 0.5)
    assert_pass(srv.get("/p/only-%s/" % name, s.good()))
    assert F.hits(s.jwks) - n0 <= 2, "%s: %d fetches in %.1f s" % (
        name, F.hits(s.jwks) - n0, REFETCH + 0.5)
    _no_crash(srv)
