"""A public key, certificate or private key pasted where an HMAC secret goes must fail
configtest (RFC 8725 section 3.1: anyone holding the public key could otherwise sign HS256
tokens with it). Covers ValidateJWTIssuerSigningKey VALUE and a policy file's <key>."""

import os
import re

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from vjwt_env import location
from vjwt_tokens import b64std

DER = serialization.Encoding.DER
PEM = serialization.Encoding.PEM
PUB = serialization.PublicFormat
PRIV = serialization.PrivateFormat


def _pasted(httpd, keys):
    """(id, bytes) of every form a key gets pasted in, as DER."""
    rsa = keys.rsa1.get_op_key("sign")
    ec = keys.ec256.get_op_key("sign", "P-256")
    none = serialization.NoEncryption()
    with open(httpd.path("keys", "rsa1.crt.pem"), "rb") as fh:
        cert = x509.load_pem_x509_certificate(fh.read())
    return [
        ("rsa-spki", rsa.public_key().public_bytes(DER, PUB.SubjectPublicKeyInfo)),
        ("rsa-pkcs1", rsa.public_key().public_bytes(DER, PUB.PKCS1)),
        ("ec-spki", ec.public_key().public_bytes(DER, PUB.SubjectPublicKeyInfo)),
        ("cert", cert.public_bytes(DER)),
        ("rsa-pkcs8", rsa.private_bytes(DER, PRIV.PKCS8, none)),
        ("rsa-traditional", rsa.private_bytes(DER, PRIV.TraditionalOpenSSL, none)),
        ("ec-traditional", ec.private_bytes(DER, PRIV.TraditionalOpenSSL, none)),
    ]


FORMS = ["rsa-spki", "rsa-pkcs1", "ec-spki", "cert", "rsa-pkcs8", "rsa-traditional",
         "ec-traditional"]


def _assert_advice(out):
    assert "not an HMAC secret" in out, out
    for hint in ("certificate-id=", "n=... e=...", "file:"):
        assert hint in out, out


def _directive_fails(httpd, value):
    bad = "ValidateJWTIssuerSigningKey %s" % value
    rc, out, conf, text = httpd.configtest(locations=location("ct", bad))
    assert rc != 0, "configtest passed with %r:\n%s" % (bad, out)
    line_no = [i for i, l in enumerate(text.splitlines(), 1) if l.strip() == bad][0]
    m = re.search(r"Syntax error on line (\d+) of ([^:]+):", out)
    assert m and int(m.group(1)) == line_no and m.group(2) == conf, out
    assert "ValidateJWTIssuerSigningKey" in out, out
    _assert_advice(out)


@pytest.mark.parametrize("form", FORMS)
def test_directive_rejects_pasted_key(httpd, keys, form):
    """base64 DER of a public key / certificate / private key is not a secret."""
    der = dict(_pasted(httpd, keys))[form]
    _directive_fails(httpd, b64std(der))
    _directive_fails(httpd, "id=k1 " + b64std(der))


def test_directive_rejects_pem_text(httpd, keys):
    """PEM text (quoted onto one line) is refused with the same advice."""
    pem = keys.rsa1_pub_pem.decode().strip().replace("\n", " ")
    _directive_fails(httpd, '"%s"' % pem)


@pytest.mark.parametrize("n", [32, 64])
def test_directive_accepts_random_secret(httpd, n):
    """Real random secrets still work."""
    rc, out, _, _ = httpd.configtest(
        locations=location("ct", "ValidateJWTIssuerSigningKey %s" % b64std(os.urandom(n))))
    assert rc == 0, out


def _policy(httpd, name, key_text):
    return httpd.write_file("conf/%s.xml" % name,
                            '<validate-jwt header-name="Authorization">\n'
                            "    <issuer-signing-keys>\n"
                            "        <key>%s</key>\n"
                            "    </issuer-signing-keys>\n"
                            "</validate-jwt>\n" % key_text)


@pytest.mark.parametrize("form", ["rsa-spki", "cert", "ec-traditional", "pem"])
def test_policy_rejects_pasted_key(httpd, keys, form):
    """<key>BASE64</key> of a policy file: same check, message with the file and line."""
    if form == "pem":
        text = keys.rsa1_pub_pem.decode()
    else:
        text = b64std(dict(_pasted(httpd, keys))[form])
    path = _policy(httpd, "pasted-" + form, text)
    rc, out, _, _ = httpd.configtest(locations=location("ct", 'ValidateJWTPolicy "%s"' % path))
    assert rc != 0, out
    assert "%s:3:" % path in out, out
    _assert_advice(out)


def test_policy_accepts_random_secret(httpd):
    path = _policy(httpd, "random", b64std(os.urandom(64)))
    rc, out, _, _ = httpd.configtest(locations=location("ct", 'ValidateJWTPolicy "%s"' % path))
    assert rc == 0, out
