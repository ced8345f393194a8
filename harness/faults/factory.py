"""The factory: a Fault of the right kind from a scenario's fault entry."""

from __future__ import annotations

from typing import Any

from harness.faults.base import Fault
from harness.faults.link_down import LinkDown
from harness.faults.process_kill import ProcessKill
from harness.faults.process_pause import ProcessPause
from harness.faults.process_restart import ProcessRestart
from harness.faults.toxic import ToxicFault


def build_fault(entry: Any, fault_id: str) -> Fault:
    """A Fault from a validated scenario fault (harness.scenario model)."""
    if getattr(entry, "link", None):
        if entry.toxic == "down":
            return LinkDown(entry.link, fault_id)
        return ToxicFault(
            link=entry.link,
            toxic=entry.toxic,
            fault_id=fault_id,
            stream=entry.stream,
            toxicity=entry.toxicity,
            attributes=dict(entry.attributes or {}),
        )
    action = entry.action
    if action == "kill":
        return ProcessKill(entry.service, entry.instance, fault_id, restart=getattr(entry, "restart", None))
    kinds = {"pause": ProcessPause, "restart": ProcessRestart}
    return kinds[action](entry.service, entry.instance, fault_id)
