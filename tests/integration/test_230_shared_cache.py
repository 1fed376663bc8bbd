"""Sharing fetched keys between hosts through ValidateJWTCache (docs/conformance.md#discovery-keys;
C72: no second fetch within the refetch interval in any process or host sharing the cache).

Two httpd instances (separate ServerRoots, as two hosts would be) use one cache server
that the test starts on a free loopback port without persistence: redis-server
(`ValidateJWTCache redis:127.0.0.1:P`, mod_socache_redis) or memcached
(`ValidateJWTCache memcache:127.0.0.1:P`, mod_socache_memcache). The first instance
fetches the discovery document and the JWKS; the second serves the same tokens without
any fetch (the FakeIdP's hit counts stay unchanged), and an unknown kid on the second
instance within the refetch interval does not fetch either.
"""

import time

import vjwt_env
from vjwt_env import assert_fail, assert_pass, load_modules, locations
from vjwt_fakeidp import public_jwk
from vjwt_idp import Memcached, RedisServer
from vjwt_tokens import mint

REFETCH = 30


def _conf(provider, module, port, secret):
    return "\n".join([
        load_modules(module),
        "ValidateJWTCache %s:127.0.0.1:%d" % (provider, port),
        # both hosts authenticate the shared values with one secret (test_261 for its rules)
        "ValidateJWTCacheSecret file:%s" % secret,
        "ValidateJWTKeysRefetchInterval %d" % REFETCH,
        "ValidateJWTKeysRefreshInterval 3600",
        "ValidateJWTFetchTimeout 2 4",
    ])


def _check_other_log(srv):
    """The per-test guard only watches the session factory's current server at the test's
    start; both instances here are checked by hand (whole log)."""
    bad = vjwt_env.bad_lines(srv.read_errlog().splitlines())
    assert not bad, "unexpected error-log lines of %s:\n  %s" % (srv.name, "\n  ".join(bad))


def _shared(httpd, httpd2, fakeidp, keys, provider, module, port, name):
    F = fakeidp()
    disc, jwks, jwks2 = "/%s/.well-known/openid-configuration" % name, "/%s/jwks" % name, \
        "/%s/jwks2" % name
    iss = "https://%s.fake.test" % name
    F.add_jwks(jwks, [public_jwk(keys.ec256, kid="good")])
    F.add_discovery(disc, iss, jwks)
    F.add_jwks(jwks2, [public_jwk(keys.ed25519, kid="good2")])
    # the JWKS URL's key verifies tokens of another (configured) issuer: the discovered
    # issuer's tokens are bound to the discovery document's keys
    iss2 = "https://%s-2.fake.test" % name
    spec = {"shared": ["ValidateJWTOpenIDConfig %s" % F.url(disc),
                       "ValidateJWTJWKSURI %s" % F.url(jwks2),
                       "ValidateJWTIssuer %s" % iss2]}
    secret = httpd.write_file("secrets/shared-cache", b"a secret both hosts share 0123\n",
                              mode=0o600)
    conf = _conf(provider, module, port, secret)
    tok = mint(keys.ec256, "ES256", kid="good", iss=iss)
    tok2 = mint(keys.ed25519, "EdDSA", kid="good2", iss=iss2)

    a = httpd.start("shared-%s-a" % name, locations(spec), server_conf=conf)
    assert_pass(a.get("/p/shared/", tok))
    assert_pass(a.get("/p/shared/", tok2))
    time.sleep(0.5)   # let instance A's startup/background fetches settle
    hits = F.all_hits()
    assert hits.get(disc, 0) >= 1 and hits.get(jwks, 0) >= 1 and hits.get(jwks2, 0) >= 1, hits

    b = httpd2.start("shared-%s-b" % name, locations(spec), server_conf=conf)
    try:
        for _ in range(3):
            assert_pass(b.get("/p/shared/", tok))
            assert_pass(b.get("/p/shared/", tok2))
        assert_fail(b.get("/p/shared/", mint(keys.rsa_attacker, "RS256", kid="nope", iss=iss)),
                    "TokenSignatureKeyNotFound")
        assert_fail(b.get("/p/shared/", mint(keys.ec256, "ES256", kid="good",
                                             iss="https://other.fake.test")),
                    "TokenIssuerNotAllowed")
        time.sleep(1.5)   # instance B's background thread has looked at its sources
        assert_pass(b.get("/p/shared/", tok))
        after = F.all_hits()
        print("%s: IdP hits after instance A: %s; after instance B: %s" % (name, hits, after))
        assert after == hits, "instance B fetched although A's documents are in the %s " \
            "cache: %s -> %s" % (provider, hits, after)
        _check_other_log(b)
    finally:
        httpd2.stop()
    assert_pass(a.get("/p/shared/", tok))
    _check_other_log(a)


def test_redis_shared_cache(httpd, httpd2, fakeidp, keys, tmp_path):
    """Two httpd sharing one redis-server: the second serves tokens without any fetch."""
    r = RedisServer(str(tmp_path)).start()
    try:
        _shared(httpd, httpd2, fakeidp, keys, "redis", "socache_redis", r.port, "redis")
        assert r.dbsize() >= 1, "nothing stored in redis"
    finally:
        httpd.stop()
        r.stop()


def test_memcache_shared_cache(httpd, httpd2, fakeidp, keys, tmp_path):
    """Two httpd sharing one memcached: the second serves tokens without any fetch."""
    m = Memcached(str(tmp_path)).start()
    try:
        _shared(httpd, httpd2, fakeidp, keys, "memcache", "socache_memcache", m.port, "memcache")
        assert (m.stats_items() or 0) >= 1, "nothing stored in memcached"
    finally:
        httpd.stop()
        m.stop()
