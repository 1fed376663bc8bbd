"""ValidateJWTEntraTenant TENANT [authority=URL] (README.md "Microsoft Entra ID"): the same
decisions as its long form (the tenant's v2.0 discovery document under the authority, the
v2.0 and v1 issuers, a required tid), against a loopback stand-in whose discovery document
has Entra's shape (tenant-specific issuer, keys shared by all tenants)."""

import pytest

from vjwt_env import assert_fail, assert_pass
from vjwt_fakeidp import public_jwk
from vjwt_tokens import mint

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
OTHER = "0b2c33bc-1b5f-4d4e-9b3b-6b8d0b6f0c11"
AUD = "api://orders"


@pytest.fixture(scope="module")
def entra(fakeidp, keys):
    F = fakeidp()
    for t in (TENANT, OTHER):
        F.add_jwks("/%s/discovery/v2.0/keys" % t, [public_jwk(keys.rsa1, kid="e1")])
        F.add_discovery("/%s/v2.0/.well-known/openid-configuration" % t,
                        "%s/%s/v2.0" % (F.base, t), "/%s/discovery/v2.0/keys" % t)
    return F


@pytest.fixture(scope="module")
def srv(httpd, entra):
    a = entra.base
    spec = {
        "short": ["ValidateJWTEntraTenant %s authority=%s/" % (TENANT.upper(), a)],
        "long": ["ValidateJWTOpenIDConfig %s/%s/v2.0/.well-known/openid-configuration" % (a, TENANT),
                 "ValidateJWTIssuer %s/%s/v2.0 https://sts.windows.net/%s/" % (a, TENANT, TENANT),
                 "ValidateJWTRequiredClaim tid %s" % TENANT],
    }
    locs = "\n".join('<Location "/p/%s">\n    AuthType JWT\n    Require valid-user\n'
                     '    ValidateJWTAudience %s\n%s\n</Location>' % (
                         n, AUD, "\n".join("    " + d for d in ds)) for n, ds in spec.items())
    return httpd.start("entra", locs)


def _cases(entra):
    a = entra.base
    v2, v1 = "%s/%s/v2.0" % (a, TENANT), "https://sts.windows.net/%s/" % TENANT
    return [
        ("v2", dict(iss=v2, tid=TENANT), None),
        ("v1", dict(iss=v1, tid=TENANT), None),
        ("other-tenant-v2", dict(iss="%s/%s/v2.0" % (a, OTHER), tid=OTHER),
         "TokenIssuerNotAllowed"),
        ("other-tenant-v1", dict(iss="https://sts.windows.net/%s/" % OTHER, tid=OTHER),
         "TokenIssuerNotAllowed"),
        ("tid-mismatch", dict(iss=v2, tid=OTHER), "TokenClaimValueNotAllowed"),
        ("tid-missing", dict(iss=v2, tid=None), "TokenClaimNotFound"),
        ("tid-upper", dict(iss=v2, tid=TENANT.upper()), "TokenClaimValueNotAllowed"),
        ("common-issuer", dict(iss="%s/common/v2.0" % a, tid=TENANT), "TokenIssuerNotAllowed"),
    ]


@pytest.mark.parametrize("case", [c[0] for c in _cases(type("F", (), {"base": ""}))])
def test_shorthand_equals_long_form(srv, entra, keys, case):
    _, claims, reason = [c for c in _cases(entra) if c[0] == case][0]
    tok = mint(keys.rsa1, "RS256", kid="e1", aud=AUD, **claims)
    for loc in ("short", "long"):
        r = srv.get("/p/%s/" % loc, tok)
        if reason is None:
            assert_pass(r)
        else:
            assert_fail(r, reason)


def test_bad_arguments(httpd):
    for line, what in [
        ("ValidateJWTEntraTenant contoso.onmicrosoft.com", "is not a tenant id"),
        ("ValidateJWTEntraTenant %s authority=ftp://x" % TENANT, "http or https URL"),
        ("ValidateJWTEntraTenant %s tenant=x" % TENANT, "takes TENANT [authority=URL]"),
    ]:
        rc, out, conf, _ = httpd.configtest(locations='<Location "/p/e">\n    %s\n</Location>'
                                            % line)
        assert rc != 0 and "Syntax error on line" in out and what in out, (line, out)
        assert "ValidateJWTEntraTenant" in out, out
