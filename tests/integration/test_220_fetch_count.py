"""Fetch counting with several httpd children (docs/conformance.md C69, C71, C72, #discovery-keys:
an unknown kid never causes unbounded outbound fetches).

httpd runs 3 children (event/worker: StartServers 3; prefork: 4) sharing the default
shmcb cache. 1,000 requests, 200 of them with random unknown kids, are sent by 8 client
threads, spread over 5 s, to a static location whose keys come from a discovery document and a JWKS URL
on the FakeIdP. Every fetch of each source path is counted: each path may be fetched
at most 1 + duration / refetch_interval times over the whole run (including the startup
fetches), whatever the number of children.
"""

import http.client
import random
import time
import uuid

import pytest
from jwcrypto import jwk

import vjwt_env
from vjwt_env import assert_pass, load_modules, locations
from vjwt_fakeidp import KeySource, public_jwk
from vjwt_idp import run_threads
from vjwt_tokens import mint

REFETCH = 2
N_REQUESTS = 1000
N_UNKNOWN = 200
CONCURRENCY = 8
LOAD_SECONDS = 5.0   # the requests are spread over this time (several refetch intervals)
ISS = "https://count.fake.test"
ISS2 = "https://count-2.fake.test"
DISC = "/c/.well-known/openid-configuration"
JWKS = "/c/jwks"
JWKS2 = "/c2/jwks"
PATHS = (DISC, JWKS, JWKS2)


@pytest.fixture(scope="module")
def env(httpd, keys, fakeidp):
    F = fakeidp()
    F.add_jwks(JWKS, [public_jwk(keys.ec256, kid="good")])
    F.add_discovery(DISC, ISS, JWKS)
    F.add_jwks(JWKS2, [public_jwk(keys.ed25519, kid="good2")])
    # the JWKS URL's key verifies tokens of a configured issuer (a token with the
    # discovered issuer is bound to the discovery document's keys)
    both = ["ValidateJWTOpenIDConfig %s" % F.url(DISC),
            "ValidateJWTJWKSURI %s" % F.url(JWKS2),
            "ValidateJWTIssuer %s" % ISS2]
    pidlog = httpd.path("logs", "pids-fetch-count.log")
    server_conf = "\n".join([
        load_modules("socache_shmcb"),
        "ValidateJWTKeysRefetchInterval %d" % REFETCH,
        "ValidateJWTKeysRefreshInterval 3600",
        "ValidateJWTFetchTimeout 2 4",
        'CustomLog "%s" "%%P %%>s %%{X-Test-Id}i"' % pidlog,
    ] + vjwt_env.several_children_conf())
    spec_s = {"count": both}
    spec_p = {"count": both}
    locs = locations(spec_s, prefix="/s/") + "\n" + locations(spec_p)
    t0 = time.time()
    srv = httpd.start("fetch-count", locs, server_conf=server_conf)
    return {"srv": srv, "F": F, "t0": t0, "pidlog": pidlog}


def _get(port, path, token):
    rid = uuid.uuid4().hex
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers={"Authorization": "Bearer " + token,
                                           "X-Test-Id": rid, "Connection": "close"})
        r = conn.getresponse()
        r.read()
        return r.status, r.getheader("X-VJWT-Reason"), rid
    finally:
        conn.close()


def _pids(pidlog, rids):
    out = {}
    try:
        with open(pidlog) as fh:
            for line in fh:
                parts = line.split()
                if len(parts) == 3 and parts[2] in rids:
                    out[parts[0]] = out.get(parts[0], 0) + 1
    except FileNotFoundError:
        pass
    return out


def test_fetches_bounded_under_load(env, keys, capsys):
    """C72 / docs/conformance.md#discovery-keys: 1,000 requests (200 unknown kids, 8 concurrent, 3+
    children): each source path is fetched at most 1 + duration/refetch_interval times in the whole
    server; good tokens all pass, unknown-kid tokens all fail with TokenSignatureKeyNotFound."""
    srv, F = env["srv"], env["F"]
    attacker = jwk.JWK.generate(kty="EC", crv="P-256")
    good = mint(keys.ec256, "ES256", kid="good", iss=ISS)
    good2 = mint(keys.ed25519, "EdDSA", kid="good2", iss=ISS2)
    work = [("good", good if i % 2 else good2) for i in range(N_REQUESTS - N_UNKNOWN)]
    work += [("unknown", mint(attacker, "ES256", kid="rnd-" + uuid.uuid4().hex, iss=ISS))
             for _ in range(N_UNKNOWN)]
    random.Random(2026).shuffle(work)

    t_load = time.time()
    step = LOAD_SECONDS / len(work)

    def one(i):
        delay = t_load + i * step - time.time()
        if delay > 0:
            time.sleep(delay)
        kind, tok = work[i]
        return (kind,) + _get(srv.port, "/s/count/x", tok)
    results = run_threads(CONCURRENCY, one, list(range(len(work))))
    t_end = time.time()
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, "client errors: %r" % errors[:3]
    load_s = t_end - t_load
    total_s = t_end - env["t0"]   # from before httpd started (its startup fetches count)
    hits = {p: F.hits(p) for p in PATHS}
    bound = 1 + total_s / REFETCH
    rids = {r[3] for r in results}
    pids = _pids(env["pidlog"], rids)
    ok = sum(1 for r in results if r[0] == "good" and r[1] == 200)
    rej = sum(1 for r in results if r[0] == "unknown" and r[1] == 401
              and r[2] == "TokenSignatureKeyNotFound")
    with capsys.disabled():
        print("\n[fetch-count] mpm=%s children=%d requests=%d (unknown kid %d) concurrency=%d"
              % (vjwt_env.MPM, len(pids), N_REQUESTS, N_UNKNOWN, CONCURRENCY))
        print("[fetch-count] load %.2f s (%.0f req/s); since httpd start %.2f s; refetch %d s"
              % (load_s, N_REQUESTS / load_s, total_s, REFETCH))
        print("[fetch-count] IdP hits: %s; bound per path 1 + %.2f/%d = %.2f"
              % (", ".join("%s=%d" % kv for kv in hits.items()), total_s, REFETCH, bound))
        print("[fetch-count] requests per child pid: %s" % pids)
        for p in PATHS:
            ts = F.hit_times(p)
            print("[fetch-count] %s fetched at +%s s" % (
                p, ", ".join("%.2f" % (t - env["t0"]) for t in ts)))
    bad = [r for r in results if (r[0] == "good" and r[1] != 200) or
           (r[0] == "unknown" and (r[1] != 401 or r[2] != "TokenSignatureKeyNotFound"))]
    assert not bad, "%d wrong answers, e.g. %r" % (len(bad), bad[:5])
    assert ok == N_REQUESTS - N_UNKNOWN and rej == N_UNKNOWN
    assert len(pids) >= 2, "the load reached only %d child: %s" % (len(pids), pids)
    # unknown kids arrive all the time: the JWKS paths are refetched, but boundedly
    assert hits[JWKS] >= 2 and hits[JWKS2] >= 2, \
        "unknown kids during %.1f s caused no refetch: %s" % (load_s, hits)
    for p, n in hits.items():
        assert 1 <= n <= bound, "%s fetched %d times in %.2f s (refetch %d s): bound %.2f" % (
            p, n, total_s, REFETCH, bound)
    # fetches of one path are at least the refetch interval apart (across all children)
    for p in PATHS:
        ts = F.hit_times(p)
        gaps = [b - a for a, b in zip(ts, ts[1:])]
        assert all(g >= REFETCH - 0.25 for g in gaps), "%s fetches %s s apart" % (
            p, ["%.2f" % g for g in gaps])


def test_unknown_kid_refetch_and_floor_across_children(env, keys):
    """C71: a token with a new kid (just published) triggers a refetch and passes in that
    same request. C72: another new kid within the refetch interval triggers no fetch in
    any child (TokenSignatureKeyNotFound), and the first new kid is served by the other
    children from the shared cache without a fetch. After the interval, the second new
    kid passes (one fetch), in every child."""
    srv, F = env["srv"], env["F"]
    new1 = jwk.JWK.generate(kty="EC", crv="P-256")
    new2 = jwk.JWK.generate(kty="EC", crv="P-256")
    base = [public_jwk(keys.ec256, kid="good")]
    assert_pass(srv.get("/p/count/", mint(keys.ec256, "ES256", kid="good", iss=ISS)))
    F.set_jwks(JWKS, base + [public_jwk(new1, kid="new1")])
    last = max(t for p in PATHS for t in F.hit_times(p))
    time.sleep(max(0.0, last + REFETCH + 0.3 - time.time()))
    tok1 = mint(new1, "ES256", kid="new1", iss=ISS)
    n0 = F.hits(JWKS)
    t_fetch = time.time()
    assert_pass(srv.get("/p/count/", tok1))
    assert F.hits(JWKS) == n0 + 1, "new kid: %d fetches" % (F.hits(JWKS) - n0)
    # publish new2 at once; within the floor nothing fetches it
    F.set_jwks(JWKS, base + [public_jwk(new1, kid="new1"), public_jwk(new2, kid="new2")])
    tok2 = mint(new2, "ES256", kid="new2", iss=ISS)
    n1 = F.hits(JWKS)
    # concurrent fresh connections: spread over the children (new2 first, then new1)
    r2 = run_threads(CONCURRENCY, lambda t: _get(srv.port, "/s/count/x", t), [tok2] * 12)
    r1 = run_threads(CONCURRENCY, lambda t: _get(srv.port, "/s/count/x", t), [tok1] * 12)
    assert [r[:2] for r in r2] == [(401, "TokenSignatureKeyNotFound")] * 12, r2
    assert [r[:2] for r in r1] == [(200, None)] * 12, r1
    rids = {r[2] for r in r1 + r2}
    assert time.time() - t_fetch < REFETCH, "too slow to test inside the refetch interval"
    assert F.hits(JWKS) == n1, "fetched within the refetch interval (%d)" % (F.hits(JWKS) - n1)
    time.sleep(0.2)
    assert len(_pids(env["pidlog"], rids)) >= 2, "the requests reached only one child"
    time.sleep(max(0.0, t_fetch + REFETCH + 0.3 - time.time()))
    assert_pass(srv.get("/p/count/", tok2))
    assert F.hits(JWKS) == n1 + 1
    # every child now accepts new2 (from the shared cache), none fetches again
    answers = [_get(srv.port, "/s/count/x", tok2)[:2] for _ in range(10)]
    assert answers == [(200, None)] * 10, "children still refuse the new kid: %s" % answers
    assert F.hits(JWKS) == n1 + 1


def test_many_sources_each_fetched_once(httpd, keys, fakeidp, capsys):
    """C72 / docs/conformance.md#discovery-keys with many sources: 16 JWKS URLs (one location
    each), 3+ children that all load every source at startup and serve requests for all of them:
    within a refetch interval of 30 s each source is fetched exactly once in the whole server (the
    shared cache must hold every source's record and attempt marker)."""
    F = fakeidp()
    srcs = [KeySource(F, "m%02d" % i, keys.ec256, disc=False) for i in range(16)]
    server_conf = "\n".join([
        load_modules("socache_shmcb"),
        "ValidateJWTKeysRefetchInterval 30",
        "ValidateJWTKeysRefreshInterval 3600",
        "ValidateJWTFetchTimeout 2 4",
    ] + vjwt_env.several_children_conf())
    srv = httpd.start("many-sources", locations({s.name: [s.directive()] for s in srcs},
                                                prefix="/s/"), server_conf=server_conf)
    time.sleep(1.0)   # every child's background thread has looked at every source
    results = run_threads(CONCURRENCY, lambda s: _get(srv.port, "/s/%s/x" % s.name, s.good())[0],
                          srcs * 6)
    hits = F.all_hits()
    with capsys.disabled():
        print("\n[many-sources] %d sources, %d requests: fetches per source %s" % (
            len(srcs), len(results), sorted(hits.values())))
    assert results == [200] * len(results), results
    over = {p: n for p, n in hits.items() if n != 1}
    assert not over, "sources fetched more than once within the refetch interval: %s" % over
