"""The reports folder and the run folders inside it, for every front end.

One place decides whether `--report-dir` is usable and what a run folder is
called, so `run`, `gate`, `matrix`, the pytest plugin and the game day all say
the same thing about the same mistake.
"""

from __future__ import annotations

import time
from pathlib import Path

from harness.errors import UsageError


def _refuse(report_dir: Path, exc: OSError) -> UsageError:
    why = "it is a file, not a folder" if report_dir.is_file() else (exc.strerror or str(exc))
    return UsageError(f"--report-dir {report_dir}: cannot use it as the reports folder: {why}")


def check_report_dir(report_dir: Path) -> None:
    """Find out before anything starts whether run folders can be made here,
    without leaving a folder behind: bad input found later must leave no trace."""
    missing = [p for p in [report_dir, *report_dir.parents] if not p.exists()]  # deepest first
    try:
        report_dir.mkdir(parents=True, exist_ok=True)
        for made in missing:
            made.rmdir()
    except OSError as exc:
        raise _refuse(report_dir, exc) from None


def new_run_dir(report_dir: Path, name: str, create: bool = True) -> Path:
    """`<UTC timestamp>-<name>`, with `-2`, `-3`... when two runs start in the same second.
    `create=False` only picks the name (the game day makes it once its start is certain)."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    run_dir = report_dir / f"{stamp}-{name}"
    n = 1
    while run_dir.exists():
        n += 1
        run_dir = report_dir / f"{stamp}-{name}-{n}"
    if create:
        make_run_dir(report_dir, run_dir)
    return run_dir


def make_run_dir(report_dir: Path, run_dir: Path) -> None:
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _refuse(report_dir, exc) from None
