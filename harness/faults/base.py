"""The fault interface every kind implements (the factory from a scenario's entry is factory.py)."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from typing import Any, Protocol

from harness.schema.names import instance_name


class Target(Protocol):
    """What a fault acts on: the running stack (harness.stack.runtime.StackRuntime)."""

    client: Any

    def link(self, name: str) -> Any: ...

    def instance(self, service: str, index: int = 0) -> Any: ...


class Fault(ABC):
    """One fault on one link or service instance.

    `fault_id` names it in the journal and on the fault proxy (toxic names,
    watchdog leases), unique within a run.
    """

    kind: str = "fault"
    fault_id: str

    @property
    @abstractmethod
    def target(self) -> dict[str, Any]:
        """{"link": name} or {"service": name, "instance": n}, for the journal."""

    @abstractmethod
    def describe(self) -> str:
        """A short label: what, where, how."""

    @abstractmethod
    async def apply(self, stack: Target) -> str:
        """Start the fault; returns a short result text for the journal."""

    @abstractmethod
    async def revert(self, stack: Target) -> str:
        """End the fault; idempotent."""

    def details(self) -> dict[str, Any]:
        return {}


async def in_thread(fn, *args, **kwargs):
    """Blocking client calls (toxiproxy-python) run off the event loop."""
    return await asyncio.to_thread(fn, *args, **kwargs)


class InstanceFault(Fault):
    """A fault on one service instance; subclasses say what apply/revert do."""

    def __init__(self, service: str, instance: int, fault_id: str) -> None:
        self.service = service
        self.index = instance
        self.fault_id = fault_id

    @property
    def target(self) -> dict[str, Any]:
        return {"service": self.service, "instance": self.index}

    def describe(self) -> str:
        return f"{self.kind} {instance_name(self.service, self.index)}"

    def details(self) -> dict[str, Any]:
        return {"kind": self.kind, "stream": None, "toxicity": 1.0, "attributes": {}}
