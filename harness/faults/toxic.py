"""Any Toxiproxy toxic on a link, removed again by name."""

from __future__ import annotations

from typing import Any

from harness.faults.base import Fault, Target, in_thread
from harness.scenario.toxics import attribute_units


class ToxicFault(Fault):
    kind = "toxic"

    def __init__(self, link: str, toxic: str, fault_id: str, stream: str = "downstream",
                 toxicity: float = 1.0, attributes: dict[str, Any] | None = None) -> None:
        self.link = link
        self.toxic = toxic
        self.fault_id = fault_id
        self.stream = stream
        self.toxicity = toxicity
        self.attributes = attributes or {}
        # Unique per run so overlapping faults of one type on one link coexist.
        self.toxic_name = f"{toxic}_{stream}_{fault_id}"
        self._proxy: str | None = None

    @property
    def target(self) -> dict[str, Any]:
        return {"link": self.link}

    def describe(self) -> str:
        units = attribute_units(self.toxic)
        attrs = " ".join(f"{k}={v}{units.get(k, '') if isinstance(v, (int, float)) else ''}"
                         for k, v in self.attributes.items())
        extra = "" if self.toxicity >= 1 else f" toxicity={self.toxicity:g}"
        stream = "" if self.stream == "downstream" else f" ({self.stream})"
        return f"{self.toxic}{stream} {attrs}{extra} on {self.link}".replace("  ", " ")

    def details(self) -> dict[str, Any]:
        return {"kind": self.toxic, "stream": self.stream, "toxicity": self.toxicity,
                "attributes": self.attributes, "units": attribute_units(self.toxic)}

    async def apply(self, stack: Target) -> str:
        self._proxy = stack.link(self.link).proxy
        await in_thread(
            stack.client.add_toxic,
            self._proxy,
            self.toxic,
            name=self.toxic_name,
            stream=self.stream,
            toxicity=self.toxicity,
            attributes=self.attributes,
        )
        return f"toxic {self.toxic_name} added to proxy {self._proxy}"

    async def revert(self, stack: Target) -> str:
        proxy = self._proxy or stack.link(self.link).proxy
        await in_thread(stack.client.remove_toxic, proxy, self.toxic_name)
        return f"toxic {self.toxic_name} removed from proxy {proxy}"
