"""A proxy's toxics: decoding them from API JSON and keeping Toxiproxy's order.

Toxics live in two ordered lists, one per stream, listed upstream first; a
name is unique across both. The JSON shapes and error checks follow
Toxiproxy 2.12's ToxicCollection in the same order, so the same bad request
gets the same error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.proxy import errors
from harness.proxy.go_json import json_field, json_get, json_object
from harness.proxy.lease import Lease
from harness.proxy.toxics import TOXIC_TYPES, Toxic

STREAMS = ("upstream", "downstream")


@dataclass(eq=False)
class InstalledToxic:
    """One configured toxic of a proxy (shared by all its connections)."""

    name: str
    type: str
    stream: str  # as the client spelled it; `direction` is the normalised form
    toxicity: float
    toxic: Toxic
    lease: Lease | None = None  # chaosdrill extension: the toxic ends when it runs out

    @property
    def direction(self) -> str:
        return self.stream.lower()

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "attributes": self.toxic.to_attributes(),
            "name": self.name,
            "type": self.type,
            "stream": self.stream,
            "toxicity": self.toxicity,
        }
        if self.lease is not None:
            data["lease"] = self.lease.to_json()
        return data


class ToxicChain:
    """The ordered toxics of one proxy."""

    def __init__(self) -> None:
        self._chains: dict[str, list[InstalledToxic]] = {s: [] for s in STREAMS}

    def in_order(self) -> list[InstalledToxic]:
        return self._chains["upstream"] + self._chains["downstream"]

    def find(self, name: str) -> InstalledToxic | None:
        for installed in self.in_order():
            if installed.name == name:
                return installed
        return None

    def get(self, name: str) -> InstalledToxic:
        installed = self.find(name)
        if installed is None:
            raise errors.TOXIC_NOT_FOUND
        return installed

    def parse_new(self, data: Any) -> InstalledToxic:
        """Build a toxic from POST /proxies/{p}/toxics JSON (not yet added)."""
        obj = json_object(data, "toxic")
        name = json_field(obj, "name", str, "")
        type_name = json_field(obj, "type", str, "")
        cls = TOXIC_TYPES.get(type_name)
        stream = json_field(obj, "stream", str, cls.default_stream() if cls is not None else "downstream")
        toxicity = json_field(obj, "toxicity", float, 1.0)
        if stream.lower() not in STREAMS:
            raise errors.INVALID_STREAM
        if not name:
            name = f"{type_name}_{stream}"
        if cls is None:
            raise errors.INVALID_TOXIC_TYPE
        if stream.lower() not in cls.streams:
            raise errors.bad_body(
                f"{type_name} works on the {' or '.join(cls.streams)} stream only, not {stream}"
            )
        if self.find(name) is not None:
            raise errors.TOXIC_ALREADY_EXISTS
        toxic = cls.from_attributes(json_get(obj, "attributes"))
        return InstalledToxic(name=name, type=type_name, stream=stream, toxicity=toxicity, toxic=toxic)

    def add(self, installed: InstalledToxic) -> None:
        self._chains[installed.direction].append(installed)

    def apply_update(self, installed: InstalledToxic, data: Any) -> None:
        """PATCH semantics: attributes merged over the current ones, toxicity kept if absent."""
        obj = json_object(data, "toxic")
        toxicity = json_field(obj, "toxicity", float, installed.toxicity)
        toxic = type(installed.toxic).from_attributes(json_get(obj, "attributes"), base=installed.toxic)
        installed.toxic = toxic
        installed.toxicity = toxicity

    def remove(self, installed: InstalledToxic) -> None:
        self._chains[installed.direction].remove(installed)

    def clear(self) -> list[InstalledToxic]:
        removed = self.in_order()
        for chain in self._chains.values():
            chain.clear()
        return removed
