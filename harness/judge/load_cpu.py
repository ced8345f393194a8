"""Was the load generator, not the system, the bottleneck? Read from the journal's load CPU shares.

A load process at 90 % of a core or more times its own queue: Locust's
gevent loop gets to an answer late, and the latency it records, and the
throughput it can send, are partly its own. A judged phase with 3 or more
such seconds is flagged: its latency and throughput expectations are
marked as measured under a saturated load generator, the verdict says so,
and `--strict-load` makes it a failure. Other expectations (shares of
answers, counts, invariants) stay meaningful and are not marked.
"""

from __future__ import annotations

from typing import Any

from harness.judge.measures import LATENCY_NAMES, RATE_NAMES
from harness.judge.windows import phase_seconds

__all__ = ["SATURATED_SECONDS", "SATURATED_SHARE", "describe", "mark_expectations", "saturation"]

SATURATED_SHARE = 0.9  # of one core, as Locust's own warning
SATURATED_SECONDS = 3  # in one phase
AFFECTED = (*LATENCY_NAMES, *RATE_NAMES, "recovers_within")


def busiest_by_second(samples: list[dict[str, Any]]) -> dict[int, tuple[float, str]]:
    """Second -> (share, process) of the busiest load process in it."""
    out: dict[int, tuple[float, str]] = {}
    for s in samples:
        t, share = int(s["t"]), float(s["share"])
        if t not in out or share > out[t][0]:
            out[t] = (share, str(s.get("process", "")))
    return out


def saturation(journal: dict[str, Any]) -> list[dict[str, Any]]:
    """One entry per phase with SATURATED_SECONDS or more seconds of a load process at SATURATED_SHARE."""
    busiest = busiest_by_second(journal.get("load_cpu") or [])
    if not busiest:
        return []
    out = []
    for phase in journal.get("phases") or []:
        seconds = phase_seconds(float(phase["start"]), float(phase["end"]))
        hot = [t for t in seconds if busiest.get(t, (0.0, ""))[0] >= SATURATED_SHARE]
        if len(hot) >= SATURATED_SECONDS:
            peak = max(hot, key=lambda t: busiest[t][0])
            out.append({"phase": phase["name"], "seconds": len(hot), "of": len(seconds), "at": hot,
                        "peak": busiest[peak][0], "process": busiest[peak][1]})
    return out


def describe(entry: dict[str, Any]) -> str:
    return (f"load generator saturated in {entry['phase']}: {entry['seconds']} of {entry['of']} s at "
            f">= {SATURATED_SHARE:.0%} of a core (peak {entry['peak']:.0%}, {entry['process']})")


def mark_expectations(expectations: list[dict[str, Any]], saturated: list[dict[str, Any]]) -> None:
    """Latency and throughput results of a saturated phase say so: the number is partly the load's own."""
    by_phase = {entry["phase"]: entry for entry in saturated}
    for exp in expectations:
        entry = by_phase.get(exp.get("phase"))
        if entry is None or not str(exp.get("name", "")).startswith(AFFECTED):
            continue
        exp["load_saturated"] = entry["seconds"]
        note = f"measured under a saturated load generator ({entry['seconds']} s at >= {SATURATED_SHARE:.0%} CPU)"
        exp["why"] = f"{exp['why']}; {note}" if exp.get("why") else note
