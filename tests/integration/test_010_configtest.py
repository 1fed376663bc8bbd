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
