"""Encrypted tokens (JWE) through a real httpd (docs/conformance.md#jwe, C136-C140).

Every case runs in both configuration modes, a `ValidateJWTPolicy` file with
`<decryption-keys>` and the equivalent `ValidateJWTDecryptionKey` directives, and must give
the same status, body and reason in both. Tokens are encrypted by python3-jwcrypto and by
node `jose` (tests/idp/node_modules, through data/jwe_mint.mjs) for every alg x enc pair
both support; the inner tokens are RS256 tokens from jwcrypto, or access tokens from the real
OpenID Provider (tests/idp) for the nested-JWT case. Negative cases alter those tokens.
"""

import json
import os
import re
import subprocess
import time

import pytest
from cryptography.hazmat.primitives import serialization
from jwcrypto import jwe, jwk

import vjwt_idp
from vjwt_env import assert_fail, assert_pass, location
from vjwt_fakeidp import public_jwk
from vjwt_idp import DEFAULT_RESOURCE
from vjwt_tokens import AUD, b64std, b64u, b64u_dec, claims, mint, unsigned, _self_signed

MODES = ("xml", "directives")
HERE = os.path.dirname(os.path.abspath(__file__))
ENCS = ["A128CBC-HS256", "A192CBC-HS384", "A256CBC-HS512", "A128GCM", "A192GCM", "A256GCM"]
CEK_BYTES = {"A128CBC-HS256": 32, "A192CBC-HS384": 48, "A256CBC-HS512": 64,
             "A128GCM": 16, "A192GCM": 24, "A256GCM": 32}
KW_ALGS = ["A128KW", "A192KW", "A256KW"]
RSA_ALGS = ["RSA-OAEP", "RSA-OAEP-256"]
ECDH_ALGS = ["ECDH-ES", "ECDH-ES+A128KW", "ECDH-ES+A192KW", "ECDH-ES+A256KW"]
CURVES = ["P-256", "P-384", "P-521"]


class JweKeys:
    """The decryption keys of this file: symmetric keys for dir and A*KW (with ids), an RSA
    key and one EC key per curve (private keys in PEM files, followed by a certificate,
    named by ValidateJWTCertificate), and keys nobody configured."""

    def __init__(self, httpd):
        self.sym = {}
        for n in (16, 24, 32, 48, 64):
            self.sym["dir-%d" % (n * 8)] = os.urandom(n)
        for n in (16, 24, 32):
            self.sym["kw-%d" % (n * 8)] = os.urandom(n)
        self.rsa = jwk.JWK.generate(kty="RSA", size=2048, kid="rsa-enc")
        self.rsa_other = jwk.JWK.generate(kty="RSA", size=2048, kid="rsa-enc")
        self.ec = {c: jwk.JWK.generate(kty="EC", crv=c, kid="ec-%s" % c) for c in CURVES}
        self.files = {}
        for name, k in [("rsa-enc", self.rsa)] + [("ec-%s" % c, self.ec[c]) for c in CURVES]:
            priv = k.get_op_key("unwrapKey") if k["kty"] == "RSA" else \
                k.get_op_key("unwrapKey", k["crv"])
            pem = priv.private_bytes(serialization.Encoding.PEM,
                                     serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption())
            self.files[name] = httpd.write_file("keys/jwe/%s.pem" % name,
                                                pem + _self_signed(priv, name))

    def jwk_of(self, kid):
        """The jwcrypto key a token for kid is encrypted to (public for RSA/EC)."""
        if kid in self.sym:
            return jwk.JWK(kty="oct", k=b64u(self.sym[kid]), kid=kid)
        if kid == "rsa-enc":
            return self.rsa
        return self.ec[kid[3:]]

    def target(self, alg, enc, crv="P-256"):
        """The kid of the configured key for alg/enc."""
        if alg == "dir":
            return "dir-%d" % (CEK_BYTES[enc] * 8)
        if alg in KW_ALGS:
            return "kw-%s" % alg[1:4]
        if alg in RSA_ALGS:
            return "rsa-enc"
        return "ec-%s" % crv

    def server_conf(self):
        return "\n".join("ValidateJWTCertificate %s %s" % (n, p) for n, p in self.files.items())

    def asymmetric(self):
        return ["rsa-enc"] + ["ec-%s" % c for c in CURVES]


# ---- the two configuration modes ------------------------------------------------------
def policy_lines(httpd, keys, jk, mode, name, dec=None, require_signed=None, openid=None,
                 aud=AUD, signing=True, extra=()):
    """The lines of one <Location>: a policy file (xml) or directives. dec: the kids of the
    decryption keys (None: all of them, [] none)."""
    dec = list(jk.sym) + jk.asymmetric() if dec is None else dec
    n, e = (json.loads(keys.rsa1.export_public())[m] for m in ("n", "e"))
    if mode == "xml":
        x = ['<validate-jwt header-name="Authorization" output-token-variable-name="jwt"%s>'
             % ('' if require_signed is None else
                ' require-signed-tokens="%s"' % ("true" if require_signed else "false"))]
        if openid:
            x.append('    <openid-config url="%s"/>' % openid)
        if signing:
            x += ["    <issuer-signing-keys>",
                  '        <key id="rsa1" n="%s" e="%s"/>' % (n, e),
                  "    </issuer-signing-keys>"]
        if dec:
            x.append("    <decryption-keys>")
            for kid in dec:
                if kid in jk.sym:
                    x.append('        <key id="%s">%s</key>' % (kid, b64std(jk.sym[kid])))
                else:
                    x.append('        <key id="%s" certificate-id="%s"/>' % (kid, kid))
            x.append("    </decryption-keys>")
        x += ["    <audiences>", "        <audience>%s</audience>" % aud, "    </audiences>",
              "</validate-jwt>"]
        path = httpd.write_file("policies/jwe/%s-%s.xml" % (mode, name),
                                ("\n".join(x) + "\n").encode())
        return ["ValidateJWTPolicy %s" % path] + list(extra)
    d = ["ValidateJWTOutputTokenVariableName jwt", "ValidateJWTAudience %s" % aud]
    if require_signed is not None:
        d.append("ValidateJWTRequireSignedTokens %s" % ("On" if require_signed else "Off"))
    if openid:
        d.append("ValidateJWTOpenIDConfig %s" % openid)
    if signing:
        d.append("ValidateJWTIssuerSigningKey id=rsa1 n=%s e=%s" % (n, e))
    for kid in dec:
        if kid in jk.sym:
            d.append("ValidateJWTDecryptionKey id=%s %s" % (kid, b64std(jk.sym[kid])))
        else:
            d.append("ValidateJWTDecryptionKey id=%s certificate-id=%s" % (kid, kid))
    return d + list(extra)


LOCATIONS = {
    "all": {},
    "unsigned-ok": {"require_signed": False},
    "nodec": {"dec": []},
    "short": {"dec": ["dir-128"]},
    "maxlen": {"extra": ["ValidateJWTMaxTokenLength 1100"]},
}


@pytest.fixture(scope="module")
def jk(httpd):
    return JweKeys(httpd)


FAKE_ISS = "https://jwe.fake.test"
FAKE_JWKS = "/jwe/jwks"
FAKE_DISC = "/jwe/.well-known/openid-configuration"


@pytest.fixture(scope="module")
def fake(fakeidp, keys):
    F = fakeidp()
    F.add_jwks(FAKE_JWKS, [public_jwk(keys.ec256, kid="old")])
    F.add_discovery(FAKE_DISC, FAKE_ISS, FAKE_JWKS)
    return F


@pytest.fixture(scope="module")
def srv(httpd, keys, jk, real_idp, fake):
    blocks = []
    for mode in MODES:
        for name, kw in LOCATIONS.items():
            blocks.append(location("%s-%s" % (mode, name),
                                   *policy_lines(httpd, keys, jk, mode, name, **kw)))
        blocks.append(location("%s-idp" % mode, *policy_lines(
            httpd, keys, jk, mode, "idp", dec=["dir-256", "rsa-enc"], signing=False,
            openid=real_idp.discovery, aud=DEFAULT_RESOURCE)))
        blocks.append(location("%s-fake" % mode, *policy_lines(
            httpd, keys, jk, mode, "fake", dec=["dir-256"], signing=False,
            openid=fake.url(FAKE_DISC))))
    server_conf = "\n".join([jk.server_conf(), "ValidateJWTFetchTimeout 2 4",
                             "ValidateJWTKeysRefetchInterval 1"])
    return httpd.start("jwe", "\n".join(blocks), server_conf=server_conf)


# ---- tokens ------------------------------------------------------------------------------
def inner(keys, **over):
    """A valid RS256 token from the trusted key rsa1."""
    return mint(keys.rsa1, "RS256", kid="rsa1", **over)


def py_jwe(key, alg, enc, plaintext, kid=None, cty="JWT", **extra):
    """A compact JWE made by jwcrypto (RSA1_5 and zip allowed when asked for)."""
    hdr = {"alg": alg, "enc": enc}
    if cty:
        hdr["cty"] = cty
    if kid:
        hdr["kid"] = kid
    hdr.update(extra)
    e = jwe.JWE(plaintext.encode(), json.dumps(hdr))
    if alg == "RSA1_5":
        e.allowed_algs = e.allowed_algs + ["RSA1_5"]
    e.add_recipient(key)
    return e.serialize(compact=True)


def node_jwes(jobs):
    """Compact JWEs made by node jose, one per job (alg, enc, key JWK, header, plaintext)."""
    ok, why = vjwt_idp.idp_available()
    if not ok:
        pytest.fail("node jose unavailable: %s" % why, pytrace=False)
    r = subprocess.run([vjwt_idp.NODE, os.path.join(HERE, "data", "jwe_mint.mjs")],
                       input=json.dumps({"jobs": jobs}).encode(), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=120)
    assert r.returncode == 0, r.stderr.decode()
    return json.loads(r.stdout)


def pairs():
    """(alg, enc, curve) of every pair the module supports (ECDH on each curve)."""
    out = []
    for enc in ENCS:
        for alg in ["dir"] + KW_ALGS + RSA_ALGS:
            out.append((alg, enc, None))
        for alg in ECDH_ALGS:
            for crv in CURVES:
                out.append((alg, enc, crv))
    return out


def send(srv, mode, loc, token):
    return srv.get("/p/%s-%s/" % (mode, loc), token)


def both(srv, loc, token):
    """The response of each mode, and that both agree (status, body, reason)."""
    a, b = (send(srv, m, loc, token) for m in MODES)

    def sig(r):
        return r.status, r.vjwt_reason, r.body if r.vjwt_reason else None
    assert sig(a) == sig(b), (a, b)
    return a, b


def seg_change(token, i, fn):
    s = token.split(".")
    s[i] = fn(s[i])
    return ".".join(s)


def flip(segment):
    """One bit of the decoded segment flipped (still canonical base64url)."""
    raw = bytearray(b64u_dec(segment))
    raw[len(raw) // 2] ^= 0x01
    return b64u(bytes(raw))


# ---- accepted ----------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_accepted_jwcrypto_every_pair(srv, keys, jk, mode):
    """C136: every alg x enc pair (ECDH-ES on P-256/384/521) from jwcrypto, around a valid
    RS256 token, passes; every other token names its key."""
    failed = []
    for i, (alg, enc, crv) in enumerate(pairs()):
        kid = jk.target(alg, enc, crv or "P-256")
        t = py_jwe(jk.jwk_of(kid), alg, enc, inner(keys), kid=kid if i % 2 else None)
        r = send(srv, mode, "all", t)
        if r.status != 200:
            failed.append((alg, enc, crv, r.status, r.header("X-VJWT-Message")))
    assert not failed, failed


@pytest.mark.parametrize("mode", MODES)
def test_accepted_node_jose_every_pair(srv, keys, jk, mode):
    """C136: the same pairs from node jose."""
    jobs, want = [], []
    for i, (alg, enc, crv) in enumerate(pairs()):
        kid = jk.target(alg, enc, crv or "P-256")
        k = jk.jwk_of(kid)
        key = json.loads(k.export(private_key=True) if kid in jk.sym else k.export_public())
        jobs.append({"alg": alg, "enc": enc, "key": key, "plaintext": inner(keys),
                     "header": {"cty": "JWT", **({"kid": kid} if i % 2 else {})}})
        want.append((alg, enc, crv))
    failed = []
    for (alg, enc, crv), t in zip(want, node_jwes(jobs)):
        r = send(srv, mode, "all", t)
        if r.status != 200:
            failed.append((alg, enc, crv, r.status, r.header("X-VJWT-Message")))
    assert not failed, failed


def test_exports_describe_inner_token(srv, keys, jk):
    """The output variable is the inner token; X_ENC / X_ALG_KEY the outer header; the
    accepted line says the token was encrypted."""
    jws = inner(keys, sub="enc-user")
    t = py_jwe(jk.jwk_of("rsa-enc"), "RSA-OAEP", "A256GCM", jws, kid="rsa-enc")
    for r in both(srv, "all", t):
        assert_pass(r)
        env = r.env
        assert env.get("jwt") == jws
        assert env.get("jwt_ALG") == "RS256"
        assert env.get("jwt_SUB") == "enc-user"
        assert env.get("jwt_ENC") == "A256GCM"
        assert env.get("jwt_ALG_KEY") == "RSA-OAEP"
        assert env.get("REMOTE_USER") == "enc-user"


def test_plain_jws_still_accepted(srv, keys):
    """Encryption is optional: the same token unencrypted passes where keys exist."""
    for r in both(srv, "all", inner(keys)):
        assert_pass(r)
        assert "jwt_ENC" not in r.env


def test_nested_jwt_from_real_idp(srv, jk, real_idp):
    """C136: the inner token is an access token of the real OpenID Provider, its key found
    through discovery; encrypted with dir and with RSA-OAEP."""
    for alg, enc, kid in (("dir", "A256GCM", "dir-256"), ("RSA-OAEP", "A128CBC-HS256",
                                                          "rsa-enc")):
        t = py_jwe(jk.jwk_of(kid), alg, enc, real_idp.token("RS256"), kid=kid)
        for r in both(srv, "idp", t):
            assert_pass(r)
            assert r.env.get("jwt_ALG_KEY") == alg


def test_inner_kid_unknown_refetches(srv, keys, jk, fake):
    """The refetch for an unknown kid applies to the inner token: a key the provider
    publishes after start-up verifies an encrypted token signed with it."""
    k = jk.jwk_of("dir-256")
    t = py_jwe(k, "dir", "A256GCM", mint(keys.ec256, "ES256", kid="old", iss=FAKE_ISS))
    for r in both(srv, "fake", t):
        assert_pass(r)
    new = jwk.JWK.generate(kty="EC", crv="P-256")
    fake.add_jwks(FAKE_JWKS, [public_jwk(keys.ec256, kid="old"), public_jwk(new, kid="new")])
    time.sleep(1.2)  # past the refetch floor (ValidateJWTKeysRefetchInterval 1)
    t = py_jwe(k, "dir", "A256GCM", mint(new, "ES256", kid="new", iss=FAKE_ISS))
    for r in both(srv, "fake", t):
        assert_pass(r)


# ---- refused: JwtInvalid -----------------------------------------------------------------
def _fail_both(srv, loc, token, reason, detail_re=None):
    for r in both(srv, loc, token):
        assert_fail(r, reason)
        if detail_re:
            assert re.search(detail_re, r.header("X-VJWT-Message") or ""), \
                r.header("X-VJWT-Message")
    return r


@pytest.mark.parametrize("seg,alg", [(0, "dir"), (1, "RSA-OAEP"), (2, "dir"), (3, "dir"),
                                     (4, "dir"), (4, "RSA-OAEP")],
                         ids=["header", "encrypted-key", "iv", "ciphertext", "tag",
                              "tag-oaep"])
def test_tampered(srv, keys, jk, seg, alg):
    """C138: a bit flipped in the protected header, encrypted key, IV, ciphertext or tag."""
    kid = "dir-256" if alg == "dir" else "rsa-enc"
    t = py_jwe(jk.jwk_of(kid), alg, "A256GCM", inner(keys), kid=kid)
    if seg == 0:
        # a header member changed: the JSON stays valid, the AAD no longer matches
        h = json.loads(b64u_dec(t.split(".")[0]))
        h["x"] = 1
        t = seg_change(t, 0, lambda s: b64u(json.dumps(h)))
    else:
        t = seg_change(t, seg, flip)
    _fail_both(srv, "all", t, "JwtInvalid")


def test_truncated_tag(srv, keys, jk):
    """A GCM tag cut short is refused (the tag length is what enc requires)."""
    t = py_jwe(jk.jwk_of("dir-256"), "dir", "A256GCM", inner(keys))
    t = seg_change(t, 4, lambda s: b64u(b64u_dec(s)[:12]))
    _fail_both(srv, "all", t, "JwtInvalid")


def test_wrong_key(srv, keys, jk):
    """Encrypted to keys the location does not have: another RSA key with the same kid,
    another symmetric key of the right length."""
    _fail_both(srv, "all", py_jwe(jk.rsa_other, "RSA-OAEP", "A256GCM", inner(keys),
                                  kid="rsa-enc"), "JwtInvalid")
    other = jwk.JWK(kty="oct", k=b64u(os.urandom(32)))
    _fail_both(srv, "all", py_jwe(other, "dir", "A256GCM", inner(keys)), "JwtInvalid")


def test_kid_names_another_key(srv, keys, jk):
    """A kid that names a configured key binds the token to it: encrypted to dir-256 but
    naming kw-256 (also 32 bytes) fails, the same token without kid passes."""
    k = jk.jwk_of("dir-256")
    _fail_both(srv, "all", py_jwe(k, "dir", "A256GCM", inner(keys), kid="kw-256"),
               "JwtInvalid")
    for r in both(srv, "all", py_jwe(k, "dir", "A256GCM", inner(keys))):
        assert_pass(r)


def test_rsa1_5_and_zip(srv, keys, jk):
    """C140: RSA1_5 (RFC 8725 3.2) and any zip (3.6) are refused."""
    _fail_both(srv, "all", py_jwe(jk.rsa, "RSA1_5", "A128CBC-HS256", inner(keys)),
               "JwtInvalid", "RSA1_5")
    _fail_both(srv, "all", py_jwe(jk.jwk_of("dir-256"), "dir", "A256GCM", inner(keys),
                                  zip="DEF"), "JwtInvalid", "zip")


def test_no_decryption_keys(srv, keys, jk):
    """C137: a JWE where no decryption key is in scope."""
    t = py_jwe(jk.jwk_of("dir-256"), "dir", "A256GCM", inner(keys))
    _fail_both(srv, "nodec", t, "JwtInvalid", "encrypted token but no decryption keys")
    # the same location takes the plain token
    for r in both(srv, "nodec", inner(keys)):
        assert_pass(r)


def test_dir_key_of_other_length(srv, keys, jk):
    """dir + A256GCM needs 32 bytes: a location whose only key has 16 refuses it."""
    _fail_both(srv, "short", py_jwe(jk.jwk_of("dir-256"), "dir", "A256GCM", inner(keys)),
               "JwtInvalid")
    for r in both(srv, "short", py_jwe(jk.jwk_of("dir-128"), "dir", "A128GCM", inner(keys))):
        assert_pass(r)


def test_max_length_whole_jwe(srv, keys, jk):
    """ValidateJWTMaxTokenLength measures the whole JWE, not its plaintext."""
    jws = inner(keys)
    t = py_jwe(jk.jwk_of("rsa-enc"), "RSA-OAEP", "A256GCM", jws)
    short = py_jwe(jk.jwk_of("dir-256"), "dir", "A256GCM", jws)
    assert len(jws) < len(short) <= 1100 < len(t), (len(jws), len(short), len(t))
    _fail_both(srv, "maxlen", t, "JwtInvalid", "more than the limit")
    for r in both(srv, "maxlen", short):
        assert_pass(r)


# ---- the inner token keeps the JWS reasons ----------------------------------------------
def test_inner_alg_none(srv, keys, jk):
    """C139: an unsigned inner token is TokenSignatureInvalid while signed tokens are
    required, and passes where they are not."""
    t = py_jwe(jk.jwk_of("dir-256"), "dir", "A256GCM", unsigned(claims()))
    _fail_both(srv, "all", t, "TokenSignatureInvalid")
    for r in both(srv, "unsigned-ok", t):
        assert_pass(r)


def test_inner_bare_claims_set(srv, keys, jk):
    """A plaintext that is a JSON claims set is an unsigned token."""
    t = py_jwe(jk.jwk_of("dir-256"), "dir", "A256GCM", json.dumps(claims(sub="bare")),
               cty=None)
    _fail_both(srv, "all", t, "TokenSignatureInvalid", "bare claims set")
    for r in both(srv, "unsigned-ok", t):
        assert_pass(r)
        assert r.env.get("REMOTE_USER") == "bare"


def test_inner_untrusted_key(srv, keys, jk):
    """An inner token signed by a key the location does not trust."""
    k = jk.jwk_of("dir-256")
    _fail_both(srv, "all", py_jwe(k, "dir", "A256GCM", mint(keys.rsa_attacker, "RS256",
                                                             kid="rsa1")),
               "TokenSignatureInvalid")
    _fail_both(srv, "all", py_jwe(k, "dir", "A256GCM", mint(keys.rsa_attacker, "RS256",
                                                             kid="attacker")),
               "TokenSignatureKeyNotFound")


def test_inner_expired(srv, keys, jk, httpd):
    """An expired inner token is TokenExpired; the log line names alg/kid of the inner
    token and the outer enc/alg."""
    t = py_jwe(jk.jwk_of("rsa-enc"), "RSA-OAEP", "A256GCM",
               inner(keys, exp=claims()["iat"] - 600, nbf=None, iat=claims()["iat"] - 7200))
    r = _fail_both(srv, "all", t, "TokenExpired")
    line = r.reason_lines()[0]
    assert 'alg="RS256" kid="rsa1"' in line and 'enc="A256GCM" key_alg="RSA-OAEP"' in line, line


# ---- configuration --------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_dir_key_of_invalid_length_refused(httpd, keys, jk, mode):
    """A symmetric decryption key whose length fits no algorithm (20 bytes) fails
    configtest in both modes."""
    jk.sym["bad-160"] = os.urandom(20)
    try:
        lines = policy_lines(httpd, keys, jk, mode, "badlen", dec=["bad-160"])
    finally:
        del jk.sym["bad-160"]
    rc, out, _, _ = httpd.configtest(locations=location("badlen", *lines))
    assert rc != 0, out
