"""`chaosdrill report JOURNAL.json...`: render the reports of saved runs again.

Reads only the journal (docs/journal.md), so reports can be re-rendered
after a template change or on another machine. One journal: report.html,
summary.md and junit.xml next to it (or in --out). Several: each one's
reports next to it, plus a suite index.html and one junit.xml in --out.
`--postmortem`: only a game day's postmortem.md instead, for the team's
postmortem document (the other files are left as they are).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from harness.errors import UsageError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report",
        help="render report.html, summary.md and junit.xml from saved journal(s)",
        description="Render a drill's reports again from its journal.json. With several journals, "
        "also write a suite index.html and one junit.xml.",
    )
    p.add_argument("journals", nargs="+", type=Path, metavar="JOURNAL", help="journal.json of a run")
    p.add_argument("--out", type=Path, default=None,
                   help="output folder (default: next to the journal; with several, their common parent "
                        "gets the suite index)")
    p.add_argument("--junit", type=Path, default=None, help="write the JUnit XML here instead")
    p.add_argument("--postmortem", action="store_true",
                   help="write a game day's postmortem.md (timeline, hypotheses, findings, action items) "
                        "instead of the reports")
    kept = p.add_mutually_exclusive_group()
    kept.add_argument("--history", type=Path, default=None, metavar="PATH",
                      help="draw each drill's trend from this run history (default: history.sqlite in the folder "
                           "that holds the run folder, when there is one)")
    kept.add_argument("--no-history", action="store_true", help="no trend charts")
    p.set_defaults(func=cmd_report)


def run_folder(path: Path, out: Path | None) -> Path:
    """Where one run of a suite is rendered: its own folder, never shared with another journal.

    A run folder's journal.json renders next to it (or into OUT/<run folder>);
    loose journals such as pass.json and fail.json side by side each get
    a folder named after their file.
    """
    name = path.parent.name if path.name == "journal.json" else path.stem
    if out is not None:
        return out / name
    return path.parent if path.name == "journal.json" else path.parent / name


def history_for(path: Path, args: argparse.Namespace) -> Path | None:
    """The history a journal's trend is read from: --history, else the one its run appended to
    (REPORT_DIR/history.sqlite beside its run folder); None with --no-history."""
    from harness.history import DEFAULT_FILE

    if args.no_history:
        return None
    if args.history is not None:
        return args.history
    return (path.parent.parent if path.name == "journal.json" else path.parent) / DEFAULT_FILE


def cmd_report(args: argparse.Namespace) -> int:
    from harness.history import read_trends
    from harness.report import render_all, render_suite
    from harness.run.journal import read_journal

    paths = [p / "journal.json" if p.is_dir() else p for p in args.journals]
    loaded = [(read_journal(p), p) for p in paths]
    if args.history is not None and not args.history.is_file():
        raise UsageError(f"--history {args.history}: no history file there")
    trends: dict[str, list] = {}
    for journal, path in loaded:  # a re-rendered report shows the trend as it stood at its run
        trends.update(read_trends(history_for(path, args), [journal]) or {})
    if args.out is not None and args.out.exists() and not args.out.is_dir():
        raise UsageError(f"--out {args.out}: is a file; give a folder to write the reports into")
    if args.junit is not None and args.junit.is_dir():
        raise UsageError(f"--junit {args.junit}: is a folder; give the path of the file to write")
    if args.postmortem:
        return write_postmortems(loaded, args)
    if len(loaded) == 1:
        journal, path = loaded[0]
        out = args.out or path.parent
        written = render_all(journal, out, args.junit, trend=trends.get(str(journal.get("run_id") or "")))
        print(f"{journal.get('status', '?').upper()}: {(journal.get('scenario') or {}).get('title', path)}")
        for name, where in written.items():
            print(f"  {name}: {where}")
        return 0
    runs = []
    for journal, path in loaded:
        run_dir = run_folder(path, args.out)
        render_all(journal, run_dir, trend=trends.get(str(journal.get("run_id") or "")))
        runs.append((journal, run_dir))
    out = args.out or Path(os.path.commonpath([str(p.parent.resolve()) for p in paths]))
    written = render_suite(runs, out, args.junit, trends=trends)
    passed = sum(1 for j, _ in loaded if j.get("status") == "passed")
    print(f"{passed}/{len(loaded)} passed")
    for name, where in written.items():
        print(f"  {name}: {where}")
    return 0


def write_postmortems(loaded: list[tuple[dict[str, Any], Path]], args: argparse.Namespace) -> int:
    """postmortem.md next to each game day's journal (or in --out); nothing is written unless all are game days."""
    from harness.report.postmortem import Postmortem, read_postmortem, render_postmortem

    if args.junit is not None:
        raise UsageError("--junit: not with --postmortem, which writes one Markdown file per journal")
    postmortems: list[tuple[Postmortem, Path]] = []
    for journal, path in loaded:
        pm = read_postmortem(journal)
        if pm is None:
            raise UsageError(f"{path}: not a game day's journal (its scenario has no \"kind\": \"gameday\"); "
                             "--postmortem needs the journal.json of a chaosdrill gameday")
        postmortems.append((pm, path))
    for pm, path in postmortems:
        folder = (args.out or path.parent) if len(loaded) == 1 else run_folder(path, args.out)
        target = folder / "postmortem.md"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            target.write_text(render_postmortem(pm), encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"{target}: cannot write: {exc.strerror or exc}") from None
        print(f"postmortem: {target}")
    return 0
