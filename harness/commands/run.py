"""`chaosdrill run SCENARIO...`: drills end to end, reports, an exit code."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from harness.commands.common import (MODEL_MODULES, add_run_options, check_master_address, check_master_needed,
                                     check_output_paths, load_drills, parse_pairs, print_plans, run_suite)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "run",
        help="run one or more drills, write reports, exit 0/1/2/3",
        description="Run drills end to end: start the stack, drive load, inject faults on the "
        "scenario's timeline, judge every expectation and invariant, write reports. "
        "Exit 0 when every expectation is met, 1 when one failed or a drill aborted, "
        "2 on bad input, 3 when the harness itself failed.",
    )
    p.add_argument("scenarios", nargs="+", metavar="SCENARIO", help="scenario YAML file(s)")
    add_run_options(p)
    p.set_defaults(func=cmd_run, preload=MODEL_MODULES)


def cmd_run(args: argparse.Namespace) -> int:
    from harness.stack.runtime import check_service_options

    check_output_paths(args)
    check_master_address(args)
    service_args = parse_pairs(args.service_arg, "--service-arg")
    replicas = parse_pairs(args.replicas, "--replicas", as_int=True)

    def prepare(scenario: Any) -> Any:
        if args.profile:
            scenario = scenario.with_profile(args.profile)
        check_service_options(scenario.resolved_stack(), service_args, replicas)
        return scenario

    loaded = load_drills([Path(p) for p in args.scenarios], replicas, prepare)
    check_master_needed(args, loaded)
    if args.dry_run:
        return print_plans(loaded, service_args)

    _, worst = run_suite(loaded, args, service_args, replicas)
    return worst
