"""`chaosdrill history`: each drill's score and key measures over time, from the run history.

Reads the store every run appends to (REPORT_DIR/history.sqlite, docs/history.md);
never runs or re-measures anything.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.errors import UsageError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("history", help="each drill's score and key measures over its last runs",
                       description="Print, per drill, its last runs from the run history: when, verdict, score, "
                       "commit, the fault phases' error rate and p99, and the worst failure. See docs/history.md.")
    p.add_argument("--drill", default=None, metavar="NAME",
                   help="only this drill (its scenario file's stem, matrix-<stack>, or gameday)")
    p.add_argument("--last", type=_count, default=10, metavar="N", help="runs per drill (default: 10)")
    p.add_argument("--history", type=Path, default=Path("reports") / "history.sqlite", metavar="PATH",
                   help="the history file (default: reports/history.sqlite)")
    p.set_defaults(func=cmd_history)


def _count(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: a whole number of runs, 1 or more")
    return int(text)


def cmd_history(args: argparse.Namespace) -> int:
    from harness.history import HistoryError
    from harness.history.store import drills, measures_of, open_read, runs_of
    from harness.history.table import render_drill
    from harness.schema.suggest import unknown_name

    if not args.history.exists():
        raise UsageError(f"{args.history}: no history file there (runs write REPORT_DIR/history.sqlite; "
                         "--history PATH names another)")
    try:
        conn = open_read(args.history)
    except HistoryError as exc:
        raise UsageError(str(exc)) from None
    import sqlite3

    try:
        known = {d["drill"]: d["runs"] for d in drills(conn)}
        if args.drill is not None and args.drill not in known:
            raise UsageError(unknown_name("drill", args.drill, known, known_in=str(args.history)))
        if not known:
            print(f"{args.history}: no runs recorded yet")
            return 0
        blocks = []
        for drill in [args.drill] if args.drill else sorted(known):
            runs = runs_of(conn, drill, args.last)
            blocks.append(render_drill(drill, known[drill], runs, measures_of(conn, [r["id"] for r in runs])))
    except sqlite3.Error as exc:
        raise UsageError(f"{args.history}: cannot read it: {exc}") from None
    finally:
        conn.close()
    print("\n\n".join(blocks))
    return 0
