"""noop: passes bytes through untouched (Toxiproxy's placeholder toxic)."""

from __future__ import annotations

import dataclasses

from harness.proxy.toxics.base import Toxic


@dataclasses.dataclass(frozen=True)
class NoopToxic(Toxic):
    type_name = "noop"
    order = 80
    passes_through = True
