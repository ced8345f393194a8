"""A lease: who owns a fault and until when (see leases.py for the mechanism)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any


@dataclass
class Lease:
    owner: str
    ttl: float
    expires: float  # time.monotonic()

    def renew(self, ttl: float | None = None) -> None:
        if ttl is not None:
            self.ttl = ttl
        self.expires = time.monotonic() + self.ttl

    def to_json(self) -> dict[str, Any]:
        remaining = max(0.0, self.expires - time.monotonic())
        return {"owner": self.owner, "ttl": self.ttl, "expires_in": round(remaining, 3)}
