"""Turn the neutral table (cases.py) into httpd configurations, requests and checks.

Used by test_300_conformance.py (runtime cases, one server per mode) and
test_310_conformance_config.py (apache2 -t per case and mode).
"""

import copy
import re

import pytest

import vjwt_env
from vjwt_env import assert_fail, assert_pass
from vjwt_fakeidp import public_jwk
from vjwt_tokens import claims as _claims, encrypt, hmac_jwk, mint

from . import cases as C
from .generators import Ctx, line_of, server_config, to_directives, to_xml

MODES = ("xml", "directives")


# ------------------------------------------------------------------------------------
# tokens
# ------------------------------------------------------------------------------------
def key_for(name, keys):
    if name.startswith("pem:"):
        return hmac_jwk(getattr(keys, name[4:] + "_pub_pem"))
    if name.startswith("der:"):
        return hmac_jwk(getattr(keys, name[4:] + "_pub_der"))
    k = getattr(keys, name)
    return hmac_jwk(k) if isinstance(k, bytes) else k


def _resolve(v, now):
    if isinstance(v, C.Rel):
        f = float(v)
        return now + int(f) if f == int(f) else now + f
    return v


def make_token(spec, keys):
    if spec is None:
        return None
    if "raw" in spec:
        return _encrypted(spec["raw"](keys), spec.get("jwe"), keys)
    base = _claims()
    now = base["exp"] - 3600
    over = {k: _resolve(v, now) for k, v in spec["claims"].items()}
    c = _claims(**over)
    t = mint(key_for(spec["key"], keys), spec["alg"], c, kid=spec["kid"], typ=spec["typ"],
             header=spec["header"] or None)
    if spec.get("mutate"):
        t = spec["mutate"](t, keys)
    return _encrypted(t, spec.get("jwe"), keys)


def _encrypted(t, j, keys):
    """t, or t inside a JWE as cases.J describes (jwcrypto)."""
    if not j:
        return t
    k = getattr(keys, j["key"])
    e = encrypt(k, j["alg"], j["enc"], t, kid=j["kid"], cty=j["cty"], header=j["header"])
    return j["mutate"](e, keys) if j.get("mutate") else e


def send(srv, path, r, keys):
    """Send one request of the table; returns (response, token)."""
    token = make_token(r["token"], keys)
    headers = list(r["headers"])
    kw = {}
    s = r["send"]
    if s == "bearer":
        headers.append(("Authorization", "Bearer " + token))
    elif s == "none":
        pass
    elif s[0] == "auth":
        headers.append(("Authorization", s[1].replace("{t}", token or "")))
    elif s[0] == "header":
        headers.append((s[1], s[2].replace("{t}", token or "")))
    elif s[0] == "query":
        kw["raw_query"] = s[1].replace("{t}", token or "")
    else:
        raise ValueError("bad send %r" % (s,))
    resp = srv.request(path + r["path"], None, method=r["method"], headers=headers, **kw)
    return resp, token


def signature(resp):
    """What must be identical in both modes: status, body, reason, challenge, policy id
    and the detail message (digits normalised: times and token values differ)."""
    detail = resp.header("X-VJWT-Message") or ""
    return {"status": resp.status,
            "body": resp.body.decode("utf-8", "replace") if resp.vjwt_reason else "<backend>",
            "reason": resp.vjwt_reason,
            "www-authenticate": resp.header("WWW-Authenticate"),
            "policy-id": resp.header("X-VJWT-Policy-Id"),
            "detail": re.sub(r"\d+", "#", detail)}


def check(resp, exp, token):
    """Assert the expected outcome (vjwt_env.assert_pass / assert_fail do the full
    docs/conformance.md#failure-response checks: status, exact body, Content-Type,
    WWW-Authenticate, env, one log line, backend not reached)."""
    if exp["pass"]:
        assert_pass(resp)
        if exp["env"] or exp["env_absent"]:
            env = resp.env
            want = {k: v.replace("{t}", token or "") for k, v in exp["env"].items()}
            got = {k: env.get(k) for k in want}
            assert got == want, "backend env: expected %r, got %r" % (want, got)
            present = [k for k in exp["env_absent"] if k in env]
            assert not present, "unexpected env %r" % present
        return
    if exp.get("raw_body") is not None and resp.method != "HEAD":
        # a body the JSON library would write differently (\\uXXXX escapes): compare the
        # bytes here, then let assert_fail check the rest against the canonical form
        assert resp.body == exp["raw_body"], "body %r != %r" % (resp.body, exp["raw_body"])
        resp = copy.copy(resp)
        resp.body = vjwt_env.expected_body(exp["status"], exp["message"])
    assert_fail(resp, exp["reason"], status=exp["status"], message=exp["message"],
                www=exp["www"])
    if exp["detail_re"]:
        d = resp.header("X-VJWT-Message") or ""
        assert re.search(exp["detail_re"], d), "detail %r !~ %r" % (d, exp["detail_re"])
    if exp["policy_id"] is not None:
        assert resp.header("X-VJWT-Policy-Id") == exp["policy_id"], resp.header_list


# ------------------------------------------------------------------------------------
# configuration
# ------------------------------------------------------------------------------------
def setup_idp(fakeidp, keys):
    """The fake IdP with the documents of cases.IDPS (loopback http)."""
    idp = fakeidp()
    for name, d in C.IDPS.items():
        jw = []
        for ref, extra in d["jwks"]:
            jw.append(public_jwk(getattr(keys, ref), **extra) if isinstance(ref, str)
                      else dict(ref))
        idp.add_jwks("/%s/jwks" % name, jw)
        idp.add_discovery("/%s/.well-known/openid-configuration" % name, d["issuer"],
                          "/%s/jwks" % name)
    return idp


def make_ctx(keys, idp=None):
    return Ctx(keys, idp.base if idp else None, lambda spec: make_token(spec, keys))


def case_path(case):
    return "/p/%s/" % case.name


def _block(path, directives):
    body = ["AuthType JWT", "Require valid-user"] + list(directives)
    return '<Location "%s">\n%s\n</Location>\n' % (path, "\n".join("    " + d for d in body))


def policy_directives(httpd, policy, mode, ctx, rel):
    """The lines for one scope: ValidateJWTPolicy FILE (xml) or the directives, then the
    policy's module-only extra directives.  A list is raw directives (any mode)."""
    if isinstance(policy, list):
        return [ctx.fill(d) for d in policy]
    if mode == "xml":
        text = to_xml(policy, ctx)
        httpd.write_file(rel, text.encode("utf-8"))
        sel = (policy.get("xml") or {}).get("select")
        lines = ["ValidateJWTPolicy %s%s" % (rel, " id=%s" % sel if sel else "")]
    else:
        lines = to_directives(policy, ctx)
    return lines + list(policy["extra_directives"])


def runtime_config(httpd, cases, mode, ctx):
    """(locations text, server conf text, {case name: (first line, last line)})."""
    named = {}
    for c in cases:
        for p in (c.policy, c.inner[1] if c.inner else None):
            if isinstance(p, dict):
                named.update(p["named_values"])
    named = {k: ctx.named(v) for k, v in named.items()}
    blocks = []
    for c in cases:
        blocks.append(_block(case_path(c), policy_directives(
            httpd, c.policy, mode, ctx, "policies/%s/%s.xml" % (mode, c.name))))
        if c.inner:
            sub, pol = c.inner
            blocks.append(_block(case_path(c) + sub, policy_directives(
                httpd, pol, mode, ctx, "policies/%s/%s-inner.xml" % (mode, c.name))))
    server = server_config(C.CERTIFICATES, named, ["ValidateJWTFetchTimeout 2 4"])
    return "\n".join(blocks), server


def block_lines(conf_text, case):
    """First and last line (1-based) of a case's <Location> block in a config."""
    lines = conf_text.splitlines()
    start = None
    for i, l in enumerate(lines, 1):
        if start is None and l.startswith('<Location "%s' % case_path(case)):
            start = i
        elif start is not None and l.startswith("</Location>"):
            last = i
            # an inner block follows directly for docs/conformance.md C134-style cases
            if i < len(lines) and lines[i].startswith('<Location "%s' % case_path(case)):
                continue
            return start, last
    raise ValueError("no block for %s" % case.name)


def startup_lines_for(srv, case, mode, conf_text):
    """Startup log lines that belong to the case (its policy file, or its config lines)."""
    out = []
    if mode == "xml":
        needle = "policies/xml/%s" % case.name
        return [l for l in srv.startup_lines if needle in l]
    lo, hi = block_lines(conf_text, case)
    for l in srv.startup_lines:
        m = re.search(re.escape(srv.conf_path) + r":(\d+)", l) or \
            re.search(r"line (\d+) of " + re.escape(srv.conf_path), l)
        if m and lo <= int(m.group(1)) <= hi:
            out.append(l)
    return out


def conformance_marks(case, mode):
    marks = [pytest.mark.conformance(ids=case.ids, case=case.name, mode=mode)]
    return marks


def bug_mark(text):
    return pytest.mark.xfail(strict=True, reason="known module bug: " + text)


# ------------------------------------------------------------------------------------
# configtest
# ------------------------------------------------------------------------------------
def run_configtest(httpd, case, mode, ctx):
    """apache2 -t for one ConfigCase in one mode. Returns a dict with rc, out, conf,
    conf_text, policy path and text (xml)."""
    server = server_config(C.CERTIFICATES, {k: ctx.named(v) for k, v in
                                            case.policy["named_values"].items()})
    after = ""
    if case.server.startswith("#AFTER#"):
        after = case.server[len("#AFTER#"):] + "\n"
    elif case.server:
        server += case.server + "\n"
    path = case_path(case)
    res = {"policy": None, "policy_text": None}
    if mode == "xml":
        rel = "policies/config/%s.xml" % case.name
        text = to_xml(case.policy, ctx)
        res["policy"] = httpd.write_file(rel, text.encode("utf-8"))
        res["policy_text"] = text
        sel = (case.policy.get("xml") or {}).get("select")
        lines = ["ValidateJWTPolicy %s%s" % (rel, " id=%s" % sel if sel else "")]
    else:
        lines = to_directives(case.policy, ctx)
    lines += list(case.policy["extra_directives"])
    locs = _block(path, lines) + after
    rc, out, conf, conf_text = httpd.configtest(server_conf=server, locations=locs,
                                                name="conf-%s-%s" % (mode, case.name))
    res.update(rc=rc, out=out, conf=conf, conf_text=conf_text)
    return res


def check_configtest(case, mode, res):
    out = res["out"]
    if case.ok:
        assert res["rc"] == 0, "configtest failed:\n%s" % out
        assert "Syntax OK" in out, out
        return
    assert res["rc"] != 0, "configtest passed, expected a failure (%s)" % case.name
    one = " ".join(out.split())  # messages may wrap
    if mode == "xml":
        assert "ValidateJWTPolicy" in out, out
        assert res["policy"] in out, "policy file %s not named:\n%s" % (res["policy"], out)
        if case.line_of:
            ln = line_of(res["policy_text"], case.line_of)
            at = re.escape(res["policy"])
            assert re.search(r"%s:%d\b" % (at, ln), out) or \
                re.search(r"line %d of %s" % (ln, at), out), \
                "error does not point at %s line %d (%r):\n%s" % (
                    res["policy"], ln, case.line_of, out)
        assert re.search(case.xml_re, one), "problem %r not in:\n%s" % (case.xml_re, out)
    else:
        conf, text = res["conf"], res["conf_text"]
        lo = None
        for i, l in enumerate(text.splitlines(), 1):
            if l.strip().startswith(case.directive) and i > text.count("\n", 0, text.find(
                    '<Location "%s' % case_path(case))):
                lo = i
                break
        assert lo, "directive %s not in the config" % case.directive
        assert re.search(r"line %d of %s" % (lo, re.escape(conf)), out) or \
            re.search(r"%s:%d\b" % (re.escape(conf), lo), out), \
            "error does not point at %s line %d:\n%s" % (conf, lo, out)
        assert re.search(case.dir_re, one), "problem %r not in:\n%s" % (case.dir_re, out)
