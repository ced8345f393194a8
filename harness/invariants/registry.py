"""Invariant plugins: named checks of a system's records after a drill.

A stack's `audit.plugin` names a group of invariants (e.g. "lending"); a
scenario lists which of them to check. Each invariant is a plain function
registered with `@invariant(name, plugin=...)`, given the raw audit records
and what the load saw acknowledged, so the harness checks the data itself and
never trusts a service's own verdict. The registry knows no plugin: the
package (harness/invariants/__init__.py) imports the built-in ones, and
that registers them before anything can ask.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

MAX_OFFENDING = 50  # items listed per result; counts still say how many in all


@dataclass
class AuditData:
    """What the runner fetched: {audit endpoint name: parsed JSON}, plus the
    client-side record of acknowledged requests ({request_id, loan_id, code, ...})."""

    endpoints: dict[str, Any]
    acknowledgements: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class InvariantResult:
    name: str
    passed: bool
    counts: dict[str, int] = field(default_factory=dict)
    offending: list[str] = field(default_factory=list)
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "passed": self.passed, "counts": dict(self.counts),
                "offending": list(self.offending[:MAX_OFFENDING]), "message": self.message}


CheckFn = Callable[[AuditData], InvariantResult]


@dataclass(frozen=True)
class Invariant:
    name: str
    plugin: str
    check: CheckFn
    description: str


_REGISTRY: dict[str, dict[str, Invariant]] = {}


def invariant(name: str, plugin: str) -> Callable[[CheckFn], CheckFn]:
    """Register `fn(AuditData) -> InvariantResult` as invariant `name` of `plugin`."""

    def register(fn: CheckFn) -> CheckFn:
        group = _REGISTRY.setdefault(plugin, {})
        if name in group:
            raise ValueError(f"invariant {name!r} of plugin {plugin!r} is registered twice")
        doc = (fn.__doc__ or "").strip().splitlines()
        group[name] = Invariant(name, plugin, fn, doc[0] if doc else name)
        return fn

    return register


def plugins() -> list[str]:
    return sorted(_REGISTRY)


def invariants_of(plugin: str | None) -> dict[str, Invariant]:
    """The invariants of one plugin (all of them when plugin is None)."""
    if plugin is None:
        return {n: inv for group in _REGISTRY.values() for n, inv in group.items()}
    return dict(_REGISTRY.get(plugin, {}))


def check_invariants(plugin: str, names: list[str], endpoints: dict[str, Any],
                     acknowledgements: list[dict[str, Any]] | None = None) -> list[InvariantResult]:
    """Run the named invariants; a check that cannot read the data fails, it never crashes the run."""
    known = invariants_of(plugin)
    data = AuditData(endpoints=endpoints or {}, acknowledgements=list(acknowledgements or []))
    results = []
    for name in names:
        inv = known.get(name)
        if inv is None:
            results.append(InvariantResult(name, False, message=f"no invariant {name!r} in plugin {plugin!r}"))
            continue
        try:
            result = inv.check(data)
        except Exception as exc:  # malformed audit data is a failed check, with the reason
            result = InvariantResult(name, False, message=f"could not check: the audit data is not as expected ({exc!r})")
        result.offending = result.offending[:MAX_OFFENDING]
        results.append(result)
    return results
