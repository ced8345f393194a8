"""Invariants checked on audit data after a drill (see registry.py).

The built-in plugins register themselves with the registry when imported,
one module per plugin. Importing them here, where the registry does not
look, has them registered before any module of the package is used (Python
imports a package before its modules).
"""

from harness.invariants import lending  # noqa: F401  (registers the "lending" plugin)
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
