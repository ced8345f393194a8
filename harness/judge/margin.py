"""How many answers a share's bound is worth: the resolution of a rate on n answers.

A share measured on n answers moves in steps of 1/n. When one answer is a
step as wide as the bound (`< 1%` on 80 answers: one error is 1.25 %), the
bound no longer says anything about the system, only about which run was
unlucky. Two questions use this arithmetic, so they share it here:

- before a run (harness/run/answers.py): would a single answer move the
  share across its bound, given the answers the window is expected to hold?
- after a run (judging.py): by how many answers did a failed share miss
  its bound (`decided by N answers`)?

A share bounded above (`<`, `<=`) is expected near 0 %: its step is one
answer more. A share bounded below (`>`, `>=`) is expected near 100 %: its
step is one answer fewer. `==` and `!=` on a share are exact by intent and
get neither a warning nor a count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from harness.schema.thresholds import Threshold

# A failed share missed by fewer answers than this says `decided by N answers`: one or two
# answers over a bound are what chance gives a healthy system in a short window.
DECIDED_BY_MIN = 3

UPPER = ("<", "<=")
LOWER = (">", ">=")


def is_bound(threshold: Threshold) -> bool:
    """A share with an upper or lower bound (the thresholds this module can reason about)."""
    return threshold.unit == "%" and threshold.op in UPPER + LOWER


def one_answer_crosses(threshold: Threshold, n: float) -> bool:
    """Would a single answer move a share on `n` answers across its bound?

    Upper bound: one answer of n (1/n) already fails it. Lower bound: all
    answers but one ((n-1)/n) already fail it. Fewer than one answer
    (n < 1) crosses anything.
    """
    if not is_bound(threshold):
        return False
    if n < 1:
        return True
    if threshold.op in UPPER:
        return not threshold.check(1.0 / n)
    return not threshold.check((n - 1.0) / n)


@dataclass(frozen=True)
class Beyond:
    """How far a measured count on n answers is from what its bound admits."""

    answers: int  # how many answers would have to change for the share to pass
    limit: int  # the most answers an upper bound allows, the fewest a lower bound needs
    upper: bool


def answers_beyond(threshold: Threshold, count: int, n: int) -> Beyond | None:
    """The answers a failed share is beyond its bound; None for a pass, no answers or no bound."""
    if n <= 0 or not is_bound(threshold) or threshold.check(count / n):
        return None
    if threshold.op in UPPER:
        limit = min(n, max(0, math.floor(threshold.value * n + 1e-9)))
        while limit > 0 and not threshold.check(limit / n):
            limit -= 1  # '<' excludes the bound itself
        if not threshold.check(limit / n):
            return Beyond(count, -1, True)  # '< 0%': nothing passes; every answer counts
        return Beyond(count - limit, limit, True)
    limit = max(0, min(n, math.ceil(threshold.value * n - 1e-9)))
    while limit < n and not threshold.check(limit / n):
        limit += 1  # '>' excludes the bound itself
    if not threshold.check(limit / n):
        return Beyond(n - count, n + 1, False)  # '> 100%': nothing passes
    return Beyond(limit - count, limit, False)


def decided_by(threshold: Threshold, count: int, n: int, what: str) -> str:
    """`decided by 1 answer (errors: 1 of 74; < 1% allows 0)`, or '' when more answers decided it."""
    beyond = answers_beyond(threshold, count, n)
    if beyond is None or beyond.answers >= DECIDED_BY_MIN or beyond.limit < 0 or beyond.limit > n:
        return ""
    plural = "answer" if beyond.answers == 1 else "answers"
    verb = "allows" if beyond.upper else "needs"
    return f"decided by {beyond.answers} {plural} ({what}: {count} of {n}; {threshold} {verb} {beyond.limit})"


__all__ = ["DECIDED_BY_MIN", "Beyond", "answers_beyond", "decided_by", "is_bound", "one_answer_crosses"]
