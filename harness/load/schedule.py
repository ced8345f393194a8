"""How many users to run when: the stages of the config plus live changes.

The orchestrator changes the load by appending lines like
    {"users": 300, "spawn_rate": 100}
to the control file (config `control_path`); the load process reads new
complete lines every 100 ms. A control line overrides the stages until the
next stage starts. Pure Python, so tests drive it with a fake clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.load.config import LoadConfig
from harness.load.stream import JsonlTail


@dataclass(frozen=True)
class UserTarget:
    users: int
    spawn_rate: float


class LoadSchedule:
    def __init__(self, config: LoadConfig) -> None:
        self.spawn_rate = config.spawn_rate
        self.pending = list(config.stages)
        self._control = JsonlTail(config.control_path) if config.control_path else None
        self.initial = UserTarget(config.users, config.spawn_rate)

    def changes(self, elapsed_s: float) -> list[UserTarget]:
        """Targets to apply now, oldest first (usually none, sometimes one)."""
        out: list[UserTarget] = []
        while self.pending and self.pending[0].start_s <= elapsed_s:
            stage = self.pending.pop(0)
            if stage.spawn_rate is not None:
                self.spawn_rate = stage.spawn_rate
            out.append(UserTarget(stage.users, self.spawn_rate))
        if self._control is not None:
            for line in self._control.lines():
                target = self._from_control(line)
                if target is not None:
                    out.append(target)
        return out

    def _from_control(self, line: Any) -> UserTarget | None:
        if not isinstance(line, dict):
            return None
        users = line.get("users")
        if isinstance(users, bool) or not isinstance(users, (int, float)) or users < 0:
            return None
        rate = line.get("spawn_rate")
        if isinstance(rate, (int, float)) and not isinstance(rate, bool) and rate > 0:
            self.spawn_rate = float(rate)
        return UserTarget(int(users), self.spawn_rate)
