"""`chaosdrill matrix`: every link x every fault kind, as a heat map.

One drill with one stack and one load walks the cells; each is classified
unaffected / degraded gracefully / ungraceful / data integrity broken from its
own seconds and an audit right after it. Weaker faults are skipped where a
stronger one of the same family on the same link was already absorbed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from harness.commands.common import MODEL_MODULES, duration_arg, share_arg
from harness.errors import UsageError


def register(sub: argparse._SubParsersAction) -> None:
    from harness.matrix.catalogue import CATALOGUE

    p = sub.add_parser("matrix", help="every link x every fault kind under load, as a resilience heat map",
                       description=__doc__)
    p.add_argument("--stack", default="lending", help="built-in stack name or stack file (default: lending)")
    p.add_argument("--links", nargs="+", default=None, metavar="LINK",
                   help="links to explore (default: every link of the stack; edge links like client->lending allowed)")
    p.add_argument("--faults", nargs="+", default=None, metavar="FAULT",
                   help=f"fault kinds (default: all: {' '.join(k.name for k in CATALOGUE)})")
    p.add_argument("--users", type=int, default=100, help="Locust users (default: 100)")
    p.add_argument("--baseline", type=float, default=8.0, metavar="S", help="baseline seconds (default 8)")
    p.add_argument("--fault-time", type=float, default=5.0, metavar="S", help="seconds each fault lasts (default 5)")
    p.add_argument("--settle", type=float, default=4.0, metavar="S", help="seconds to recover after each (default 4)")
    p.add_argument("--no-prune", action="store_true", help="run every cell, even those implied by a stronger fault")
    p.add_argument("--fail-on", choices=["never", "ungraceful", "integrity"], default="never",
                   help="exit 1 when a cell is this bad or worse (default: never; the matrix is a map)")
    p.add_argument("--deadline", type=duration_arg, default=None, metavar="DURATION",
                   help="the slowest answer a user accepts; slower ones make a cell ungraceful, 'too slow' "
                        "(default: the stack's deadline, else the load's client timeout, 5s)")
    p.add_argument("--baseline-error-rate", type=share_arg, default=0.01, metavar="SHARE",
                   help="the most errors a steady baseline may have, e.g. 1%% or 0.01 (default 1%%)")
    p.add_argument("--accept-unsteady-baseline", action="store_true",
                   help="map the cells even when the baseline is not steady; every cell is then marked as "
                        "judged against an unsteady baseline, and none implies another")
    from harness.commands.common import add_run_options

    # the matrix's load has no remote workers, and its cells are decided as it runs (no timeline to print)
    add_run_options(p, with_profile=False, with_master=False, with_dry_run=False)
    p.set_defaults(func=cmd_matrix, preload=MODEL_MODULES)


def cmd_matrix(args: argparse.Namespace) -> int:
    from harness.commands.common import check_output_paths, copy_junit, history_of, parse_pairs
    from harness.invariants import invariants_of
    from harness.matrix.catalogue import BY_NAME, CATALOGUE, OUTCOMES
    from harness.matrix.driver import MatrixDriver, MatrixSettings, steady_line
    from harness.matrix.render import render_matrix
    from harness.run.drill import run_one
    from harness.run.progress import Progress
    from harness.scenario import Scenario
    from harness.stack.files import load_stack
    from harness.stack.runtime import check_service_options

    check_output_paths(args)
    service_args = parse_pairs(args.service_arg, "--service-arg")
    replicas = parse_pairs(args.replicas, "--replicas", as_int=True)
    stack = load_stack(args.stack)
    check_service_options(stack, service_args, replicas)
    stack = stack.with_replicas(replicas)
    known_links = stack.fault_links()
    links = args.links or list(stack.links)
    for link in links:
        if link not in known_links:
            raise UsageError(f"--links: unknown link {link!r}; known: {', '.join(known_links)}")
    faults = args.faults or [k.name for k in CATALOGUE]
    for f in faults:
        if f not in BY_NAME:
            raise UsageError(f"--faults: unknown fault kind {f!r}; known: {', '.join(BY_NAME)}")
    if args.users < 1:
        raise UsageError("--users must be at least 1")
    import math

    for flag, value, least in (("--baseline", args.baseline, "above 0"), ("--fault-time", args.fault_time, "above 0"),
                               ("--settle", args.settle, "0 or more")):
        if not math.isfinite(value) or value < 0 or (value == 0 and least == "above 0"):
            raise UsageError(f"{flag} {value:g}: seconds must be {least}")
    targets = {}
    for link in links:
        to = link.split("->", 1)[1]
        targets[link] = to.split("#", 1)[0]
    plugin = stack.audit.plugin if stack.audit else None
    invariants = sorted(invariants_of(plugin)) if plugin else []
    from harness.load.config import DEFAULT_REQUEST_TIMEOUT_S

    deadline_s = args.deadline or stack.deadline or DEFAULT_REQUEST_TIMEOUT_S
    settings = MatrixSettings(links=links, faults=faults, baseline_s=args.baseline, fault_s=args.fault_time,
                              settle_s=args.settle, prune=not args.no_prune, hang_ms=DEFAULT_REQUEST_TIMEOUT_S * 1000,
                              deadline_ms=deadline_s * 1000, max_error_rate=args.baseline_error_rate,
                              accept_unsteady=args.accept_unsteady_baseline)
    scenario = Scenario.model_validate({
        "title": f"Resilience matrix: {stack.name}",
        "plan": "Every link under every fault kind, one at a time, under steady load: which faults the "
                "system absorbs, which it degrades gracefully under, which hurt users, which break data. "
                "The baseline must be steady first: nothing ungraceful, few errors, p99 under the deadline.",
        "stack": str(stack.source) if stack.source else stack.name,
        "load": {"users": args.users, "spawn_rate": args.users},
        "phases": [{"name": "baseline", "duration": settings.baseline_s, "expect": settings.steady_expect()},
                   {"name": "matrix", "duration": settings.estimate_s() - settings.baseline_s}],
        "invariants": invariants,
    })
    scenario._stack = stack
    driver = MatrixDriver(settings, targets, invariants)
    print(f"matrix: {len(links)} link(s) x {len(faults)} fault kind(s), up to {settings.estimate_s() / 60:.1f} min",
          file=sys.stderr)
    journal, run_dir = run_one(Path(f"matrix-{stack.name}.yaml"), scenario, args.report_dir, service_args, replicas,
                               args.fault_proxy,
                               Progress(quiet=args.quiet), backend=args.backend, driver=driver,
                               run_name=f"matrix-{stack.name}", allow_remote=args.allow_remote,
                               history=history_of(args))
    if journal["status"] == "error" or "matrix" not in journal:
        return journal["exit_code"] or 3
    matrix = journal["matrix"]
    if matrix.get("stopped"):
        render_matrix(matrix, journal, run_dir, args.fail_on)
        print(f"FAILED: matrix stopped at the {steady_line(matrix['baseline'])}. No fault was injected: "
              "fix the baseline first, or --accept-unsteady-baseline to map the cells against it")
        return 1
    paths = render_matrix(matrix, journal, run_dir, args.fail_on)
    print_matrix(matrix)
    print(f"  matrix: {paths['html']}")
    if args.junit is not None:
        copy_junit(paths["junit"], args.junit)
    if args.fail_on != "never":
        # The drill's own verdict line above judged its invariants; this one says what --fail-on made of
        # the cells, so an exit 1 after 'PASSED' is explained on the last line.
        bar = OUTCOMES.index(args.fail_on)
        hit = [f"{c['link']} x {c['fault']}" for c in matrix["cells"] if OUTCOMES.index(c["outcome"]) >= bar]
        if hit:
            print(f"FAILED: --fail-on {args.fail_on}: {len(hit)} cell(s) {args.fail_on} or worse: {', '.join(hit)}")
            return 1
        print(f"passed --fail-on {args.fail_on}: no cell {args.fail_on} or worse")
    return 0 if journal["exit_code"] in (0, 1) else journal["exit_code"]


def print_matrix(matrix: dict) -> None:
    short = {"unaffected": "unaffected", "graceful": "graceful", "ungraceful": "UNGRACEFUL", "integrity": "INTEGRITY"}
    faults = matrix["faults"]
    width = max(len(link) for link in matrix["links"]) + 2
    print(" " * width + "".join(f"{f[:11]:>12}" for f in faults))
    grid = {(c["link"], c["fault"]): c for c in matrix["cells"]}
    for link in matrix["links"]:
        row = []
        for f in faults:
            c = grid.get((link, f))
            text = "" if c is None else short[c["outcome"]] + ("*" if not c.get("ran") else "")
            row.append(f"{text:>12}")
        print(f"{link:<{width}}" + "".join(row))
    print(f"  * implied by a stronger fault on the same link; {matrix['runs']} cells run, "
          f"{matrix['pruned']} saved by pruning"
          + (f"; resilience score {matrix['score']}/100 (docs/score.md)" if matrix.get("score") is not None else ""))
    base = matrix.get("baseline") or {}
    if base:
        print(f"  baseline: n {base['n']}, error rate {base['error_rate']:.1%}, p99 {base['p99_ms']:.0f} ms; "
              f"unaffected means {base['bounds']}; deadline {base['deadline_ms']:.0f} ms")
    if base and not base.get("steady", True):
        print(f"  every cell was judged against an unsteady baseline: {base['why']}")
