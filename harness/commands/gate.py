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

from harness.commands.common import MODEL_MODULES
from harness.errors import UsageError
from harness.schema.suggest import did_you_mean


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("gate", help="run every scenario of a folder with its gate profile, as a CI gate")
    p.add_argument("directory", nargs="?", type=Path, default=Path("scenarios"),
                   help="folder of scenario files (default: scenarios/)")
    p.add_argument("--profile", default="gate", help="profile to apply (default: gate; 'none' for full length)")
    p.add_argument("--only", action="append", default=[], metavar="NAME",
                   help="run only scenarios whose file name contains NAME (repeatable)")
    p.add_argument("--baseline", type=Path, default=None, metavar="DIR",
                   help="compare with an earlier gate's report folder (or a run folder, a journal) after the "
                        "run, as `chaosdrill compare` does; a regression makes the gate fail (exit 1)")
    from harness.commands.common import add_run_options

    add_run_options(p, with_profile=False)
    p.set_defaults(func=cmd_gate, preload=MODEL_MODULES)


def scenario_files(directory: Path, only: list[str]) -> list[Path]:
    if not directory.is_dir():
        raise UsageError(f"gate: {directory} is not a folder")
    files = sorted(p for p in directory.glob("*.y*ml") if p.suffix in (".yaml", ".yml"))
    if only:
        files = [p for p in files if any(o in p.name for o in only)]
    if not files:
        raise UsageError(f"gate: no scenario files in {directory}" + (f" matching {only}" if only else ""))
    return files


def _with_profile(loaded: list, profile: str, directory: str) -> list:
    """Each drill with the profile where it has one; a profile no drill has is a typo, not a quiet full-length gate."""
    known = sorted({name for _, scenario in loaded for name in (scenario.profiles or {})})
    if loaded and profile not in known:
        raise UsageError(
            f"--profile {profile}: no drill in {directory} has this profile{did_you_mean(profile, known)}; "
            f"known: {', '.join(known) or 'none'} (--profile none runs every drill at full length)"
        )
    out = []
    for path, scenario in loaded:
        if profile in (scenario.profiles or {}):
            scenario = scenario.with_profile(profile)
        else:
            print(f"gate: {path} has no '{profile}' profile: it runs at full length", file=sys.stderr)
        out.append((path, scenario))
    return out


def cmd_gate(args: argparse.Namespace) -> int:
    from harness.commands.common import (
        answer_warnings,
        check_master_address,
        check_master_needed,
        check_output_paths,
        load_drills,
        parse_pairs,
        print_plans,
        run_suite,
    )
    from harness.stack.runtime import check_service_options

    check_output_paths(args)
    check_master_address(args)
    if args.baseline is not None and not args.baseline.exists():
        raise UsageError(f"--baseline {args.baseline}: no such file or folder")
    files = scenario_files(args.directory, args.only)
    service_args = parse_pairs(args.service_arg, "--service-arg")
    replicas = parse_pairs(args.replicas, "--replicas", as_int=True)
    loaded = load_drills(files, replicas)
    if args.profile != "none":
        loaded = _with_profile(loaded, args.profile, args.directory)
    for _, scenario in loaded:  # an option naming no service of a drill is a typo: say so before any drill runs
        check_service_options(scenario.resolved_stack(), service_args, replicas)
    check_master_needed(args, loaded)
    if args.dry_run:
        return print_plans(loaded, service_args)
    started = time.monotonic()
    print(f"gate: {len(loaded)} drill(s) from {args.directory}", file=sys.stderr)
    for line in answer_warnings(loaded):  # said up front; each drill says it again as it starts
        print(f"gate: {line}", file=sys.stderr)
    outcomes, worst = run_suite(loaded, args, service_args, replicas, force_suite=True)
    for journal, run_dir in outcomes:  # one line per drill at the end, where a CI log is read first
        name = Path(journal["scenario"].get("path") or run_dir.name).name
        reason = f" — {journal['reason']}" if journal.get("reason") and journal["status"] != "passed" else ""
        print(f"  {journal['status'].upper():<7} {name}{reason}")
    passed = sum(1 for j, _ in outcomes if j["status"] == "passed")
    print(f"gate: {passed}/{len(outcomes)} passed in {time.monotonic() - started:.0f}s — "
          f"{'PASS' if worst == 0 else 'FAIL'}")
    if args.baseline is not None and worst != 130:
        from harness.commands.compare import compare_and_say
        from harness.compare import drill_name, read_side

        # NEW is this gate's own runs, not whatever older runs share --report-dir
        this_gate = {drill_name(journal): journal for journal, _ in outcomes}
        if compare_and_say(read_side(args.baseline, "--baseline"), this_gate, str(args.baseline),
                           "this gate") and worst == 0:
            return 1
    return worst
