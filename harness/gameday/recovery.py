"""A game day's recovery, measured live against the error rate before the incident.

Once the last fault is cleared, the first three seconds in a row back at the
pre-fault error rate (and nothing ungraceful) mark the recovery, written on
the timeline with how long it took. A fault added while a recovery is still
being watched continues the same incident: the error rate before the
incident stays the reference, since the last 30 s would hold the incident's
own errors and make "recovered" mean "as bad as during it".
"""

from __future__ import annotations

import math
from typing import Callable

from harness.events import EventBus
from harness.gameday.live import LiveModel

__all__ = ["RecoveryWatch"]

RECOVERY_RUN_S = 3  # seconds in a row back to normal
RECOVERY_GIVE_UP_S = 180.0
BASELINE_S = 30


class RecoveryWatch:
    def __init__(self, model: LiveModel, events: EventBus, faults_on: Callable[[], bool]) -> None:
        self.model = model
        self.events = events
        self.faults_on = faults_on  # whether any fault is still on (the model lists what the console shows)
        self._baseline_error: float | None = None
        self._recovering_since: float | None = None

    def fault_applied(self) -> None:
        """A fault went on: remember the error rate before the incident, stop measuring a recovery."""
        model = self.model
        self._recovering_since = None
        model.recovery = None
        if self._baseline_error is not None:
            return  # an incident is under way, or its recovery is and this fault continues it
        rows = [r for r in model.recent(BASELINE_S) if r.n]
        n = sum(r.n for r in rows)
        errors = sum(r.classes["degraded"] + r.classes["ungraceful"] for r in rows)
        self._baseline_error = errors / n if n else 0.0

    def faults_cleared(self) -> None:
        model = self.model
        if model.faults or self.faults_on() or self._baseline_error is None or self._recovering_since is not None:
            return
        self._recovering_since = model.offset()
        model.recovery = {"since": round(self._recovering_since, 1), "state": "recovering"}
        self.events.emit("recovering", "every fault cleared; watching for the error rate to return to its "
                                       "pre-fault level")

    def recovery_threshold(self) -> float:
        return max(0.01, 2 * (self._baseline_error or 0.0) + 0.005)

    def check_recovery(self) -> None:
        since = self._recovering_since
        if since is None:
            return
        model = self.model
        run = 0
        threshold = self.recovery_threshold()
        for t in range(math.ceil(since), model.last_complete_second() + 1):
            row = model.rows.get(t)
            ok = row is not None and row.n > 0 and row.classes["ungraceful"] == 0 and row.error_rate <= threshold
            run = run + 1 if ok else 0
            if run == RECOVERY_RUN_S and row is not None:
                self._recovered(since, max(since, t - RECOVERY_RUN_S + 1), row.error_rate)
                return
        if model.offset() - since > RECOVERY_GIVE_UP_S:
            self.events.emit("not_recovered", f"not back to the pre-fault error rate {RECOVERY_GIVE_UP_S:.0f}s "
                                              "after the last fault was cleared")
            model.recovery = {"since": round(since, 1), "state": "not recovered"}
            self._recovering_since, self._baseline_error = None, None

    def _recovered(self, since: float, at: float, error_rate: float) -> None:
        model = self.model
        after = at - since
        msg = (f"recovered {after:.0f}s after the last fault was cleared: error rate {error_rate * 100:.1f}% "
               f"(before the faults {(self._baseline_error or 0.0) * 100:.1f}%), nothing ungraceful")
        wall = (model.t0 or 0) + at
        self.events.emit("recovered", msg, {"after_s": round(after, 1), "cleared_at": round(since, 2),
                                            "baseline_error_rate": self._baseline_error}, at=wall)
        # Also a note, so the report's timeline shows the recovery.
        self.events.emit("note", msg, {"author": "chaosdrill", "action": "recovered"}, at=wall, show=False)
        model.recovery = {"since": round(since, 1), "state": "recovered", "after_s": round(after, 1)}
        self._recovering_since, self._baseline_error = None, None
