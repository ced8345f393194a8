"""`chaosdrill gameday`: a live console for SRE game days, and replay of one as a scenario."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from harness.commands.common import MODEL_MODULES, port_or_off
from harness.errors import UsageError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "gameday",
        help="live console: start the stack and load, inject faults by hand, record it all",
        description="Start the stack and the load and open a live console (throughput, latency, links, "
        "services, events) with a command line to inject and clear faults, change the load, write notes, "
        "judge hypotheses and cue scenario phases. Quitting (or Ctrl-C, SIGTERM, the terminal closing) "
        "removes every fault, stops everything and writes the journal and report to "
        "REPORT_DIR/<timestamp>-gameday/. With --replay, turn a game day's journal into a scenario file "
        "instead. See docs/gameday.md.",
    )
    p.add_argument("--stack", default=None, help="stack name or file (default: the scenario's, else lending)")
    p.add_argument("--scenario", type=Path, default=None,
                   help="a scenario whose load settings to use and whose phases to cue with 'phase NAME'")
    p.add_argument("--users", type=int, default=None, help="users to start with (default: the scenario's, else 20)")
    p.add_argument("--spawn-rate", type=float, default=None, help="users started per second (default: the scenario's rate with --scenario, else the user count)")
    p.add_argument("--report-dir", type=Path, default=Path("reports"),
                   help="parent folder of the game day's record folder (default: reports/)")
    kept = p.add_mutually_exclusive_group()
    kept.add_argument("--history", type=Path, default=None, metavar="PATH",
                      help="append the game day to this run history (default: REPORT_DIR/history.sqlite)")
    kept.add_argument("--no-history", action="store_true", help="do not append the game day to the run history")
    p.add_argument("--web-port", type=port_or_off, default=0,
                   help="port of the read-only web view on 127.0.0.1 (default 0: any free port; -1: none)")
    p.add_argument("--backend", choices=["process", "docker"], default=None, help="how to run the stack")
    p.add_argument("--allow-remote", action="store_true",
                   help="let the stack's already-running services (address:) be on other hosts")
    p.add_argument("--fault-proxy", default=None, metavar="URL",
                   help="use this Toxiproxy-compatible server (default: $TOXIPROXY_URL or a built-in one)")
    p.add_argument("--service-arg", action="append", default=[], metavar="SERVICE=ARG",
                   help="append ARG to SERVICE's command line (repeatable)")
    p.add_argument("--replicas", action="append", default=[], metavar="SERVICE=N", help="run N instances of SERVICE")
    p.add_argument("--no-console", action="store_true",
                   help="no terminal console: events as plain lines, commands from stdin when it is a file or "
                   "a pipe ('wait 10s' lines pause a script; end it with 'quit'), else end with Ctrl-C or SIGTERM")
    p.add_argument("--replay", type=Path, default=None, metavar="JOURNAL",
                   help="turn this game day journal into a scenario file (with --out) and exit")
    p.add_argument("--out", type=Path, default=None, metavar="FILE", help="where --replay writes the scenario")
    p.set_defaults(func=cmd_gameday, preload=MODEL_MODULES)


def cmd_gameday(args: argparse.Namespace) -> int:
    if args.replay is not None:
        return _replay(args)
    if args.out is not None:
        raise UsageError("--out goes with --replay JOURNAL")
    from harness.commands.common import check_output_paths, parse_pairs
    from harness.gameday.main import run_gameday
    from harness.gameday.session import GamedayOptions
    from harness.history import history_path
    from harness.run.progress import Progress

    if args.users is not None and args.users < 1:
        raise UsageError(f"--users {args.users}: at least 1")
    if args.spawn_rate is not None and args.spawn_rate <= 0:
        raise UsageError(f"--spawn-rate {args.spawn_rate:g}: must be above 0")
    check_output_paths(args)
    console = not args.no_console
    if console and not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError("the game day console needs a terminal; use --no-console to read commands from stdin")
    opts = GamedayOptions(
        stack=args.stack, scenario=args.scenario, users=args.users, spawn_rate=args.spawn_rate,
        report_dir=args.report_dir, history=history_path(args.report_dir, args.history, args.no_history),
        web_port=None if args.web_port < 0 else args.web_port,
        fault_proxy_url=args.fault_proxy, backend=args.backend, allow_remote=args.allow_remote,
        service_args=parse_pairs(args.service_arg, "--service-arg"),
        replicas=parse_pairs(args.replicas, "--replicas", as_int=True),
        progress=Progress(),
    )
    return asyncio.run(run_gameday(opts, console=console))


def _replay(args: argparse.Namespace) -> int:
    from harness.gameday.replay import replay

    if args.out is None:
        raise UsageError("--replay JOURNAL needs --out FILE.yaml (where to write the scenario)")
    path = replay(args.replay, args.out)
    print(f"scenario written: {path} (run it with: chaosdrill run {path})")
    return 0
