"""Failure responses and success side effects (docs/conformance.md C121-C133, C135; C18;
#failure-reasons, #failure-response, #outputs; HEAD; ValidateJWTPassClaimsAs / RemoteUserClaim /
OutputTokenVariableName / Id / Realm / WWWAuthenticate)."""

import json

import pytest

from vjwt_env import REASONS, assert_fail, assert_pass, expected_body, location, locations
from vjwt_tokens import AUD, ISS, SUB, b64std, b64u_dec, flip_sig_bit, hmac_jwk, mint, now


def _policy(keys):
    return ["ValidateJWTIssuerSigningKey %s" % b64std(keys.hs64),
            "ValidateJWTAudience %s" % AUD,
            "ValidateJWTIssuer %s" % ISS,
            "ValidateJWTRequiredClaim role match=any admin"]


S7_EXPR = ("%{REMOTE_USER} != '' && (%{REQUEST_METHOD} != 'POST' || "
           "%{env:jwt_CLAIM_group} =~ /(^|,)finance(,|$)/)")


@pytest.fixture(scope="module")
def srv(httpd, keys):
    pol = _policy(keys)
    key = "ValidateJWTIssuerSigningKey %s" % b64std(keys.hs64)
    spec = {
        "all": pol,
        "code403": pol + ["ValidateJWTFailedValidationHTTPCode 403"],
        "code400": pol + ["ValidateJWTFailedValidationHTTPCode 400"],
        "msg-plain": pol + ['ValidateJWTFailedValidationErrorMessage "Access denied, sorry."'],
        "esc-msg": pol + ['ValidateJWTFailedValidationErrorMessage "He said \\"no\\" C:\\dir"'],
        "utf8-msg": pol + ['ValidateJWTFailedValidationErrorMessage "Zugriff verweigert – ü/ß"'],
        "nowww": pol + ["ValidateJWTWWWAuthenticate Off"],
        "realm": pol + ['ValidateJWTRealm "My API"'],
        "polid": pol + ["ValidateJWTId pol-7"],
        "env": [key],
        "headers": [key, "ValidateJWTPassClaimsAs headers"],
        "none": [key, "ValidateJWTPassClaimsAs none"],
        "both": [key, "ValidateJWTPassClaimsAs both"],
        "ruser": [key, "ValidateJWTRemoteUserClaim email"],
        "outvar": [key, "ValidateJWTOutputTokenVariableName jwt", "ValidateJWTPassClaimsAs none"],
        "outenv": [key, "ValidateJWTOutputTokenVariableName jwt"],
        "second-var": [key, "ValidateJWTOutputTokenVariableName valid_jwt",
                       "ValidateJWTPassClaimsAs none"],
    }
    locs = locations(spec)
    locs += location("static", key, prefix="/s/")
    locs += ('<Location "/p/s7">\n    AuthType JWT\n    %s\n'
             '    ValidateJWTOutputTokenVariableName jwt\n'
             '    ValidateJWTPassClaimsAs none\n'
             '    ValidateJWTRequiredClaim group match=any finance logistics\n'
             '    <RequireAll>\n        Require valid-user\n        Require expr "%s"\n'
             '    </RequireAll>\n</Location>\n' % (key, S7_EXPR))
    return httpd.start("responses", locs)


def reason_token(reason, keys):
    """A request token that fails the _policy() with exactly this reason (None: no token)."""
    h = hmac_jwk(keys.hs64)
    return {
        "TokenNotPresent": lambda: None,
        "JwtInvalid": lambda: mint(h, "HS256", role="admin").rsplit(".", 1)[0],
        "TokenSignatureInvalid": lambda: flip_sig_bit(mint(h, "HS256", role="admin")),
        "TokenSignatureKeyNotFound": lambda: mint(keys.rsa1, "RS256", role="admin"),
        "TokenExpired": lambda: mint(h, "HS256", role="admin", exp=now() - 100,
                                     nbf=now() - 2000, iat=now() - 2000),
        "TokenAudienceNotAllowed": lambda: mint(h, "HS256", role="admin", aud="api://other"),
        "TokenIssuerNotAllowed": lambda: mint(h, "HS256", role="admin",
                                              iss="https://other.example/"),
        "TokenClaimNotFound": lambda: mint(h, "HS256"),
        "TokenClaimValueNotAllowed": lambda: mint(h, "HS256", role="user"),
    }[reason]()


def test_policy_control_passes(srv, keys):
    """Control: a token meeting the whole policy passes."""
    assert_pass(srv.get("/p/all/", mint(hmac_jwk(keys.hs64), "HS256", role="admin")))


@pytest.mark.parametrize("reason", REASONS)
def test_failure_response(srv, keys, reason):
    """C18 C122 C125 C126 C127 C130 C131 C133: every reason gives 401, the exact one-line
    JSON body ("JWT not present." / "Invalid JWT."), Content-Type application/json, the
    RFC 6750 challenge, VALIDATE_JWT_ERROR_SOURCE/REASON/MESSAGE in the request env, one
    info log line "VJWTnnnnn ... reason=<Reason>", and no backend call."""
    r = srv.get("/p/all/", reason_token(reason, keys))
    assert_fail(r, reason)
    assert r.header("X-VJWT-Message"), "VALIDATE_JWT_ERROR_MESSAGE empty"
    assert r.header("Content-Length") == str(len(r.body))
    # the CustomLog sees the same env
    lines = srv.access_lines(r.test_id)
    assert len(lines) == 1, lines
    assert " 401 " in lines[0] and "reason=%s " % reason in lines[0], lines[0]
    assert "source=validate-jwt " in lines[0], lines[0]


@pytest.mark.parametrize("reason", ["TokenNotPresent", "TokenExpired", "TokenSignatureInvalid"])
def test_head_failure_has_no_body(srv, keys, reason):
    """docs/conformance.md#failure-response: HEAD gets the same status and headers, and no body."""
    r = srv.head("/p/all/", reason_token(reason, keys))
    assert_fail(r, reason)


@pytest.mark.parametrize("reason", REASONS)
def test_configured_status_403(srv, keys, reason):
    """C121 C132: FailedValidationHTTPCode 403 is used for every reason (incl. missing and
    expired tokens); statusCode 403 in the body; no WWW-Authenticate on a non-401."""
    assert_fail(srv.get("/p/code403/", reason_token(reason, keys)), reason, status=403)


@pytest.mark.parametrize("reason", ["TokenNotPresent", "TokenExpired"])
def test_configured_status_400(srv, keys, reason):
    """C121: FailedValidationHTTPCode 400."""
    assert_fail(srv.get("/p/code400/", reason_token(reason, keys)), reason, status=400)


@pytest.mark.parametrize("reason", REASONS)
def test_custom_message_for_every_reason(srv, keys, reason):
    """C123: with FailedValidationErrorMessage set, that message is used for every
    failure kind, including TokenNotPresent."""
    assert_fail(srv.get("/p/msg-plain/", reason_token(reason, keys)), reason,
                message="Access denied, sorry.")


def test_custom_message_json_escaped(srv, keys):
    """C124: a message holding " and \\ is JSON-escaped and round-trips."""
    for reason in ("TokenNotPresent", "TokenExpired"):
        r = srv.get("/p/esc-msg/", reason_token(reason, keys))
        assert_fail(r, reason, message='He said "no" C:\\dir')
        assert r.body == b'{ "statusCode": 401, "message": "He said \\"no\\" C:\\\\dir" }', r.body
        assert json.loads(r.body)["message"] == 'He said "no" C:\\dir'


def test_custom_message_utf8_and_slash(srv, keys):
    """docs/conformance.md#failure-response: non-ASCII UTF-8 passes through and '/' is not
    escaped."""
    r = srv.get("/p/utf8-msg/", reason_token("TokenExpired", keys))
    assert_fail(r, "TokenExpired", message="Zugriff verweigert – ü/ß")
    assert json.loads(r.body.decode("utf-8"))["message"] == "Zugriff verweigert – ü/ß"


@pytest.mark.parametrize("reason", ["TokenNotPresent", "TokenExpired", "JwtInvalid"])
def test_www_authenticate_off(srv, keys, reason):
    """C132: with ValidateJWTWWWAuthenticate Off, no WWW-Authenticate is added."""
    assert_fail(srv.get("/p/nowww/", reason_token(reason, keys)), reason, www=False)


@pytest.mark.parametrize("reason", ["TokenNotPresent", "TokenIssuerNotAllowed"])
def test_realm_directive(srv, keys, reason):
    """C130 C131: ValidateJWTRealm sets the challenge realm."""
    assert_fail(srv.get("/p/realm/", reason_token(reason, keys)), reason, realm="My API")


def test_error_description_per_reason_is_fixed_text(srv, keys):
    """C131: error_description is fixed per reason: it never echoes token data (two
    different expired tokens give the same challenge)."""
    a = srv.get("/p/all/", reason_token("TokenExpired", keys))
    b = srv.get("/p/all/", mint(hmac_jwk(keys.hs64), "HS256", role="admin", exp=now() - 5000,
                                nbf=now() - 9000, sub="someone-else"))
    assert_fail(a, "TokenExpired")
    assert_fail(b, "TokenExpired")
    assert a.header("WWW-Authenticate") == b.header("WWW-Authenticate")


def test_policy_id_in_env(srv, keys):
    """docs/conformance.md#failure-response: ValidateJWTId fills VALIDATE_JWT_ERROR_POLICY_ID."""
    r = srv.get("/p/polid/", reason_token("TokenExpired", keys))
    assert_fail(r, "TokenExpired")
    assert r.header("X-VJWT-Policy-Id") == "pol-7"
    lines = srv.access_lines(r.test_id)
    assert lines and "policy=pol-7" in lines[0], lines


def test_success_authorization_unchanged(srv, keys):
    """C128: on success the backend gets the original Authorization header unchanged,
    REMOTE_USER = sub and AUTH_TYPE JWT."""
    tok = mint(hmac_jwk(keys.hs64), "HS256")
    for value in ("Bearer " + tok, "Bearer    " + tok, tok):
        r = assert_pass(srv.get("/p/env/", headers=[("Authorization", value)]))
        env = r.env
        assert env.get("HTTP_AUTHORIZATION") == value
        assert env.get("REMOTE_USER") == SUB
        assert env.get("AUTH_TYPE") == "JWT"


def _claims_token(keys, **extra):
    c = dict(roles=["a", "b"], n=42, f=1.5, flag=True, off=False, email="u@example.com",
             obj={"k": "v"})
    c.update(extra)
    c["my-claim"] = "dash"
    return mint(hmac_jwk(keys.hs64), "HS256", **c)


def _claim_env(env):
    return {k: v for k, v in env.items() if k.startswith("VALIDATE_JWT_CLAIM_")}


def _claim_hdrs(env):
    return {k: v for k, v in env.items() if k.startswith("HTTP_X_JWT_CLAIM_")}


def _diff(expect, got):
    return {k: (expect[k], got.get(k)) for k in expect if got.get(k) != expect[k]}


def test_pass_claims_environment_default(srv, keys):
    """Default PassClaimsAs environment: VALIDATE_JWT_CLAIM_<name> for every top-level claim whose
    name matches [A-Za-z0-9_]+ (arrays joined with ",", numbers as decimal text,
    true/false); other names skipped; no X-JWT-Claim-* headers; REMOTE_USER = sub."""
    tok = _claims_token(keys)
    env = assert_pass(srv.get("/p/env/", tok)).env
    ce = _claim_env(env)
    payload = json.loads(b64u_dec(tok.split(".")[1]))
    expect = {"VALIDATE_JWT_CLAIM_sub": SUB, "VALIDATE_JWT_CLAIM_iss": ISS, "VALIDATE_JWT_CLAIM_aud": AUD,
              "VALIDATE_JWT_CLAIM_roles": "a,b", "VALIDATE_JWT_CLAIM_email": "u@example.com",
              "VALIDATE_JWT_CLAIM_flag": "true", "VALIDATE_JWT_CLAIM_off": "false", "VALIDATE_JWT_CLAIM_f": "1.5",
              "VALIDATE_JWT_CLAIM_n": "42", "VALIDATE_JWT_CLAIM_exp": str(payload["exp"])}
    problems = _diff(expect, ce)
    skipped = [k for k in ce if k.startswith("VALIDATE_JWT_CLAIM_my")]
    assert not problems and not skipped, "expected/got: %r; not skipped: %r" % (problems,
                                                                                 skipped)
    assert _claim_hdrs(env) == {}, _claim_hdrs(env)
    assert env.get("REMOTE_USER") == SUB


def test_pass_claims_headers(srv, keys):
    """PassClaimsAs headers: the backend sees X-JWT-Claim-<name> request headers and no
    VALIDATE_JWT_CLAIM_* env; a client-sent X-JWT-Claim-sub can't spoof the subject."""
    tok = _claims_token(keys)
    r = assert_pass(srv.get("/p/headers/", tok, headers=[("X-JWT-Claim-sub", "evil")]))
    env = r.env
    h = _claim_hdrs(env)
    expect = {"HTTP_X_JWT_CLAIM_SUB": SUB, "HTTP_X_JWT_CLAIM_ROLES": "a,b",
              "HTTP_X_JWT_CLAIM_FLAG": "true", "HTTP_X_JWT_CLAIM_N": "42"}
    assert not _diff(expect, h), "expected/got: %r" % _diff(expect, h)
    assert _claim_env(env) == {}, _claim_env(env)
    assert env.get("REMOTE_USER") == SUB


def test_pass_claims_headers_strip_spoofed_absent_claim(srv, keys):
    """PassClaimsAs headers (security): a client-sent X-JWT-Claim-<name> for a claim the
    token doesn't have must not reach the backend either (else it could be spoofed)."""
    tok = mint(hmac_jwk(keys.hs64), "HS256")
    env = assert_pass(srv.get("/p/headers/", tok, headers=[("X-JWT-Claim-role", "admin"),
                                                            ("x-jwt-claim-SUB", "evil")])).env
    h = _claim_hdrs(env)
    assert "HTTP_X_JWT_CLAIM_ROLE" not in h, h
    assert h.get("HTTP_X_JWT_CLAIM_SUB") == SUB, h


def test_pass_claims_none(srv, keys):
    """PassClaimsAs none: neither VALIDATE_JWT_CLAIM_* env nor X-JWT-Claim-* headers; REMOTE_USER
    is still set."""
    env = assert_pass(srv.get("/p/none/", _claims_token(keys))).env
    assert _claim_env(env) == {} and _claim_hdrs(env) == {}
    assert env.get("REMOTE_USER") == SUB


def test_pass_claims_both(srv, keys):
    """PassClaimsAs both: env and headers."""
    env = assert_pass(srv.get("/p/both/", _claims_token(keys))).env
    assert _claim_env(env).get("VALIDATE_JWT_CLAIM_roles") == "a,b"
    assert _claim_hdrs(env).get("HTTP_X_JWT_CLAIM_ROLES") == "a,b"


def test_remote_user_claim(srv, keys):
    """ValidateJWTRemoteUserClaim email: REMOTE_USER comes from the email claim."""
    env = assert_pass(srv.get("/p/ruser/", _claims_token(keys))).env
    assert env.get("REMOTE_USER") == "u@example.com"


def test_output_token_variable(srv, keys):
    """C129 (docs/conformance.md#outputs): OutputTokenVariableName jwt exports jwt (raw token),
    jwt_ALG, jwt_TYP, jwt_ISS, jwt_SUB, jwt_JTI, jwt_AUD (joined by ","), jwt_EXP, jwt_NBF, jwt_IAT
    and jwt_CLAIM_<name>."""
    h = hmac_jwk(keys.hs64)
    t = now()
    tok = mint(h, "HS256", aud=["api://a", "api://b"], jti="id-1", exp=t + 3600,
               nbf=t - 60, iat=t - 30, group=["finance", "logistics"], n=7,
               **{"my-claim": "x"})
    env = assert_pass(srv.get("/p/outvar/", tok)).env
    expect = {"jwt": tok, "jwt_ALG": "HS256", "jwt_TYP": "JWT", "jwt_ISS": ISS,
              "jwt_SUB": SUB, "jwt_JTI": "id-1", "jwt_AUD": "api://a,api://b",
              "jwt_EXP": str(t + 3600), "jwt_NBF": str(t - 60), "jwt_IAT": str(t - 30),
              "jwt_CLAIM_group": "finance,logistics", "jwt_CLAIM_n": "7",
              "jwt_CLAIM_sub": SUB}
    assert not _diff(expect, env), "expected/got: %r; exported: %r" % (
        _diff(expect, env), sorted(k for k in env if k.startswith("jwt")))
    assert not any(k.startswith("jwt_CLAIM_my") for k in env), \
        [k for k in env if k.startswith("jwt_CLAIM_")]


def test_output_token_variable_with_claims_environment(srv, keys):
    """C129 with the default PassClaimsAs environment: the output variable jwt_CLAIM_<name>
    and VALIDATE_JWT_CLAIM_<name> both reach the backend (names differing only in letter case must
    not overwrite each other in the request environment)."""
    tok = mint(hmac_jwk(keys.hs64), "HS256", group=["finance", "logistics"])
    env = assert_pass(srv.get("/p/outenv/", tok)).env
    expect = {"jwt": tok, "jwt_SUB": SUB, "jwt_CLAIM_sub": SUB,
              "jwt_CLAIM_group": "finance,logistics", "VALIDATE_JWT_CLAIM_sub": SUB,
              "VALIDATE_JWT_CLAIM_group": "finance,logistics"}
    assert not _diff(expect, env), "expected/got: %r; exported: %r" % (
        _diff(expect, env), sorted(k for k in env if k.lower().startswith("jwt")))


def test_output_token_variable_other_name(srv, keys):
    """S12: OutputTokenVariableName valid_jwt; array claim permissions joined by ','."""
    tok = mint(hmac_jwk(keys.hs64), "HS256", permissions=["sendEmail", "sendText"])
    env = assert_pass(srv.get("/p/second-var/", tok)).env
    expect = {"valid_jwt": tok, "valid_jwt_CLAIM_permissions": "sendEmail,sendText"}
    assert not _diff(expect, env), "expected/got: %r; exported: %r" % (
        _diff(expect, env), sorted(k for k in env if k.startswith("valid_jwt")))


def test_s7_require_expr_on_output_variable(srv, keys, expect_log):
    """S7: claims exported through the output variable drive an Apache Require expr:
    group finance may POST, logistics may GET but not POST (denied by httpd's authz after
    validation passed: no VALIDATE_JWT_ERROR_REASON; httpd answers 401 + AH01629 because
    the expression uses REMOTE_USER), hr fails validation (TokenClaimValueNotAllowed), no
    group TokenClaimNotFound."""
    expect_log(r"AH01629: authorization failure")
    h = hmac_jwk(keys.hs64)
    assert_pass(srv.get("/p/s7/", mint(h, "HS256", group=["logistics"])))
    assert_pass(srv.request("/p/s7/", mint(h, "HS256", group="finance"), method="POST"))
    r = srv.request("/p/s7/", mint(h, "HS256", group=["logistics"]), method="POST")
    assert r.status in (401, 403) and r.vjwt_reason is None and not r.reached_backend, r
    assert r.reason_lines() == [], r.errlog
    assert_fail(srv.get("/p/s7/", mint(h, "HS256", group=["hr"])), "TokenClaimValueNotAllowed")
    assert_fail(srv.get("/p/s7/", mint(h, "HS256")), "TokenClaimNotFound")


def test_static_backend(srv, keys):
    """C127 with a static-file backend: the file is served only with a valid token."""
    r = srv.get("/s/static/", mint(hmac_jwk(keys.hs64), "HS256"))
    assert r.status == 200 and r.json == {"static": True}, r
    r = srv.get("/s/static/")
    assert r.status == 401 and r.body == expected_body(401, "JWT not present."), r
    r = srv.get("/s/static/", reason_token("TokenSignatureInvalid", keys))
    assert r.status == 401 and r.body == expected_body(401, "Invalid JWT."), r
    assert b"static" not in r.body


def test_token_never_in_error_log(srv, keys):
    """C135: after failures of every kind, no token segment (nor its signature) appears in
    the error log; response bodies hold only the fixed JSON."""
    sent = []
    for reason in REASONS:
        tok = reason_token(reason, keys)
        r = srv.get("/p/all/", tok)
        assert r.vjwt_reason == reason
        if tok:
            sent.append(tok)
            for seg in tok.split("."):
                if len(seg) >= 20:
                    assert seg[:20].encode() not in r.body
    log = srv.read_errlog()
    for tok in sent:
        for seg in tok.split("."):
            if len(seg) >= 20:
                assert seg not in log and seg[-20:] not in log, "token segment in error log"
