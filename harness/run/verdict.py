"""From a journal to a verdict: judge every expectation, weigh invariants.

Reads only the journal (and the scenario model it carries), so a verdict
can be recomputed from a saved journal and never depends on live state.
"""

from __future__ import annotations

from typing import Any

from harness.judge.load_cpu import describe, mark_expectations, saturation
from harness.judge.score import drill_score, matrix_score
from harness.metrics.series import Series


# The failed expectation the verdict's one line names: what users felt most, not what came first
# (a baseline p99 a few ms over its bound said nothing of the broken answers in the fault phase).
_SEVERITY = (
    ("ungraceful", "classes.ungraceful", "load_workers"),  # broken answers; or the drill did not load as planned
    ("answer",),  # the system answered, wrongly
    ("error_rate", "errors", "goodput", "classes."),
    ("recovers_within",),
    ("codes.", "retry_after", "throughput"),
)


def _severity(expectation: dict[str, Any]) -> int:
    name = str(expectation.get("name", ""))
    return next((rank for rank, names in enumerate(_SEVERITY) if any(name.startswith(n) for n in names)),
                len(_SEVERITY))  # latencies and the rest


def decide(journal: dict[str, Any], scenario: Any) -> dict[str, Any]:
    """Fill journal["expectations"], status, exit_code and reason."""
    from harness.judge import judge
    from harness.judge.answers import judge_answers

    if journal.get("metrics") and journal.get("phases") and journal.get("status") != "error":
        series = Series.from_json(journal["metrics"])
        timing = {p["name"]: (p["start"], p["end"]) for p in journal["phases"]}
        partial: str | None = None
        if journal.get("status") == "aborted":
            # Phases that ran to their end are judged as usual; the phase the abort
            # cut short is judged on the seconds it had, its results marked partial
            # (a count already over its bound is a failure whatever would have followed).
            stopped = min((e["t"] for e in journal.get("events", []) if e.get("type") == "abort"),
                          default=max((s.t for s in series.seconds), default=-1) + 1)
            cut = {}
            for name, (start, end) in timing.items():
                if end <= stopped:
                    cut[name] = (start, end)
                elif start < stopped and int(stopped) - start >= 2:
                    cut[name] = (start, float(int(stopped)))
                    partial = name
            timing = cut
        results = [r if isinstance(r, dict) else r.to_dict() for r in judge(scenario, timing, series)]
        for r in results:
            if r["phase"] == partial:
                r["partial"] = True
                if r.get("why"):
                    r["why"] += f" (phase cut short by the abort at {stopped:.0f}s)"
        results += [r.to_dict() for r in judge_answers(scenario, journal.get("events", []), set(timing),
                                                       cut_short=journal.get("status") == "aborted")]
        journal["expectations"] = results

    journal.setdefault("expectations", []).extend(_lost_workers(journal))
    saturated = saturation(journal)
    journal["load_saturation"] = saturated
    mark_expectations(journal["expectations"], saturated)
    failed_exp = [e for e in journal.get("expectations", []) if not e.get("passed")]
    failed_inv = [i for i in journal.get("invariants", []) if not i.get("passed")]
    left = journal.get("leftovers", {})
    leftover_items = [*left.get("toxics", []), *left.get("disabled_proxies", []), *left.get("paused", [])]

    if journal.get("status") in ("aborted", "error"):
        return _scored(journal)
    reasons = []
    if failed_exp:
        worst = min(failed_exp, key=_severity)  # min keeps time order among equals
        where = f"{worst['phase']}" + (f" {worst['endpoint']}" if worst.get("endpoint") else "")
        reasons.append(f"{len(failed_exp)} expectation(s) failed, worst: {where}: {worst.get('why') or worst['name']}")
        unsteady = _unsteady_start(scenario, failed_exp)
        if unsteady:
            reasons.append(unsteady)
    if failed_inv:
        reasons.append(f"invariant(s) violated: {', '.join(i['name'] for i in failed_inv)}")
    if leftover_items:
        reasons.append(f"faults left active after teardown: {', '.join(leftover_items)}")
    if saturated and journal.get("strict_load"):
        reasons.append(f"--strict-load: {'; '.join(describe(s) for s in saturated)}")
    if reasons:
        journal["status"], journal["exit_code"], journal["reason"] = "failed", 1, "; ".join(reasons)
    else:
        journal["status"], journal["exit_code"], journal["reason"] = "passed", 0, ""
    return _scored(journal)


def _scored(journal: dict[str, Any]) -> dict[str, Any]:
    """The resilience score (docs/score.md) of what was judged, and of a matrix's cells."""
    journal["score"] = drill_score(journal)
    if isinstance(journal.get("matrix"), dict):
        journal["matrix"]["score"] = matrix_score(journal["matrix"])
    return journal


def _unsteady_start(scenario: Any, failed: list[dict[str, Any]]) -> str:
    """A first phase that failed before any fault was on: the steady state the drill measures against
    did not hold, so what the faults did cannot be told apart from what was wrong already."""
    first = scenario.phases[0] if scenario is not None and getattr(scenario, "phases", None) else None
    if first is None or first.faults or not any(e.get("phase") == first.name for e in failed):
        return ""
    return f"{first.name} was not steady before any fault was on: later phases are judged against an unsteady start"


def _lost_workers(journal: dict[str, Any]) -> list[dict[str, Any]]:
    """A load worker lost mid-run fails its phase: the load it was to send never came.

    Locust itself carries on and exits 0; a drill whose load silently shrank
    would judge the system on traffic it never received.
    """
    lost: dict[str, list[str]] = {}
    phases = journal.get("phases") or []
    for ev in journal.get("events", []):
        if ev.get("type") != "worker_lost":
            continue
        name = next((p["name"] for p in phases if p["start"] <= ev["t"] < p["end"]),
                    phases[-1]["name"] if phases else "run")
        lost.setdefault(name, []).append(str(ev.get("data", {}).get("worker") or ev.get("message", "")))
    return [
        {"phase": phase, "endpoint": None, "name": "load_workers", "threshold": "no worker lost",
         "measured": len(workers), "display": f"{len(workers)} lost", "passed": False,
         "why": f"load worker(s) lost mid-phase: {', '.join(workers)}; the phase did not get its load"}
        for phase, workers in lost.items()
    ]
