"""`chaosdrill gate [DIR]`: the pre-release resilience gate.

Every scenario of DIR (default scenarios/) runs as one suite with its `gate`
profile (short phases), one line per scenario, one JUnit file and an index
report; the exit code is non-zero when any drill fails.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from harness.errors import UsageError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("gate", help="run every scenario of a folder with its gate profile, as a CI gate")
    p.add_argument("directory", nargs="?", type=Path, default=Path("scenarios"),
                   help="folder of scenario files (default: scenarios/)")
    p.add_argument("--profile", default="gate", help="profile to apply (default: gate; 'none' for full length)")
    p.add_argument("--only", action="append", default=[], metavar="NAME",
                   help="run only scenarios whose file name contains NAME (repeatable)")
    from harness.commands.run import add_run_options

    add_run_options(p, with_profile=False)
    p.set_defaults(func=cmd_gate)


def scenario_files(directory: Path, only: list[str]) -> list[Path]:
    if not directory.is_dir():
        raise UsageError(f"gate: {directory} is not a folder")
    files = sorted(p for p in directory.glob("*.y*ml") if p.suffix in (".yaml", ".yml"))
    if only:
        files = [p for p in files if any(o in p.name for o in only)]
    if not files:
        raise UsageError(f"gate: no scenario files in {directory}" + (f" matching {only}" if only else ""))
    return files


def cmd_gate(args: argparse.Namespace) -> int:
    from harness.commands.run import parse_pairs, run_suite
    from harness.scenario import load_scenario

    files = scenario_files(args.directory, args.only)
    loaded = []
    for path in files:
        scenario = load_scenario(path)
        if args.profile != "none" and args.profile in (scenario.profiles or {}):
            scenario = scenario.with_profile(args.profile)
        loaded.append((path, scenario))
    started = time.monotonic()
    print(f"gate: {len(loaded)} drill(s) from {args.directory}", file=sys.stderr)
    outcomes, worst = run_suite(
        loaded, args, parse_pairs(args.service_arg, "--service-arg"),
        parse_pairs(args.replicas, "--replicas", as_int=True), force_suite=True,
    )
    passed = sum(1 for j, _ in outcomes if j["status"] == "passed")
    print(f"gate: {passed}/{len(outcomes)} passed in {time.monotonic() - started:.0f}s — "
          f"{'PASS' if worst == 0 else 'FAIL'}")
    return worst
