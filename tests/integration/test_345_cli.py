"""The validate-jwt CLI next to the module: `--lint FILE.xml` reports what `apachectl
configtest` says about `ValidateJWTPolicy FILE.xml` (every error and warning, same file and
line), and `--policy FILE.xml` gives the verdict the module gives, for the README's example
policy, the usage-example policies of tests/integration/data/policies and broken ones.

The CLI is the one built next to the module (VJWT_CLI overrides it).
"""

import base64
import json
import os
import re
import subprocess

import pytest

import vjwt_env
from vjwt_env import assert_fail, assert_pass, load_modules, location
from vjwt_tokens import b64std, mint, now

HERE = os.path.dirname(os.path.abspath(__file__))
README = os.path.join(HERE, "..", "..", "README.md")
POLICIES = os.path.join(HERE, "data", "policies")
CLI = os.environ.get("VJWT_CLI") or os.path.join(
    os.path.dirname(os.path.dirname(vjwt_env.MODULE)), "tools", "validate-jwt")

pytestmark = pytest.mark.skipif(not os.access(CLI, os.X_OK), reason="no CLI at %s" % CLI)

# "FILE.xml:LINE: text" (the policy reader's form) and "Syntax error on line LINE of
# FILE.xml: ..." (the module's certificate and URL checks)
WHERE_RE = re.compile(r"(?P<file>/[^\s:'\"]+\.xml):(?P<line>\d+): (?P<text>.*)$")
SYNTAX_RE = re.compile(r"(?P<tag>VJWT\d{5}): Syntax error on line (?P<line>\d+) of "
                       r"(?P<file>/[^\s:]+\.xml): ")
# "ValidateJWTPolicy: FILE.xml: text": about the whole file (no line)
FILE_RE = re.compile(r"ValidateJWTPolicy: (?P<file>/[^\s:]+\.xml): (?P<text>.*)$")


def readme_policies():
    """The <validate-jwt> XML blocks of README.md, and its ValidateJWTNamedValue lines."""
    text = open(README).read()
    blocks = [b for b in re.findall(r"```xml\n(.*?)```", text, re.S) if "<validate-jwt" in b]
    named = dict(re.findall(r"^ValidateJWTNamedValue (\S+) (\S+)$", text, re.M))
    return blocks, named


def cli(*args, stdin=None):
    p = subprocess.run([CLI] + [str(a) for a in args], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, input=stdin, timeout=60)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def findings(out):
    """configtest's findings about policy files: (file, line, tag or None, text)."""
    found = []
    for line in out.splitlines():
        m = SYNTAX_RE.search(line)
        if m:
            found.append((m.group("file"), int(m.group("line")), m.group("tag"), None))
            continue
        m = WHERE_RE.search(line)
        if m:
            found.append((m.group("file"), int(m.group("line")), None, m.group("text")))
            continue
        m = FILE_RE.search(line)
        if m:
            found.append((m.group("file"), 0, None, m.group("text")))
    return found


def assert_lint_matches(httpd, path, named, certs, server_extra=()):
    """configtest and --lint on the same policy: the same verdict, and every error or warning
    of configtest in the lint report with its file and line."""
    server_conf = "\n".join(["ValidateJWTNamedValue %s %s" % kv for kv in named.items()] +
                            ["ValidateJWTCertificate %s %s" % kv for kv in certs.items()] +
                            list(server_extra))
    rc, out, _, _ = httpd.configtest(server_conf=server_conf,
                                     locations=location("lint", "ValidateJWTPolicy %s" % path),
                                     name="lint-" + os.path.basename(path))
    args = ["--lint", path]
    for kv in named.items():
        args += ["--named-value", "%s=%s" % kv]
    for kv in certs.items():
        args += ["--certificate", "%s=%s" % (kv[0], httpd.path(kv[1]))]
    lrc, lout, lerr = cli(*args)
    report = json.loads(cli(*(args + ["--json"]))[1])
    found = findings(out)
    assert lrc in (0, 1), lerr
    assert (rc == 0) == (report["errors"] == 0), (out, lout)
    assert (lrc == 0) == (rc == 0 and not found), (out, lout)
    for file, line, tag, text in found:
        assert file == path, (out, path)
        prefix = "%s:%d: " % (path, line) if line else "%s: " % path
        mine = [l for l in lout.splitlines() if l.startswith(prefix)]
        if tag:
            assert any(("error: %s:" % tag) in l for l in mine), (tag, out, lout)
        else:
            # the module names the directive once more inside some texts
            text = text.replace("ValidateJWTPolicy: ", "")
            assert any(l.endswith(text) for l in mine), (text, out, lout)
    return rc, out, lout, report


@pytest.fixture(scope="module")
def readme(httpd, keys):
    blocks, named = readme_policies()
    assert blocks and named, "README.md has no example policy"
    paths = [httpd.write_file("policies/readme/example%d.xml" % i, b)
             for i, b in enumerate(blocks, 1)]
    # a {{name}} the README leaves undefined stands for a 32-byte key; a certificate-id
    # under <decryption-keys> is a private key file, any other a certificate
    for b in blocks:
        for name in re.findall(r"{{([^}]+)}}", b):
            named.setdefault(name, b64std(b"k" * 32))
    certs = {}
    for b in blocks:
        dec = "".join(re.findall(r"<decryption-keys>.*?</decryption-keys>", b, re.S))
        for cid in re.findall(r'certificate-id="([^"]+)"', b):
            certs[cid] = "keys/rsa-enc.pem" if cid in dec else "keys/rsa1.crt.pem"
    return paths, named, certs


def test_readme_policies_lint_clean(httpd, readme):
    """Every example policy of the README: configtest passes, --lint is clean (exit 0)."""
    paths, named, certs = readme
    for path in paths:
        rc, out, lout, report = assert_lint_matches(httpd, path, named, certs)
        assert rc == 0 and report["clean"], (out, lout)


def test_readme_policy_verdicts(httpd, readme, keys):
    """The README's orders policy explains tokens: its legacy HMAC key (the named value)
    verifies, the audience and the roles claim are checked; --offline fetches nothing."""
    paths, named, certs = readme
    path = [p for p in paths if "legacy-hmac-secret" in open(p).read()][0]
    secret = base64.b64decode(named["legacy-hmac-secret"])
    args = ["--policy", path, "--offline", "--certificate",
            "partner-signing-cert=%s" % httpd.path("keys/rsa1.crt.pem")]
    for kv in named.items():
        args += ["--named-value", "%s=%s" % kv]
    hs = keys.hmac(secret)
    good = mint(hs, "HS256", kid="legacy", aud="api://orders", roles=["Orders.Read"])
    rc, out, err = cli(*(args + [good]))
    assert rc == 0 and "verdict: OK" in out, out + err
    rc, out, err = cli(*(args + ["--json", good]))
    assert rc == 0 and json.loads(out)["valid"] is True, out + err
    bad = mint(hs, "HS256", kid="legacy", aud="api://orders", roles=["Orders.Write"])
    rc, out, err = cli(*(args + [bad]))
    assert rc == 1 and "verdict: TokenClaimValueNotAllowed" in out, out + err
    assert re.search(r"7\. required claims +failed", out), out
    rc, out, err = cli(*(args + ["-"]), stdin=mint(hs, "HS256", kid="legacy",
                                                   aud="api://other").encode())
    assert rc == 1 and "verdict: TokenAudienceNotAllowed" in out, out + err


def _example_env(keys):
    named = {"jwt-signing-key": b64std(keys.hs64),
             "auth0-signing-secret-base64": b64std(keys.hs64b),
             "idp-base": "http://127.0.0.1:9", "aad-tenant": "72f988bf-86f1-41af-91ab-2d7cd011db47",
             "backend-app-id": "11111111-2222-3333-4444-555555555555",
             "client-app-id": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
             "required-id": "8a7f2b9c-claim-value"}
    certs = {"my-rsa-cert": "keys/rsa1.crt.pem", "my-decryption-cert": "keys/rsa-enc.pem"}
    return named, certs


@pytest.mark.parametrize("name", sorted(f for f in os.listdir(POLICIES) if f.endswith(".xml")))
def test_example_policies_lint(httpd, keys, name):
    """The usage-example policies: --lint agrees with configtest."""
    named, certs = _example_env(keys)
    with open(os.path.join(POLICIES, name)) as fh:
        path = httpd.write_file("policies/lint/%s" % name, fh.read())
    assert_lint_matches(httpd, path, named, certs)


BROKEN = {
    "unknown-attribute": '<validate-jwt header-name="Authorization" bogus="1">'
                         '<audiences><audience>a</audience></audiences></validate-jwt>',
    "match-mode": '<validate-jwt header-name="Authorization">\n'
                  '<issuer-signing-keys><key>{{jwt-signing-key}}</key></issuer-signing-keys>\n'
                  '<required-claims><claim name="x" match="some"/></required-claims>\n'
                  '</validate-jwt>',
    "expression": '<validate-jwt header-name="Authorization">\n<audiences>\n'
                  '<audience>@(context.Variables["aud"])</audience>\n</audiences>\n'
                  '</validate-jwt>',
    "named-value": '<validate-jwt header-name="Authorization">\n'
                   '<issuer-signing-keys><key>{{no-such-value}}</key></issuer-signing-keys>\n'
                   '</validate-jwt>',
    "doctype": '<!DOCTYPE x [<!ENTITY e "x">]>\n<validate-jwt header-name="Authorization"/>',
    "header-name": '<validate-jwt header-name="Bad Header">\n'
                   '<issuer-signing-keys><key>{{jwt-signing-key}}</key></issuer-signing-keys>\n'
                   '</validate-jwt>',
    "certificate": '<validate-jwt header-name="Authorization">\n<issuer-signing-keys>\n'
                   '<key certificate-id="not-declared"/>\n</issuer-signing-keys>\n'
                   '</validate-jwt>',
    "http-openid": '<validate-jwt header-name="Authorization">\n'
                   '<openid-config url="http://idp.example/.well-known/openid-configuration"/>\n'
                   '</validate-jwt>',
    "openid-scheme": '<validate-jwt header-name="Authorization">\n'
                     '<openid-config url="ftp://idp.example/openid-configuration"/>\n'
                     '</validate-jwt>',
    # valid, with warnings (VJWT00015)
    "warnings": '<validate-jwt query-parameter-name="t" require-scheme="Bearer"\n'
                '              clock-skew="900">\n'
                '<issuer-signing-keys><key>c2VjcmV0</key></issuer-signing-keys>\n'
                '</validate-jwt>',
    "no-keys": '<validate-jwt header-name="Authorization">\n'
               '<audiences><audience>a</audience></audiences>\n</validate-jwt>',
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_policies_lint(httpd, keys, name):
    """Broken policies and policies with warnings: configtest's error or warnings are in the
    --lint report with the same file and line, and --lint exits 1."""
    named, certs = _example_env(keys)
    path = httpd.write_file("policies/lint/broken-%s.xml" % name, BROKEN[name])
    rc, out, lout, report = assert_lint_matches(httpd, path, named, certs)
    assert findings(out), "configtest said nothing about %s:\n%s" % (name, out)
    assert not report["clean"], lout
    assert cli("--lint", path, *sum((["--named-value", "%s=%s" % kv]
                                     for kv in named.items()), []))[0] == 1


def test_cli_and_module_agree(httpd, keys):
    """The same policy file, the same tokens: the CLI's verdict is the module's."""
    named, certs = _example_env(keys)
    with open(os.path.join(POLICIES, "s1-simple-hs256.xml")) as fh:
        path = httpd.write_file("policies/agree/s1.xml", fh.read())
    server_conf = "\n".join([load_modules("socache_shmcb")] +
                            ["ValidateJWTNamedValue %s %s" % kv for kv in named.items()])
    srv = httpd.start("cli-agree", location("s1/", "ValidateJWTPolicy %s" % path),
                      server_conf=server_conf)
    hs = keys.hmac(keys.hs64)
    tokens = {
        "ok": mint(hs, "HS256"),
        "expired": mint(hs, "HS256", exp=now() - 3600, iat=now() - 7200),
        "bad-signature": mint(keys.hmac(keys.hs64_other), "HS256"),
        "not-jwt": "not.a.jwt",
    }
    for what, tok in tokens.items():
        rc, out, err = cli("--policy", path, "--named-value",
                           "jwt-signing-key=%s" % named["jwt-signing-key"], "--json", tok)
        verdict = json.loads(out)
        resp = srv.get("/p/s1/", tok)
        if verdict["valid"]:
            assert rc == 0, (what, out, err)
            assert_pass(resp)
        else:
            assert rc == 1, (what, out, err)
            assert_fail(resp, verdict["verdict"])
