"""Configuration-time checks of the authorization directives (README.md "Authorization"):
bad arguments fail `apache2 -t` with "Syntax error on line N of FILE:", the directive and
what is wrong; good ones pass.
"""

import re

import pytest

from vjwt_env import location
from vjwt_tokens import b64std


def _key(keys):
    return "ValidateJWTIssuerSigningKey %s" % b64std(keys.hs64)


def _line_no(text, line):
    for i, l in enumerate(text.splitlines(), 1):
        if l.strip() == line.strip():
            return i
    raise AssertionError("line %r not in config" % line)


# (id, bad line, text the message must hold)
BAD = [
    ("claim-header-one-arg", "ValidateJWTClaimHeader sub", "ValidateJWTClaimHeader"),
    ("claim-header-bad-pointer", "ValidateJWTClaimHeader /a~2b X-A", "~"),
    ("claim-header-bad-header", "ValidateJWTClaimHeader sub X(A)", "not a valid HTTP header name"),
    ("claim-header-authorization", "ValidateJWTClaimHeader sub Authorization",
     "is a header the module or httpd needs"),
    ("claim-header-payload", "ValidateJWTClaimHeader sub X-JWT-Payload",
     "is a header the module or httpd needs"),
    ("cookie-bad-name", "ValidateJWTCookieName a;b", "not a valid cookie name"),
    ("forward-maybe", "ValidateJWTForwardToken maybe", "must be On, Off"),
    ("type-bad", 'ValidateJWTTokenType "at jwt"', "is not a media type"),
    ("type-empty-app", "ValidateJWTTokenType application/", "empty token type"),
    ("max-age-neg", "ValidateJWTMaxTokenAge -5", "from 0 to 31536000"),
    ("max-age-abc", "ValidateJWTMaxTokenAge 5m", "from 0 to 31536000"),
    ("pass-none-payload", "ValidateJWTPassClaimsAs none payload", "none cannot be combined"),
    ("pass-bogus", "ValidateJWTPassClaimsAs headers cookies", "must be none, headers"),
    ("required-claim-bad-pointer", "ValidateJWTRequiredClaim /a~ x", "JSON Pointer"),
    ("remote-user-bad-pointer", "ValidateJWTRemoteUserClaim /u~3", "JSON Pointer"),
    ("require-claim-no-value", "Require jwt-claim role", "needs a claim name and at least one"),
    ("require-claim-none", "Require jwt-claim", "needs a claim name"),
    ("require-claim-bad-pointer", "Require jwt-claim /x~9 a", "JSON Pointer"),
    ("require-scope-none", "Require jwt-scope", "needs at least one scope"),
    ("require-scope-bad", 'Require jwt-scope "a\\"b"', "is not a scope"),
]


@pytest.mark.parametrize("case", [c[0] for c in BAD])
def test_bad_argument(httpd, keys, case):
    _, bad, what = [c for c in BAD if c[0] == case][0]
    rc, out, conf, text = httpd.configtest(locations=location("ct", _key(keys), bad))
    assert rc != 0, "configtest passed for %r:\n%s" % (bad, out)
    m = re.search(r"Syntax error on line (\d+) of ([^:]+):", out)
    assert m, out
    assert int(m.group(1)) == _line_no(text, "    " + bad), out
    assert m.group(2) == conf, out
    assert bad.split()[0] in out and (bad.split()[1] in out or bad.startswith("Validate")), out
    assert what in out, "%r not in:\n%s" % (what, out)


def test_good_arguments(httpd, keys):
    locs = location(
        "ct", _key(keys),
        "ValidateJWTClaimHeader /realm_access/roles X-Roles",
        "ValidateJWTClaimHeader https://example.com/tenant X-Tenant",
        "ValidateJWTClaimHeader /a~0b~1c X-Esc",
        "ValidateJWTCookieName __Host-jwt",
        "ValidateJWTForwardToken Off",
        "ValidateJWTTokenType at+jwt application/JWT",
        "ValidateJWTMaxTokenAge 0",
        "ValidateJWTPassClaimsAs headers environment payload",
        "ValidateJWTRequiredClaim /realm_access/roles admin",
        "ValidateJWTRemoteUserClaim /preferred/name",
        "Require jwt-claim /resource_access/orders-api/roles read write",
        "Require jwt-scope read write:all",
    )
    rc, out, conf, text = httpd.configtest(locations=locs)
    assert rc == 0, out
    assert "VJWT00321" not in out and "VJWT00322" not in out, out


def test_policy_file_bad_claim_path(httpd, keys):
    """<claim name="/a~2"> in a policy file: file and line of the claim."""
    pol = httpd.write_file("conf/bad-path.xml",
                           '<validate-jwt header-name="Authorization">\n'
                           '  <required-claims>\n'
                           '    <claim name="/a~2"><value>x</value></claim>\n'
                           '  </required-claims>\n'
                           '</validate-jwt>\n')
    rc, out, conf, text = httpd.configtest(
        locations=location("ct", _key(keys), "ValidateJWTPolicy %s" % pol))
    assert rc != 0, out
    assert re.search(re.escape(pol) + r":3:.*JSON Pointer", out), out
