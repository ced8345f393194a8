"""The interface every toxic implements, and how its attributes are decoded.

A toxic type is a frozen dataclass: its fields are the JSON `attributes`
(with Toxiproxy's zero defaults), each declared with `attribute()` so the
class also states its unit and whether a scenario must give it. One instance
is one configuration shared by every connection. Per-connection state lives
in the `Stub` the pipeline hands to the toxic, which is what lets a toxic be
updated or removed on live connections without losing the bytes it holds.

A subclass that sets `type_name` registers itself (see facts.py): defining
the class is all it takes for the API, the scenario schema, the shorthand
and the game day console to know the toxic.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any, ClassVar, Protocol

from harness.proxy.errors import bad_body
from harness.proxy.go_json import INT64, json_get
from harness.proxy.toxics.facts import Attribute, attribute, attributes_of, register


class Chunk:
    """A piece of one direction's byte stream; `data is None` marks end of stream."""

    __slots__ = ("data", "ts")

    def __init__(self, data: bytes | None, ts: float) -> None:
        self.data = data
        self.ts = ts  # time.monotonic() when the bytes arrived (or left the previous toxic)

    @property
    def eof(self) -> bool:
        return self.data is None


class Stub(Protocol):
    """What a running toxic sees of one connection direction."""

    held: Chunk | None  # bytes passed on unchanged if the toxic is interrupted
    state: dict[str, Any]  # per-connection state that survives updates
    name: str  # the toxic's name, for answers that say who made them
    toxicity: float
    active: bool  # the per-connection toxicity roll

    def send(self, chunk: Chunk) -> None: ...

    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> bool:
        """Sleep; True when cut short because the toxic was updated."""
        ...

    def close_connection(self) -> None: ...

    def reset_connection(self) -> None: ...

    def reply(self, data: bytes, close: bool = False) -> None:
        """Write straight back to the client (HTTP toxics answering requests)."""
        ...

    def call_later(self, seconds: float, callback: Any) -> Any: ...


@dataclasses.dataclass(frozen=True)
class Toxic:
    """Base toxic: passes everything through (Toxiproxy's noop)."""

    # The name the API and scenarios use; setting it in a subclass registers the subclass.
    type_name: ClassVar[str] = ""
    # Where messages list it among its group (Toxiproxy's toxics, then the extensions).
    order: ClassVar[int] = 1000
    # A chaosdrill extension a plain Toxiproxy lacks: refused early against one.
    extension: ClassVar[bool] = False
    # Streams the toxic may run on; HTTP toxics read requests, so upstream only.
    streams: ClassVar[tuple[str, ...]] = ("upstream", "downstream")
    # Why a toxic runs on one stream only, for the scenario's message ("reads requests").
    streams_reason: ClassVar[str] = ""
    # HTTP toxics roll toxicity per request instead of per connection.
    per_request_toxicity: ClassVar[bool] = False
    # Leaves every byte and the end of stream alone (noop): the pipeline may skip it.
    passes_through: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "type_name" in cls.__dict__:  # an intermediate base (HttpToxic) names no type
            register(cls)

    @classmethod
    def attribute_facts(cls) -> tuple[Attribute, ...]:
        """The facts of each attribute, in field order (what scenarios and labels read)."""
        return attributes_of(cls)

    @classmethod
    def default_stream(cls) -> str:
        """The stream used when none is given: the only one allowed, else downstream as in Toxiproxy."""
        return cls.streams[0] if len(cls.streams) == 1 else "downstream"

    def on_start(self, stub: Stub) -> None:
        """Called when the toxic starts on a connection (or restarts after an update)."""

    def on_stop(self, stub: Stub) -> None:
        """Called before the toxic is replaced by an update or removed."""

    def on_removed(self, stub: Stub) -> None:
        """Called when the toxic is removed from a live connection."""

    def leftover(self, stub: Stub) -> bytes:
        """Bytes buffered in per-connection state, passed on when the toxic is removed."""
        return b""

    async def on_chunk(self, stub: Stub, chunk: Chunk) -> None:
        stub.send(chunk)

    async def on_eof(self, stub: Stub, chunk: Chunk) -> None:
        stub.send(chunk)

    # ---- configuration -------------------------------------------------

    @classmethod
    def from_attributes(cls, attributes: Any, base: "Toxic | None" = None) -> "Toxic":
        """Decode JSON attributes over `base` (or the defaults); unknown keys are ignored.

        Wrong types are refused with Toxiproxy's 400 'bad request body: ...'.
        """
        if attributes is None:
            attributes = {}
        if not isinstance(attributes, dict):
            raise bad_body(f"attributes must be a JSON object, got {_json_type(attributes)}")
        hints = typing.get_type_hints(cls)
        values: dict[str, Any] = {}
        for field in dataclasses.fields(cls):
            value = json_get(attributes, field.name)
            if value is not None:
                values[field.name] = _coerce(field.name, value, hints[field.name])
        toxic = dataclasses.replace(base, **values) if base is not None else cls(**values)
        toxic.validate()
        return toxic

    def validate(self) -> None:
        """Refuse values that decode but make no sense (raise ApiError).

        Every numeric attribute of Toxiproxy's toxics is a size or a duration,
        so negative numbers are refused here once for all of them.
        """
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
                raise bad_body(f"attribute {f.name} must not be negative, got {value}")

    def to_attributes(self) -> dict[str, Any]:
        """The JSON attributes; header maps, kept as tuples to stay hashable, become objects again."""
        return {a.name: dict(getattr(self, a.name)) if a.kind == "headers" else getattr(self, a.name)
                for a in self.attribute_facts()}


__all__ = ["Attribute", "Chunk", "Stub", "Toxic", "attribute"]


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def _coerce(name: str, value: Any, kind: Any) -> Any:
    def wrong() -> Exception:
        expected = {
            int: "an integer (no fraction or exponent, within int64)",
            float: "a number",
            str: "a string",
            bool: "a boolean",
        }.get(kind, "an object of strings")
        return bad_body(f"attribute {name} must be {expected}, got {_json_type(value)} {value!r}")

    if kind is int:
        # Toxiproxy's attributes are Go int64s: 100.0 and 1e3 are refused there, so here too
        if isinstance(value, bool) or not isinstance(value, int) or not INT64[0] <= value <= INT64[1]:
            raise wrong()
        return value
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise wrong()
        return float(value)
    if kind is str:
        if not isinstance(value, str):
            raise wrong()
        return value
    if kind is bool:
        if not isinstance(value, bool):
            raise wrong()
        return value
    # header maps: a JSON object of strings, kept as a sorted tuple so the toxic stays hashable
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise wrong()
    return tuple(sorted(value.items()))
