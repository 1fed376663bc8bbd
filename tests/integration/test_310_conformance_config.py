"""Conformance, configuration side (docs/conformance.md C1-C17, C80; #policy-files,
#configuration-errors, #named-values): every ConfigCase of conformance/cases.py through
`apache2 -t`, as a ValidateJWTPolicy file (xml) and, where a directive equivalent exists, as
ValidateJWT* directives.

A failing case must exit non-zero and name the problem and where it is: the policy file
and the line of the offending element (xml), or the httpd configuration file and the line
of the offending directive (directives).  Cases with ok=True must pass configtest.
"""

import pytest

from conformance import cases as C
from conformance import runner as R


def _params():
    out = []
    for c in C.CONFIG_CASES:
        for m in c.modes:
            marks = R.conformance_marks(c, m)
            if m in c.bug:
                marks.append(R.bug_mark(c.bug[m]))
            out.append(pytest.param(c, m, id="%s-%s" % (m, c.name), marks=marks))
    return out


@pytest.fixture(scope="module")
def ctx(httpd, keys):
    return R.make_ctx(keys)


@pytest.mark.parametrize("case,mode", _params())
def test_configtest(httpd, ctx, case, mode):
    """configtest fails naming the file, line and problem (or passes for ok cases)."""
    res = R.run_configtest(httpd, case, mode, ctx)
    R.check_configtest(case, mode, res)
