"""Conformance of the Azure <validate-jwt> support (the table of docs/conformance.md, C1-C140).

Every runtime case of conformance/cases.py runs twice: once as a ValidateJWTPolicy policy
file (mode xml) and once as the equivalent ValidateJWT* directives (mode directives), one
httpd per mode with every case in its own <Location /p/<case>/>.  Both modes must give the
expected verdict, status, body, reason and challenge, and the same outcome as each other
(test_modes_agree).  Cases the directives can't express are XML-only (with the reason in
the table).  The last test checks that every docs/conformance.md id is covered by a case, is
covered by another test file, or is not applicable (with the reason).
"""

import os
import re

import pytest

from conformance import cases as C
from conformance import runner as R
from conformance.generators import representable

RUNTIME = {m: [c for c in C.CASES if m in c.modes] for m in R.MODES}
RESULTS = {}  # (case, step) -> {mode: signature}
STARTUP_ALLOWED = sorted({p for c in C.CASES for p in c.startup} | {C.JWK_SKIP})


def _params(mode):
    return [pytest.param(c, id=c.name, marks=R.conformance_marks(c, mode))
            for c in RUNTIME[mode]]


@pytest.fixture(scope="module")
def world(httpd, keys, fakeidp):
    idp = R.setup_idp(fakeidp, keys)
    return {"idp": idp, "ctx": R.make_ctx(keys, idp), "servers": {}}


def _server(httpd, world, mode):
    s = world["servers"].get(mode)
    if s is None or httpd.current is not s:
        locs, server = R.runtime_config(httpd, RUNTIME[mode], mode, world["ctx"])
        s = httpd.start("conformance-" + mode, locs, server, allow_startup=STARTUP_ALLOWED)
        s.conf_text = open(s.conf_path).read()
        world["servers"][mode] = s
    return s


@pytest.fixture(scope="module")
def xml_srv(httpd, world):
    return _server(httpd, world, "xml")


@pytest.fixture(scope="module")
def dir_srv(httpd, world):
    return _server(httpd, world, "directives")


def _run(srv, case, mode, keys, expect_log):
    expect_log(C.JWK_SKIP, *case.log)
    errors = []
    for i, (r, exp) in enumerate(case.steps):
        resp, token = R.send(srv, R.case_path(case), r, keys)
        RESULTS.setdefault((case.name, i), {})[mode] = R.signature(resp)
        try:
            R.check(resp, exp, token)
        except AssertionError as e:
            errors.append("step %d (%s %s%s): %s" % (i + 1, r["method"], R.case_path(case),
                                                     r["path"], e))
    assert not errors, "%s [%s] %s\n%s" % (case.name, mode, ",".join(case.ids),
                                         "\n".join(errors))


@pytest.mark.parametrize("case", _params("xml"))
def test_xml(xml_srv, keys, expect_log, case):
    """Each case as a <validate-jwt> policy file (ValidateJWTPolicy)."""
    _run(xml_srv, case, "xml", keys, expect_log)


@pytest.mark.parametrize("case", _params("directives"))
def test_directives(dir_srv, keys, expect_log, case):
    """Each case as the equivalent ValidateJWT* directives."""
    _run(dir_srv, case, "directives", keys, expect_log)


def _startup_params():
    out = []
    for c in C.CASES:
        for m, rx in c.startup_expect.items():
            # the warnings come from docs/conformance.md#policy-files/#key-choice, not from rows: an
            # additional check (related ids listed in the report)
            marks = [pytest.mark.conformance(ids=(), case="startup-warning " + c.name,
                                             mode=m, related=c.ids)]
            if c.bug and m in c.bug:
                marks.append(R.bug_mark(c.bug[m]))
            out.append(pytest.param(c, m, rx, id="%s-%s" % (m, c.name), marks=marks))
    return out


@pytest.mark.parametrize("case,mode,rx", _startup_params())
def test_startup_warning(httpd, world, expect_log, case, mode, rx):
    """Policies that verify nothing (no keys, too-short secret) or hold an option that has no
    effect log a start-up warning naming the policy (docs/conformance.md#policy-files, #key-choice)
    in both modes."""
    expect_log(C.JWK_SKIP)
    srv = world["servers"].get(mode)
    if srv is None:
        pytest.skip("the %s server did not start" % mode)
    lines = R.startup_lines_for(srv, case, mode, srv.conf_text)
    assert any(re.search(rx, l) for l in lines), \
        "no start-up warning %r for %s in %s mode; its lines: %r" % (rx, case.name, mode, lines)


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name, marks=R.conformance_marks(c, "agree"))
                                  for c in RUNTIME["directives"] if "xml" in c.modes])
def test_modes_agree(case):
    """Both modes gave the same status, body, reason, challenge, policy id and detail
    message for every step."""
    diffs = []
    for i in range(len(case.steps)):
        got = RESULTS.get((case.name, i), {})
        if set(got) != {"xml", "directives"}:
            pytest.skip("step %d did not run in both modes" % (i + 1))
        a, b = got["xml"], got["directives"]
        if a != b:
            diffs.append("step %d: %s" % (i + 1, {k: (a[k], b[k]) for k in a if a[k] != b[k]}))
    assert not diffs, "xml vs directives differ:\n" + "\n".join(diffs)


def test_table_is_consistent():
    """Case names are unique, ids valid, named values consistent; every case marked for
    directives mode can be rendered as directives, every XML-only case says why."""
    assert C.check_table()
    ctx = R.make_ctx(None)
    for c in C.CASES:
        if "directives" in c.modes:
            assert representable(c.policy, ctx), "%s: not representable as directives" % c.name
        else:
            assert c.why, c.name


def test_coverage_is_complete():
    """Every docs/conformance.md id C1-C140 is a case id, covered elsewhere (by existing test
    functions), or not applicable with a reason."""
    covered = C.ids_covered()
    here = os.path.dirname(os.path.abspath(__file__))
    missing, bad_refs = [], []
    for cid in C.ALL_IDS:
        if cid in covered or cid in C.NOT_APPLICABLE:
            continue
        pats = C.COVERED_ELSEWHERE.get(cid)
        if not pats:
            missing.append(cid)
        elif not C.tests_naming(cid, pats, here):
            bad_refs.append("%s (no test function in %s names it)" % (cid, pats))
    for cid, why in C.NOT_APPLICABLE.items():
        assert why.strip(), cid
    for cid in C.ALL_IDS:
        if C.section_of(cid) != "J" and cid in C.NOT_APPLICABLE:
            missing.append(cid + " (n/a outside section J)")
    assert not missing, "docs/conformance.md ids without a case, reference or reason: %s" % missing
    assert not bad_refs, "COVERED_ELSEWHERE without tests: %s" % bad_refs
