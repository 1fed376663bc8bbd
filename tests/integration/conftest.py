"""Fixtures for the mod_validate_jwt integration tests.

* httpd      - session HttpdFactory (ServerRoot, at most one running server)
* keys       - session Keys (jwcrypto keys, key files under ServerRoot/keys)
* expect_log - declare error-log lines (regexes) a test expects at warn level or worse
* the autouse guard checks, after every test, the error log written during the test:
  no [warn]/[error]/[crit]/[alert]/[emerg] line (nor a crashed child) that the test did
  not declare, and no 20-character piece of any token the test sent (docs/conformance.md
  C135).
"""

import os
import re

import pytest

import vjwt_env
from vjwt_tokens import Keys


def pytest_report_header(config):
    return ["mod_validate_jwt: %s (%s)" % (
        vjwt_env.MODULE, "present" if os.path.exists(vjwt_env.MODULE) else "MISSING"),
        "httpd: %s, mpm %s" % (vjwt_env.APACHE2, vjwt_env.MPM)]


@pytest.fixture(scope="session")
def httpd():
    if not os.path.exists(vjwt_env.MODULE):
        pytest.fail("module not built: %s (set VJWT_MODULE)" % vjwt_env.MODULE, pytrace=False)
    f = vjwt_env.HttpdFactory()
    yield f
    f.cleanup()


@pytest.fixture(scope="session")
def keys(httpd):
    return Keys(httpd)


class _Expect:
    def __init__(self):
        self.patterns = []

    def __call__(self, *patterns):
        self.patterns.extend(patterns)


@pytest.fixture
def expect_log():
    return _Expect()


def _leaks(text, secrets, n=20):
    found = []
    for s in secrets:
        # only token-like material: the base64url pieces of what was sent
        for piece in re.findall(r"[A-Za-z0-9_\-]{%d,}" % n, s):
            for i in range(0, len(piece) - n + 1):
                if piece[i:i + n] in text:
                    found.append(piece[i:i + n])
                    break
    return found


@pytest.fixture(autouse=True)
def _errlog_guard(request, expect_log):
    httpd_f = None
    if "httpd" in request.fixturenames:
        httpd_f = request.getfixturevalue("httpd")
    srv = httpd_f.current if httpd_f else None
    pos = srv.errlog_size() if srv else 0
    nsecrets = len(srv.sent_secrets) if srv else 0
    yield
    if srv is None or httpd_f.current is not srv:
        return
    lines = srv.errlog_since(pos)
    bad = vjwt_env.bad_lines(lines, expect_log.patterns)
    leaks = _leaks("\n".join(lines), srv.sent_secrets[nsecrets:])
    del srv.sent_secrets[nsecrets:]
    msg = []
    if bad:
        msg.append("unexpected error-log lines:\n  " + "\n  ".join(bad))
    if leaks:
        msg.append("C135: token material in the error log: %r" % leaks[:5])
    if msg:
        pytest.fail("\n".join(msg), pytrace=False)


# --- keys from OpenID discovery and JWKS URLs (tests 2xx) -----------------------------
@pytest.fixture(scope="session")
def fakeidp():
    """Factory of FakeIdP servers (loopback, in-process threads); all closed at the end."""
    from vjwt_fakeidp import FakeIdP
    made = []

    def make(port=0):
        f = FakeIdP(port)
        made.append(f)
        return f
    yield make
    for f in made:
        f.close()


def _oidc_provider(tmp_path_factory, prefix):
    import vjwt_idp
    ok, why = vjwt_idp.idp_available()
    if not ok:
        pytest.fail("real OpenID Provider unavailable: %s" % why, pytrace=False)
    p = vjwt_idp.OidcProvider(str(tmp_path_factory.mktemp("idp-" + prefix)), prefix=prefix)
    return p.start()


@pytest.fixture(scope="session")
def real_idp(tmp_path_factory):
    """node oidc-provider (tests/idp/idp.mjs) on a free loopback port, keys k1-*."""
    p = _oidc_provider(tmp_path_factory, "k1")
    yield p
    p.stop()


@pytest.fixture(scope="session")
def real_idp2(tmp_path_factory):
    """A second, independent real OpenID Provider (keys i2-*)."""
    p = _oidc_provider(tmp_path_factory, "i2")
    yield p
    p.stop()


@pytest.fixture(scope="session")
def httpd2():
    """A second HttpdFactory (own ServerRoot) for tests that need two httpd at once.
    The error-log guard does not look at its servers: tests check their logs."""
    if not os.path.exists(vjwt_env.MODULE):
        pytest.fail("module not built: %s (set VJWT_MODULE)" % vjwt_env.MODULE, pytrace=False)
    f = vjwt_env.HttpdFactory()
    yield f
    f.cleanup()


# --- conformance report (tests 3xx; tests/integration/conformance/report.py) ---------
def pytest_addoption(parser):
    parser.addoption("--conformance-report", action="store", default=None, metavar="PATH",
                     help="write the validate-jwt conformance report (pass / fail / n/a per "
                          "id of docs/conformance.md, totals) to PATH (markdown)")


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "conformance(ids, case, mode): a conformance case of "
                   "tests/integration/conformance/cases.py (docs/conformance.md ids, case name, "
                   "mode)")
    from conformance.report import Collector
    config._vjwt_conformance = Collector(config.getoption("--conformance-report"),
                                         os.path.dirname(os.path.abspath(__file__)))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    col = getattr(item.config, "_vjwt_conformance", None)
    if col is not None:
        col.add(item, outcome.get_result())


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    col = getattr(config, "_vjwt_conformance", None)
    if col is not None:
        col.finish(terminalreporter)
