"""Drive one long drill through every cell of the matrix.

One stack and one load for the whole matrix (starting a stack per cell would
cost more than the cells themselves): a baseline, then per cell the fault for
`fault_s`, `settle_s` to recover, an audit of the invariants, and a verdict
from that cell's own seconds. Cells implied by a stronger fault already seen
on the same link are skipped (catalogue.implied_by).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from harness.errors import ChaosdrillError
from harness.judge.recovery import Bounds
from harness.matrix.catalogue import CATALOGUE, FaultKind, implied_by
from harness.matrix.classify import classify

COLLECT_LAG = 1.3  # the load flushes each second; wait for a cell's last second to arrive
SETTLE_AUDIT_S = 2.5  # longer than a request's deadline: what was in flight has landed


@dataclass
class MatrixSettings:
    links: list[str]
    faults: list[str]
    baseline_s: float = 8.0
    fault_s: float = 5.0
    settle_s: float = 4.0
    prune: bool = True
    hang_ms: float = 5000.0  # an answer this slow is a hang (the client's timeout)
    deadline_ms: float = 5000.0  # the slowest answer a user accepts (the stack's deadline, --deadline)
    max_error_rate: float = 0.01  # a steady baseline's error rate is at most this
    accept_unsteady: bool = False  # map the cells even when the baseline is not steady

    def steady_expect(self) -> dict[str, str]:
        """What a steady baseline is, as the baseline phase's own expectations (judged like any drill's):
        nothing ungraceful (client timeouts included), errors within the bound, p99 under the deadline."""
        return {"ungraceful": "== 0", "error_rate": f"<= {self.max_error_rate * 100:g}%",
                "p99_ms": f"< {self.deadline_ms:g}"}

    def kinds(self) -> list[FaultKind]:
        wanted = set(self.faults)
        return [k for k in CATALOGUE if k.name in wanted]

    def estimate_s(self) -> float:
        cells = len(self.links) * len(self.faults)
        return self.baseline_s + cells * (self.fault_s + self.settle_s + COLLECT_LAG)


@dataclass
class MatrixDriver:
    settings: MatrixSettings
    targets: dict[str, str]  # link -> the service it leads to
    invariants: list[str]
    cells: list[dict[str, Any]] = field(default_factory=list)
    baseline: dict[str, Any] = field(default_factory=dict)
    stopped: str = ""  # why the matrix stopped at its baseline (not steady), before any fault

    async def __call__(self, tl: Any) -> None:
        s = self.settings
        await _sleep_until(tl.t0 + s.baseline_s)
        await asyncio.sleep(COLLECT_LAG)
        tl.collect_metrics()
        bounds = self._judge_baseline(tl)
        steady = self.baseline["steady"]
        if not steady and not s.accept_unsteady:
            self.stopped = self.baseline["why"]
            tl.events.say(f"matrix: stopping at the {steady_line(self.baseline)}")
            return
        against = "" if steady else " [judged against an unsteady baseline]"
        failing_before: set[str] = set()
        for link in s.links:
            seen: dict[str, str] = {}
            for kind in s.kinds():
                cell = {"link": link, "fault": kind.name, "label": kind.label,
                        **({} if steady else {"unsteady_baseline": True})}
                # a cell's outcome implies a weaker fault's only against a yardstick that holds
                implied = implied_by(kind, seen) if s.prune and steady else None
                if implied:
                    cell.update(outcome=implied[0], ran=False, implied_by=implied[1])
                    seen[kind.name] = implied[0]
                    self.cells.append(cell)
                    tl.events.say(f"matrix: {link} x {kind.name}: implied {implied[0]} by {implied[1]} (skipped)")
                    continue
                phase = f"{link} x {kind.name}"
                start = time.time() - tl.t0
                fault_id = await tl.apply_now(kind.spec(link, self.targets[link]), phase)
                if fault_id is None:
                    raise ChaosdrillError(f"matrix: could not apply {kind.name} on {link}")
                await asyncio.sleep(s.fault_s)
                await tl.revert_now(fault_id)
                await asyncio.sleep(s.settle_s)
                end = time.time() - tl.t0
                tl.journal.phases.append({"name": phase, "start": round(start, 3), "end": round(end, 3),
                                          "expect": None})
                violated = await self._newly_violated(tl, failing_before)
                await asyncio.sleep(COLLECT_LAG)
                tl.collect_metrics()
                window = tl.series().window(int(start) + 1, int(end))
                outcome, evidence = classify(window, bounds, s.hang_ms, violated, s.deadline_ms)
                cell.update(outcome=outcome, ran=True, start=round(start, 3), end=round(end, 3),
                            fault_id=fault_id, evidence=evidence.to_dict())
                seen[kind.name] = outcome
                self.cells.append(cell)
                tl.events.say(f"matrix: {link} x {kind.name}: {outcome}{' (' + evidence.why + ')' if evidence.why else ''} "
                              f"(n={evidence.n}, errors {evidence.error_rate:.1%}, ungraceful {evidence.ungraceful}, "
                              f"p99 {evidence.p99_ms:.0f} ms){against}")

    def _judge_baseline(self, tl: Any) -> Bounds:
        """The baseline judged by its expectations (a steady state, as Chaos Toolkit's hypothesis), and the
        yardstick every cell is measured against."""
        from harness.judge import judge

        s = self.settings
        tl.journal.phases = [{"name": "baseline", "start": 0.0, "end": s.baseline_s, "expect": s.steady_expect()}]
        results = judge(tl.plan.scenario, {"baseline": (0.0, s.baseline_s)}, tl.series())
        failed = [f"{r.name} {r.display} (steady: {r.threshold})" for r in results if not r.passed]
        base = tl.series().window(1, s.baseline_s)
        bounds = Bounds.from_baseline(base).capped(s.deadline_ms)
        self.baseline = {"n": base.n, "error_rate": base.error_rate, "p99_ms": base.percentile_ms(99),
                         "ungraceful": base.ungraceful, "timeouts": base.timeouts,
                         "slow": base.slower_than(s.deadline_ms), "deadline_ms": s.deadline_ms,
                         "bounds": bounds.describe(), "steady": not failed, "why": "; ".join(failed)}
        return bounds

    async def _newly_violated(self, tl: Any, failing_before: set[str]) -> list[str]:
        """Invariants broken by this cell: failing now, not at the previous cell, and still
        failing for the same records once requests in flight have settled.

        The load keeps running while the matrix audits, so one read can catch a loan
        between the gateway's ledger and lending's record of it. Only what a second
        read, a request deadline later, still finds wrong counts against the cell.
        """
        if not self.invariants or getattr(tl.plan.stack, "audit", None) is None:
            return []
        first = await self._audit(tl)
        if first is None:
            return []
        suspects = {name: r for name, r in first.items() if not r.passed and name not in failing_before}
        if suspects:
            await asyncio.sleep(SETTLE_AUDIT_S)
            second = await self._audit(tl) or {}
            confirmed = {}
            for name, r in suspects.items():
                again = second.get(name)
                if again is None or again.passed:
                    continue
                if r.offending and again.offending and not set(r.offending) & set(again.offending):
                    continue  # different records each time: in flight, not broken
                confirmed[name] = again
            suspects = confirmed
        failing = {name for name, r in first.items() if not r.passed} & (failing_before | set(suspects))
        failing_before.clear()
        failing_before.update(failing | set(suspects))
        return sorted(suspects)

    async def _audit(self, tl: Any) -> dict[str, Any] | None:
        from harness.invariants import check_invariants
        from harness.run.audit import fetch_audit

        try:
            data = await fetch_audit(tl.plan, tl.rt)
        except ChaosdrillError as exc:
            tl.journal.event("audit_failed", f"matrix audit: {exc}")
            return None
        results = check_invariants(tl.plan.stack.audit.plugin, self.invariants, data, tl.load.acknowledgements())
        return {r.name: r for r in results}

    def sections(self) -> dict[str, Any]:
        return {"matrix": self.summary()}

    def summary(self) -> dict[str, Any]:
        ran = sum(1 for c in self.cells if c.get("ran"))
        return {
            "stopped": self.stopped,
            "links": self.settings.links,
            "faults": [k.name for k in self.settings.kinds()],
            "baseline": self.baseline,
            "cells": self.cells,
            "runs": ran,
            "pruned": len(self.cells) - ran,
            "settings": {"baseline_s": self.settings.baseline_s, "fault_s": self.settings.fault_s,
                         "settle_s": self.settings.settle_s, "prune": self.settings.prune,
                         "deadline_ms": self.settings.deadline_ms, "max_error_rate": self.settings.max_error_rate,
                         "accept_unsteady": self.settings.accept_unsteady},
        }


def steady_line(baseline: dict[str, Any]) -> str:
    """The one line that says why a baseline is not steady, with its figures."""
    timeouts = f", {baseline['timeouts']} of them client timeouts" if baseline["timeouts"] else ""
    return f"baseline, which is not steady: {baseline['why']}{timeouts}"


async def _sleep_until(wall: float) -> None:
    delay = wall - time.time()
    if delay > 0:
        await asyncio.sleep(delay)
