"""How long a simulated user waits between tasks: a config's `pacing`, and Poisson arrivals.

Imports Locust (gevent): only the load process uses this module.
"""

from __future__ import annotations

import random
import time
from typing import Any, Callable

from locust import constant_pacing

from harness.load.config import Pacing


def poisson_pacing(interval_s: float) -> Callable[[Any], float]:
    """Task starts spaced by exponential gaps (mean `interval_s`): per user a
    Poisson arrival process, independent of how long each task took."""
    rate = 1.0 / interval_s

    def wait_time(user: Any) -> float:
        now = time.time()
        previous = getattr(user, "_chaosdrill_next_start", None) or now
        nxt = max(now, previous + random.expovariate(rate))
        user._chaosdrill_next_start = nxt
        return nxt - now

    return wait_time


def pacing_wait(p: Pacing) -> Callable[[Any], float]:
    """The wait_time for a config's `pacing`: Poisson arrivals or Locust's constant pacing."""
    return poisson_pacing(p.interval_s) if p.mode == "poisson" else constant_pacing(p.interval_s)
