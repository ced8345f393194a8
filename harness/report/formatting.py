"""How numbers and Markdown cells read in every report: one place, so HTML, Markdown and JUnit agree."""

from __future__ import annotations

from typing import Any


def pct(share: float) -> str:
    """A share as a percentage with the precision that matters near zero."""
    if share <= 0:
        return "0%"
    p = share * 100
    if p < 0.1:
        return f"{p:.2f}%"
    if p < 10:
        return f"{p:.1f}%"
    if p >= 99.5 and share < 1:  # never "100%" for 315 of 316: the one that was not matters
        for digits in (1, 2):
            if round(p, digits) < 100:
                return f"{p:.{digits}f}%"
        return ">99.99%"
    return f"{p:.0f}%"


def ms(value_ms: float) -> str:
    if value_ms >= 10_000:
        return f"{value_ms / 1000:.1f} s"
    if value_ms >= 1000:
        return f"{value_ms / 1000:.2f} s"
    if value_ms >= 10:
        return f"{value_ms:.0f} ms"
    return f"{value_ms:.1f} ms"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    s = int(round(seconds))
    if s < 60:
        return f"{seconds:.1f} s" if seconds < 10 else f"{s} s"
    m, sec = divmod(s, 60)
    if m < 60:
        return f"{m} min {sec} s" if sec else f"{m} min"
    h, m = divmod(m, 60)
    return f"{h} h {m} min"


def when(started: str | None, ended: str | None) -> str:
    """'2026-11-23 09:29:54 → 09:30:52 UTC' from the journal's ISO times."""
    if not started:
        return "?"
    a = started.replace("T", " ").rstrip("Z")
    if not ended:
        return f"{a} UTC"
    b = ended.replace("T", " ").rstrip("Z")
    if b[:10] == a[:10]:
        b = b[11:]
    return f"{a} → {b} UTC"


def measured(exp: dict[str, Any]) -> str:
    """An expectation's measured value as the judge displayed it."""
    if exp.get("display") not in (None, ""):
        return str(exp["display"])
    value = exp.get("measured")
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def judged_window(exp: dict[str, Any], phases: list[dict[str, Any]]) -> str:
    """'0:03–0:06' when the judge left seconds of the phase out (settling), else ''.

    Statistical expectations skip the second after each phase start and fault change, so
    their numbers differ from the whole-phase endpoint tables; the page says which seconds.
    """
    window = exp.get("window")
    phase = next((p for p in phases if p.get("name") == exp.get("phase")), None)
    if not window or phase is None:
        return ""
    start, end = float(phase["start"]), float(phase["end"])
    whole = [t for t in range(int(start) - 1, int(end) + 1) if t >= start - 1e-9 and t + 1 <= end + 1e-9]
    judged = [t for a, b in window for t in range(int(a), int(b))]
    if judged == whole:
        return ""
    from harness.report.svg import fmt_clock

    return ", ".join(f"{fmt_clock(a)}–{fmt_clock(b)}" for a, b in window)


def expectation_title(exp: dict[str, Any]) -> str:
    """'bureau-down: ungraceful == 0' or 'bureau-down POST /v1/x: error_rate < 1%'."""
    where = str(exp.get("phase") or "run")
    if exp.get("endpoint"):
        where += f" {exp['endpoint']}"
    return f"{where}: {exp.get('name', '?')} {exp.get('threshold', '')}".rstrip()


def counts_text(counts: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in counts.items())


STATUS_WORD = {"passed": "PASSED", "failed": "FAILED", "aborted": "ABORTED", "error": "ERROR"}
STATUS_ICON = {"passed": "✅", "failed": "❌", "aborted": "⛔", "error": "⚠️"}


def cell(value: Any) -> str:
    """A Markdown table cell: pipes escaped, line breaks flattened."""
    return " ".join(str(value).split()).replace("|", "\\|")


def code(value: Any) -> str:
    text = cell(value)
    return f"`{text}`" if text else ""
