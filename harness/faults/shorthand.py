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

# The attribute a toxic's keyword value sets.
MAIN_ATTRIBUTE = {
    "latency": "latency",
    "bandwidth": "rate",
    "slow_close": "delay",
    "timeout": "timeout",
    "reset_peer": "timeout",
    "limit_data": "bytes",
    "slicer": "average_size",
    "http_error": "status",
    "http_latency": "latency",
    "noop": None,
}
PROCESS_ACTIONS = ("kill", "pause", "restart")


def fault_entry(target: str, **kwargs: Any) -> Any:
    """fault("a->b", latency="800ms", jitter="100ms"), fault("a->b", down=True),
    fault("svc", kill=True), fault("svc#1", pause=True); stream= and toxicity= too."""
    from harness.scenario.model import FaultEntry
    from harness.scenario.toxics import TOXICS
    from harness.schema.suggest import did_you_mean

    if "->" in target:
        data: dict[str, Any] = {"link": target}
        for key in ("stream", "toxicity"):
            if key in kwargs:
                data[key] = kwargs.pop(key)
        if kwargs.pop("down", False):
            data["toxic"] = "down"
        else:
            kinds = [k for k in kwargs if k in MAIN_ATTRIBUTE]
            known = set(MAIN_ATTRIBUTE) | {a for toxic in TOXICS.values() for a in toxic} | {"down"}
            for key in kwargs:
                if key not in known:
                    raise UsageError(f"fault on link {target}: unknown keyword {key!r}{did_you_mean(key, sorted(known))}")
            if len(kinds) != 1:
                raise UsageError(f"fault on link {target}: name exactly one toxic (one of {', '.join(MAIN_ATTRIBUTE)})")
            kind = kinds[0]
            main = kwargs.pop(kind)
            attributes = dict(kwargs)
            if MAIN_ATTRIBUTE[kind] and main is not True:
                attributes[MAIN_ATTRIBUTE[kind]] = main
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
