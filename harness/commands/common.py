"""What several commands share: argument types, the run options and their checks, running a suite.

Argument types make a bad value argparse's one line and exit 2. The run
options (`run`, `gate`, `matrix` take them) are checked before anything
starts, so a typo is found in a second, not after a drill. `run` and
`gate` load every drill first and run them as one suite.
"""

from __future__ import annotations

import argparse
import errno
import sys
from pathlib import Path
from typing import Any, Callable

from harness.errors import UsageError
from harness.run.drill import run_one
from harness.run.folders import check_report_dir
from harness.run.progress import Progress

# Modules a command loads while Ctrl-C is held back (harness/cli.py): the scenario and stack
# models, whose pydantic schemas take a third of a second to build and which turn a
# Ctrl-C arriving mid-build into a SchemaError traceback rather than a KeyboardInterrupt.
MODEL_MODULES = ("harness.scenario",)


def port_number(text: str) -> int:
    """A TCP port 0-65535 (0: any free one)."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port: ports are 0-65535")
    return port


def duration_arg(text: str) -> float:
    """A duration like 2s or 1500ms, in seconds, above 0."""
    from harness.schema.durations import parse_duration

    try:
        seconds = parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: a duration above 0, like 2s")
    return seconds


def share_arg(text: str) -> float:
    """A share of answers: 1% or 0.01."""
    try:
        value = float(text[:-1]) / 100 if text.strip().endswith("%") else float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a share: write it as 1% or 0.01") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"{text!r}: a share is between 0% and 100%")
    return value


def port_or_off(text: str) -> int:
    """A port as above, or -1 for "do not listen at all" (gameday --web-port)."""
    return -1 if text.strip() == "-1" else port_number(text)


def add_run_options(p: argparse.ArgumentParser, with_profile: bool = True, with_master: bool = True,
                    with_dry_run: bool = True) -> None:
    p.add_argument("--report-dir", type=Path, default=Path("reports"),
                   help="parent folder of the run folders (default: reports/)")
    p.add_argument("--junit", type=Path, default=None, help="also write JUnit XML here")
    if with_profile:
        p.add_argument("--profile", default=None, help="apply a scenario profile, e.g. 'gate' (short phases)")
    p.add_argument("--service-arg", action="append", default=[], metavar="SERVICE=ARG",
                   help="append ARG to SERVICE's command line, e.g. lending=--no-fallback (repeatable)")
    p.add_argument("--replicas", action="append", default=[], metavar="SERVICE=N",
                   help="run N instances of SERVICE")
    p.add_argument("--fault-proxy", default=None, metavar="URL",
                   help="use this Toxiproxy-compatible server (default: $TOXIPROXY_URL or a built-in one)")
    p.add_argument("--backend", choices=["process", "docker"], default=None,
                   help="run the stack as processes or containers (default: the stack's backend)")
    p.add_argument("--allow-remote", action="store_true",
                   help="let a stack's already-running services (address:) be on other hosts; without it "
                        "load and faults go to this machine only")
    if with_master:
        p.add_argument("--master-bind", default=None, metavar="HOST",
                       help="address the Locust master listens on for remote workers (scenario load.workers; "
                            "default 127.0.0.1: give a reachable address explicitly)")
        p.add_argument("--master-port", type=port_number, default=None, metavar="PORT",
                       help="port of the Locust master for remote workers (default: a free one, shown in the log)")
    if with_master:  # run and gate: their drills judge expectations on the load's measurements
        p.add_argument("--strict-load", action="store_true",
                       help="fail a drill whose load generator was saturated (>= 90%% of a core for 3 s or more "
                            "of a phase); without it the verdict only says so (docs/load.md)")
    kept = p.add_mutually_exclusive_group()
    kept.add_argument("--history", type=Path, default=None, metavar="PATH",
                      help="append each run to this run history (default: REPORT_DIR/history.sqlite; "
                           "docs/history.md)")
    kept.add_argument("--no-history", action="store_true", help="do not append the runs to the run history")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress output")
    if with_dry_run:
        p.add_argument("--dry-run", action="store_true",
                       help="check everything a run checks before it starts, print each drill's timeline "
                            "(phases, faults, actions, expectations at their offsets) and exit 0; start nothing")


def parse_pairs(items: list[str], flag: str, as_int: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name or not value:
            raise UsageError(f"{flag} {item!r}: expected SERVICE={'N' if as_int else 'ARG'}")
        if as_int:
            if not value.isdigit() or int(value) < 1:
                raise UsageError(f"{flag} {item!r}: N must be a whole number >= 1")
            out[name] = int(value)
        else:
            out.setdefault(name, []).extend(value.split())
    return out


def check_output_paths(args: argparse.Namespace) -> None:
    """--report-dir and --junit must be usable before anything starts (not found out after a drill)."""
    check_report_dir(args.report_dir)
    junit = getattr(args, "junit", None)
    if junit is not None:
        if junit.is_dir():
            raise UsageError(f"--junit {junit}: is a folder; give the path of the file to write, "
                             f"e.g. {junit / 'junit.xml'}")
        parent = next((p for p in [junit.parent, *junit.parent.parents] if p.exists()), None)
        if parent is not None and not parent.is_dir():
            raise UsageError(f"--junit {junit}: {parent} is a file, not a folder")


def check_master_address(args: argparse.Namespace) -> None:
    """--master-bind/--master-port must be bindable before the stack starts, not found out by
    Locust's ZeroMQ socket after it (an address this host lacks, a port in use)."""
    bind, port = getattr(args, "master_bind", None), getattr(args, "master_port", None)
    if bind is None and not port:
        return
    import socket

    host = bind or "127.0.0.1"
    try:
        infos = socket.getaddrinfo(host, port or 0, type=socket.SOCK_STREAM)
        with socket.socket(infos[0][0], socket.SOCK_STREAM) as probe:
            probe.bind(infos[0][4])
    except OSError as exc:
        what = f"--master-port {port}" if port and exc.errno == errno.EADDRINUSE else f"--master-bind {host}"
        reason = exc.strerror or str(exc)
        raise UsageError(f"{what}: the Locust master cannot listen on {host}:{port or 0}: {reason}") from None


def check_master_needed(args: argparse.Namespace, loaded: list[tuple[Path, Any]]) -> None:
    """--master-bind/--master-port only matter to a drill that waits for remote workers
    (load.workers); given to drills that wait for none they would be silently ignored."""
    if getattr(args, "master_bind", None) is None and not getattr(args, "master_port", None):
        return
    if not any(scenario.load.workers for _, scenario in loaded):
        flag = "--master-bind" if args.master_bind is not None else "--master-port"
        raise UsageError(f"{flag}: no drill given waits for remote workers (load.workers), so no Locust master "
                         "listens for them; drop the option, or set load.workers in the scenario")


def load_drills(paths: list[Path], replicas: dict[str, int],
                prepare: Callable[[Any], Any] | None = None) -> list[tuple[Path, Any]]:
    """Every scenario loaded (and `prepare`d) before anything starts, every broken one said at once."""
    from harness.scenario import load_scenario

    loaded, problems = [], []
    for path in paths:
        try:
            scenario = load_scenario(path, replicas)
            loaded.append((path, prepare(scenario) if prepare else scenario))
        except UsageError as exc:
            problems.append(str(exc))
    if problems:
        raise UsageError("\n".join(problems))
    return loaded


def print_plans(loaded: list[tuple[Path, Any]], service_args: dict) -> int:
    """--dry-run: each drill's timeline as its run would follow it, then any share a
    single answer would decide (a warning: the exit code stays 0); nothing starts."""
    from harness.run.answers import estimate_answers
    from harness.run.plan import describe_plan, make_plan

    total = 0.0
    for path, scenario in loaded:
        plan = make_plan(scenario, scenario.resolved_stack())
        total += plan.duration
        print(f"== {scenario.title} ({path}) ==")
        for service, extra in service_args.items():
            print(f"service args: {service} {' '.join(extra)}")
        print("\n".join(describe_plan(plan) + estimate_answers(plan).warnings()))
        print()
    print(f"dry run: {len(loaded)} drill(s), {total:g}s of phases in all; nothing was started")
    return 0


def answer_warnings(loaded: list[tuple[Path, Any]]) -> list[str]:
    """Every share of these drills that a single answer would decide (harness/run/answers.py)."""
    from harness.run.answers import estimate_answers
    from harness.run.plan import make_plan

    return [line for _, scenario in loaded
            for line in estimate_answers(make_plan(scenario, scenario.resolved_stack())).warnings()]


def run_suite(loaded: list[tuple[Path, Any]], args: argparse.Namespace, service_args: dict, replicas: dict,
              force_suite: bool = False) -> tuple[list[tuple[dict, Path]], int]:
    """Run drills one after the other; a suite index and JUnit when more than one."""
    progress = Progress(quiet=args.quiet)
    outcomes: list[tuple[dict, Path]] = []
    worst = 0
    history = history_of(args)
    for path, scenario in loaded:
        journal, run_dir = run_one(path, scenario, args.report_dir, service_args, replicas, args.fault_proxy, progress,
                                   strict_load=getattr(args, "strict_load", False),
                                   allow_remote=getattr(args, "allow_remote", False),
                                   backend=args.backend, master=(args.master_bind, args.master_port),
                                   history=history)
        outcomes.append((journal, run_dir))
        worst = _combine(worst, journal["exit_code"])
        if journal["exit_code"] == 130:
            break
    if len(outcomes) > 1 or force_suite:
        from harness.history import read_trends
        from harness.report import render_suite

        trends = read_trends(history, [j for j, _ in outcomes], say=lambda text: None)  # run_one said it already
        paths = render_suite(outcomes, args.report_dir, trends=trends)  # index.html and junit.xml in the report folder
        print(f"suite report: {paths.get('index')}", file=sys.stderr)
        if args.junit:
            copy_junit(paths["junit"], args.junit)
    elif args.junit and outcomes:
        copy_junit(outcomes[0][1] / "junit.xml", args.junit)
    return outcomes, worst


def history_of(args: argparse.Namespace) -> Path | None:
    """The run history the runs append to: --history, else REPORT_DIR/history.sqlite; None with --no-history."""
    from harness.history import history_path

    return history_path(args.report_dir, getattr(args, "history", None), getattr(args, "no_history", False))


def copy_junit(written: Path, junit: Path) -> None:
    """--junit gets a copy of the run folder's junit.xml, which stays where the report links it."""
    import shutil

    if junit.resolve() == written.resolve():  # --junit named that very file
        return
    try:
        junit.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(written, junit)
    except OSError as exc:
        raise UsageError(f"--junit {junit}: cannot write it: {exc.strerror or exc} "
                         f"(the run's own copy: {written})") from None


def _combine(a: int, b: int) -> int:
    """Worst exit code of a suite: interrupted > harness error > failed > passed."""
    rank = {0: 0, 1: 1, 3: 2, 130: 3}
    return max(a, b, key=lambda c: rank.get(c, 2))
