"""Token structure and header checks (docs/conformance.md C30-C38; S5 "INVALID appended";
C137 five-segment token without decryption keys)."""

import json

import pytest

from vjwt_env import assert_fail, assert_pass, locations
from vjwt_tokens import b64std, b64u, claims, hmac_jwk, mint, sign_raw


@pytest.fixture(scope="module")
def srv(httpd, keys):
    key = "ValidateJWTIssuerSigningKey %s" % b64std(keys.hs64)
    spec = {
        "default": [key],
        "rsa": ["ValidateJWTIssuerSigningKey file:keys/rsa1.pub.pem"],
        "maxlen": [key, "ValidateJWTMaxTokenLength 1000"],
    }
    return httpd.start("structure", locations(spec))


@pytest.fixture
def hkey(keys):
    return hmac_jwk(keys.hs64)


@pytest.fixture
def good(hkey):
    return mint(hkey, "HS256")


@pytest.mark.parametrize("n", [1, 2, 4, 6])
def test_wrong_segment_count(srv, good, n):
    """C31: a token with 1, 2, 4 or 6 segments fails with JwtInvalid."""
    h, p, s = good.split(".")
    tok = {1: h + p + s, 2: "%s.%s" % (h, p), 4: "%s.%s.%s.%s" % (h, p, s, s),
           6: ".".join([h, p, s, h, p, s])}[n]
    assert_fail(srv.get("/p/default/", tok), "JwtInvalid")


def test_five_segments_without_decryption_keys(srv, good):
    """C137-like: a five-segment (JWE-shaped) token with no decryption keys: JwtInvalid."""
    h, p, s = good.split(".")
    jwe_hdr = b64u(json.dumps({"alg": "dir", "enc": "A256CBC-HS512"}))
    tok = ".".join([jwe_hdr, "", b64u(b"\0" * 16), b64u(b"x" * 64), b64u(b"\1" * 32)])
    assert_fail(srv.get("/p/default/", tok), "JwtInvalid")


@pytest.mark.parametrize("where", ["header", "payload", "signature"])
def test_padding_rejected(srv, good, where):
    """C32: '=' padding on a segment fails with JwtInvalid."""
    parts = good.split(".")
    i = ["header", "payload", "signature"].index(where)
    parts[i] += "=" * (4 - len(parts[i]) % 4 if len(parts[i]) % 4 else 1)
    assert_fail(srv.get("/p/default/", ".".join(parts)), "JwtInvalid")


@pytest.mark.parametrize("char", ["+", "/"])
@pytest.mark.parametrize("where", ["header", "payload", "signature"])
def test_standard_base64_chars_rejected(srv, good, char, where):
    """C32: '+' or '/' (standard base64 alphabet) in a segment fails with JwtInvalid."""
    parts = good.split(".")
    i = ["header", "payload", "signature"].index(where)
    seg = parts[i]
    parts[i] = seg[:4] + char + seg[5:]
    assert_fail(srv.get("/p/default/", ".".join(parts)), "JwtInvalid")


@pytest.mark.parametrize("ws", [" ", "\t"])
def test_whitespace_inside_segment_rejected(srv, good, ws):
    """C32: whitespace inside a segment fails with JwtInvalid."""
    h, p, s = good.split(".")
    tok = "%s.%s%s%s.%s" % (h, p[:10], ws, p[10:], s)
    assert_fail(srv.get("/p/default/", tok), "JwtInvalid")


def test_appended_invalid_impossible_length(srv, keys):
    """S5 (B2C how-to negative test) / C32: a valid RS256 token with 'INVALID' appended
    (signature segment of impossible base64url length) fails with JwtInvalid."""
    tok = mint(keys.rsa1, "RS256") + "INVALID"
    assert len(tok.split(".")[2]) % 4 == 1
    assert_fail(srv.get("/p/rsa/", tok), "JwtInvalid")


@pytest.mark.parametrize("what", ["header-not-json", "payload-not-json", "header-array",
                                  "payload-array", "payload-string", "payload-bad-utf8",
                                  "header-bad-utf8", "payload-empty"])
def test_not_a_json_object(srv, hkey, what):
    """C33: a header or payload that isn't a UTF-8 JSON object fails with JwtInvalid
    (signatures are valid HS256 over the segments as sent)."""
    good_hdr = '{"alg":"HS256","typ":"JWT"}'
    good_pl = json.dumps(claims())
    c = claims()
    table = {
        "header-not-json": (b"not json", good_pl),
        "payload-not-json": (good_hdr, b"{not json"),
        "header-array": (b'["alg","HS256"]', good_pl),
        "payload-array": (good_hdr, json.dumps([c])),
        "payload-string": (good_hdr, json.dumps("hello")),
        "payload-bad-utf8": (good_hdr, b'{"sub":"\xff\xfe","exp":%d}' % c["exp"]),
        "header-bad-utf8": (b'{"alg":"HS256","x":"\xc3\x28"}', good_pl),
        "payload-empty": (good_hdr, b""),
    }
    hdr, pl = table[what]
    if isinstance(hdr, bytes):
        tok = sign_raw(hkey, "HS256", None, pl, protected_b64=b64u(hdr))
    else:
        tok = sign_raw(hkey, "HS256", hdr, pl)
    assert_fail(srv.get("/p/default/", tok), "JwtInvalid")


def test_header_without_alg(srv, hkey):
    """C34: a header without alg fails with JwtInvalid."""
    tok = sign_raw(hkey, "HS256", '{"typ":"JWT"}', claims())
    assert_fail(srv.get("/p/default/", tok), "JwtInvalid")


def test_alg_not_a_string(srv, hkey):
    """C34-like: alg present but not a string fails with JwtInvalid."""
    tok = sign_raw(hkey, "HS256", '{"alg":256,"typ":"JWT"}', claims())
    r = srv.get("/p/default/", tok)
    assert_fail(r, "JwtInvalid")


def test_duplicate_member_in_header(srv, hkey):
    """C35: duplicate member names in the header fail with JwtInvalid."""
    tok = sign_raw(hkey, "HS256", '{"alg":"HS256","typ":"JWT","typ":"JWT"}', claims())
    assert_fail(srv.get("/p/default/", tok), "JwtInvalid")
    tok = sign_raw(hkey, "HS256", '{"alg":"none","alg":"HS256"}', claims())
    assert_fail(srv.get("/p/default/", tok), "JwtInvalid")


def test_duplicate_member_in_payload(srv, hkey):
    """C35: duplicate member names in the payload fail with JwtInvalid."""
    c = claims()
    body = json.dumps(c)[:-1] + ', "sub": "admin"}'
    tok = sign_raw(hkey, "HS256", '{"alg":"HS256","typ":"JWT"}', body)
    assert_fail(srv.get("/p/default/", tok), "JwtInvalid")


@pytest.mark.parametrize("crit", ['["exp"]', "[]", '"x"', '["foo"]', '["alg"]', "[1]"])
def test_crit_rejected(srv, hkey, crit):
    """C36: crit ["exp"], [], "x", ["foo"] (with foo present), ["alg"], [1] fail with
    JwtInvalid."""
    hdr = '{"alg":"HS256","typ":"JWT","foo":1,"crit":%s}' % crit
    tok = sign_raw(hkey, "HS256", hdr, claims())
    assert_fail(srv.get("/p/default/", tok), "JwtInvalid")


def test_unknown_noncritical_header_passes(srv, hkey):
    """C37: an unknown non-critical header parameter is ignored."""
    tok = sign_raw(hkey, "HS256", '{"alg":"HS256","typ":"JWT","foo":1}', claims())
    assert_pass(srv.get("/p/default/", tok))


@pytest.mark.parametrize("claim", ["exp", "nbf", "iat"])
def test_numeric_date_as_string(srv, hkey, claim):
    """C38: exp (and nbf, iat) given as a JSON string fail with JwtInvalid."""
    c = claims()
    c[claim] = str(c[claim])
    assert_fail(srv.get("/p/default/", mint(hkey, "HS256", c)), "JwtInvalid")


@pytest.mark.parametrize("claim,value", [("iss", 5), ("sub", ["a"]), ("aud", 7),
                                         ("aud", ["a", 1]), ("jti", {"x": 1})])
def test_registered_claims_wrong_type(srv, hkey, claim, value):
    """docs/conformance.md#pipeline step 9: iss/sub/jti must be strings, aud a string or array of
    strings; otherwise JwtInvalid."""
    assert_fail(srv.get("/p/default/", mint(hkey, "HS256", **{claim: value})), "JwtInvalid")


def test_max_token_length(srv, hkey):
    """C30: ValidateJWTMaxTokenLength 1000: a token just under passes, one over fails with
    JwtInvalid."""
    base = mint(hkey, "HS256")
    short = mint(hkey, "HS256", pad="x" * ((950 - len(base)) * 3 // 4 - 10))
    assert 900 < len(short) < 1000
    assert_pass(srv.get("/p/maxlen/", short))
    long = mint(hkey, "HS256", pad="x" * 1000)
    assert len(long) > 1000
    assert_fail(srv.get("/p/maxlen/", long), "JwtInvalid")


def test_default_max_token_length(srv, hkey):
    """C30: default cap 16384 bytes: a 12 KiB token passes, a 20 KiB token fails with
    JwtInvalid."""
    ok = mint(hkey, "HS256", pad="y" * 9000)
    assert 12000 < len(ok) < 16384
    assert_pass(srv.get("/p/default/", ok))
    big = mint(hkey, "HS256", pad="y" * 15000)
    assert len(big) > 16384
    assert_fail(srv.get("/p/default/", big), "JwtInvalid")
