"""Which gate drill catches which lending resilience switch, and by which
expectation: the detection-power table of docs/drills.md as data.

A failure is named `PHASE: NAME` (`PHASE ENDPOINT: NAME` for an endpoint's
expectation) or `invariant: NAME`, as in the gate's junit.xml.
"""

from __future__ import annotations

import json
from pathlib import Path

# switch (lending's --no-SWITCH) -> (drill file stem, failures any one of which counts as caught)
CATCHES: dict[str, tuple[str, frozenset[str]]] = {
    "fallback": ("credit-bureau-outage", frozenset({"bureau-down: ungraceful"})),
    "breaker": ("credit-bureau-slow", frozenset({"all-slow: p90_ms"})),
    "deadline": ("credit-bureau-slow", frozenset({"slow-share: max_latency", "all-slow: max_latency"})),
    "retries": ("credit-bureau-slow", frozenset({"slow-share: error_rate"})),
    "failover": ("bureau-replica-loss", frozenset({"replica-down: error_rate"})),
    "idempotency-check": ("gateway-unknown-outcome", frozenset({"invariant: no_double_disbursement"})),
    "admission-control": ("flash-crowd", frozenset({"crowd: codes.OVERLOADED"})),
    "maintenance-readonly": ("maintenance-with-notice", frozenset({"maintenance: ungraceful",
                                                                "notice: GET /v1/status answer"})),
    "risk-reasons": ("risk-control-freeze", frozenset({"frozen: ungraceful"})),
}


def failures(report_dir: Path) -> dict[str, set[str]]:
    """Failed expectations and invariants per drill (scenario file stem) of a gate's report folder."""
    found: dict[str, set[str]] = {}
    for path in sorted(report_dir.glob("*/journal.json")):
        journal = json.loads(path.read_text())
        path_in_journal = (journal.get("scenario") or {}).get("path")
        drill = Path(path_in_journal).stem if path_in_journal else journal["run_id"].split("-", 1)[1]
        failed = found.setdefault(drill, set())
        for e in journal.get("expectations") or []:
            if not e["passed"]:
                where = e["phase"] + (f" {e['endpoint']}" if e.get("endpoint") else "")
                failed.add(f"{where}: {e['name']}")
        for inv in journal.get("invariants") or []:
            if not inv["passed"]:
                failed.add(f"invariant: {inv['name']}")
    return found
