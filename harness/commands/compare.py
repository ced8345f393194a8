"""`chaosdrill compare BASE NEW`: what changed between two runs, and whether it regressed.

Each side is a journal, a run folder, or a gate's report folder (the newest
run of each drill). Prints a text comparison (or Markdown for a pull-request
comment with --format markdown, and --markdown FILE writes it too); appends
the Markdown to $GITHUB_STEP_SUMMARY when set. Exit 0 no regression, 1 a
regression, 2 bad input.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from harness.errors import UsageError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("compare", help="compare two runs (journals, run folders or gate folders); exit 1 on a "
                                       "regression", description=__doc__)
    p.add_argument("base", type=Path, metavar="BASE", help="the earlier run: journal, run folder or gate folder")
    p.add_argument("new", type=Path, metavar="NEW", help="the later run, of the same drills")
    p.add_argument("--format", choices=["text", "markdown"], default="text", help="what to print (default text)")
    p.add_argument("--markdown", type=Path, default=None, metavar="FILE", help="also write the Markdown here")
    p.set_defaults(func=cmd_compare)


def compare_paths(base: Path, new: Path, fmt: str = "text", markdown_path: Path | None = None) -> int:
    """Compare two sides given as paths and print; 1 when anything regressed."""
    from harness.compare import read_side

    single = base.is_file() or (base / "journal.json").is_file()
    return compare_and_say(read_side(base, "BASE"), read_side(new, "NEW"), str(base), str(new), single,
                           fmt, markdown_path)


def compare_and_say(base_side: dict, new_side: dict, base: str, new: str, single: bool = False,
                    fmt: str = "text", markdown_path: Path | None = None) -> int:
    """Compare {drill: journal} sides, print, write the Markdown where asked; 1 when anything regressed.
    Shared with `gate --baseline`, whose NEW side is the runs it just made."""
    from harness.compare import compare_sides
    from harness.compare.render import markdown, text

    diffs, only_base, only_new = compare_sides(base_side, new_side, single)
    md = markdown(diffs, only_base, only_new, base, new)
    print(md if fmt == "markdown" else text(diffs, only_base, only_new, base, new))
    if markdown_path is not None:
        try:
            markdown_path.write_text(md, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"--markdown {markdown_path}: cannot write it: {exc.strerror or exc}") from None
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        try:
            with open(summary, "a", encoding="utf-8") as fh:
                fh.write(md + "\n")
        except OSError as exc:
            raise UsageError(f"GITHUB_STEP_SUMMARY={summary}: cannot append the comparison to it "
                             f"({exc.strerror or exc})") from None
    return 1 if any(d.regressions for d in diffs) else 0


def cmd_compare(args: argparse.Namespace) -> int:
    return compare_paths(args.base, args.new, args.format, args.markdown)
