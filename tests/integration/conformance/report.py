"""The conformance report: which ids of docs/conformance.md pass, fail, are not
applicable, or did not run in this pytest session, and why.

conftest.py creates one Collector per session (option --conformance-report=PATH), feeds
it every test report, and calls finish() at the end: it writes the markdown report to
PATH (when given) and prints the totals.

Evidence for an id:
  * tests marked @pytest.mark.conformance(ids=..., case=..., mode=...) whose ids include
    it (test_300 / test_310 / test_320: one test per case and mode);
  * for ids in cases.COVERED_ELSEWHERE, the test functions of those files whose docstring
    names the id (e.g. test_220_fetch_count.py for C71).
An id fails when any evidence failed (an expected failure of a known module bug counts as
a failure and is listed), passes when every piece of evidence that ran passed, and is "not
run" when none ran.
"""

import datetime
import os

from . import cases as C

PASSED, FAILED, XFAILED, SKIPPED = "passed", "failed", "xfailed", "skipped"


class Collector:
    def __init__(self, path, rootdir):
        self.path = path
        self.here = rootdir
        self.results = {}  # nodeid -> record

    # --- collection -----------------------------------------------------------------
    def add(self, item, rep):
        m = item.get_closest_marker("conformance")
        rec = self.results.setdefault(item.nodeid, {
            "outcome": None, "msg": "", "xfail": None,
            "marker": dict(m.kwargs) if m else None,
            "base": "%s::%s" % (os.path.basename(str(item.fspath)),
                                getattr(item, "originalname", None) or item.name),
        })
        if rep.failed:
            if rec["outcome"] != FAILED:
                rec["outcome"] = FAILED
                rec["msg"] = _short(rep)
            return
        if hasattr(rep, "wasxfail"):
            rec["outcome"] = XFAILED
            rec["xfail"] = rep.wasxfail
            return
        if rep.skipped and rec["outcome"] is None:
            rec["outcome"] = SKIPPED
            rec["msg"] = _short(rep)
            return
        if rep.when == "call" and rep.passed and rec["outcome"] is None:
            rec["outcome"] = PASSED

    def marked(self):
        return [r for r in self.results.values() if r["marker"]]

    # --- evaluation -----------------------------------------------------------------
    def evaluate(self):
        """{cid: (status, [evidence lines])} for C1-C140."""
        by_id = {}
        for nodeid, r in self.results.items():
            if r["marker"]:
                for cid in r["marker"].get("ids") or ():
                    by_id.setdefault(cid, []).append((nodeid, r))
        out = {}
        for cid in C.ALL_IDS:
            if cid in C.NOT_APPLICABLE:
                out[cid] = ("n/a", [C.NOT_APPLICABLE[cid]])
                continue
            ev = list(by_id.get(cid, []))
            expected = _expected_table_runs(cid)
            seen = {(r["marker"].get("case"), r["marker"].get("mode")) for _, r in ev}
            missing = expected - seen
            if cid in C.COVERED_ELSEWHERE:
                bases = set(C.tests_naming(cid, C.COVERED_ELSEWHERE[cid], self.here))
                ran = {r["base"] for r in self.results.values()}
                ev += [(n, r) for n, r in self.results.items()
                       if r["base"] in bases and not r["marker"]]
                missing |= {(b, "not run in this session") for b in bases - ran}
                if not ev:
                    names = ", ".join(sorted(bases)) or "no test found"
                    out[cid] = ("not run", ["covered by %s (not run in this session)" % names])
                    continue
            out[cid] = _verdict(ev, missing)
        return out

    def totals(self, verdicts):
        rows = []
        for letter, title, lo, hi in C.SECTIONS:
            ids = ["C%d" % i for i in range(lo, hi + 1)]
            t = _count([verdicts[i][0] for i in ids])
            rows.append((letter, title, len(ids), t))
        return rows

    # --- output ---------------------------------------------------------------------
    def finish(self, terminalreporter=None):
        if not self.marked() and not self.path:
            return None
        verdicts = self.evaluate()
        rows = self.totals(verdicts)
        overall = _count([v[0] for v in verdicts.values()])
        if self.path:
            with open(self.path, "w") as fh:
                fh.write(self.markdown(verdicts, rows, overall))
        if terminalreporter is not None:
            tr = terminalreporter
            tr.write_sep("=", "validate-jwt conformance (ids of docs/conformance.md)")
            for letter, title, n, t in rows:
                tr.write_line("%s %-28s %3d ids: %s" % (letter, title, n, _fmt(t)))
            tr.write_line("overall %-26s %3d ids: %s" % ("", len(verdicts), _fmt(overall)))
            fails = [cid for cid, v in verdicts.items() if v[0] == "fail"]
            if fails:
                tr.write_line("failing ids: %s" % " ".join(fails))
            extras = [r for r in self.marked() if not r["marker"].get("ids")]
            if extras:
                ex = {}
                for r in extras:
                    k = {PASSED: "pass", FAILED: "fail", XFAILED: "fail (known bug)"}.get(
                        r["outcome"], "not run")
                    ex[k] = ex.get(k, 0) + 1
                tr.write_line("additional checks (no id in docs/conformance.md): %s" % ", ".join(
                    "%d %s" % (n, k) for k, n in sorted(ex.items())))
            if self.path:
                tr.write_line("report: %s" % os.path.abspath(self.path))
        return verdicts, rows, overall

    def markdown(self, verdicts, rows, overall):
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
        L = ["# validate-jwt conformance report", "",
             "Ids: those of the conformance table `docs/conformance.md` (C1-C140). Generated %s "
             "by `tests/integration` (`--conformance-report`)." % now, "",
             "Evidence: the case table `tests/integration/conformance/cases.py` run as "
             "policy files (xml) and as directives (directives) by test_300/test_310, the "
             "usage examples (test_320), and for key-fetching ids the test_2xx files whose "
             "test docstrings name the id.", "",
             "## Totals", "",
             "| Section | ids | pass | fail | n/a | not run |",
             "|---|---|---|---|---|---|"]
        for letter, title, n, t in rows:
            L.append("| %s. %s | %d | %d | %d | %d | %d |" % (
                letter, title, n, t["pass"], t["fail"], t["n/a"], t["not run"]))
        L.append("| **overall** | %d | %d | %d | %d | %d |" % (
            len(verdicts), overall["pass"], overall["fail"], overall["n/a"],
            overall["not run"]))
        L.append("")
        for letter, title, lo, hi in C.SECTIONS:
            L += ["## %s. %s" % (letter, title), "", "| Id | Result | Evidence / reason |",
                  "|---|---|---|"]
            for i in range(lo, hi + 1):
                cid = "C%d" % i
                st, ev = verdicts[cid]
                L.append("| %s | %s | %s |" % (cid, st, "<br>".join(_md(e) for e in ev)))
            L.append("")
        extras = [r for r in self.marked() if not r["marker"].get("ids")]
        if extras:
            L += ["## Additional module checks (no id in docs/conformance.md)", "",
                  "| Test | Result |", "|---|---|"]
            for r in sorted(extras, key=lambda r: (r["marker"].get("case"),
                                                   r["marker"].get("mode"))):
                rel = r["marker"].get("related")
                L.append("| %s [%s]%s | %s |" % (
                    r["marker"].get("case"), r["marker"].get("mode"),
                    " (related: %s)" % ", ".join(rel) if rel else "", _md(_describe(r))))
            L.append("")
        return "\n".join(L) + "\n"


# --------------------------------------------------------------------------------------
def _expected_table_runs(cid):
    exp = set()
    for c in C.CASES:
        if cid in c.ids:
            exp |= {(c.name, m) for m in c.modes}
    for c in C.CONFIG_CASES:
        if cid in c.ids:
            exp |= {(c.name, m) for m in c.modes}
    return exp


def _verdict(ev, not_run):
    lines = []
    failed = [(n, r) for n, r in ev if r["outcome"] in (FAILED, XFAILED)]
    passed = [(n, r) for n, r in ev if r["outcome"] == PASSED]
    for n, r in failed:
        lines.append("FAIL %s: %s" % (_name(n, r), _describe(r)))
    if failed:
        st = "fail"
    elif passed and not not_run:
        st = "pass"
    else:
        st = "not run"  # nothing, or not everything, ran in this session
    names = sorted({_name(n, r) for n, r in passed})
    if passed:
        lines.append("passed: " + ", ".join(names))
    if not_run:
        lines.append("not run: " + ", ".join("%s [%s]" % x for x in sorted(not_run)))
    skipped = [(n, r) for n, r in ev if r["outcome"] == SKIPPED]
    if skipped and not passed and not failed:
        lines.append("skipped: " + ", ".join(_name(n, r) for n, r in skipped))
    return st, lines


def _name(nodeid, r):
    m = r["marker"]
    if m:
        return "%s [%s]" % (m.get("case"), m.get("mode"))
    return nodeid


def _describe(r):
    if r["outcome"] == XFAILED:
        return "expected failure, %s" % r["xfail"]
    if r["outcome"] == FAILED:
        return r["msg"] or "failed"
    return r["outcome"] or "not run"


def _short(rep):
    try:
        text = rep.longreprtext
    except Exception:
        text = str(rep.longrepr)
    lines = [l.strip() for l in text.splitlines() if l.strip().startswith("E ")]
    s = " ".join(l[1:].strip() for l in lines[:3]) if lines else text.strip().splitlines()[-1:]
    if isinstance(s, list):
        s = " ".join(s)
    return s[:300]


def _count(statuses):
    t = {"pass": 0, "fail": 0, "n/a": 0, "not run": 0}
    for s in statuses:
        t[s] += 1
    return t


def _fmt(t):
    return "%d pass, %d fail, %d n/a, %d not run" % (t["pass"], t["fail"], t["n/a"],
                                                    t["not run"])


def _md(s):
    return str(s).replace("|", "\\|").replace("\n", " ")
