"""`chaosdrill validate` (being built: see the open issues)."""

from __future__ import annotations

import argparse

from harness.errors import UsageError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("validate", help="(not available yet)")
    p.set_defaults(func=_not_yet)


def _not_yet(args: argparse.Namespace) -> int:
    raise UsageError("'chaosdrill validate' is not available in this version yet")
