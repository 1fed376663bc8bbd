"""ValidateJWTTokenType and ValidateJWTMaxTokenAge (README.md "How a request is
validated"), in directive mode and beside a ValidateJWTPolicy file.

- typ must equal one of the types, without regard to case, "application/" optional on
  either side (RFC 7515 section 4.1.9); a missing typ fails; JwtInvalid, the detail names
  the expected type.
- iat is required and no older than SECONDS (+ clock skew); an iat beyond the skew in the
  future fails too; TokenExpired.
"""

import pytest

from vjwt_env import assert_fail, assert_pass
from vjwt_tokens import b64std, hmac_jwk, mint, now


@pytest.fixture(scope="module")
def srv(httpd, keys):
    key = "ValidateJWTIssuerSigningKey %s" % b64std(keys.hs64)
    pol = httpd.write_file("conf/typ-policy.xml",
                           '<validate-jwt header-name="Authorization">\n'
                           '  <issuer-signing-keys><key>%s</key></issuer-signing-keys>\n'
                           '  <required-claims>\n'
                           '    <claim name="/realm_access/roles"><value>admin</value></claim>\n'
                           '  </required-claims>\n'
                           '</validate-jwt>\n' % b64std(keys.hs64))
    spec = {
        "at": [key, "ValidateJWTTokenType at+jwt"],
        "two": [key, "ValidateJWTTokenType at+jwt", "ValidateJWTTokenType application/JWT"],
        "age": [key, "ValidateJWTMaxTokenAge 300"],
        "age-skew": [key, "ValidateJWTMaxTokenAge 300", "ValidateJWTClockSkew 30"],
        "policy": ["ValidateJWTPolicy %s" % pol, "ValidateJWTTokenType at+jwt",
                   "ValidateJWTMaxTokenAge 300"],
    }
    locs = "\n".join('<Location "/p/%s">\n    AuthType JWT\n    Require valid-user\n%s\n'
                     '</Location>' % (n, "\n".join("    " + d for d in ds))
                     for n, ds in spec.items())
    return httpd.start("token-checks", locs)


@pytest.fixture
def hkey(keys):
    return hmac_jwk(keys.hs64)


@pytest.mark.parametrize("typ", ["at+jwt", "AT+JWT", "application/at+jwt",
                                 "Application/At+Jwt"])
def test_typ_accepted(srv, hkey, typ):
    assert_pass(srv.get("/p/at/", mint(hkey, "HS256", typ=typ)))


@pytest.mark.parametrize("typ", ["JWT", "jwt", None, "at+jwt ", "application/at+jwt+x",
                                 "id_token", "application/"])
def test_typ_refused(srv, hkey, typ):
    r = assert_fail(srv.get("/p/at/", mint(hkey, "HS256", typ=typ)), "JwtInvalid")
    assert "at+jwt" in (r.header("X-VJWT-Message") or ""), r.header("X-VJWT-Message")


def test_typ_not_a_string(srv, hkey):
    assert_fail(srv.get("/p/at/", mint(hkey, "HS256", typ=None, header={"typ": 7})),
                "JwtInvalid")


@pytest.mark.parametrize("typ,ok", [("JWT", True), ("application/jwt", True),
                                    ("at+JWT", True), ("dpop+jwt", False)])
def test_typ_list(srv, hkey, typ, ok):
    r = srv.get("/p/two/", mint(hkey, "HS256", typ=typ))
    if ok:
        assert_pass(r)
    else:
        assert_fail(r, "JwtInvalid")


@pytest.mark.parametrize("age,ok", [(0, True), (290, True), (320, False), (-5, False),
                                    (3600, False)])
def test_iat_age(srv, hkey, age, ok):
    t = now()
    r = srv.get("/p/age/", mint(hkey, "HS256", iat=t - age, nbf=t - abs(age) - 10))
    if ok:
        assert_pass(r)
    else:
        assert_fail(r, "TokenExpired")


def test_iat_missing(srv, hkey):
    assert_fail(srv.get("/p/age/", mint(hkey, "HS256", iat=None)), "TokenExpired")


@pytest.mark.parametrize("age,ok", [(320, True), (340, False), (-20, True), (-40, False)])
def test_iat_with_skew(srv, hkey, age, ok):
    t = now()
    r = srv.get("/p/age-skew/", mint(hkey, "HS256", iat=t - age, nbf=t - abs(age) - 10))
    if ok:
        assert_pass(r)
    else:
        assert_fail(r, "TokenExpired")


def test_beside_policy_file(srv, hkey):
    """Policy file + ValidateJWTTokenType/MaxTokenAge in the same scope; the file's claim
    path /realm_access/roles is a JSON Pointer."""
    good = {"realm_access": {"roles": ["admin"]}}
    assert_pass(srv.get("/p/policy/", mint(hkey, "HS256", typ="at+jwt", **good)))
    assert_fail(srv.get("/p/policy/", mint(hkey, "HS256", typ="JWT", **good)), "JwtInvalid")
    assert_fail(srv.get("/p/policy/", mint(hkey, "HS256", typ="at+jwt", iat=now() - 900,
                                           **good)), "TokenExpired")
    assert_fail(srv.get("/p/policy/", mint(hkey, "HS256", typ="at+jwt",
                                           realm_access={"roles": ["user"]})),
                "TokenClaimValueNotAllowed")
    assert_fail(srv.get("/p/policy/", mint(hkey, "HS256", typ="at+jwt")), "TokenClaimNotFound")
