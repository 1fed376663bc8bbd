"""Configuration-time checks with `apache2 -t` (docs/conformance.md C2, C5, C6, C7, C9, C10, C11,
C12; C61 load-with-warning; directive value validation of the module's extensions).

A bad value must make configtest fail, with httpd's "Syntax error on line N of FILE:"
pointing at the offending directive and the directive's name in the message.
"""

import re

import pytest

from vjwt_env import location
from vjwt_tokens import b64std

BAD_MARK = "# <<BAD>>"


def _key_line(keys):
    return "ValidateJWTIssuerSigningKey %s" % b64std(keys.hs64)


def _run(httpd, directives, server_conf=""):
    locs = location("ct", *directives)
    return httpd.configtest(server_conf=server_conf, locations=locs)


def _bad_line_no(text, line):
    for i, l in enumerate(text.splitlines(), 1):
        if l.strip() == line.strip():
            return i
    raise AssertionError("line %r not in config" % line)


def _ne(keys):
    return keys.ne(keys.rsa1)


# (id, directive lines before the bad one, the bad line, names that may appear)
def bad_cases(keys):
    n = _ne(keys).split()[0]
    return [
        ("C7-httpcode-399", [], "ValidateJWTFailedValidationHTTPCode 399", None),
        ("C7-httpcode-600", [], "ValidateJWTFailedValidationHTTPCode 600", None),
        ("C7-httpcode-abc", [], "ValidateJWTFailedValidationHTTPCode abc", None),
        ("C6-skew-negative", [], "ValidateJWTClockSkew -1", None),
        ("C6-skew-fraction", [], "ValidateJWTClockSkew 1.5", None),
        ("C6-skew-nonnumeric", [], "ValidateJWTClockSkew abc", None),
        ("C5-requireexp-maybe", [], "ValidateJWTRequireExpirationTime maybe", None),
        ("C5-requiresigned-yes", [], "ValidateJWTRequireSignedTokens yes", None),
        ("bool-www-enabled", [], "ValidateJWTWWWAuthenticate enabled", None),
        ("bool-audslash-sometimes", [], "ValidateJWTIgnoreAudienceTrailingSlash sometimes", None),
        ("C11-bad-base64-secret", [], "ValidateJWTIssuerSigningKey not*valid*base64!", None),
        ("C11-bad-base64url-n", [], "ValidateJWTIssuerSigningKey n=@@@@ e=AQAB", None),
        ("C10-n-without-e", [], "ValidateJWTIssuerSigningKey %s" % n, None),
        ("C10-e-without-n", [], "ValidateJWTIssuerSigningKey e=AQAB", None),
        ("C9-two-key-forms", [], "ValidateJWTIssuerSigningKey certificate-id=rsa1cert %s" % _ne(keys),
         None),
        ("C9-unknown-certificate-id", [], "ValidateJWTIssuerSigningKey certificate-id=nosuchcert",
         None),
        ("missing-key-file", [], "ValidateJWTIssuerSigningKey file:keys/does-not-exist.pem", None),
        ("garbage-key-file", [], "ValidateJWTIssuerSigningKey file:keys/garbage.pem", None),
        ("unknown-algorithm", [], "ValidateJWTAlgorithms RS256 HS1", None),
        ("unknown-algorithm-lowercase", [], "ValidateJWTAlgorithms hs256", None),
        ("C12-match-some", [], "ValidateJWTRequiredClaim role match=some admin", None),
        ("C12-claim-without-name", [], "ValidateJWTRequiredClaim", None),
        ("C2-header-and-query", ["ValidateJWTHeaderName X-Token"],
         "ValidateJWTQueryParameterName access_token",
         ("ValidateJWTHeaderName", "ValidateJWTQueryParameterName")),
        ("C2-header-and-value", ["ValidateJWTHeaderName X-Token"],
         'ValidateJWTTokenValue "%{HTTP:X-Tok}"',
         ("ValidateJWTHeaderName", "ValidateJWTTokenValue")),
        ("C2-query-and-value", ["ValidateJWTQueryParameterName access_token"],
         'ValidateJWTTokenValue "%{HTTP:X-Tok}"',
         ("ValidateJWTQueryParameterName", "ValidateJWTTokenValue")),
        ("tokenvalue-bad-expression", [], 'ValidateJWTTokenValue "%{HTTP:X-Tok"', None),
        ("minrsabits-512", [], "ValidateJWTMinRSAKeyBits 512", None),
        ("minrsabits-32768", [], "ValidateJWTMinRSAKeyBits 32768", None),
        ("passclaimsas-bogus", [], "ValidateJWTPassClaimsAs cookies", None),
        ("maxtokenlength-abc", [], "ValidateJWTMaxTokenLength abc", None),
    ]


def _case_ids():
    class _K:  # ids only; the real keys come from the fixture
        hs64 = b"x" * 64

        @staticmethod
        def ne(k):
            return "n=AA e=AQAB"
        rsa1 = None
    return [c[0] for c in bad_cases(_K)]


SERVER_CERTS = ("ValidateJWTCertificate rsa1cert keys/rsa1.crt.pem\n"
                "ValidateJWTCertificate ec256cert keys/ec256.crt.pem\n")


@pytest.fixture(scope="module")
def garbage(httpd):
    httpd.write_file("keys/garbage.pem", "-----BEGIN PUBLIC KEY-----\nnot a key\n"
                                         "-----END PUBLIC KEY-----\n")


@pytest.mark.parametrize("case", _case_ids())
def test_configtest_rejects_bad_value(httpd, keys, garbage, case):
    """C2 C5 C6 C7 C9 C10 C11 C12: bad directive values fail `apache2 -t` with the
    directive name and the line number of the bad directive."""
    cid, before, bad, names = [c for c in bad_cases(keys) if c[0] == case][0]
    directives = [_key_line(keys)] + before + [bad]
    rc, out, conf, text = _run(httpd, directives, SERVER_CERTS)
    assert rc != 0, "configtest passed for %r:\n%s" % (bad, out)
    line_no = _bad_line_no(text, "    " + bad)
    m = re.search(r"Syntax error on line (\d+) of ([^:]+):", out)
    assert m, "no 'Syntax error on line N of FILE:' in output:\n%s" % out
    assert int(m.group(1)) == line_no, "error on line %s, bad directive is on line %d:\n%s" % (
        m.group(1), line_no, out)
    assert m.group(2) == conf, out
    names = names or (bad.split()[0],)
    assert any(n.lower() in out.lower() for n in names), \
        "directive name %s not in output:\n%s" % (" or ".join(names), out)


def test_configtest_rejects_missing_certificate_file(httpd, keys):
    """Server-level ValidateJWTCertificate with a missing file is a configuration error."""
    bad = "ValidateJWTCertificate nofile keys/no-such-cert.pem"
    rc, out, conf, text = _run(httpd, [_key_line(keys)], bad + "\n")
    assert rc != 0, out
    m = re.search(r"Syntax error on line (\d+) of ", out)
    assert m and int(m.group(1)) == _bad_line_no(text, bad), out
    assert "validatejwtcertificate" in out.lower(), out


def test_configtest_accepts_good_config(httpd, keys):
    """C5 (true/false/On/Off any case), C6 (0 and positive skew), C7 (400 and 599),
    C12 (missing match = all, match=any, separator), repeatable keys; every key
    form (base64 with padding, n/e, certificate-id, file: PEM key, PEM certificate, JWK,
    JWKS) and every extension directive pass `apache2 -t`."""
    ne = keys.ne(keys.rsa1)
    locs = "\n".join([
        location("a",
                 "ValidateJWTHeaderName Authorization",
                 "ValidateJWTRequireScheme Bearer",
                 "ValidateJWTFailedValidationHTTPCode 400",
                 'ValidateJWTFailedValidationErrorMessage "Access denied."',
                 "ValidateJWTRequireExpirationTime true",
                 "ValidateJWTRequireSignedTokens FALSE",
                 "ValidateJWTClockSkew 0",
                 "ValidateJWTOutputTokenVariableName jwt",
                 "ValidateJWTId policy-a",
                 "ValidateJWTIssuerSigningKey %s" % b64std(keys.hs32),   # padded base64
                 "ValidateJWTIssuerSigningKey id=k2 %s" % b64std(keys.hs64),
                 "ValidateJWTIssuerSigningKey %s" % ne,
                 "ValidateJWTIssuerSigningKey id=rsa1 %s" % ne,
                 "ValidateJWTIssuerSigningKey certificate-id=rsa1cert",
                 "ValidateJWTIssuerSigningKey certificate-id=ec256cert",
                 "ValidateJWTIssuerSigningKey file:keys/rsa1.pub.pem",
                 "ValidateJWTIssuerSigningKey file:keys/rsa1.crt.pem",
                 "ValidateJWTIssuerSigningKey file:keys/ec384.pub.pem",
                 "ValidateJWTIssuerSigningKey file:keys/ed25519.jwk.json",
                 "ValidateJWTIssuerSigningKey file:keys/jwks.json",
                 "ValidateJWTAudience api://a https://api.example.com",
                 "ValidateJWTIssuer https://issuer.example/ accounts.google.com",
                 "ValidateJWTRequiredClaim role",
                 "ValidateJWTRequiredClaim scp match=any read write",
                 'ValidateJWTRequiredClaim groups match=all separator=, a b',
                 "ValidateJWTAlgorithms RS256 PS256 ES256 EdDSA HS256",
                 "ValidateJWTRemoteUserClaim email",
                 "ValidateJWTPassClaimsAs both",
                 "ValidateJWTWWWAuthenticate Off",
                 'ValidateJWTRealm "My API"',
                 "ValidateJWTMinRSAKeyBits 3072",
                 "ValidateJWTIgnoreAudienceTrailingSlash off",
                 "ValidateJWTMaxTokenLength 4096"),
        location("b",
                 "ValidateJWTQueryParameterName access_token",
                 "ValidateJWTFailedValidationHTTPCode 599",
                 "ValidateJWTRequireExpirationTime On",
                 "ValidateJWTRequireSignedTokens True",
                 "ValidateJWTWWWAuthenticate on",
                 "ValidateJWTIgnoreAudienceTrailingSlash TRUE",
                 "ValidateJWTClockSkew 300",
                 "ValidateJWTPassClaimsAs none",
                 "ValidateJWTIssuerSigningKey %s" % b64std(keys.hs64)),
        location("b/child",  # a child may pick another token source than its parent
                 "ValidateJWTHeaderName X-Token",
                 "ValidateJWTPassClaimsAs headers"),
        location("c",
                 'ValidateJWTTokenValue "%{HTTP:X-Tok}"',
                 "ValidateJWTRequireExpirationTime OFF",
                 "ValidateJWTPassClaimsAs environment",
                 "ValidateJWTIssuerSigningKey %s" % b64std(keys.hs64)),
    ])
    rc, out, conf, text = httpd.configtest(server_conf=SERVER_CERTS, locations=locs)
    assert rc == 0, "good config rejected:\n%s" % out
    assert "Syntax OK" in out, out


def test_configtest_rsa1024_key_loads_with_warning(httpd, keys):
    """C61: a 1024-bit RSA key under the default 2048-bit floor does not stop the
    configuration from loading (the warning and the failing tokens are checked over
    HTTP in test_025_key_floors)."""
    rc, out, conf, text = _run(httpd, ["ValidateJWTIssuerSigningKey file:keys/rsa1024.pub.pem"])
    assert rc == 0, out
    assert "Syntax OK" in out, out


def test_configtest_rejects_message_not_utf8(httpd, keys):
    """The failure message goes into a JSON body, so it must be UTF-8 (RFC 8259 section
    8.1): a Latin-1 byte in ValidateJWTFailedValidationErrorMessage fails configtest at its
    line, naming the directive (the line sits in an included file so that the byte reaches
    httpd as it is); the same text in UTF-8 passes. In a policy file the byte makes the XML
    not well-formed (libxml2), which also fails configtest at the file and line."""
    bad = httpd.write_file("conf/msg-latin1.conf",
                           b'ValidateJWTFailedValidationErrorMessage "Zugriff verweigert: caf\xe9"\n')
    rc, out, conf, text = _run(httpd, [_key_line(keys), "Include %s" % bad])
    assert rc != 0, "configtest passed with a Latin-1 message:\n%s" % out
    m = re.search(r"Syntax error on line (\d+) of ([^:]+):", out)
    assert m, out
    assert (int(m.group(1)), m.group(2)) == (1, bad), out
    assert "ValidateJWTFailedValidationErrorMessage: is not valid UTF-8" in out, out

    good = httpd.write_file("conf/msg-utf8.conf",
                            'ValidateJWTFailedValidationErrorMessage "Zugriff verweigert: café"\n'
                            .encode("utf-8"))
    rc, out, conf, text = _run(httpd, [_key_line(keys), "Include %s" % good])
    assert rc == 0, "a UTF-8 message was rejected:\n%s" % out

    pol = httpd.write_file("conf/msg-latin1.xml",
                           b'<validate-jwt header-name="Authorization"\n'
                           b'    failed-validation-error-message="caf\xe9"/>\n')
    rc, out, conf, text = _run(httpd, [_key_line(keys), "ValidateJWTPolicy %s" % pol])
    assert rc != 0, "configtest passed with a Latin-1 message in a policy file:\n%s" % out
    assert re.search(re.escape(pol) + r":2: not well-formed XML", out), out


# --- decryption keys (ValidateJWTDecryptionKey, <decryption-keys>, ValidateJWTCertificate) ---

@pytest.fixture(scope="module")
def dec_files(httpd, keys):
    """Private keys for decryption under ServerRoot/keys: RSA (PKCS#8 PEM), EC P-256
    (traditional PEM), EC P-384 (DER), a private key followed by its certificate, and a
    public key file."""
    from cryptography.hazmat.primitives import serialization as ser
    from jwcrypto import jwk
    from vjwt_tokens import _self_signed
    none = ser.NoEncryption()
    rsa = keys.rsa2.get_op_key("sign")
    ec256 = jwk.JWK.generate(kty="EC", crv="P-256").get_op_key("sign", "P-256")
    ec384 = jwk.JWK.generate(kty="EC", crv="P-384").get_op_key("sign", "P-384")
    w = httpd.write_file
    w("keys/dec-rsa.key.pem", rsa.private_bytes(ser.Encoding.PEM, ser.PrivateFormat.PKCS8, none))
    w("keys/dec-ec256.key.pem", ec256.private_bytes(ser.Encoding.PEM,
                                                    ser.PrivateFormat.TraditionalOpenSSL, none))
    w("keys/dec-ec384.key.der", ec384.private_bytes(ser.Encoding.DER, ser.PrivateFormat.PKCS8,
                                                    none))
    w("keys/dec-rsa.key+crt.pem",
      rsa.private_bytes(ser.Encoding.PEM, ser.PrivateFormat.PKCS8, none)
      + _self_signed(rsa, "rsa2"))
    return {"rsa": "keys/dec-rsa.key.pem", "ec256": "keys/dec-ec256.key.pem",
            "ec384": "keys/dec-ec384.key.der", "rsa_crt": "keys/dec-rsa.key+crt.pem"}


DEC_CERTS = ("ValidateJWTCertificate dec-rsa keys/dec-rsa.key+crt.pem\n"
             "ValidateJWTCertificate dec-ec keys/dec-ec256.key.pem\n"
             "ValidateJWTCertificate rsa1cert keys/rsa1.crt.pem\n")


def _dec_bad_cases(keys):
    """(id, the bad ValidateJWTDecryptionKey line, the text the error must hold)."""
    return [
        ("secret-17-bytes", "ValidateJWTDecryptionKey %s" % b64std(b"x" * 17),
         "must be 16, 24, 32, 48 or 64 bytes"),
        ("secret-hmac-length-6", "ValidateJWTDecryptionKey c2VjcmV0", "got 6"),
        ("not-base64", "ValidateJWTDecryptionKey not*valid*base64!", "is not valid base64"),
        ("pasted-public-key", "ValidateJWTDecryptionKey %s" % b64std(keys.rsa1_pub_der),
         "not a symmetric key"),
        ("missing-file", "ValidateJWTDecryptionKey file:keys/no-such-key.pem",
         "cannot use decryption key file"),
        ("public-key-file", "ValidateJWTDecryptionKey file:keys/rsa1.pub.pem",
         "holds a public key or certificate; a decryption key needs the private key"),
        ("certificate-file", "ValidateJWTDecryptionKey file:keys/rsa1.crt.pem",
         "holds a public key or certificate"),
        ("n-e", "ValidateJWTDecryptionKey %s" % keys.ne(keys.rsa1),
         "n/e keys are signing keys only; a decryption key is base64 text, file:PATH or "
         "certificate-id"),
        ("n-alone", "ValidateJWTDecryptionKey n=AQAB", "n/e keys are signing keys only"),
        ("empty-id", "ValidateJWTDecryptionKey id= %s" % b64std(keys.hs32), "id= needs a key id"),
        ("two-values", "ValidateJWTDecryptionKey %s %s" % (b64std(keys.hs32), b64std(keys.hs32)),
         "expected [id=KID] and one key"),
    ]


def _dec_case_ids():
    class _K:
        hs32 = b"x" * 32
        rsa1_pub_der = b"x"
        rsa1 = None

        @staticmethod
        def ne(k):
            return "n=AA e=AQAB"
    return [c[0] for c in _dec_bad_cases(_K)]


@pytest.mark.parametrize("case", _dec_case_ids())
def test_configtest_rejects_bad_decryption_key(httpd, keys, dec_files, case):
    """ValidateJWTDecryptionKey: a symmetric key of a length no JWE algorithm uses, text that
    is not base64 or is a pasted key, a missing file, a public key or certificate file, n/e
    (signing keys only), and grammar errors fail `apache2 -t` at the directive's line, naming
    it and what is wrong."""
    _, bad, want = [c for c in _dec_bad_cases(keys) if c[0] == case][0]
    rc, out, conf, text = _run(httpd, [_key_line(keys), bad], DEC_CERTS)
    assert rc != 0, "configtest passed for %r:\n%s" % (bad, out)
    m = re.search(r"Syntax error on line (\d+) of ([^:]+):", out)
    assert m, out
    assert (int(m.group(1)), m.group(2)) == (_bad_line_no(text, "    " + bad), conf), out
    assert "ValidateJWTDecryptionKey: " in out, out
    assert want in out, out


def _cert_ref_error(out, conf, text, ref_line, cert_line):
    m = re.search(r"VJWT00301: Syntax error on line (\d+) of ([^:]+): (.*)", out)
    assert m, out
    assert int(m.group(1)) == ref_line and m.group(2) == conf, out
    assert ("'ValidateJWTCertificate rsa1cert' on line %d of %s holds no private key"
            % (cert_line, conf)) in m.group(3), out


def test_configtest_decryption_certificate_without_private_key(httpd, keys, dec_files):
    """certificate-id=NAME as a decryption key where ValidateJWTCertificate NAME is a
    certificate without its private key fails `apache2 -t`, naming both lines; the same
    certificate as a signing key is fine. Both modes (directive and <decryption-keys>)."""
    bad = "ValidateJWTDecryptionKey certificate-id=rsa1cert"
    rc, out, conf, text = _run(httpd, ["ValidateJWTIssuerSigningKey certificate-id=rsa1cert",
                                       bad], DEC_CERTS)
    assert rc != 0, out
    _cert_ref_error(out, conf, text, _bad_line_no(text, "    " + bad),
                    _bad_line_no(text, "ValidateJWTCertificate rsa1cert keys/rsa1.crt.pem"))

    pol = httpd.write_file("conf/dec-cert-nopriv.xml",
                           '<validate-jwt header-name="Authorization">\n'
                           '  <issuer-signing-keys><key certificate-id="rsa1cert"/>'
                           '</issuer-signing-keys>\n'
                           '  <decryption-keys>\n'
                           '    <key certificate-id="rsa1cert"/>\n'
                           '  </decryption-keys>\n'
                           '</validate-jwt>\n')
    rc, out, conf, text = _run(httpd, ["ValidateJWTPolicy %s" % pol], DEC_CERTS)
    assert rc != 0, out
    m = re.search(r"VJWT00301: Syntax error on line 4 of %s: ValidateJWTPolicy: "
                  r"<decryption-keys><key>: certificate-id=rsa1cert is a decryption key, but "
                  r"'ValidateJWTCertificate rsa1cert' on line (\d+) of %s holds no private key"
                  % (re.escape(pol), re.escape(conf)), out)
    assert m, out
    assert int(m.group(1)) == _bad_line_no(text, "ValidateJWTCertificate rsa1cert "
                                                 "keys/rsa1.crt.pem"), out


def test_configtest_decryption_unknown_certificate_id(httpd, keys, dec_files):
    """certificate-id=NAME under decryption keys that names no ValidateJWTCertificate fails
    `apache2 -t` at the line that uses it (directive and policy file)."""
    bad = "ValidateJWTDecryptionKey id=d certificate-id=nosuchcert"
    rc, out, conf, text = _run(httpd, [_key_line(keys), bad], DEC_CERTS)
    assert rc != 0, out
    m = re.search(r"VJWT00006: Syntax error on line (\d+) of ([^:]+): ValidateJWTDecryptionKey: "
                  r"certificate-id=nosuchcert names no certificate", out)
    assert m and int(m.group(1)) == _bad_line_no(text, "    " + bad) and m.group(2) == conf, out

    pol = httpd.write_file("conf/dec-cert-unknown.xml",
                           '<validate-jwt header-name="Authorization">\n'
                           '  <decryption-keys><key certificate-id="nosuchcert"/></decryption-keys>\n'
                           '</validate-jwt>\n')
    rc, out, conf, text = _run(httpd, [_key_line(keys), "ValidateJWTPolicy %s" % pol], DEC_CERTS)
    assert rc != 0, out
    assert re.search(r"Syntax error on line 2 of %s: ValidateJWTPolicy: <decryption-keys><key>: "
                     r"certificate-id=nosuchcert names no certificate" % re.escape(pol), out), out


XML_DEC_BAD = [
    ("n-e", '<key n="NE_N" e="AQAB"/>',
     "decryption-keys/key[1]: n/e keys are signing keys only; a decryption key is base64 text "
     "or certificate-id"),
    ("wrong-length", "<key>c2VjcmV0</key>",
     "decryption-keys/key[1]: a symmetric decryption key must be 16, 24, 32, 48 or 64 bytes"),
    ("not-base64", "<key>not*base64!</key>", "decryption-keys/key[1]: the decryption key text is "
                                              "not valid base64"),
    ("text-and-certificate", '<key certificate-id="dec-rsa">{{dec-key}}</key>',
     "a decryption key is exactly one of"),
    ("empty", "", "<decryption-keys> needs at least one <key>"),
]


@pytest.mark.parametrize("case", [c[0] for c in XML_DEC_BAD])
def test_configtest_rejects_bad_policy_decryption_key(httpd, keys, dec_files, case):
    """<decryption-keys> in a policy file: n/e, a wrong-length or non-base64 key, text with
    certificate-id, and an empty element fail `apache2 -t` with the file, the line and the
    element path."""
    _, body, want = [c for c in XML_DEC_BAD if c[0] == case][0]
    body = body.replace("NE_N", keys.ne(keys.rsa1).split()[0][2:])
    pol = httpd.write_file("conf/dec-bad-%s.xml" % case,
                           '<validate-jwt header-name="Authorization">\n'
                           '  <decryption-keys>\n'
                           '    %s\n'
                           '  </decryption-keys>\n'
                           '</validate-jwt>\n' % body)
    server = DEC_CERTS + "ValidateJWTNamedValue dec-key %s\n" % b64std(keys.hs32)
    rc, out, conf, text = _run(httpd, [_key_line(keys), "ValidateJWTPolicy %s" % pol], server)
    assert rc != 0, out
    assert "ValidateJWTPolicy: %s:%d: validate-jwt/" % (pol, 2 if case == "empty" else 3) in out, out
    assert want in out, out


def _dec_locations(keys, pol):
    return "\n".join([
        location("dec-directives",
                 _key_line(keys),
                 "ValidateJWTDecryptionKey %s" % b64std(keys.hs16),
                 "ValidateJWTDecryptionKey id=k24 %s" % b64std(keys.hs32[:24]),
                 "ValidateJWTDecryptionKey id=k32 %s" % b64std(keys.hs32),
                 "ValidateJWTDecryptionKey %s" % b64std(keys.hs64[:48]),
                 "ValidateJWTDecryptionKey %s" % b64std(keys.hs64),
                 "ValidateJWTDecryptionKey id=rsa file:keys/dec-rsa.key.pem",
                 "ValidateJWTDecryptionKey file:keys/dec-ec256.key.pem",
                 "ValidateJWTDecryptionKey id=ec384 file:keys/dec-ec384.key.der",
                 "ValidateJWTDecryptionKey file:keys/dec-rsa.key+crt.pem",
                 "ValidateJWTDecryptionKey certificate-id=dec-rsa",
                 "ValidateJWTDecryptionKey id=e certificate-id=dec-ec"),
        location("dec-policy", "ValidateJWTPolicy %s" % pol),
        location("dec-policy-over", "ValidateJWTPolicy %s" % pol,
                 "ValidateJWTDecryptionKey id=replaced %s" % b64std(keys.hs32)),
        # a certificate with its private key also signs (its public half)
        location("dec-signing", "ValidateJWTIssuerSigningKey certificate-id=dec-rsa",
                 "ValidateJWTIssuerSigningKey certificate-id=dec-ec"),
    ])


def _dec_policy(httpd):
    return httpd.write_file("conf/dec-good.xml",
                            '<validate-jwt header-name="Authorization">\n'
                            '  <issuer-signing-keys><key>{{dec-sig}}</key></issuer-signing-keys>\n'
                            '  <decryption-keys>\n'
                            '    <key>{{dec-key}}</key>\n'
                            '    <key id="k2">{{dec-key}}</key>\n'
                            '    <key certificate-id="dec-rsa"/>\n'
                            '    <key id="e" certificate-id="dec-ec"/>\n'
                            '  </decryption-keys>\n'
                            '</validate-jwt>\n')


def test_configtest_accepts_decryption_keys(httpd, keys, dec_files):
    """Every decryption key form passes `apache2 -t` and httpd starts with it, in both modes:
    base64 keys of 16/24/32/48/64 bytes (with and without id=), file: with RSA PKCS#8 PEM, EC
    traditional PEM, EC P-384 DER and a private key followed by its certificate,
    certificate-id= of a ValidateJWTCertificate that holds a private key; a policy file's
    <decryption-keys> (named values, certificate-id) and a directive after it that replaces
    them; a certificate with its private key as a signing key."""
    pol = _dec_policy(httpd)
    server = DEC_CERTS + ("ValidateJWTNamedValue dec-key %s\n"
                          "ValidateJWTNamedValue dec-sig %s\n" % (b64std(keys.hs32),
                                                                  b64std(keys.hs64)))
    locs = _dec_locations(keys, pol)
    rc, out, conf, text = httpd.configtest(server_conf=server, locations=locs)
    assert rc == 0, "decryption keys rejected:\n%s" % out
    assert "Syntax OK" in out, out
    srv = httpd.start("dec-good", locations=locs, server_conf=server)
    assert srv.running
    httpd.stop()


def test_configtest_rsa1024_decryption_key_warns(httpd, keys, dec_files):
    """An RSA decryption key below ValidateJWTMinRSAKeyBits loads with a warning (VJWT00300)
    naming the directive's line: it decrypts nothing."""
    bad = "ValidateJWTDecryptionKey file:keys/dec-rsa.key.pem"
    rc, out, conf, text = _run(httpd, [_key_line(keys), "ValidateJWTMinRSAKeyBits 3072", bad])
    assert rc == 0, out
    assert re.search(r"VJWT00300: ValidateJWTDecryptionKey at %s:%d: the RSA decryption key has "
                     r"2048 bits, below the floor of 3072" % (re.escape(conf),
                                                              _bad_line_no(text, "    " + bad)),
                     out), out


def test_certificate_with_private_key_signs_with_its_public_half(httpd, keys, dec_files):
    """ValidateJWTCertificate with a private key followed by its certificate: as a signing key
    (certificate-id=) its public half verifies the key's RS256 tokens; another key's token
    fails as before."""
    from vjwt_env import assert_fail, assert_pass
    from vjwt_tokens import mint
    locs = location("dec-sig", "ValidateJWTIssuerSigningKey certificate-id=dec-rsa",
                    "ValidateJWTDecryptionKey certificate-id=dec-rsa")
    srv = httpd.start("dec-sig", locations=locs, server_conf=DEC_CERTS)
    assert_pass(srv.get("/p/dec-sig", mint(keys.rsa2, "RS256")))
    assert_fail(srv.get("/p/dec-sig", mint(keys.rsa1, "RS256")), "TokenSignatureInvalid")
