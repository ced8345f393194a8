"""JUnit XML: one <testsuite> per scenario, one <testcase> per expectation and invariant.

CI systems (GitHub, GitLab, Jenkins) show JUnit natively, so a failed drill
reads there like a failed test: the failure message carries the measured
value and the threshold. A drill that aborted or errored gets one more
testcase, "drill", failing (aborted) or in error, so that is never silent
even when no expectation could be judged.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from harness.report import formatting as fmt
from harness.report.model import scenario_name


def testsuite(journal: dict[str, Any]) -> ET.Element:
    name = scenario_name(journal)
    status = str(journal.get("status") or "error")
    suite = ET.Element("testsuite", name=name)
    props = ET.SubElement(suite, "properties")
    for key in ("run_id", "status", "reason", "started_at"):
        if journal.get(key) not in (None, ""):
            ET.SubElement(props, "property", name=key, value=str(journal[key]))
    score = journal.get("score") if isinstance(journal.get("score"), dict) else None
    if score is not None:  # the resilience score (docs/score.md) and its classes, for CI dashboards
        ET.SubElement(props, "property", name="score", value=str(score["value"]))
        for cls, tally in score.get("classes", {}).items():
            ET.SubElement(props, "property", name=f"score.{cls}", value=f"{tally['passed']}/{tally['judged']}")
    tests = failures = errors = 0
    for exp in journal.get("expectations") or []:
        case = ET.SubElement(suite, "testcase", name=fmt.expectation_title(exp), classname=name, time="0")
        tests += 1
        if not exp.get("passed"):
            failures += 1
            msg = f"measured {fmt.measured(exp)}, threshold {exp.get('threshold', '?')}"
            if exp.get("why"):
                msg += f": {exp['why']}"
            fail = ET.SubElement(case, "failure", message=msg, type="expectation")
            fail.text = f"{fmt.expectation_title(exp)}\n{msg}"
    for inv in journal.get("invariants") or []:
        case = ET.SubElement(suite, "testcase", name=f"invariant: {inv.get('name', '?')}", classname=name, time="0")
        tests += 1
        if not inv.get("passed"):
            failures += 1
            offending = [str(x) for x in inv.get("offending") or []]
            msg = str(inv.get("message") or "violated")
            if inv.get("counts"):
                msg += f" ({fmt.counts_text(inv['counts'])})"
            if offending:
                msg += f"; offending: {', '.join(offending[:10])}" + (" …" if len(offending) > 10 else "")
            fail = ET.SubElement(case, "failure", message=msg, type="invariant")
            fail.text = msg + ("\nall offending ids:\n" + "\n".join(offending) if offending else "")
    if status in ("aborted", "error"):
        case = ET.SubElement(suite, "testcase", name="drill", classname=name,
                             time=f"{float(journal.get('duration_s') or 0):.3f}")
        tests += 1
        reason = str(journal.get("reason") or status)
        if status == "aborted":
            failures += 1
            ET.SubElement(case, "failure", message=f"aborted: {reason}", type="aborted").text = reason
        else:
            errors += 1
            ET.SubElement(case, "error", message=reason, type="harness_error").text = reason
    suite.set("tests", str(tests))
    suite.set("failures", str(failures))
    suite.set("errors", str(errors))
    suite.set("skipped", "0")
    suite.set("time", f"{float(journal.get('duration_s') or 0):.3f}")
    if journal.get("started_at"):
        suite.set("timestamp", str(journal["started_at"]).rstrip("Z"))
    host = (journal.get("environment") or {}).get("host")
    if host:
        suite.set("hostname", str(host))
    return suite


def write(journals: list[dict[str, Any]], path: Path) -> Path:
    return write_suites([testsuite(journal) for journal in journals], path)


def write_suites(suites: list[ET.Element], path: Path) -> Path:
    """Suites from `testsuite`, possibly with more testcases added (the matrix adds its cells)."""
    root = ET.Element("testsuites", name="chaosdrill")
    totals = {"tests": 0, "failures": 0, "errors": 0}
    seconds = 0.0
    for suite in suites:
        root.append(suite)
        for k in totals:
            totals[k] += int(suite.get(k, "0"))
        seconds += float(suite.get("time", "0"))
    for k, v in totals.items():
        root.set(k, str(v))
    root.set("time", f"{seconds:.3f}")
    ET.indent(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
    return path
