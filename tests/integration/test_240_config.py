"""Configuration of key fetching (docs/conformance.md C80; #configuration-errors, #discovery-keys):
`apache2 -t`.

* http:// URLs are refused (file, line, directive named) unless the host is loopback or
  `ValidateJWTFetchAllowHTTP On` is set; other schemes are refused.
* Bad server-wide values (intervals, sizes, timeouts, cache provider) are refused.
* configtest never fetches, so an unreachable IdP does not make it fail.
"""

import re

import pytest

from vjwt_env import FETCH_FAIL_RE, assert_fail, assert_pass, load_modules, location, locations
from vjwt_tokens import mint

DISC = "/.well-known/openid-configuration"


def _line_no(text, line):
    for i, l in enumerate(text.splitlines(), 1):
        if l.strip() == line.strip():
            return i
    raise AssertionError("line %r not in config" % line)


def _check_syntax_error(rc, out, conf, text, bad, name=None):
    assert rc != 0, "configtest passed with %r:\n%s" % (bad, out)
    m = re.search(r"Syntax error on line (\d+) of ([^:]+):", out)
    assert m, "no 'Syntax error on line N of FILE:' in output:\n%s" % out
    assert int(m.group(1)) == _line_no(text, bad), "error on line %s, %r is on line %d:\n%s" % (
        m.group(1), bad, _line_no(text, bad), out)
    assert m.group(2) == conf, out
    name = name or bad.split()[0]
    assert name.lower() in out.lower(), "%s not named in:\n%s" % (name, out)


def _loc(*directives):
    return location("ct", *(("ValidateJWTAudience api://x",) + directives))


BAD_URLS = [
    ("C80-http-hostname", "ValidateJWTOpenIDConfig http://idp.example.com" + DISC),
    ("C80-http-ip", "ValidateJWTOpenIDConfig http://10.1.2.3" + DISC),
    ("C80-http-jwks", "ValidateJWTJWKSURI http://idp.example.com/jwks"),
    ("C80-http-127-lookalike", "ValidateJWTOpenIDConfig http://127.example.com" + DISC),
    ("C80-http-localhost-lookalike", "ValidateJWTJWKSURI http://localhost.example.com/jwks"),
    ("scheme-ftp-discovery", "ValidateJWTOpenIDConfig ftp://127.0.0.1" + DISC),
    ("scheme-ftp-jwks", "ValidateJWTJWKSURI ftp://127.0.0.1/jwks"),
    ("scheme-file-discovery", "ValidateJWTOpenIDConfig file:///etc/passwd"),
    ("scheme-gopher-jwks", "ValidateJWTJWKSURI gopher://127.0.0.1/jwks"),
    ("discovery-not-url", "ValidateJWTOpenIDConfig idp.example.com" + DISC),
    ("discovery-no-host", "ValidateJWTOpenIDConfig https://" + DISC),
    ("jwks-missing-file", "ValidateJWTJWKSURI keys/no-such-jwks.json"),
    ("jwks-garbage-file", "ValidateJWTJWKSURI keys/garbage-jwks.json"),
]


@pytest.fixture(scope="module")
def garbage_jwks(httpd):
    httpd.write_file("keys/garbage-jwks.json", '{"keys": [ this is not json')


@pytest.mark.parametrize("case", [c[0] for c in BAD_URLS])
def test_bad_url_rejected(httpd, garbage_jwks, case):
    """C80: http:// to a non-loopback host, another scheme, or no URL at all: configtest
    fails at the directive's line."""
    bad = dict(BAD_URLS)[case]
    rc, out, conf, text = httpd.configtest(locations=_loc(bad), name="ct-" + case)
    _check_syntax_error(rc, out, conf, text, "    " + bad)


BAD_SERVER = [
    ("refresh-0", "ValidateJWTKeysRefreshInterval 0"),
    ("refresh-abc", "ValidateJWTKeysRefreshInterval abc"),
    ("refresh-negative", "ValidateJWTKeysRefreshInterval -5"),
    ("refetch-0", "ValidateJWTKeysRefetchInterval 0"),
    ("refetch-abc", "ValidateJWTKeysRefetchInterval 1x"),
    ("maxstale-abc", "ValidateJWTKeysMaxStale forever"),
    ("maxstale-negative", "ValidateJWTKeysMaxStale -1"),
    ("timeout-abc", "ValidateJWTFetchTimeout abc"),
    ("timeout-total-abc", "ValidateJWTFetchTimeout 5 abc"),
    ("timeout-0", "ValidateJWTFetchTimeout 0"),
    ("maxsize-abc", "ValidateJWTFetchMaxSize abc"),
    ("maxsize-0", "ValidateJWTFetchMaxSize 0"),
    ("allowhttp-maybe", "ValidateJWTFetchAllowHTTP maybe"),
    ("cafile-missing", "ValidateJWTCAFile keys/no-such-ca.pem"),
]


@pytest.mark.parametrize("case", [c[0] for c in BAD_SERVER])
def test_bad_server_value_rejected(httpd, keys, case):
    """Bad server-wide values fail configtest at their line, naming the directive."""
    bad = dict(BAD_SERVER)[case]
    rc, out, conf, text = httpd.configtest(server_conf=bad + "\n",
                                           locations=_loc("ValidateJWTJWKSURI keys/jwks.json"),
                                           name="ct-" + case)
    _check_syntax_error(rc, out, conf, text, bad)


@pytest.mark.parametrize("directive", ["ValidateJWTKeysRefreshInterval 60",
                                       "ValidateJWTKeysRefetchInterval 60",
                                       "ValidateJWTCache none",
                                       "ValidateJWTFetchAllowHTTP On"])
def test_server_wide_directive_not_in_location(httpd, directive):
    """The server-wide directives are refused inside <Location>."""
    rc, out, conf, text = httpd.configtest(locations=_loc(directive), name="ct-in-location")
    _check_syntax_error(rc, out, conf, text, "    " + directive)


@pytest.mark.parametrize("cache", ["nosuchprovider", "nosuchprovider:args",
                                   "redis:127.0.0.1:6379"])
def test_unknown_cache_provider_rejected(httpd, keys, cache):
    """ValidateJWTCache with a provider that is not loaded (no such module, or
    mod_socache_redis not loaded) fails configtest, naming the directive and provider."""
    bad = "ValidateJWTCache %s" % cache
    rc, out, conf, text = httpd.configtest(server_conf=bad + "\n",
                                           locations=_loc("ValidateJWTJWKSURI keys/jwks.json"),
                                           name="ct-cache")
    assert rc != 0, "configtest passed with %r:\n%s" % (bad, out)
    assert "validatejwtcache" in out.lower(), out
    assert cache.split(":")[0] in out, out


def test_good_config_passes_without_fetching(httpd, keys, fakeidp):
    """C80 + docs/conformance.md#configuration-errors: loopback http URLs (127.0.0.0/8, ::1,
    localhost), https URLs of unreachable hosts, JWKS files, and every server-wide directive with
    good values pass configtest; configtest fetches nothing (the FakeIdP counts no hit) and an
    unreachable IdP does not fail it."""
    F = fakeidp()
    F.add_jwks("/jwks", [])
    F.add_discovery(DISC, "https://x.fake.test", "/jwks")
    locs = "\n".join([
        _loc("ValidateJWTOpenIDConfig %s" % F.url(DISC),
             "ValidateJWTJWKSURI %s" % F.url("/jwks"),
             "ValidateJWTOpenIDConfig http://127.0.0.1:1" + DISC,     # nothing listens
             "ValidateJWTOpenIDConfig http://127.45.6.7:9/x" + DISC,
             "ValidateJWTOpenIDConfig http://localhost:1" + DISC,
             "ValidateJWTJWKSURI http://[::1]:1/jwks",
             "ValidateJWTOpenIDConfig https://idp.invalid" + DISC,     # does not resolve
             "ValidateJWTJWKSURI https://idp.invalid:8443/keys?x=1",
             "ValidateJWTJWKSURI keys/jwks.json",
             "ValidateJWTIssuerSigningKey file:keys/rsa1.pub.pem",
             "ValidateJWTIssuer https://issuer.example/"),
    ])
    server_conf = "\n".join([
        load_modules("socache_shmcb"),
        "ValidateJWTCache shmcb",
        "ValidateJWTKeysRefreshInterval 1",
        "ValidateJWTKeysRefetchInterval 1",
        "ValidateJWTKeysMaxStale unlimited",
        "ValidateJWTFetchTimeout 5",
        "ValidateJWTFetchTimeout 5 10",
        "ValidateJWTFetchMaxSize 1048576",
        "ValidateJWTCAFile /etc/ssl/certs/ca-certificates.crt",
        "ValidateJWTFetchAllowHTTP Off",
    ])
    rc, out, conf, text = httpd.configtest(server_conf=server_conf, locations=locs,
                                           name="ct-good")
    assert rc == 0, "good config rejected:\n%s" % out
    assert "Syntax OK" in out, out
    assert F.all_hits() == {}, "configtest fetched: %s" % F.all_hits()


@pytest.mark.parametrize("server_conf", [
    "ValidateJWTCache none\nValidateJWTKeysMaxStale 600",
    load_modules("socache_shmcb") + "\nValidateJWTCache shmcb:run/vjwt-keys(512000)",
    load_modules("socache_redis") + "\nValidateJWTCache redis:127.0.0.1:1",
    load_modules("socache_memcache") + "\nValidateJWTCache memcache:127.0.0.1:1",
], ids=["none", "shmcb-args", "redis", "memcache"])
def test_cache_providers_accepted(httpd, server_conf):
    """ValidateJWTCache none | shmcb:ARGS | redis:HOST:PORT | memcache:HOST:PORT pass
    configtest (the cache server is not contacted)."""
    rc, out, conf, text = httpd.configtest(
        server_conf=server_conf + "\n",
        locations=_loc("ValidateJWTJWKSURI http://127.0.0.1:1/jwks"), name="ct-cache-ok")
    assert rc == 0, "rejected:\n%s" % out


def test_allow_http_makes_remote_http_pass(httpd):
    """C80: `ValidateJWTFetchAllowHTTP On` (server-wide) allows http:// to any host."""
    rc, out, conf, text = httpd.configtest(
        server_conf="ValidateJWTFetchAllowHTTP On\n",
        locations=_loc("ValidateJWTOpenIDConfig http://idp.example.com" + DISC,
                       "ValidateJWTJWKSURI http://10.1.2.3/jwks"), name="ct-allowhttp")
    assert rc == 0, "FetchAllowHTTP On did not allow http:\n%s" % out
    # other schemes stay refused
    bad = "ValidateJWTJWKSURI ftp://10.1.2.3/jwks"
    rc, out, conf, text = httpd.configtest(server_conf="ValidateJWTFetchAllowHTTP On\n",
                                           locations=_loc(bad), name="ct-allowhttp-ftp")
    _check_syntax_error(rc, out, conf, text, "    " + bad)


@pytest.fixture(scope="module")
def unreachable(httpd, keys):
    spec = {
        "file": ["ValidateJWTJWKSURI keys/jwks.json"],
        "mixed": ["ValidateJWTJWKSURI keys/jwks.json", "ValidateJWTIssuer https://issuer.example/",
                  "ValidateJWTOpenIDConfig http://127.0.0.1:1" + DISC],
    }
    return httpd.start("unreachable-idp", locations(spec),
                       server_conf=load_modules("socache_shmcb") +
                       "\nValidateJWTKeysRefetchInterval 1\nValidateJWTFetchTimeout 1 2",
                       allow_startup=[FETCH_FAIL_RE])


def test_unreachable_idp_server_starts(unreachable, keys, expect_log):
    """docs/conformance.md#discovery-keys: httpd starts with an unreachable IdP (no fetch at
    startup blocks or fails it); a JWKS file given to ValidateJWTJWKSURI verifies tokens; the
    unreachable source gives 503 only to tokens no other key verifies."""
    expect_log(FETCH_FAIL_RE)
    srv = unreachable
    assert_pass(srv.get("/p/file/", mint(keys.rsa1, "RS256", kid="rsa1")))
    assert_pass(srv.get("/p/file/", mint(keys.ec384, "ES384")))
    assert_fail(srv.get("/p/file/", mint(keys.rsa2, "RS256", kid="rsa2")),
                "TokenSignatureKeyNotFound")
    assert_pass(srv.get("/p/mixed/", mint(keys.ec256, "ES256")))
    r = srv.get("/p/mixed/", mint(keys.rsa2, "RS256", kid="idp-key"))
    assert r.status == 503 and r.vjwt_reason == "KeysUnavailable", r


def test_unavailable_source_token_without_kid(unreachable, keys, expect_log):
    """docs/conformance.md#discovery-keys / C74: keys never obtained and no other key verifying the
    token -> 503.  A token without kid (RS256) that the location's static RSA key does not verify
    may have been signed by the unreachable provider: 503 KeysUnavailable, not 401."""
    expect_log(FETCH_FAIL_RE)
    r = unreachable.get("/p/mixed/", mint(keys.rsa2, "RS256"))
    assert r.status == 503 and r.vjwt_reason == "KeysUnavailable", r
