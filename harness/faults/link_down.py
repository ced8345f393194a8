"""A link down: the proxy disabled, so connections are refused and live ones cut."""

from __future__ import annotations

from typing import Any

from harness.faults.base import Fault, Target, in_thread


class LinkDown(Fault):
    kind = "down"

    def __init__(self, link: str, fault_id: str) -> None:
        self.link = link
        self.fault_id = fault_id

    @property
    def target(self) -> dict[str, Any]:
        return {"link": self.link}

    def describe(self) -> str:
        return f"down on {self.link}"

    def details(self) -> dict[str, Any]:
        return {"kind": "down", "stream": None, "toxicity": 1.0, "attributes": {}}

    async def apply(self, stack: Target) -> str:
        proxy = stack.link(self.link).proxy
        await in_thread(stack.client.set_enabled, proxy, False)
        return f"proxy {proxy} disabled"

    async def revert(self, stack: Target) -> str:
        proxy = stack.link(self.link).proxy
        await in_thread(stack.client.set_enabled, proxy, True)
        return f"proxy {proxy} enabled"
