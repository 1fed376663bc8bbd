"""Assertions for the authorization providers (Require jwt-claim / jwt-scope, tests 33x)."""

from vjwt_env import SERVER_NAME, _why, expected_body

# httpd's own line for every authorization denial (mod_authz_core, error level)
DENIED_LOG = r"AH01630: client denied by server configuration|AH01631: user .*: authorization failure"
FORBIDDEN = "Forbidden."
INSUFFICIENT_SCOPE = "Insufficient scope."


def assert_forbidden(resp, message=FORBIDDEN, scope=None, realm=SERVER_NAME, lines=1):
    """A denial of Require jwt-claim (message Forbidden.) or jwt-scope (scope = the scopes of
    the Require line, message Insufficient scope.): 403, the module's JSON body byte for byte,
    application/json, the challenge for a scope only, the error environment, one VJWT00320
    line, backend not reached."""
    assert resp.status == 403, "expected 403, got %s" % _why(resp)
    if resp.method != "HEAD":
        assert resp.body == expected_body(403, message), \
            "body %r != %r" % (resp.body, expected_body(403, message))
    ctype = (resp.header("Content-Type") or "").split(";")[0].strip().lower()
    assert ctype == "application/json", "Content-Type %r" % resp.header("Content-Type")
    wa = resp.headers_all("WWW-Authenticate")
    if scope is not None:
        assert wa == ['Bearer realm="%s", error="insufficient_scope", scope="%s"'
                      % (realm, scope)], wa
    else:
        assert wa == [], wa
    assert resp.vjwt_reason == "TokenClaimValueNotAllowed", _why(resp)
    assert resp.header("X-VJWT-Source") == "validate-jwt", _why(resp)
    assert not resp.reached_backend, "backend was reached on 403"
    got = [l for l in resp.errlog if "VJWT00320" in l]
    assert len(got) == lines, "expected %d VJWT00320 line(s), got %r" % (lines, resp.errlog)
    assert "reason=TokenClaimValueNotAllowed" in got[0], got[0]
    return resp
