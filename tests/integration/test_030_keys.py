"""Signature checks and key selection (docs/conformance.md C37, C40-C46, C48-C52, C55, C63-C65;
docs/conformance.md#key-choice, #algorithms allowlist (ValidateJWTAlgorithms))."""

import json
import socket
import threading

import pytest

from vjwt_env import assert_fail, assert_pass, locations
from vjwt_tokens import (b64std, b64u, claims, flip_sig_bit, hmac_jwk, mint, replace_payload,
                         sign_raw, unsigned)


@pytest.fixture(scope="module")
def srv(httpd, keys):
    k = lambda s: b64std(s)  # noqa: E731
    spec = {
        "default": ["ValidateJWTIssuerSigningKey %s" % k(keys.hs64)],
        "two": ["ValidateJWTIssuerSigningKey %s" % k(keys.hs64),
                "ValidateJWTIssuerSigningKey %s" % k(keys.hs64b)],
        "ids": ["ValidateJWTIssuerSigningKey id=A %s" % k(keys.hs64),
                "ValidateJWTIssuerSigningKey id=B %s" % k(keys.hs64b)],
        "kidcase": ["ValidateJWTIssuerSigningKey id=key1 %s" % k(keys.hs64),
                    "ValidateJWTIssuerSigningKey id=k2 %s" % k(keys.hs64b)],
        "unsigned-ok": ["ValidateJWTRequireSignedTokens Off",
                        "ValidateJWTIssuerSigningKey %s" % k(keys.hs64)],
        "rsa": ["ValidateJWTIssuerSigningKey file:keys/rsa1.pub.pem"],
        "allow-rs256": ["ValidateJWTAlgorithms RS256",
                        "ValidateJWTIssuerSigningKey %s" % k(keys.hs64),
                        "ValidateJWTIssuerSigningKey file:keys/rsa1.pub.pem"],
        "allow-mixed": ["ValidateJWTAlgorithms HS512 ES256",
                        "ValidateJWTIssuerSigningKey %s" % k(keys.hs64),
                        "ValidateJWTIssuerSigningKey file:keys/ec256.pub.pem"],
    }
    return httpd.start("keys", locations(spec))


def test_valid_hs256_passes(srv, keys):
    """C39 control."""
    assert_pass(srv.get("/p/default/", mint(hmac_jwk(keys.hs64), "HS256")))


@pytest.mark.parametrize("byte,bit", [(0, 0), (15, 7), (31, 3)])
def test_flipped_signature_bit_fails(srv, keys, byte, bit):
    """C40: one flipped signature bit (re-encoded as valid base64url) fails with
    TokenSignatureInvalid."""
    tok = flip_sig_bit(mint(hmac_jwk(keys.hs64), "HS256"), byte, bit)
    assert_fail(srv.get("/p/default/", tok), "TokenSignatureInvalid")


def test_flipped_rsa_signature_bit_fails(srv, keys):
    """C40 for RS256."""
    tok = flip_sig_bit(mint(keys.rsa1, "RS256"), 100, 1)
    assert_fail(srv.get("/p/rsa/", tok), "TokenSignatureInvalid")


def test_changed_payload_keeps_signature_fails(srv, keys):
    """C41: a changed claim with the original signature fails with TokenSignatureInvalid."""
    tok = replace_payload(mint(hmac_jwk(keys.hs64), "HS256"), sub="admin")
    assert_fail(srv.get("/p/default/", tok), "TokenSignatureInvalid")
    tok = replace_payload(mint(keys.rsa1, "RS256"), sub="admin")
    assert_fail(srv.get("/p/rsa/", tok), "TokenSignatureInvalid")


def test_rollover_second_key_passes(srv, keys):
    """C42: with two keys without id, a token signed with either key passes."""
    assert_pass(srv.get("/p/two/", mint(hmac_jwk(keys.hs64b), "HS256")))
    assert_pass(srv.get("/p/two/", mint(hmac_jwk(keys.hs64), "HS256")))


def test_kid_match_tries_only_that_key(srv, keys):
    """C43: kid = A but signed with configured key B fails with TokenSignatureInvalid."""
    assert_fail(srv.get("/p/ids/", mint(hmac_jwk(keys.hs64b), "HS256", kid="A")),
                "TokenSignatureInvalid")


def test_kid_match_right_key_passes(srv, keys):
    """C43 control: kid = B signed with B passes."""
    assert_pass(srv.get("/p/ids/", mint(hmac_jwk(keys.hs64b), "HS256", kid="B")))


def test_unknown_kid_tries_all_keys(srv, keys):
    """C44: a kid matching no id: every key is tried; signed with B passes."""
    assert_pass(srv.get("/p/ids/", mint(hmac_jwk(keys.hs64b), "HS256", kid="zzz")))


def test_unknown_kid_no_key_verifies(srv, keys):
    """C45: a kid matching no id, and no key verifies: TokenSignatureKeyNotFound."""
    assert_fail(srv.get("/p/ids/", mint(hmac_jwk(keys.hs64c), "HS256", kid="zzz")),
                "TokenSignatureKeyNotFound")


def test_no_kid_no_key_verifies(srv, keys):
    """C46: no kid and no key verifies: TokenSignatureInvalid."""
    assert_fail(srv.get("/p/ids/", mint(hmac_jwk(keys.hs64c), "HS256")),
                "TokenSignatureInvalid")


def test_kid_matching_is_case_sensitive(srv, keys):
    """C48: ids key1 (S1) and k2 (S2); kid "Key1" signed with S2 passes (no id matches,
    every key is tried); kid "key1" signed with S2 fails (only S1 tried)."""
    assert_pass(srv.get("/p/kidcase/", mint(hmac_jwk(keys.hs64b), "HS256", kid="Key1")))
    assert_fail(srv.get("/p/kidcase/", mint(hmac_jwk(keys.hs64b), "HS256", kid="key1")),
                "TokenSignatureInvalid")


def test_alg_none_rejected_by_default(srv):
    """C49: alg none fails with TokenSignatureInvalid under the default
    require-signed-tokens."""
    assert_fail(srv.get("/p/default/", unsigned(claims())), "TokenSignatureInvalid")


def test_alg_none_allowed_when_unsigned_tokens_allowed(srv):
    """C50: alg none with an empty signature passes with RequireSignedTokens Off."""
    assert_pass(srv.get("/p/unsigned-ok/", unsigned(claims())))


def test_alg_none_with_signature_is_invalid(srv):
    """C51: alg none with a non-empty signature segment fails with JwtInvalid even when
    unsigned tokens are allowed."""
    assert_fail(srv.get("/p/unsigned-ok/", unsigned(claims(), signature=b64u(b"x" * 32))),
                "JwtInvalid")


def test_signed_tokens_still_verified_when_unsigned_allowed(srv, keys):
    """C52: RequireSignedTokens Off, a signed token with a bad signature still fails with
    TokenSignatureInvalid (and a good one passes)."""
    tok = mint(hmac_jwk(keys.hs64), "HS256")
    assert_pass(srv.get("/p/unsigned-ok/", tok))
    assert_fail(srv.get("/p/unsigned-ok/", flip_sig_bit(tok)), "TokenSignatureInvalid")


@pytest.mark.parametrize("claimed,engine", [("HS1", "HS256"), ("hs256", "HS256"),
                                            ("RS1", "RS256"), ("ES256K", "ES256"),
                                            ("HS256 ", "HS256")])
def test_alg_outside_allowlist_fails(srv, keys, claimed, engine):
    """C63: a token whose alg is outside the allowed list (HS1, hs256, RS1, ES256K,
    'HS256 ') fails with TokenSignatureInvalid, even when its signature would verify
    under the algorithm it imitates."""
    key = {"HS256": hmac_jwk(keys.hs64), "RS256": keys.rsa1, "ES256": keys.ec256}[engine]
    loc = {"HS256": "default", "RS256": "rsa", "ES256": "allow-mixed"}[engine]
    tok = sign_raw(key, engine, {"alg": claimed, "typ": "JWT"}, claims())
    assert_fail(srv.get("/p/%s/" % loc, tok), "TokenSignatureInvalid")


def test_algorithms_directive_narrows_list(srv, keys):
    """ValidateJWTAlgorithms RS256: RS256 passes; HS256 (key configured) and PS256 (same
    RSA key) are not allowed: TokenSignatureInvalid (docs/conformance.md#failure-reasons: algorithm
    not allowed)."""
    assert_pass(srv.get("/p/allow-rs256/", mint(keys.rsa1, "RS256")))
    assert_fail(srv.get("/p/allow-rs256/", mint(hmac_jwk(keys.hs64), "HS256")),
                "TokenSignatureInvalid")
    assert_fail(srv.get("/p/allow-rs256/", mint(keys.rsa1, "PS256")), "TokenSignatureInvalid")


def test_algorithms_directive_multiple_values(srv, keys):
    """ValidateJWTAlgorithms HS512 ES256: both listed algs pass, HS256 does not."""
    assert_pass(srv.get("/p/allow-mixed/", mint(hmac_jwk(keys.hs64), "HS512")))
    assert_pass(srv.get("/p/allow-mixed/", mint(keys.ec256, "ES256")))
    assert_fail(srv.get("/p/allow-mixed/", mint(hmac_jwk(keys.hs64), "HS256")),
                "TokenSignatureInvalid")


def test_embedded_jwk_header_not_trusted(srv, keys):
    """C64: a token carrying its own key (jwk header) and signed with it is rejected."""
    attacker = json.loads(keys.rsa_attacker.export_public())
    tok = mint(keys.rsa_attacker, "RS256", header={"jwk": attacker})
    r = srv.get("/p/rsa/", tok)
    assert_fail(r, "TokenSignatureInvalid")


def test_embedded_x5c_header_not_trusted(srv, keys):
    """C64: a self-signed x5c in the header is not a key source."""
    tok = mint(keys.rsa_attacker, "RS256", header={"x5c": ["MIIBIjANBgkqhkiG9w0BAQEFAAOC"]})
    assert_fail(srv.get("/p/rsa/", tok), "TokenSignatureInvalid")


class _Listener:
    """A TCP listener that records whether anything connected to it."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.hits = 0
        self._stop = False
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        while not self._stop:
            try:
                c, _ = self.sock.accept()
                self.hits += 1
                c.close()
            except OSError:
                pass

    def close(self):
        self._stop = True
        self.t.join(2)
        self.sock.close()


def test_jku_and_x5u_never_fetched(srv, keys):
    """C64: jku / x5u URLs in the header are never fetched (the listener sees no
    connection) and the token signed by the URL's key fails."""
    lst = _Listener()
    try:
        url = "http://127.0.0.1:%d/jwks.json" % lst.port
        for h in ({"jku": url}, {"x5u": url}, {"jku": url, "kid": "attacker"}):
            r = srv.get("/p/rsa/", mint(keys.rsa_attacker, "RS256", header=h))
            assert r.status == 401, r
            assert r.vjwt_reason in ("TokenSignatureInvalid", "TokenSignatureKeyNotFound"), r
            assert_fail(r, r.vjwt_reason)
        assert lst.hits == 0, "the module connected to the jku/x5u URL"
    finally:
        lst.close()


def test_unusual_header_spacing_verifies(srv, keys):
    """C65: verification uses the received encoded segments: a header with unusual spacing
    and member order still verifies."""
    header = '{ "typ" : "JWT" ,\n\t"alg" :\r\n "HS256"   }'
    payload = json.dumps(claims(), indent=3)
    tok = sign_raw(hmac_jwk(keys.hs64), "HS256", header, payload)
    assert_pass(srv.get("/p/default/", tok))
    tok = sign_raw(keys.rsa1, "RS256", '{"alg":"RS256" }', payload)
    assert_pass(srv.get("/p/rsa/", tok))


def test_unknown_noncritical_header_ignored(srv, keys):
    """C37: an unknown, non-critical header parameter ("foo": 1) is ignored."""
    assert_pass(srv.get("/p/default/", mint(hmac_jwk(keys.hs64), "HS256",
                                            header={"foo": 1, "bar": {"x": [1]}})))
