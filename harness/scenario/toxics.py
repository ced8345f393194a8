"""A scenario's toxic faults checked at load, by the facts the toxic classes state.

Times may be written as durations ("800ms", "1.5s") and are converted to the
integer unit the Toxiproxy API takes (milliseconds; microseconds for
slicer.delay); a bare number is already in that unit, as in Toxiproxy's docs.
What each toxic accepts (its attributes, their kind, which are required, its
streams) is read from its class in harness/proxy/toxics/, so the schema
cannot drift from the server and a new toxic needs no edit here. The toxic
classes are imported on first use, not with the scenario package, which
the command line imports for every command.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic_core import CoreSchema, PydanticKnownError, core_schema

from harness.schema.durations import parse_duration
from harness.schema.suggest import did_you_mean

if TYPE_CHECKING:
    from harness.proxy.toxics import Attribute, Toxic

# Not a toxic: the link is cut (the proxy disabled). A scenario names it as one.
DOWN = "down"


def toxic_names() -> tuple[str, ...]:
    """Every toxic a scenario may name, as messages list them: Toxiproxy's, then down, then the extensions."""
    from harness.proxy.toxics import toxic_types

    types = toxic_types()
    plain = tuple(cls.type_name for cls in types if not cls.extension)
    return (*plain, DOWN, *(cls.type_name for cls in types if cls.extension))


class _OneOfToxicNames:
    """The schema of a fault's `toxic`: a Literal of `toxic_names()`, read at each use.

    A Literal fixed when the model is defined would miss a toxic registered
    later (a test's own); this keeps a Literal's error (type, message and the
    names it expects) and its JSON Schema enum, so files and editors see no
    difference.
    """

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_plain_validator_function(cls.validate)

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: CoreSchema, handler: GetJsonSchemaHandler) -> dict[str, Any]:
        return {"enum": list(toxic_names()), "type": "string"}

    @staticmethod
    def validate(value: Any) -> str:
        names = toxic_names()
        if isinstance(value, str) and value in names:
            return value
        expected = ", ".join(repr(n) for n in names[:-1]) + f" or {names[-1]!r}"
        raise PydanticKnownError("literal_error", {"expected": expected})


ToxicName = Annotated[str, _OneOfToxicNames]


def toxic_class(toxic: str) -> type[Toxic] | None:
    """The class stating `toxic`'s facts; None for down (and a name that is no toxic)."""
    from harness.proxy.toxics import TOXIC_TYPES

    return TOXIC_TYPES.get(toxic)


def toxic_attributes(toxic: str) -> dict[str, Attribute]:
    """The attributes `toxic` takes, by name in declaration order (none for down)."""
    cls = toxic_class(toxic)
    return {attr.name: attr for attr in cls.attribute_facts()} if cls is not None else {}


def attribute_units(toxic: str) -> dict[str, str]:
    """Each numeric attribute's unit suffix ("ms", "us", "B", "KB/s"), for labels and the journal."""
    return {name: attr.unit for name, attr in toxic_attributes(toxic).items() if attr.unit}


def fault_stream(toxic: str, stream: str | None) -> str:
    """The stream a fault runs on: the one given, else the toxic's default.

    A stream the toxic cannot run on is refused (ValueError) here rather than
    by the server minutes into a run.
    """
    cls = toxic_class(toxic)
    if cls is None:  # down
        return stream or "downstream"
    if stream is not None and stream not in cls.streams:
        why = f" {cls.streams_reason}, so it" if cls.streams_reason else ""
        raise ValueError(f"{toxic}{why} runs on the {' or '.join(cls.streams)} stream only")
    return stream or cls.default_stream()


class AttributeError_(ValueError):
    """A bad attribute; `key` names it (None: the attributes as a whole)."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.key = key


def _time(value: Any, unit: str, key: str) -> int:
    if isinstance(value, bool):
        raise AttributeError_(f"expected a duration like '800ms' or a number of {unit}, got {value!r}", key)
    if isinstance(value, (int, float)):
        if value < 0:
            raise AttributeError_(f"must not be negative, got {value!r}", key)
        return int(round(value))
    try:
        seconds = parse_duration(value)
    except ValueError as exc:
        raise AttributeError_(str(exc), key) from None
    return int(round(seconds * (1000 if unit == "ms" else 1_000_000)))


def _converted(kind: str, key: str, value: Any) -> Any:
    """One attribute's value in the API's type, checked by its kind."""
    if kind in ("ms", "us"):
        return _time(value, kind, key)
    if kind == "count":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise AttributeError_(f"expected a whole number >= 0, got {value!r}", key)
        return value
    if kind == "status":
        if isinstance(value, bool) or not isinstance(value, int) or not 100 <= value <= 599:
            raise AttributeError_(f"expected an HTTP status 100-599, got {value!r}", key)
        return value
    if kind == "headers":
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            raise AttributeError_("expected a mapping of header names to values", key)
        return {k: str(v) for k, v in value.items()}
    if not isinstance(value, str):
        raise AttributeError_(f"expected text, got {value!r}", key)
    return value


def convert_attributes(toxic: str, attributes: dict[str, Any]) -> dict[str, Any]:
    """Attributes checked and converted to the Toxiproxy API's types."""
    spec = toxic_attributes(toxic)
    out: dict[str, Any] = {}
    for key, value in attributes.items():
        attr = spec.get(key)
        if attr is None:
            if not spec:
                raise AttributeError_(f"toxic '{toxic}' takes no attributes", key)
            raise AttributeError_(f"unknown attribute '{key}' for toxic '{toxic}'{did_you_mean(key, spec)}; "
                                  f"allowed: {', '.join(spec)}", key)
        out[key] = _converted(attr.kind, key, value)
    missing = [k for k, a in spec.items() if a.required and k not in attributes]
    if missing:
        raise AttributeError_(f"toxic '{toxic}' needs attribute(s): {', '.join(missing)}")
    return out
