"""Did-you-mean hints for names a user mistyped."""

from __future__ import annotations

import difflib
from typing import Iterable


def closest(word: str, choices: Iterable[str]) -> str | None:
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return close[0] if close else None


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """" (did you mean 'x'?)" or "" when nothing is close."""
    match = closest(word, choices)
    return f" (did you mean '{match}'?)" if match else ""


def known_list(choices: Iterable[str], limit: int = 12) -> str:
    items = sorted(str(c) for c in choices)
    if not items:
        return "(none)"
    shown = ", ".join(items[:limit])
    return shown + (f", ... ({len(items) - limit} more)" if len(items) > limit else "")


def unknown_name(kind: str, name: str, choices: Iterable[str], known_in: str = "") -> str:
    """"unknown link 'a->b' (did you mean 'a->c'?); known: a->c, ..." — one wording for every lookup.

    `known_in` says where the known names come from, e.g. "stack lending".
    """
    choices = list(choices)
    where = f" in {known_in}" if known_in else ""
    return f"unknown {kind} '{name}'{did_you_mean(name, choices)}; known{where}: {known_list(choices)}"
