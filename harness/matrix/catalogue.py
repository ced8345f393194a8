"""The fault kinds the matrix tries, and which is stronger than which.

Faults come in families ordered strongest first. The matrix assumes
monotonicity inside a family: when a stronger fault on a link was absorbed
(unaffected) or handled gracefully, a weaker one of the same family on the
same link cannot do worse, so its cell is implied and not run. That is the
pruning a systematic fault-injection tester does; cells where the stronger
fault hurt are all run, since a weaker one may behave differently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any


@dataclass(frozen=True)
class FaultKind:
    name: str
    family: str
    rank: int  # 0 = strongest in its family
    toxic: str | None = None  # link fault
    action: str | None = None  # process fault on the link's target service
    attributes: dict[str, Any] = field(default_factory=dict)
    stream: str = "downstream"
    label: str = ""

    def spec(self, link: str, target_service: str) -> SimpleNamespace:
        """A fault entry like a scenario's, for harness.faults.build_fault."""
        if self.action:
            return SimpleNamespace(link=None, service=target_service, instance=0, action=self.action, restart=None)
        return SimpleNamespace(link=link, toxic=self.toxic, stream=self.stream, toxicity=1.0,
                               attributes=dict(self.attributes))


CATALOGUE: list[FaultKind] = [
    # connections refused or cut
    FaultKind("kill", "refuse", 0, action="kill", label="process killed (SIGKILL), restarted after"),
    FaultKind("down", "refuse", 1, toxic="down", label="link down (connections refused)"),
    FaultKind("reset_peer", "refuse", 2, toxic="reset_peer", attributes={"timeout": 0}, label="TCP reset"),
    FaultKind("limit_data", "refuse", 3, toxic="limit_data", attributes={"bytes": 64},
              label="connection closed after 64 bytes"),
    # answers that never come or come slowly
    FaultKind("pause", "hang", 0, action="pause", label="process paused (SIGSTOP)"),
    FaultKind("timeout", "hang", 1, toxic="timeout", attributes={"timeout": 0}, label="black hole"),
    FaultKind("latency", "hang", 2, toxic="latency", attributes={"latency": 1000, "jitter": 200},
              label="1000 ms +- 200 ms latency"),
    FaultKind("bandwidth", "hang", 3, toxic="bandwidth", attributes={"rate": 1}, label="1 KB/s"),
    FaultKind("slicer", "hang", 4, toxic="slicer", attributes={"average_size": 8, "size_variation": 4, "delay": 2000},
              label="8-byte slices, 2 ms apart"),
    # wrong answers
    FaultKind("http_error", "http", 0, toxic="http_error", stream="upstream", attributes={"status": 500},
              label="HTTP 500 for every request"),
]
BY_NAME = {k.name: k for k in CATALOGUE}

# Cell outcomes, best to worst.
OUTCOMES = ("unaffected", "graceful", "ungraceful", "integrity")
PRUNABLE = ("unaffected", "graceful")


def implied_by(kind: FaultKind, seen: dict[str, str]) -> tuple[str, str] | None:
    """(outcome, stronger fault) when a stronger fault of the family on this link already bounds the outcome."""
    for other in CATALOGUE:
        if other.family == kind.family and other.rank < kind.rank and seen.get(other.name) in PRUNABLE:
            return seen[other.name], other.name
    return None
