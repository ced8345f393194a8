"""Invariants checked on audit data after a drill (see registry.py)."""

from harness.invariants.registry import (
    AuditData,
    Invariant,
    InvariantResult,
    check_invariants,
    invariant,
    invariants_of,
    plugins,
)

__all__ = ["AuditData", "Invariant", "InvariantResult", "check_invariants", "invariant", "invariants_of", "plugins"]
