"""Authenticated shared-cache values (README "Shared key cache", ValidateJWTCacheSecret):

* configtest refuses a missing, empty, too short (< 16 bytes) or world-readable secret
  file, or an argument that is not file:PATH, at the directive's line;
* a network cache (redis here) without a secret gets a startup warning (VJWT00041);
  shmcb does not, and neither does redis with a secret;
* with a secret every value the module writes to redis is sealed; a record planted in
  redis with an attacker's key (plain JSON, or sealed with another secret, or a genuine
  record of another source moved to this source's key) is ignored: the attacker's token is
  refused, the keys are fetched from the identity provider, and the error log has one
  VJWT00221 line per process and cache key, not one per request;
* without a secret the same planted record is used (the risk the warning names).
"""

import json
import os
import re
import time

import pytest

import vjwt_env
from vjwt_env import assert_fail, assert_pass, load_modules, location, locations
from vjwt_fakeidp import public_jwk
from vjwt_idp import RedisServer
from vjwt_tokens import mint

SECRET_RE = r"VJWT00041"
FORGED_RE = r"VJWT00221"


def _line_no(text, line):
    for i, l in enumerate(text.splitlines(), 1):
        if l.strip() == line.strip():
            return i
    raise AssertionError("line %r not in config" % line)


def _secret(httpd, name, data=b"0123456789abcdef0123456789abcdef\n", mode=0o600):
    return httpd.write_file("secrets/%s" % name, data, mode=mode)


# --- configtest --------------------------------------------------------------------------

def _bad_cases(httpd):
    return [
        ("missing", "file:%s" % httpd.path("secrets/does-not-exist"), "cannot read"),
        ("empty", "file:%s" % _secret(httpd, "empty", b""), "at least 16"),
        ("short", "file:%s" % _secret(httpd, "short", b"0123456789abcde\n"), "at least 16"),
        ("blank", "file:%s" % _secret(httpd, "blank", b"   \n\n"), "at least 16"),
        ("world-readable", "file:%s" % _secret(httpd, "wr", mode=0o644), "chmod 600"),
        ("no-file-prefix", _secret(httpd, "ok"), "file:PATH"),
        ("directory", "file:%s" % os.path.dirname(_secret(httpd, "ok")), "regular file"),
    ]


@pytest.mark.parametrize("case", ["missing", "empty", "short", "blank", "world-readable",
                                  "no-file-prefix", "directory"])
def test_configtest_bad_secret(httpd, keys, case):
    """A bad secret file fails configtest at the directive's line, naming the directive."""
    arg, why = {c[0]: c[1:] for c in _bad_cases(httpd)}[case]
    bad = "ValidateJWTCacheSecret %s" % arg
    rc, out, conf, text = httpd.configtest(
        server_conf=bad + "\n", name="ct-secret-" + case,
        locations=location("ct", "ValidateJWTAudience api://x",
                           "ValidateJWTIssuerSigningKey file:keys/ec256.pub.pem"))
    assert rc != 0, "configtest passed with %r:\n%s" % (bad, out)
    m = re.search(r"Syntax error on line (\d+) of ([^:]+):", out)
    assert m, out
    assert int(m.group(1)) == _line_no(text, bad), out
    assert m.group(2) == conf, out
    assert "ValidateJWTCacheSecret" in out and why in out, out


def test_configtest_good_secret(httpd, keys):
    rc, out, _, _ = httpd.configtest(
        server_conf="ValidateJWTCacheSecret file:%s\n" % _secret(httpd, "good"),
        locations=location("ct", "ValidateJWTAudience api://x",
                           "ValidateJWTIssuerSigningKey file:keys/ec256.pub.pem"),
        name="ct-secret-good")
    assert rc == 0, out


def test_configtest_secret_not_in_vhost(httpd):
    text = "<VirtualHost 127.0.0.1:9>\nValidateJWTCacheSecret file:%s\n</VirtualHost>\n" % \
        _secret(httpd, "vh")
    rc, out, _, _ = httpd.configtest(server_conf=text, name="ct-secret-vhost")
    assert rc != 0 and "ValidateJWTCacheSecret" in out, out


# --- redis -------------------------------------------------------------------------------

def _resp(reply):
    """Bulk strings of a RESP reply (a bulk string or an array of them)."""
    out, i = [], 0
    lines = reply.split(b"\r\n")
    while i < len(lines):
        ln = lines[i]
        if ln.startswith(b"$") and ln != b"$-1":
            out.append(lines[i + 1])
            i += 2
        else:
            i += 1
    return out


def _entries(r):
    """{redis key: value} of everything in the redis instance."""
    return {k: (_resp(r.command("GET", k)) or [b""])[0] for k in _resp(r.command("KEYS", "*"))}


def _name(redis_key):
    """The module's cache key of a redis key (mod_socache_redis stores "validate_jwt:" +
    the name in hex)."""
    return bytes.fromhex(redis_key.split(b":", 1)[1].decode()).decode()


def _conf(port, secret=None, refetch=1):
    lines = [load_modules("socache_redis"),
             "ValidateJWTCache redis:127.0.0.1:%d" % port,
             "ValidateJWTKeysRefetchInterval %d" % refetch,
             "ValidateJWTKeysRefreshInterval 3600",
             "ValidateJWTFetchTimeout 2 4"]
    if secret:
        lines.append("ValidateJWTCacheSecret file:%s" % secret)
    return "\n".join(lines)


def _forged_record(keys, iss):
    t = int(time.time() * 1e6)
    return json.dumps({"v": 1, "url": "forged", "fetched": t + 10 * 1000000,
                       "refresh_at": t + 86400 * 1000000, "issuer": iss,
                       "jwks": json.dumps({"keys": [public_jwk(keys.rsa_attacker, kid="evil")]})},
                      separators=(",", ":"))


def _setup(fakeidp, keys, name):
    F = fakeidp()
    disc, jwks = "/%s/.well-known/openid-configuration" % name, "/%s/jwks" % name
    iss = "https://%s.fake.test" % name
    F.add_jwks(jwks, [public_jwk(keys.ec256, kid="good")])
    F.add_discovery(disc, iss, jwks)
    F.add_jwks("/%s/other" % name, [public_jwk(keys.ed25519, kid="other")])
    spec = {"c": ["ValidateJWTOpenIDConfig %s" % F.url(disc)],
            "o": ["ValidateJWTJWKSURI %s" % F.url("/%s/other" % name)]}
    return F, disc, jwks, iss, spec


def _forged_lines(srv):
    return [l for l in srv.read_errlog().splitlines() if re.search(FORGED_RE, l)]


def _check_once(lines):
    """At most one VJWT00221 line per process and cache key."""
    seen = set()
    for l in lines:
        pid = re.search(r"\[pid (\d+)", l).group(1)
        key = re.search(r"value (vjwt:\w:[0-9a-f]+)", l).group(1)
        assert (pid, key) not in seen, "logged twice in one process:\n%s" % "\n".join(lines)
        seen.add((pid, key))


def test_startup_warning_without_secret(httpd, fakeidp, keys, tmp_path):
    """redis without a secret: VJWT00041 at startup; with a secret, or with shmcb: none."""
    r = RedisServer(str(tmp_path)).start()
    F = fakeidp()
    F.add_jwks("/warn/jwks", [public_jwk(keys.ec256, kid="w")])
    try:
        spec = locations({"w": ["ValidateJWTJWKSURI %s" % F.url("/warn/jwks")]})
        srv = httpd.start("secret-warn", spec, server_conf=_conf(r.port),
                          allow_startup=[SECRET_RE])
        lines = [l for l in srv.startup_lines if re.search(SECRET_RE, l)]
        assert lines and "[validate_jwt:warn]" in lines[0] and "redis" in lines[0], \
            srv.startup_lines
        httpd.stop()
        srv = httpd.start("secret-nowarn", spec,
                          server_conf=_conf(r.port, _secret(httpd, "nowarn")))
        assert not [l for l in srv.startup_lines if re.search(SECRET_RE, l)]
        httpd.stop()
        srv = httpd.start("secret-shmcb", spec, server_conf=load_modules("socache_shmcb"))
        assert not [l for l in srv.startup_lines if re.search(SECRET_RE, l)]
    finally:
        httpd.stop()
        r.stop()


def test_forged_record_refused(httpd, httpd2, fakeidp, keys, tmp_path, expect_log):
    """A record planted in redis with an attacker's key is ignored under a secret."""
    expect_log(FORGED_RE)
    r = RedisServer(str(tmp_path)).start()
    F, disc, jwks, iss, spec = _setup(fakeidp, keys, "sealed")
    secret = _secret(httpd, "sealed")
    conf = _conf(r.port, secret)
    good = mint(keys.ec256, "ES256", kid="good", iss=iss)
    evil = mint(keys.rsa_attacker, "RS256", kid="evil", iss=iss)
    try:
        a = httpd.start("sealed-a", locations(spec), server_conf=conf)
        assert_pass(a.get("/p/c/", good))
        assert_pass(a.get("/p/o/", mint(keys.ed25519, "EdDSA", kid="other")))
        time.sleep(0.3)
        ents = _entries(r)
        assert len(ents) >= 4, ents
        # every value the module wrote is sealed
        assert all(v.startswith(b"vjwt1.") for v in ents.values()), ents
        records = [k for k, v in ents.items() if b'"jwks"' in v]
        assert len(records) == 2, ents
        rec = [k for k in records if b"sealed/jwks" in ents[k] or iss.encode() in ents[k]][0]
        other = [k for k in records if k != rec][0]
        gens = [k for k, v in ents.items() if re.match(rb"vjwt1\.[^.]+\.\d+$", v)]

        # plant: a plain record with the attacker's key, plain generation entries
        r.command("SET", rec, _forged_record(keys, iss))
        for g in gens:
            r.command("SET", g, "99999999999999999")
        time.sleep(2.5)   # the children's ticks read the generation entries again and again
        for _ in range(5):
            assert_fail(a.get("/p/c/", evil), "TokenSignatureKeyNotFound")
            assert_pass(a.get("/p/c/", good))
        lines = _forged_lines(a)
        assert lines, "no VJWT00221 line"
        _check_once(lines)
        assert all("[validate_jwt:warn]" in l for l in lines), lines

        # a second host, cold: a record sealed with another secret, then a genuine record of
        # the other source moved to this source's key; both refused, keys fetched
        hits = F.hits(jwks)
        r.command("SET", rec, ents[other])
        b = httpd2.start("sealed-b", locations(spec), server_conf=conf)
        try:
            for _ in range(3):
                assert_fail(b.get("/p/c/", evil), "TokenSignatureKeyNotFound")
                assert_pass(b.get("/p/c/", good))
            assert F.hits(jwks) > hits, "instance B did not fetch the keys itself"
            blines = _forged_lines(b)
            assert any(_name(rec) in l for l in blines), blines
            _check_once(blines)
            bad = vjwt_env.bad_lines(b.read_errlog().splitlines(), [FORGED_RE])
            assert not bad, bad
        finally:
            httpd2.stop()
    finally:
        httpd.stop()
        r.stop()


def test_forged_record_without_secret_is_used(httpd, fakeidp, keys, tmp_path, expect_log):
    """Without ValidateJWTCacheSecret a planted record is taken as it is: the reason for the
    startup warning (and unchanged behaviour for installations without a secret)."""
    expect_log(SECRET_RE)
    r = RedisServer(str(tmp_path)).start()
    F, disc, jwks, iss, spec = _setup(fakeidp, keys, "plain")
    conf = _conf(r.port)
    try:
        a = httpd.start("plain-a", locations(spec), server_conf=conf, allow_startup=[SECRET_RE])
        assert_pass(a.get("/p/c/", mint(keys.ec256, "ES256", kid="good", iss=iss)))
        time.sleep(0.3)
        ents = _entries(r)
        assert all(v.startswith(b"{") or re.match(rb"^\d+( failed)?$", v)
                   for v in ents.values()), ents
        rec = [k for k, v in ents.items() if b'"jwks"' in v and iss.encode() in v][0]
        httpd.stop()
        r.command("SET", rec, _forged_record(keys, iss))
        a = httpd.start("plain-b", locations(spec), server_conf=conf, allow_startup=[SECRET_RE])
        assert_pass(a.get("/p/c/", mint(keys.rsa_attacker, "RS256", kid="evil", iss=iss)))
    finally:
        httpd.stop()
        r.stop()
