"""Hypotheses typed at the console, judged on their own window.

`hypothesis start NAME expect error_rate<1% ...` opens a window; `hypothesis
end` closes it, and once its last second of metrics is in, it is judged by
the drill judge against the pre-fault baseline. A cued scenario phase with
expectations is judged the same way when it ends.
"""

from __future__ import annotations

import asyncio
from typing import Any, Callable

from harness.errors import UsageError
from harness.events import EventBus
from harness.gameday.live import LiveModel
from harness.gameday.record import HYPOTHESIS_PREFIX, GamedayRecord
from harness.metrics.series import Stats

__all__ = ["Hypotheses"]

LATE_METRICS_S = 2.5  # the load's records for a second arrive up to this late


class Hypotheses:
    def __init__(self, model: LiveModel, events: EventBus, record: GamedayRecord,
                 refresh: Callable[[], None]) -> None:
        self.model = model
        self.events = events
        self.record = record
        self.refresh = refresh  # read the load's latest seconds into the model
        self.open: dict[str, Any] | None = None
        self._judging: set[asyncio.Task[None]] = set()

    def start(self, name: str, expect: dict[str, Any]) -> None:
        if self.open is not None:
            raise UsageError(f"hypothesis {self.open['name']} is still open: 'hypothesis end' first")
        model = self.model
        start = model.offset()
        record = self.record.add(f"{HYPOTHESIS_PREFIX}{name}", start, expect)
        self.open = record
        text = " ".join(_flat_expect(expect))
        model.hypothesis = {"name": name, "start": start, "text": text, "live": ""}
        model.add_accumulator(record["name"], int(start) + 1)
        self.events.emit("hypothesis_started", f"{name}: expect {text}", {"expect": expect})

    async def end(self) -> None:
        if self.open is None:
            raise UsageError("no hypothesis is open: 'hypothesis start NAME expect ...' first")
        record, self.open = self.open, None
        record["end"] = round(max(self.model.offset(), record["start"] + 1.0), 3)
        self.model.hypothesis = None
        self.model.drop_accumulator(record["name"])
        self.events.emit("hypothesis_ended", f"{record['name']} ended; judging once its last second is in")
        await self.judge_when_complete(record)

    def show_live(self) -> None:
        """The open hypothesis' numbers so far, for the console."""
        if self.open is None or self.model.hypothesis is None:
            return
        stats: Stats = self.model.accumulator(self.open["name"])
        self.model.hypothesis["live"] = (f"so far: {stats.n} requests, error rate {stats.error_rate * 100:.2f}%, "
                                         f"ungraceful {stats.ungraceful}, p99 {stats.percentile_ms(99):.0f} ms")

    def judge_soon(self, record: dict[str, Any]) -> None:
        """Judge a phase that just ended, in the background (a cued phase)."""
        task = asyncio.create_task(self.judge_when_complete(record))
        self._judging.add(task)
        task.add_done_callback(self._judging.discard)

    async def judge_when_complete(self, record: dict[str, Any]) -> None:
        await asyncio.sleep(LATE_METRICS_S)
        self.refresh()
        try:
            results = self.record.judge([record])
        except Exception as exc:
            self.events.emit("judge_failed", f"{record['name']}: {exc}")
            return
        failed = [r for r in results if not r.get("passed")]
        summary = "; ".join(f"{r['name']} {r['threshold']}: {r.get('display', r.get('measured'))}" for r in results)
        self.model.hypotheses.append({"name": record["name"], "passed": not failed, "summary": summary})
        self.events.emit("hypothesis_judged",
                         f"{record['name']} {'held' if not failed else 'did NOT hold'}: {summary}",
                         {"results": results})

    def close(self) -> None:
        """At the end: an open hypothesis ends now (judged with the rest of the record)."""
        if self.open is not None:
            self.open["end"] = round(max(self.model.offset(), self.open["start"] + 1.0), 3)
            self.events.emit("hypothesis_ended", f"{self.open['name']} ended with the game day")
            self.open = None
        for task in self._judging:
            task.cancel()


def _flat_expect(expect: dict[str, Any], prefix: str = "") -> list[str]:
    out = []
    for key, value in expect.items():
        if isinstance(value, dict):
            out += _flat_expect(value, f"{prefix}{key}.")
        else:
            out.append(f"{prefix}{key}{str(value).replace(' ', '')}")
    return out
