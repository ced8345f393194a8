"""A fault entry from keyword arguments: `fault_entry("a->b", latency="800ms", jitter="100ms")`.

One short form for code that applies faults by hand (the pytest plugin, the
game day console): the toxic is the keyword, its main attribute the value.
The result is the scenario schema's own FaultEntry, validated the same way as a
scenario file, so units (ms, slicer's us) and checks are the schema's.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from harness.errors import UsageError

PROCESS_ACTIONS = ("kill", "pause", "restart")


def main_attribute(toxic: str) -> str | None:
    """The attribute a toxic's keyword value sets (None: the keyword takes True), as its class declares."""
    from harness.scenario.toxics import toxic_attributes

    return next((name for name, attr in toxic_attributes(toxic).items() if attr.main), None)


def shorthand_toxics() -> list[str]:
    """The toxics a keyword may name (down is a keyword of its own): those taking a value first."""
    from harness.scenario.toxics import DOWN, toxic_names

    return sorted((t for t in toxic_names() if t != DOWN), key=lambda t: main_attribute(t) is None)


def fault_entry(target: str, **kwargs: Any) -> Any:
    """fault("a->b", latency="800ms", jitter="100ms"), fault("a->b", down=True),
    fault("svc", kill=True), fault("svc#1", pause=True); stream= and toxicity= too."""
    from harness.scenario.model import FaultEntry
    from harness.scenario.toxics import toxic_attributes
    from harness.schema.suggest import did_you_mean

    if "->" in target:
        data: dict[str, Any] = {"link": target}
        for key in ("stream", "toxicity"):
            if key in kwargs:
                data[key] = kwargs.pop(key)
        if kwargs.pop("down", False):
            data["toxic"] = "down"
        else:
            toxics = shorthand_toxics()
            kinds = [k for k in kwargs if k in toxics]
            known = {*toxics, *(a for toxic in toxics for a in toxic_attributes(toxic)), "down"}
            for key in kwargs:
                if key not in known:
                    raise UsageError(f"fault on link {target}: unknown keyword {key!r}{did_you_mean(key, sorted(known))}")
            if len(kinds) != 1:
                raise UsageError(f"fault on link {target}: name exactly one toxic (one of {', '.join(toxics)})")
            kind = kinds[0]
            main = kwargs.pop(kind)
            attributes = dict(kwargs)
            main_key = main_attribute(kind)
            if main_key and main is not True:
                attributes[main_key] = main
            data.update(toxic=kind, attributes=attributes)
    else:
        service, _, index = target.partition("#")
        actions = [a for a in PROCESS_ACTIONS if kwargs.get(a)]
        if len(actions) != 1 or set(kwargs) - set(PROCESS_ACTIONS):
            raise UsageError(f"fault on service {target}: pass exactly one of kill=True, pause=True, restart=True")
        if index and not index.isdigit():
            raise UsageError(f"fault on service {target}: instance after '#' must be a number")
        data = {"service": service, "instance": int(index or 0), "action": actions[0]}
    try:
        return FaultEntry.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'fault'}: {e['msg']}" for e in exc.errors())
        raise UsageError(f"fault on {target}: {problems}") from None
