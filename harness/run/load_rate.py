"""The planned load, second by second: how many answers a window of the run will hold.

From the scenario's `load` alone (users, spawn_rate, stages, pacing, user
classes), before anything starts: the users running at each moment of the
load (ramping at the spawn rate), placed on the run's metrics axis as the
execution places them (t0 = the load's start + warmup, rounded up to the
next whole second, so 0 to 1 s later: harness/run/execution.py), times the
requests a user sends a second. The built-in borrower's rates and request
mix are measured (harness/load/borrower_rates.py); a locustfile of one's
own paces its users as it likes, so its rate is known only when the
scenario sets `pacing` (one task per second, counted as one request).
"""

from __future__ import annotations

from typing import Any

from harness.load.borrower_rates import CONSERVATIVE, MIX, REQUESTS_PER_TASK, TASKS_PER_S, users_by_class
from harness.load.config import BUILTIN_BORROWER
from harness.metrics.series import INSTANCE_SCOPE

STEP = 0.01  # seconds of load time per integration step
OFFSETS = [i / 10 for i in range(11)]  # where t0 may fall within its second after the warmup
PACED_TASKS_PER_S = 1.0  # a scenario's `pacing` gives every user one task a second


def users_over_time(load: Any, horizon: float) -> list[float]:
    """Running users at each STEP of load time (index i: i x STEP s): the initial users, then each
    stage's, ramping at the spawn rate."""
    changes = [(0.0, float(load.users), float(load.spawn_rate))]
    cursor, rate = 0.0, float(load.spawn_rate)
    for stage in load.stages or []:
        rate = float(stage.spawn_rate or rate)
        changes.append((cursor, float(stage.users), rate))
        cursor += float(stage.duration)
    out: list[float] = []
    users, target, rate, pending = 0.0, 0.0, 1.0, list(changes)
    for i in range(int(horizon / STEP) + 2):
        while pending and pending[0][0] <= i * STEP + 1e-9:
            _, target, rate = pending.pop(0)
        out.append(users)  # at i * STEP
        step = rate * STEP
        users = min(target, users + step) if users < target else max(target, users - step)
    return out


class PlannedLoad:
    """Answers per scope over windows of whole seconds on the metrics axis."""

    def __init__(self, load: Any, locustfile: str | None, entry_instances: list[str], horizon: float) -> None:
        from harness.run.load_driver import LoadDriver

        self.load = load
        self.entry_instances = entry_instances
        self.warmup = LoadDriver.ramp_seconds(load) + 1.0
        builtin = (locustfile or BUILTIN_BORROWER) == BUILTIN_BORROWER
        self.unknown = "" if builtin or load.pacing else (
            f"locustfile {locustfile} paces its own users; give load.pacing to estimate answers")
        self.builtin = builtin
        users = users_over_time(load, horizon + self.warmup + 2.0)
        # cumulative user-seconds per class, for sums over any window in O(1)
        self.cumulative: dict[str, list[float]] = {}
        for cls in ("BorrowerUser", "CrossBorrowerUser"):
            total, acc = 0.0, [0.0]
            for u in users:
                total += users_by_class(u, load.user_classes if builtin else None)[cls] * STEP
                acc.append(total)
            self.cumulative[cls] = acc

    def per_user_rate(self, cls: str, scope: str | None) -> float | None:
        """Requests a second one user of `cls` sends to `scope` (None: unknown)."""
        paced = self.load.pacing is not None
        tasks = PACED_TASKS_PER_S if paced or not self.builtin else TASKS_PER_S[cls]
        rate = tasks * REQUESTS_PER_TASK * CONSERVATIVE
        if scope is None:
            return rate
        if scope.startswith(INSTANCE_SCOPE):
            name = scope[len(INSTANCE_SCOPE):]
            # users take the entry instances round-robin
            return rate / len(self.entry_instances) if name in self.entry_instances else None
        if not self.builtin:
            return None  # a locustfile's request mix is its own
        return rate * MIX[cls].get(scope, 0.0)

    def scope_unknown(self, scope: str | None) -> str:
        """Why answers of `scope` cannot be estimated ('' when they can)."""
        if self.unknown:
            return self.unknown
        if scope is None or scope.startswith(INSTANCE_SCOPE):
            return "" if scope is None or scope[len(INSTANCE_SCOPE):] in self.entry_instances else (
                f"{scope} is no instance of the entry service")
        if not self.builtin:
            return f"the locustfile's request mix is its own, so {scope}'s share is unknown"
        if not any(scope in mix for mix in MIX.values()):
            return f"{scope} is not a request the built-in borrower sends"
        return ""

    def answers(self, scope: str | None, seconds: list[int]) -> float | None:
        """The fewest answers `scope` gets in these whole seconds, over where t0 may fall; None: unknown."""
        if self.scope_unknown(scope):
            return None
        rates = {cls: self.per_user_rate(cls, scope) or 0.0 for cls in self.cumulative}
        fewest: float | None = None
        for offset in OFFSETS:
            total = 0.0
            for t in seconds:
                a, b = t + self.warmup + offset, t + 1 + self.warmup + offset
                for cls, rate in rates.items():
                    total += rate * (self._at(cls, b) - self._at(cls, a))
            fewest = total if fewest is None else min(fewest, total)
        return fewest or 0.0

    def _at(self, cls: str, tau: float) -> float:
        acc = self.cumulative[cls]
        i = min(len(acc) - 1, max(0, int(round(tau / STEP))))
        return acc[i]


__all__ = ["PlannedLoad", "users_over_time"]
