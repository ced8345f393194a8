"""Maintenance windows: announced ahead, shared by every lending instance.

The window lives in the shared database (settings table) so an admin call
to one instance schedules it for all; each instance re-reads it twice a
second and answers from memory in between.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from mock_services.lending.store import Store

SETTING = "maintenance"
NONE, SCHEDULED, ACTIVE = 0, 1, 2


@dataclass
class Window:
    starts_at: float
    ends_at: float
    message: str

    def state(self, now: float) -> int:
        if now >= self.ends_at:
            return NONE
        return ACTIVE if now >= self.starts_at else SCHEDULED

    def notice(self, now: float) -> dict[str, Any]:
        return {
            "state": {NONE: "ended", SCHEDULED: "scheduled", ACTIVE: "active"}[self.state(now)],
            "starts_at": _iso(self.starts_at), "ends_at": _iso(self.ends_at),
            "starts_in": round(max(0.0, self.starts_at - now), 3), "ends_in": round(max(0.0, self.ends_at - now), 3),
            "message": self.message,
        }


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{int(ts * 1000) % 1000:03d}Z"


class Maintenance:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.window: Window | None = None
        self.refresh()

    def refresh(self) -> None:
        raw = self.store.setting(SETTING)
        self.window = Window(**json.loads(raw)) if raw else None

    def schedule(self, starts_in: float, duration: float, message: str) -> Window:
        now = time.time()
        window = Window(now + starts_in, now + starts_in + duration, message)
        self.store.set_setting(SETTING, json.dumps(window.__dict__))
        self.window = window
        return window

    def cancel(self) -> bool:
        had = self.window is not None
        self.store.set_setting(SETTING, None)
        self.window = None
        return had

    def state(self) -> int:
        return NONE if self.window is None else self.window.state(time.time())

    def notice(self) -> dict[str, Any] | None:
        """The announced window, if it has not ended."""
        now = time.time()
        if self.window is None or self.window.state(now) == NONE:
            return None
        return self.window.notice(now)
