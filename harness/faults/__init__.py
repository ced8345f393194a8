"""Faults the runner applies and reverts: one small module per kind.

Like Toxiproxy's toxics, every fault plugs into one interface (base.Fault):
`apply` and `revert`, both safe to call on every exit path, `revert` safe to
call twice. Link faults go through the Toxiproxy API; process faults act on
a service instance. build_fault (factory.py) makes the right kind from a
scenario's fault entry.
"""

from harness.faults.base import Fault
from harness.faults.factory import build_fault

__all__ = ["Fault", "build_fault"]
