"""Operations: the metrics handler, the mod_status section and report-only rollout.

httpd runs several children: every figure must be the sum over all of them (shared
memory), whatever child answers the scrape, and must survive a graceful restart.
"""

import os
import re
import signal
import time

import pytest

import vjwt_env
from vjwt_env import assert_fail, assert_pass, load_modules
from vjwt_fakeidp import public_jwk
from vjwt_tokens import AUD, ISS as ISS_DEFAULT, b64std, hmac_jwk, mint, now

JWKS = "/ops/jwks"
ISS = "https://ops.fake.test"
LINE_RE = re.compile(r'^([a-z_]+)\{([^}]*)\} (\S+)$')


def _policy_xml(keys):
    return ("<validate-jwt header-name=\"Authorization\" require-scheme=\"Bearer\" "
            "failed-validation-httpcode=\"401\" id=\"ops-policy\">\n"
            "  <issuer-signing-keys><key>%s</key></issuer-signing-keys>\n"
            "</validate-jwt>\n" % b64std(keys.hs64))


@pytest.fixture(scope="module")
def env(httpd, keys, fakeidp):
    F = fakeidp()
    F.add_jwks(JWKS, [public_jwk(keys.ec256, kid="k1"), public_jwk(keys.ec256b, kid="k2")])
    httpd.write_file("policies/ops.xml", _policy_xml(keys))
    hs = "ValidateJWTIssuerSigningKey %s" % b64std(keys.hs64)
    locs = "\n".join([
        vjwt_env.location("counted", hs),
        vjwt_env.location("idp", "ValidateJWTJWKSURI %s" % F.url(JWKS)),
        vjwt_env.location("ro", hs, "ValidateJWTReportOnly On", "ValidateJWTPassClaimsAs environment"),
        vjwt_env.location("ro-all", hs, "ValidateJWTReportOnly On", "ValidateJWTAudience %s" % AUD,
                          "ValidateJWTIssuer %s" % ISS_DEFAULT,
                          "ValidateJWTRequiredClaim role admin"),
        vjwt_env.location("ro-down", "ValidateJWTReportOnly On",
                          "ValidateJWTJWKSURI http://127.0.0.1:%d/jwks" % vjwt_env.free_port()),
        vjwt_env.location("ro-xml", "ValidateJWTPolicy policies/ops.xml",
                          "ValidateJWTReportOnly On"),
        '<Location "/p/scoped">', "    AuthType JWT", "    " + hs,
        "    Require jwt-scope orders.write", "</Location>",
        '<Location "/p/ro-scoped">', "    AuthType JWT", "    " + hs,
        "    ValidateJWTReportOnly On", "    Require jwt-scope orders.write", "</Location>",
        '<Location "/metrics">', "    SetHandler validate-jwt-metrics",
        "    Require ip 127.0.0.1", "</Location>",
        '<Location "/server-status">', "    SetHandler server-status",
        "    Require ip 127.0.0.1", "</Location>",
    ])
    server_conf = "\n".join([load_modules("socache_shmcb", "status", "authz_host"), "ExtendedStatus On",
                             "ValidateJWTFetchTimeout 1 2"] + vjwt_env.several_children_conf())
    srv = httpd.start("operations", locs, server_conf=server_conf)
    return {"srv": srv, "F": F}


@pytest.fixture(autouse=True)
def _dead_key_source(expect_log):
    # /p/ro-down's key source is a closed port: its fetches fail (and say so) all along
    expect_log(r"VJWT00201: fetching keys from http://127\.0\.0\.1:\d+/jwks failed")


def scrape(srv):
    r = srv.get("/metrics")
    assert r.status == 200, r
    assert r.header("Content-Type") == "text/plain; version=0.0.4", r.header("Content-Type")
    series = {}
    for line in r.text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = LINE_RE.match(line)
        if m:
            labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2)))
            series[(m.group(1), tuple(sorted(labels.items())))] = float(m.group(3))
        else:
            name, value = line.split(" ")
            series[(name, ())] = float(value)
    return series


def requests_total(series, scope, result, reason):
    key = ("validate_jwt_requests_total",
           tuple(sorted({"scope": scope, "result": result, "reason": reason}.items())))
    return series.get(key, 0)


def test_requests_counted_over_all_children(env, keys):
    srv = env["srv"]
    before = scrape(srv)
    good = mint(hmac_jwk(keys.hs64), "HS256")
    expired = mint(hmac_jwk(keys.hs64), "HS256", exp=now() - 600, nbf=now() - 1200, iat=now() - 1200)
    for i in range(30):
        assert_pass(srv.get("/p/counted/x%d" % i, good))   # request paths are not scopes
    for _ in range(7):
        assert_fail(srv.get("/p/counted/", expired), "TokenExpired")
    for _ in range(4):
        assert_fail(srv.get("/p/counted/"), "TokenNotPresent")
    # every scrape, whichever child answers, sees all children's counts
    for _ in range(5):
        after = scrape(srv)
        assert requests_total(after, "/p/counted", "accepted", "none") - \
            requests_total(before, "/p/counted", "accepted", "none") == 30
        assert requests_total(after, "/p/counted", "rejected", "TokenExpired") - \
            requests_total(before, "/p/counted", "rejected", "TokenExpired") == 7
        assert requests_total(after, "/p/counted", "rejected", "TokenNotPresent") - \
            requests_total(before, "/p/counted", "rejected", "TokenNotPresent") == 4
    scopes = {dict(k[1]).get("scope") for k in after if k[0] == "validate_jwt_requests_total"}
    assert not any(s and s.startswith("/p/counted/") for s in scopes), scopes
    hits = after[("validate_jwt_token_cache_hits_total", ())]
    misses = after[("validate_jwt_token_cache_misses_total", ())]
    assert hits + misses >= 37 and hits >= 20, (hits, misses)


def test_json_has_the_same_figures(env, keys):
    srv = env["srv"]
    r = srv.get("/metrics?format=json")
    assert r.status == 200
    assert r.header("Content-Type").startswith("application/json")
    doc = r.json
    prom = scrape(srv)
    for row in doc["requests"]:
        assert requests_total(prom, row["scope"], row["result"], row["reason"]) >= row["count"]
    assert doc["token_cache"]["hits"] <= prom[("validate_jwt_token_cache_hits_total", ())]


def test_key_source_figures(env, keys):
    srv, F = env["srv"], env["F"]
    assert_pass(srv.get("/p/idp/", mint(keys.ec256, "ES256", kid="k1", iss=ISS)))
    url = F.url(JWKS)
    s = scrape(srv)
    src = (("source", url),)
    assert s[("validate_jwt_keys", src)] == 2
    assert s[("validate_jwt_keys_stale", src)] == 0
    assert 0 <= s[("validate_jwt_keys_age_seconds", src)] < 60
    assert s[("validate_jwt_key_fetches_total", (("result", "ok"), ("source", url)))] >= 1
    assert s[("validate_jwt_fetch_duration_seconds_count", src)] >= 1
    assert s[("validate_jwt_fetch_duration_seconds_bucket", (("le", "+Inf"), ("source", url)))] \
        == s[("validate_jwt_fetch_duration_seconds_count", src)]


def test_status_section(env, keys):
    srv = env["srv"]
    assert_pass(srv.get("/p/counted/", mint(hmac_jwk(keys.hs64), "HS256")))
    html = srv.get("/server-status")
    assert html.status == 200
    assert "<h2>validate_jwt</h2>" in html.text
    assert "/p/counted" in html.text
    auto = srv.get("/server-status?auto")
    assert auto.status == 200
    m = re.search(r"^ValidateJWTRequests\[/p/counted,accepted,none\]: (\d+)$", auto.text, re.M)
    assert m and int(m.group(1)) >= 1, auto.text
    assert re.search(r"^ValidateJWTTokenCacheHits: \d+$", auto.text, re.M), auto.text


def test_report_only(env, keys, expect_log):
    srv = env["srv"]
    expect_log(r"VJWT00362")
    before = scrape(srv)
    expired = mint(hmac_jwk(keys.hs64), "HS256", exp=now() - 600, nbf=now() - 1200, iat=now() - 1200, role="admin")
    for path in ("/p/ro/", "/p/ro-xml/"):
        for token, reason in ((None, "TokenNotPresent"), (expired, "TokenExpired"),
                              (mint(hmac_jwk(keys.hs64_other), "HS256"), "TokenSignatureInvalid")):
            r = srv.get(path, token)
            assert r.status == 200 and r.reached_backend, r
            e = r.env
            assert e.get("VALIDATE_JWT_REPORT_ONLY") == "1", e
            assert e.get("VALIDATE_JWT_ERROR_REASON") == reason, e
            assert e.get("REMOTE_USER", "") == ""
            assert not [k for k in e if k.startswith("VALIDATE_JWT_CLAIM_")], e
            assert r.header("WWW-Authenticate") is None
            lines = [l for l in r.errlog if "VJWT00362" in l]
            assert len(lines) == 1 and "reason=%s" % reason in lines[0], r.errlog
            assert vjwt_env.log_level(lines[0])[1] == "warn", lines[0]
        # a valid token behaves as when enforcing
        good = srv.get(path, mint(hmac_jwk(keys.hs64), "HS256", role="admin"))
        assert_pass(good)
        assert "VALIDATE_JWT_REPORT_ONLY" not in good.env
        if path == "/p/ro/":
            assert good.env.get("VALIDATE_JWT_CLAIM_role") == "admin"
    after = scrape(srv)
    assert requests_total(after, "/p/ro", "reported", "TokenExpired") - \
        requests_total(before, "/p/ro", "reported", "TokenExpired") == 1
    assert requests_total(after, "ops-policy", "reported", "TokenNotPresent") - \
        requests_total(before, "ops-policy", "reported", "TokenNotPresent") == 1


def test_counters_survive_graceful_restart(env, keys, expect_log):
    srv = env["srv"]
    good = mint(hmac_jwk(keys.hs64), "HS256")
    assert_pass(srv.get("/p/counted/", good))
    before = requests_total(scrape(srv), "/p/counted", "accepted", "none")
    expect_log(r"SIGUSR1", r"resuming normal operations", r"AH\d+")
    pos = srv.errlog_size()
    os.kill(srv.proc.pid, signal.SIGUSR1)
    assert vjwt_env.wait_errlog(srv, r"resuming normal operations", pos=pos, timeout=15)
    time.sleep(0.5)
    assert_pass(srv.get("/p/counted/", good))
    after = requests_total(scrape(srv), "/p/counted", "accepted", "none")
    assert after == before + 1, (before, after)


def test_configtest(httpd):
    rc, out, _, _ = httpd.configtest(locations=vjwt_env.location("x", "ValidateJWTReportOnly Maybe"))
    assert rc != 0 and "ValidateJWTReportOnly" in out, out


def test_authorization_denials(env, keys, expect_log):
    """Require jwt-scope: a denial counts as rejected TokenClaimValueNotAllowed; in report-only
    it is reported (warning VJWT00363) and the request goes on."""
    srv = env["srv"]
    expect_log(r"VJWT00363", r"VJWT00362", r"VJWT00320", r"AH01631")
    before = scrape(srv)
    reader = mint(hmac_jwk(keys.hs64), "HS256", scope="orders.read")
    writer = mint(hmac_jwk(keys.hs64), "HS256", scope="orders.read orders.write")
    r = srv.get("/p/scoped/", reader)
    assert r.status == 403, r
    assert_pass(srv.get("/p/scoped/", writer))
    r = srv.get("/p/ro-scoped/", reader)
    assert r.status == 200 and r.reached_backend, r
    assert r.env.get("VALIDATE_JWT_REPORT_ONLY") == "1"
    assert r.env.get("VALIDATE_JWT_ERROR_REASON") == "TokenClaimValueNotAllowed"
    assert [l for l in r.errlog if "VJWT00363" in l], r.errlog
    # report-only with no token at all: reported by authentication, and the Require line
    # can't judge a token that isn't there: the request goes on
    r = srv.get("/p/ro-scoped/")
    assert r.status == 200 and r.reached_backend, r
    assert r.env.get("VALIDATE_JWT_ERROR_REASON") == "TokenNotPresent"
    after = scrape(srv)
    assert requests_total(after, "/p/scoped", "rejected", "TokenClaimValueNotAllowed") - \
        requests_total(before, "/p/scoped", "rejected", "TokenClaimValueNotAllowed") == 1
    assert requests_total(after, "/p/ro-scoped", "reported", "TokenClaimValueNotAllowed") - \
        requests_total(before, "/p/ro-scoped", "reported", "TokenClaimValueNotAllowed") == 1


def test_report_only_every_reason(env, keys, expect_log):
    """Report-only lets every failure reason through, reported with that reason."""
    srv = env["srv"]
    expect_log(r"VJWT00362", r"VJWT00201")
    hs = hmac_jwk(keys.hs64)
    other = hmac_jwk(keys.hs64_other)
    cases = [
        ("/p/ro-all/", None, "TokenNotPresent"),
        ("/p/ro-all/", "not.a.jwt", "JwtInvalid"),
        ("/p/ro-all/", mint(other, "HS256", role="admin"), "TokenSignatureInvalid"),
        ("/p/ro-all/", mint(other, "HS256", kid="nope", role="admin"), "TokenSignatureKeyNotFound"),
        ("/p/ro-all/", mint(hs, "HS256", role="admin", exp=now() - 600, nbf=now() - 1200,
                            iat=now() - 1200), "TokenExpired"),
        ("/p/ro-all/", mint(hs, "HS256", role="admin", aud="api://nope"), "TokenAudienceNotAllowed"),
        ("/p/ro-all/", mint(hs, "HS256", role="admin", iss="https://nope/"), "TokenIssuerNotAllowed"),
        ("/p/ro-all/", mint(hs, "HS256"), "TokenClaimNotFound"),
        ("/p/ro-all/", mint(hs, "HS256", role="guest"), "TokenClaimValueNotAllowed"),
        ("/p/ro-down/", mint(keys.ec256, "ES256", kid="k1"), "KeysUnavailable"),
    ]
    before = scrape(srv)
    for path, token, reason in cases:
        r = srv.get(path, token)
        assert r.status == 200 and r.reached_backend, (reason, r)
        assert r.env.get("VALIDATE_JWT_ERROR_REASON") == reason, (reason, r.env)
        assert r.env.get("VALIDATE_JWT_REPORT_ONLY") == "1"
        assert r.env.get("REMOTE_USER", "") == ""
    after = scrape(srv)
    for path, _, reason in cases:
        scope = path.rstrip("/")
        assert requests_total(after, scope, "reported", reason) - \
            requests_total(before, scope, "reported", reason) >= 1, (scope, reason)
    good = srv.get("/p/ro-all/", mint(hs, "HS256", role="admin"))
    assert_pass(good)
