"""`chaosdrill validate FILE...`: check scenario and stack files without running anything.

A file with a top-level `phases` key is a scenario (its stack is checked
too); one with `services` is a stack. Prints `ok FILE` or one line per
problem (`file:LINE field: message`); exit 0 when all are valid, else 2.
A valid scenario also gets a `warning:` line for each share expectation a
single answer would decide, as written and in each profile
(harness/run/answers.py): valid, but its verdict would be luck.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from harness.commands.common import MODEL_MODULES, answer_warnings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "validate",
        help="check scenario or stack files (exit 0 valid, 2 invalid)",
        description="Check scenario and stack files against their schemas and each other: every "
        "problem is printed as FILE:LINE field.path: message. Exit 0 when every file is valid, 2 otherwise.",
    )
    p.add_argument("files", nargs="+", metavar="FILE",
                   help="scenario or stack YAML file(s); a folder stands for its *.yaml files")
    p.add_argument("--kind", choices=("auto", "scenario", "stack"), default="auto",
                   help="what the files are (default: auto, by their top-level keys)")
    p.set_defaults(func=cmd_validate, preload=MODEL_MODULES)


def file_kind(path: Path) -> str:
    """'stack' when the file's top level has `services` and no `phases`, else 'scenario'."""
    from harness.schema.errors import FileError
    from harness.schema.loading import read_source

    try:
        data = read_source(path).data
    except FileError:
        return "scenario"  # the scenario loader reports the same read error
    return "stack" if "services" in data and "phases" not in data else "scenario"


def validate_file(path: Path, kind: str = "auto") -> list[str]:
    """Problems of one file as printable lines (empty: valid)."""
    return _checked(path, kind)[1]


def _checked(path: Path, kind: str) -> tuple[Any, list[str]]:
    """The valid scenario (None for a stack or an invalid file) and the file's problems."""
    from harness.scenario import validate_scenario_file
    from harness.stack.files import validate_stack_file

    if kind == "auto":
        kind = file_kind(path)
    if kind == "stack":
        _, issues = validate_stack_file(path)
        return None, [str(i) for i in issues]
    scenario, issues = validate_scenario_file(path)
    return scenario, [str(i) for i in issues]


def profile_variants(path: Path, scenario: Any) -> list[tuple[Path, Any]]:
    """The scenario as written and with each of its profiles, for the answer warnings."""
    return [(path, scenario), *((path, scenario.with_profile(name)) for name in scenario.profiles)]


def expand(names: list[str]) -> list[str]:
    """Files as given; a folder becomes its YAML files (not recursive), sorted."""
    out: list[str] = []
    for name in names:
        path = Path(name)
        if path.is_dir():
            out += [str(p) for p in sorted(path.iterdir()) if p.suffix in (".yaml", ".yml") and p.is_file()]
        else:
            out.append(name)
    return out


def cmd_validate(args: argparse.Namespace) -> int:
    from harness.errors import UsageError

    files = expand(args.files)
    if not files:  # a CI step pointed at the wrong folder must not pass
        raise UsageError(f"no .yaml files in {', '.join(args.files)}")
    worst = 0
    for name in files:
        scenario, problems = _checked(Path(name), args.kind)
        if problems:
            worst = 2
            for line in problems:
                print(line)
        else:
            print(f"ok {name}")
            for line in answer_warnings(profile_variants(Path(name), scenario)) if scenario is not None else []:
                print(line)  # valid, and still worth fixing: the exit code stays 0
    if worst:
        print("chaosdrill: error: invalid file(s); fix the problems above", file=sys.stderr)
    return worst
