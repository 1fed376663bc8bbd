"""Usage examples (docs/conformance.md#usage-examples, S1-S14) as scenarios against policy files
taken (nearly) verbatim from the examples' shape: tests/integration/data/policies/*.xml.  The
C-ids in the markers and docstrings are those of docs/conformance.md.

The environment-specific parts are APIM named values ({{jwt-signing-key}}, {{idp-base}},
{{aad-tenant}}, ...) defined with ValidateJWTNamedValue; the identity providers (Entra,
External ID, B2C, Google, Auth0, Firebase) are documents of the local fake IdP
(vjwt_fakeidp) over loopback http.  APIM's <choose> becomes Apache <If> (S11) or
Require expr on the output variable (S7).
"""

import os
import re
import time

import pytest

import vjwt_env
from vjwt_env import assert_fail, assert_pass, load_modules
from vjwt_fakeidp import public_jwk
from vjwt_tokens import (b64std, b64u, claims, encrypt, flip_sig_bit, hmac_jwk, mint, now,
                         unsigned)

HERE = os.path.dirname(os.path.abspath(__file__))
POLICIES = os.path.join(HERE, "data", "policies")

TID = "72f988bf-86f1-41af-91ab-2d7cd011db47"
B2C_TID = "99999999-0000-0000-0000-999999999999"
BACKEND_APP = "11111111-2222-3333-4444-555555555555"
CLIENT_APP = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
REQUIRED_ID = "8a7f2b9c-claim-value"
HOST = "api.contoso.test"
MSG = "Unauthorized. Access token is missing or invalid."
AUTH0_API = "https://api.contoso.test/orders"

ISS = {
    "entra-v1": "https://sts.windows.net/%s/" % TID,
    "entra-v2": "https://login.microsoftonline.com/%s/v2.0" % TID,
    "ciam": "https://contoso.ciamlogin.com/%s/v2.0" % TID,
    "b2c": "https://contoso.b2clogin.com/%s/v2.0/" % B2C_TID,
    "b2c-legacy": "https://login.microsoftonline.com/%s/v2.0/" % B2C_TID,
    "google": "https://accounts.google.com",
    "auth0": "https://contoso.auth0.com/",
    "firebase": "https://securetoken.google.com/contoso-project",
}
# discovery path -> (issuer, JWKS path, [(Keys attribute, kid)])
IDP_DOCS = {
    "/%s/.well-known/openid-configuration" % TID: (ISS["entra-v1"], "/%s/discovery/keys" % TID,
                                                    [("rsa1", "entra-1")]),
    "/ciam/%s/v2.0/.well-known/openid-configuration" % TID: (ISS["ciam"], "/ciam/keys",
                                                             [("rsa2", "ciam-1")]),
    "/b2c/contoso.onmicrosoft.com/B2C_1_signupsignin/v2.0/.well-known/openid-configuration":
        (ISS["b2c"], "/b2c/keys", [("rsa1", "b2c-1")]),
    "/google/.well-known/openid-configuration": (ISS["google"], "/google/certs",
                                                 [("rsa2", "g-1")]),
    "/auth0/.well-known/openid-configuration": (ISS["auth0"], "/auth0/.well-known/jwks.json",
                                                [("rsa1", "auth0-1")]),
    "/firebase/contoso-project/.well-known/openid-configuration":
        (ISS["firebase"], "/firebase/jwks", [("rsa2", "fb-1")]),
}
ENTRA_JWKS = "/%s/discovery/keys" % TID

S7_EXPR = ("%{REMOTE_USER} != '' && (%{REQUEST_METHOD} != 'POST' || "
           "%{env:jwt_CLAIM_group} =~ /(^|,)finance(,|$)/)")


def _marks(scenario, *ids):
    return pytest.mark.conformance(ids=ids, case=scenario, mode="xml")


def _copy_policies(httpd):
    for f in sorted(os.listdir(POLICIES)):
        if f.endswith(".xml"):
            with open(os.path.join(POLICIES, f)) as fh:
                httpd.write_file("policies/examples/%s" % f, fh.read())


def _pol(name):
    return "ValidateJWTPolicy policies/examples/%s.xml" % name


@pytest.fixture(scope="module")
def env(httpd, keys, fakeidp):
    idp = fakeidp()
    for disc, (iss, jwks, kk) in IDP_DOCS.items():
        idp.add_jwks(jwks, [public_jwk(getattr(keys, k), kid=kid) for k, kid in kk])
        idp.add_discovery(disc, iss, jwks)
    _copy_policies(httpd)
    server = "\n".join([
        load_modules("socache_shmcb"),
        "ValidateJWTKeysRefetchInterval 1",
        "ValidateJWTFetchTimeout 2 4",
        "ValidateJWTCertificate my-rsa-cert keys/rsa1.crt.pem",
        "ValidateJWTCertificate my-decryption-cert keys/rsa-enc.pem",
        "ValidateJWTNamedValue jwt-signing-key %s" % b64std(keys.hs64),
        "ValidateJWTNamedValue auth0-signing-secret-base64 %s" % b64std(keys.hs64b),
        "ValidateJWTNamedValue idp-base %s" % idp.base,
        "ValidateJWTNamedValue aad-tenant %s" % TID,
        "ValidateJWTNamedValue backend-app-id %s" % BACKEND_APP,
        "ValidateJWTNamedValue client-app-id %s" % CLIENT_APP,
        "ValidateJWTNamedValue required-id %s" % REQUIRED_ID,
    ])
    loc = vjwt_env.location
    locs = "".join([
        loc("s1/", _pol("s1-simple-hs256")),
        loc("s2/", _pol("s2-certificate")),
        loc("s3/", _pol("s3-entra-single-tenant")),
        loc("s4/", _pol("s4-entra-external-id")),
        loc("s5/", _pol("s5-b2c")),
        loc("s6/", _pol("s6-decryption-keys")),
        '<Location "/p/s7/">\n    AuthType JWT\n    %s\n    <RequireAll>\n'
        '        Require valid-user\n        Require expr "%s"\n    </RequireAll>\n'
        '</Location>\n' % (_pol("s7-authorize-by-claims"), S7_EXPR),
        loc("s8/", _pol("s8-google")),
        loc("s9/", _pol("s9-auth0")),
        loc("s9-nosep/", _pol("s9-auth0-no-separator")),
        loc("s9-hs256/", _pol("s9-auth0-hs256")),
        loc("s10/", _pol("s10-firebase")),
        loc("s11/", _pol("s11-method-based") + " id=other",
            "<If \"%{REQUEST_METHOD} == 'PATCH'\">",
            "    " + _pol("s11-method-based") + " id=patch",
            "</If>",
            "<ElseIf \"%{REQUEST_METHOD} in {'POST', 'PUT'}\">",
            "    " + _pol("s11-method-based") + " id=create",
            "</ElseIf>"),
        loc("s12/", _pol("s12-output-variable"),
            'Header set X-Permissions "%{valid-jwt_CLAIM_permissions}e"',
            'Header set X-Valid-Jwt-Alg "%{valid-jwt_ALG}e"'),
        loc("s13/", _pol("s13-custom-message")),
        loc("s13-errdoc/", _pol("s13-custom-message"),
            'ErrorDocument 401 "Denied by the gateway"'),
        loc("s14/", _pol("s14-unsigned")),
        loc("s14-default/", _pol("s14-signed-required")),
    ])
    srv = httpd.start("usage-examples", locs, server)
    return {"srv": srv, "idp": idp}


def _h(keys):
    return hmac_jwk(keys.hs64)


# --- S1 ----------------------------------------------------------------------------------
@_marks("S1", "C15", "C18", "C22", "C39", "C82", "C93", "C101", "C125")
def test_s1_simple_hs256(env, keys):
    """S1 (C15 C18 C22 C39 C82 C93 C101 C125): HS256 with the key from {{jwt-signing-key}},
    require-scheme Bearer, audience = host name, issuer http://contoso.com/."""
    srv, h = env["srv"], _h(keys)
    good = dict(iss="http://contoso.com/", aud=HOST)
    assert_pass(srv.get("/p/s1/", mint(h, "HS256", **good)))
    assert_fail(srv.get("/p/s1/", mint(h, "HS256", iss="http://contoso.com", aud=HOST)),
                "TokenIssuerNotAllowed")
    assert_fail(srv.get("/p/s1/", mint(h, "HS256", iss="http://contoso.com/",
                                       aud="other.example")), "TokenAudienceNotAllowed")
    assert_fail(srv.get("/p/s1/", headers=[("Authorization", "Basic dXNlcjpwYXNz")]),
                "TokenNotPresent", message="JWT not present.")
    assert_fail(srv.get("/p/s1/"), "TokenNotPresent")
    assert_fail(srv.get("/p/s1/", mint(hmac_jwk(keys.hs64b), "HS256", **good)),
                "TokenSignatureInvalid", message="Invalid JWT.")
    assert_fail(srv.get("/p/s1/", mint(h, "HS256", exp=None, **good)), "JwtInvalid")


# --- S2 ----------------------------------------------------------------------------------
@_marks("S2", "C54", "C55")
def test_s2_certificate(env, keys):
    """S2 (C54 C55): <key certificate-id="my-rsa-cert"/>: RS256 with the certificate's key
    passes, another RSA key fails, and an HS256 token keyed with the certificate's public
    key bytes finds no compatible key."""
    srv = env["srv"]
    good = dict(iss="http://contoso.com/", aud=HOST)
    assert_pass(srv.get("/p/s2/", mint(keys.rsa1, "RS256", **good)))
    assert_fail(srv.get("/p/s2/", mint(keys.rsa2, "RS256", **good)), "TokenSignatureInvalid")
    for secret in (keys.rsa1_pub_pem, keys.rsa1_pub_der):
        assert_fail(srv.get("/p/s2/", mint(hmac_jwk(secret), "HS256", **good)),
                    "TokenSignatureKeyNotFound")


# --- S3 ----------------------------------------------------------------------------------
def _entra(keys, kid="entra-1", key="rsa1", **over):
    c = dict(iss=ISS["entra-v1"], aud=BACKEND_APP, id=REQUIRED_ID, tid=TID)
    c.update(over)
    return mint(getattr(keys, key), "RS256", kid=kid, **c)


@_marks("S3", "C66", "C67", "C105", "C123")
def test_s3_entra_single_tenant(env, keys):
    """S3 (C66 C67 C105 C123): v1 discovery document: a token from its JWKS passes; a v2
    token (other issuer) and a token without the id claim fail with the custom body."""
    srv = env["srv"]
    assert_pass(srv.get("/p/s3/", _entra(keys)))
    r = srv.get("/p/s3/", _entra(keys, iss=ISS["entra-v2"]))
    assert_fail(r, "TokenIssuerNotAllowed", message=MSG)
    assert r.body == ('{ "statusCode": 401, "message": "%s" }' % MSG).encode()
    assert_fail(srv.get("/p/s3/", _entra(keys, id=None)), "TokenClaimNotFound", message=MSG)
    assert_fail(srv.get("/p/s3/", _entra(keys, aud="api://other")), "TokenAudienceNotAllowed",
                message=MSG)


# --- S4 ----------------------------------------------------------------------------------
@_marks("S4", "C97", "C107")
def test_s4_entra_external_id(env, keys):
    """S4 (C97 C107): no audiences: any aud passes with the right azp; a wrong azp fails
    with TokenClaimValueNotAllowed."""
    srv = env["srv"]
    c = dict(iss=ISS["ciam"], azp=CLIENT_APP)
    for aud in ("anything", ["a", "b"], None):
        assert_pass(srv.get("/p/s4/", mint(keys.rsa2, "RS256", kid="ciam-1", aud=aud, **c)))
    assert_fail(srv.get("/p/s4/", mint(keys.rsa2, "RS256", kid="ciam-1", iss=ISS["ciam"],
                                       azp="someone-else")),
                "TokenClaimValueNotAllowed", message=MSG)


# --- S5 ----------------------------------------------------------------------------------
@_marks("S5", "C32", "C68", "C94", "C100")
def test_s5_b2c(env, keys):
    """S5 (C32 C68 C94 C100): two audiences and two issuers (plus the discovery issuer):
    the second audience, the legacy issuer and an array aud pass; the B2C how-to's
    'INVALID' appended to a token is JwtInvalid with the custom body."""
    srv = env["srv"]
    aud2 = "66666666-0000-0000-0000-666666666666"

    def t(**c):
        base = dict(iss=ISS["b2c"], aud=aud2)
        base.update(c)
        return mint(keys.rsa1, "RS256", kid="b2c-1", **base)
    assert_pass(srv.get("/p/s5/", t()))
    assert_pass(srv.get("/p/s5/", t(iss=ISS["b2c-legacy"])))
    assert_pass(srv.get("/p/s5/", t(aud=["unrelated", aud2])))
    bad = t() + "INVALID"
    assert len(bad.split(".")[2]) % 4 == 1
    assert_fail(srv.get("/p/s5/", bad), "JwtInvalid", message=MSG)


# --- S6 ----------------------------------------------------------------------------------
@_marks("S6", "C136", "C139", "C140")
def test_s6_token_decryption(env, keys):
    """S6 (C136 C139 C140): a JWE (RSA-OAEP + A128CBC-HS256, to the decryption
    certificate's private key) around an HS256 token passes; the same token unencrypted
    passes too (encryption is optional); an inner token that is unsigned, or signed with
    another secret, keeps its JWS reason; RSA1_5 and zip are JwtInvalid."""
    srv = env["srv"]

    def t(**c):
        return mint(_h(keys), "HS256", aud=HOST, **c)
    assert_pass(srv.get("/p/s6/", encrypt(keys.rsa_enc, "RSA-OAEP", "A128CBC-HS256", t())))
    assert_pass(srv.get("/p/s6/", t()))
    assert_fail(srv.get("/p/s6/", encrypt(keys.rsa_enc, "RSA-OAEP", "A128CBC-HS256",
                                          unsigned(claims(aud=HOST)))), "TokenSignatureInvalid")
    other = mint(hmac_jwk(keys.hs64_other), "HS256", aud=HOST)
    assert_fail(srv.get("/p/s6/", encrypt(keys.rsa_enc, "RSA-OAEP-256", "A256GCM", other)),
                "TokenSignatureInvalid")
    assert_fail(srv.get("/p/s6/", encrypt(keys.rsa_enc, "RSA1_5", "A128CBC-HS256", t())),
                "JwtInvalid")
    assert_fail(srv.get("/p/s6/", encrypt(keys.rsa_enc, "RSA-OAEP", "A128CBC-HS256", t(),
                                          header={"zip": "DEF"})), "JwtInvalid")


def test_s6_decryption_keys_refused(httpd, keys, env):
    """S6: the decryption example's certificate-id must name a ValidateJWTCertificate that
    holds a private key: with a certificate only, configtest fails naming the policy line and
    the certificate line; with the private key (and its certificate) it passes. (Decrypting
    tokens with it: the JWE pipeline tests.)"""
    from cryptography.hazmat.primitives import serialization as ser
    priv = keys.rsa1.get_op_key("sign").private_bytes(
        ser.Encoding.PEM, ser.PrivateFormat.PKCS8, ser.NoEncryption())
    httpd.write_file("keys/rsa1.key+crt.pem", priv + open(httpd.path("keys/rsa1.crt.pem"),
                                                           "rb").read())
    named = "ValidateJWTNamedValue jwt-signing-key %s\n" % b64std(keys.hs64)
    locs = vjwt_env.location("s6/", _pol("s6-decryption-keys"))
    rc, out, _, _ = httpd.configtest(
        server_conf="ValidateJWTCertificate my-decryption-cert keys/rsa1.crt.pem\n" + named,
        locations=locs, name="s6")
    assert rc != 0, out
    assert re.search(r"VJWT00301: Syntax error on line \d+ of .*s6-decryption-keys\.xml: "
                     r"ValidateJWTPolicy: <decryption-keys><key>: certificate-id=my-decryption-cert is a "
                     r"decryption key, but 'ValidateJWTCertificate my-decryption-cert' on line \d+ of "
                     r"\S+ holds no private key", out), out
    rc, out, _, _ = httpd.configtest(
        server_conf="ValidateJWTCertificate my-decryption-cert keys/rsa1.key+crt.pem\n" + named,
        locations=locs, name="s6")
    assert rc == 0, out


# --- S7 ----------------------------------------------------------------------------------
@_marks("S7", "C110", "C117", "C129")
def test_s7_authorize_by_claims(env, keys, expect_log):
    """S7 (C110 C129): group logistics may GET; group finance may POST (Require expr on
    jwt_CLAIM_group, the output variable); logistics may not POST (httpd's authorization
    denies after validation passed); hr fails validation; no group is TokenClaimNotFound."""
    expect_log(r"AH01629: authorization failure")
    srv, h = env["srv"], _h(keys)

    def t(**c):
        return mint(h, "HS256", iss="contoso.com", aud=HOST, **c)
    assert_pass(srv.get("/p/s7/", t(group=["logistics"])))
    assert_pass(srv.request("/p/s7/", t(group="finance"), method="POST"))
    r = srv.request("/p/s7/", t(group=["logistics"]), method="POST")
    assert r.status in (401, 403) and r.vjwt_reason is None and not r.reached_backend, r
    assert r.reason_lines() == [], r.errlog
    assert_fail(srv.get("/p/s7/", t(group=["hr"])), "TokenClaimValueNotAllowed")
    assert_fail(srv.get("/p/s7/", t()), "TokenClaimNotFound")


# --- S8 ----------------------------------------------------------------------------------
@_marks("S8", "C86", "C88", "C100")
def test_s8_google(env, keys):
    """S8 (C86 C88 C100): clock-skew 120 and both Google issuer spellings."""
    srv = env["srv"]

    def t(**c):
        base = dict(iss=ISS["google"], aud="client.apps.googleusercontent.com")
        base.update(c)
        return mint(keys.rsa2, "RS256", kid="g-1", **base)
    assert_pass(srv.get("/p/s8/", t(iss="accounts.google.com")))
    assert_pass(srv.get("/p/s8/", t(iss="https://accounts.google.com")))
    assert_pass(srv.get("/p/s8/", t(exp=now() - 100, nbf=now() - 1000)))
    assert_fail(srv.get("/p/s8/", t(exp=now() - 200, nbf=now() - 1000)), "TokenExpired",
                message=MSG)
    assert_pass(srv.get("/p/s8/", t(nbf=now() + 100)))
    assert_fail(srv.get("/p/s8/", t(nbf=now() + 200)), "JwtInvalid", message=MSG)


# --- S9 ----------------------------------------------------------------------------------
@_marks("S9", "C94", "C101", "C114")
def test_s9_auth0(env, keys):
    """S9 (C94 C101 C114): Auth0: aud array with the API identifier passes; an iss without
    the trailing slash fails; an HS256 API with the secret base64-encoded in the policy
    passes; scope "read:a write:b" satisfies write:b only with separator=" "."""
    srv = env["srv"]

    def t(**c):
        base = dict(iss=ISS["auth0"], aud=[AUTH0_API, "https://contoso.auth0.com/userinfo"],
                    scope="read:a write:b")
        base.update(c)
        return mint(keys.rsa1, "RS256", kid="auth0-1", **base)
    assert_pass(srv.get("/p/s9/", t()))
    assert_fail(srv.get("/p/s9/", t(iss="https://contoso.auth0.com")), "TokenIssuerNotAllowed",
                message=MSG)
    assert_fail(srv.get("/p/s9-nosep/", t()), "TokenClaimValueNotAllowed")
    assert_pass(srv.get("/p/s9-hs256/", mint(hmac_jwk(keys.hs64b), "HS256", iss=ISS["auth0"],
                                             aud=AUTH0_API)))
    assert_fail(srv.get("/p/s9-hs256/", mint(_h(keys), "HS256", iss=ISS["auth0"],
                                             aud=AUTH0_API)), "TokenSignatureInvalid")


# --- S10 ---------------------------------------------------------------------------------
@_marks("S10", "C104")
def test_s10_firebase(env, keys):
    """S10 (C104): a token for the project passes; a token of another project (aud and iss
    of that project, same Google keys) fails on the audience first."""
    srv = env["srv"]
    assert_pass(srv.get("/p/s10/", mint(keys.rsa2, "RS256", kid="fb-1", iss=ISS["firebase"],
                                         aud="contoso-project")))
    assert_fail(srv.get("/p/s10/", mint(keys.rsa2, "RS256", kid="fb-1",
                                        iss="https://securetoken.google.com/other-project",
                                        aud="other-project")), "TokenAudienceNotAllowed")


# --- S11 ---------------------------------------------------------------------------------
@_marks("S11", "C97", "C103", "C116")
def test_s11_method_based(env, keys):
    """S11 (C97 C103 C116): one <policies> document with three <validate-jwt id=...>,
    picked per method with <If>/ValidateJWTPolicy FILE id=ID: PATCH needs edit = true
    (JSON boolean or string), POST/PUT need create = true, others a valid signature only."""
    srv, h = env["srv"], _h(keys)
    assert_pass(srv.request("/p/s11/", mint(h, "HS256", edit=True), method="PATCH"))
    assert_pass(srv.request("/p/s11/", mint(h, "HS256", edit="true"), method="PATCH"))
    assert_fail(srv.request("/p/s11/", mint(h, "HS256", edit=False), method="PATCH"),
                "TokenClaimValueNotAllowed")
    assert_fail(srv.request("/p/s11/", mint(h, "HS256", create=True), method="PATCH"),
                "TokenClaimNotFound")
    assert_pass(srv.request("/p/s11/", mint(h, "HS256", create=True), method="POST"))
    assert_fail(srv.request("/p/s11/", mint(h, "HS256", edit=True), method="PUT"),
                "TokenClaimNotFound")
    assert_pass(srv.get("/p/s11/", mint(h, "HS256", iss="https://any.example/", aud="x")))
    assert_fail(srv.get("/p/s11/", flip_sig_bit(mint(h, "HS256"))), "TokenSignatureInvalid")


# --- S12 ---------------------------------------------------------------------------------
@_marks("S12", "C129")
def test_s12_output_variable_array_claim(env, keys):
    """S12 (C129): output-token-variable-name="valid-jwt": valid-jwt_CLAIM_permissions =
    "sendEmail,sendText" in the request environment (read with mod_headers)."""
    r = assert_pass(env["srv"].get("/p/s12/", mint(_h(keys), "HS256",
                                                   permissions=["sendEmail", "sendText"])))
    assert r.header("X-Permissions") == "sendEmail,sendText", r.header_list
    assert r.header("X-Valid-Jwt-Alg") == "HS256", r.header_list


# --- S13 ---------------------------------------------------------------------------------
@_marks("S13", "C123", "C133")
def test_s13_custom_message(env, keys):
    """S13 (C123 C133): every failure has the body message "jwt validation failed" and
    VALIDATE_JWT_ERROR_REASON; an ErrorDocument can replace the body and still sees the
    reason."""
    srv, h = env["srv"], _h(keys)
    for tok, reason in ((None, "TokenNotPresent"),
                        (mint(h, "HS256", aud="other"), "TokenAudienceNotAllowed"),
                        (mint(h, "HS256", aud=HOST, exp=now() - 100, nbf=now() - 1000),
                         "TokenExpired")):
        assert_fail(srv.get("/p/s13/", tok), reason, message="jwt validation failed")
    r = srv.get("/p/s13-errdoc/", mint(h, "HS256", aud="other"))
    assert r.status == 401 and b"Denied by the gateway" in r.body, r
    assert r.vjwt_reason == "TokenAudienceNotAllowed", r.header_list
    assert not r.reached_backend


# --- S14 ---------------------------------------------------------------------------------
@_marks("S14", "C49", "C50", "C52")
def test_s14_unsigned(env, keys):
    """S14 (C49 C50 C52): require-signed-tokens="false": alg none with an empty signature
    passes; with the default it fails; a signed token with a bad signature still fails."""
    srv = env["srv"]
    c = claims(iss="http://contoso.com/")
    assert_pass(srv.get("/p/s14/", unsigned(c)))
    assert_fail(srv.get("/p/s14-default/", unsigned(c)), "TokenSignatureInvalid")
    assert_fail(srv.get("/p/s14/", flip_sig_bit(mint(_h(keys), "HS256", iss="http://contoso.com/"))),
                "TokenSignatureInvalid")
    assert_fail(srv.get("/p/s14/", unsigned(claims(iss="http://other/"))),
                "TokenIssuerNotAllowed")
    assert_fail(srv.get("/p/s14/", unsigned(c, signature=b64u(b"sig"))), "JwtInvalid")


# --- S3 key rotation (last: it changes the fake IdP's JWKS) --------------------------------
@_marks("S3-rotation", "C71", "C72")
def test_s3_entra_key_rotation(env, keys):
    """S3 / C71 C72: the Entra JWKS rotates; a token whose kid is only in the new JWKS,
    sent when the last fetch is older than the refetch floor (1 s here), makes the module
    fetch again and passes in that same request; another unknown kid right after it (within
    the floor) causes no fetch and fails with TokenSignatureKeyNotFound."""
    srv, idp = env["srv"], env["idp"]
    assert_pass(srv.get("/p/s3/", _entra(keys)))  # keys loaded
    idp.set_jwks(ENTRA_JWKS, [public_jwk(keys.rsa1, kid="entra-1"),
                              public_jwk(keys.rsa2, kid="entra-2")])
    last = max(idp.hit_times(ENTRA_JWKS) or [0])
    time.sleep(max(0.0, last + 1.3 - time.time()))
    before = idp.hits(ENTRA_JWKS)
    assert_pass(srv.get("/p/s3/", _entra(keys, kid="entra-2", key="rsa2")))
    after = idp.hits(ENTRA_JWKS)
    assert after > before, "C71: no JWKS fetch for the unknown kid"
    r = srv.get("/p/s3/", _entra(keys, kid="entra-3", key="rsa_attacker"))
    assert_fail(r, "TokenSignatureKeyNotFound", message=MSG)
    assert idp.hits(ENTRA_JWKS) == after, "C72: fetched again within the refetch floor"
