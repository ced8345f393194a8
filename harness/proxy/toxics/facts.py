"""What a toxic declares about itself, and the registry of toxic types.

A toxic's facts (its attributes with their unit or kind, which are required,
which one the shorthand's keyword sets, whether a plain Toxiproxy has it)
were kept by hand in the scenario schema, the fault shorthand and the client
as well as in the class, and every new toxic meant editing all of them in
step. Now the class states them once, on its dataclass fields through
`attribute()` and in class variables, and everything else reads the class.

The facts module imports only the standard library; the toxic modules only
light ones (no aiohttp, no event loop), so the scenario schema and the
command line read the facts without loading the server.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, ClassVar, Protocol


class ToxicClass(Protocol):
    """What the registry reads of a toxic class (harness.proxy.toxics.base.Toxic states it)."""

    type_name: ClassVar[str]
    order: ClassVar[int]
    extension: ClassVar[bool]

# ms, us: durations (a scenario may write "800ms"); count: a whole number in
# `unit`; status: an HTTP status; text: a string; headers: a name -> value map.
KINDS: tuple[str, ...] = ("ms", "us", "count", "text", "status", "headers")
_FACTS = "chaosdrill.attribute"


@dataclasses.dataclass(frozen=True)
class Attribute:
    """One JSON attribute of a toxic, as people and the scenario schema see it."""

    name: str
    kind: str  # one of KINDS
    unit: str = ""  # the suffix a bare number reads in: "ms", "us", "B", "KB/s"; "" for none
    required: bool = False  # a scenario must give it (the API itself has zero defaults)
    main: bool = False  # the value of the shorthand's keyword, as in fault("a->b", latency="800ms")


def attribute(default: Any, *, unit: str = "", kind: str = "", required: bool = False, main: bool = False) -> Any:
    """A toxic's dataclass field with its facts: `latency: int = attribute(0, unit="ms", required=True, main=True)`.

    A unit of "ms" or "us" makes a duration, any other unit ("B", "KB/s") a
    count; attributes without a unit name their kind ("text", "status",
    "headers").
    """
    if not kind:
        kind = unit if unit in ("ms", "us") else "count" if unit else ""
    if kind not in KINDS:
        raise TypeError(f"attribute needs a unit or one of the kinds {', '.join(KINDS)}, got {kind!r}")
    facts = Attribute("", kind, unit or (kind if kind in ("ms", "us") else ""), required, main)
    return dataclasses.field(default=default, metadata={_FACTS: facts})


@functools.cache
def attributes_of(cls: type) -> tuple[Attribute, ...]:
    """The facts of every field of a toxic dataclass, in field order; a field without them is a bug."""
    out = []
    for f in dataclasses.fields(cls):
        facts = f.metadata.get(_FACTS)
        if facts is None:
            raise TypeError(f"{cls.__qualname__}.{f.name} is not declared with attribute(...)")
        out.append(dataclasses.replace(facts, name=f.name))
    if sum(a.main for a in out) > 1:
        raise TypeError(f"{cls.__qualname__} marks more than one attribute main=True")
    return tuple(out)


# Every toxic type by the name the API uses; filled by Toxic.__init_subclass__.
REGISTRY: dict[str, type[ToxicClass]] = {}


def register(cls: type[ToxicClass]) -> None:
    """Add a toxic type under its `type_name`; a second class with that name is refused.

    Re-defining the same class (a module reloaded) replaces it, so a reload
    does not fail on a name it registered itself.
    """
    name = cls.type_name
    known = REGISTRY.get(name)
    if known is not None and (known.__module__, known.__qualname__) != (cls.__module__, cls.__qualname__):
        raise TypeError(f"toxic type {name!r} is defined twice: {known.__module__} and {cls.__module__}")
    REGISTRY[name] = cls


def unregister(name: str) -> None:
    """Forget a toxic type (tests that define one of their own clean up with it)."""
    REGISTRY.pop(name, None)


def toxic_types() -> list[type[ToxicClass]]:
    """Every toxic type in the order messages list them: Toxiproxy's own, then chaosdrill's extensions.

    Within each group `order` decides (then the name), so a new toxic needs
    no number to be listed, and the messages keep their order as toxics come.
    """
    return sorted(REGISTRY.values(), key=lambda cls: (cls.extension, cls.order, cls.type_name))


def extension_toxics() -> frozenset[str]:
    """The toxics a plain Toxiproxy lacks (chaosdrill's HTTP-aware ones): refused early against one."""
    return frozenset(name for name, cls in REGISTRY.items() if cls.extension)
