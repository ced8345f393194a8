"""`chaosdrill stack up|down`: a stack alone, for manual play; `stack import`: a stack from a Compose file."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import time
from pathlib import Path

from harness.commands.common import MODEL_MODULES


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("stack", help="start or stop a stack alone (no load, no faults); import a Compose file")
    ssub = p.add_subparsers(dest="stack_command", metavar="up|down|import")
    up = ssub.add_parser("up", help="start the stack, print its URLs, run until Ctrl-C")
    up.add_argument("--stack", default="lending", help="built-in stack name or stack file (default: lending)")
    up.add_argument("--replicas", action="append", default=[], metavar="SERVICE=N")
    up.add_argument("--service-arg", action="append", default=[], metavar="SERVICE=ARG")
    up.add_argument("--fault-proxy", default=None, metavar="URL")
    up.add_argument("--allow-remote", action="store_true",
                    help="let the stack's already-running services (address:) be on other hosts")
    up.add_argument("--backend", choices=["process", "docker"], default=None,
                    help="processes or containers (default: the stack's backend)")
    up.set_defaults(func=cmd_up, preload=MODEL_MODULES)
    down = ssub.add_parser("down", help="stop stacks started with 'stack up'")
    down.set_defaults(func=cmd_down)
    imp = ssub.add_parser(
        "import", help="write a stack file and a starter drill from a Compose file",
        description="Read a Compose file (docker compose's format) and write a stack for the docker backend, "
        "a starter drill and a starter locustfile next to it. Every dependency edge becomes a link; what "
        "the stack cannot hold is one warning line on stderr. Exit 2 for a file that is not a Compose file "
        "or files that exist (without --force). See docs/compose.md.")
    imp.add_argument("compose", type=Path, metavar="COMPOSE_FILE", help="compose.yaml, docker-compose.yml, ...")
    imp.add_argument("-o", "--output", type=Path, default=None, metavar="STACK_FILE",
                     help="the stack file to write (default: NAME.stack.yaml next to the Compose file); "
                          "the drill and locustfile go beside it")
    imp.add_argument("--entry", default=None, metavar="SERVICE",
                     help="the service the load enters by (default: the one that publishes ports and that "
                          "no other service depends on)")
    imp.add_argument("--force", action="store_true", help="overwrite files that exist")
    imp.set_defaults(func=cmd_import)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def cmd_up(args: argparse.Namespace) -> int:
    from harness.commands.common import parse_pairs
    from harness.stack.files import load_stack

    stack = load_stack(args.stack)
    replicas = parse_pairs(args.replicas, "--replicas", as_int=True)
    service_args = parse_pairs(args.service_arg, "--service-arg")
    return asyncio.run(_up(stack, replicas, service_args, args.fault_proxy, args.backend, args.allow_remote))


async def _up(stack, replicas, service_args, fault_proxy, backend, allow_remote: bool = False) -> int:
    """The stack in a session of its own: faults posted to its fault proxy by any Toxiproxy client
    are ended by the watchdog if this process dies, like a drill's."""
    from harness.run.session import RunSession, SessionOptions

    session = RunSession(stack, f"stack-{os.getpid()}",
                         SessionOptions(kind="stack", replicas=replicas, service_args=service_args,
                                        fault_proxy_url=fault_proxy, backend=backend, allow_remote=allow_remote))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    opening: asyncio.Task | None = None
    try:
        print(f"starting stack {stack.name}...", file=sys.stderr, flush=True)
        opening = asyncio.create_task(session.open())
        stopper = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait({opening, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if opening not in done:
            opening.cancel()  # the session closes itself: the start winds down, then the stack stops
            await asyncio.gather(opening, return_exceptions=True)
            return 130
        stopper.cancel()
        opening.result()
        rt = session.runtime
        print(f"stack {stack.name} is up ({time.strftime('%H:%M:%S')})")
        print(f"  fault proxy API  {rt.client.url}  (Toxiproxy v2 API)")
        for entry in rt.edges:
            print(f"  entry            {entry.url}  ({entry.name})")
        for inst in rt.all_instances():
            print(f"  service          {inst.url}  {inst.name} (pid {inst.pid})")
        for lk in rt.links.values():
            print(f"  link             {lk.url}  {lk.name} (proxy {lk.proxy})")
        print(f"  logs             {rt.log_dir}")
        print("Ctrl-C or 'chaosdrill stack down' stops it.", flush=True)
        await stop.wait()
        print("stopping...", file=sys.stderr, flush=True)
        return 0
    finally:
        # Cancelled itself (a Ctrl-C before the handlers above were in place): let the
        # start finish winding down first, or the stack stops while a server is still starting.
        if opening is not None and not opening.done():
            opening.cancel()
            await asyncio.gather(opening, return_exceptions=True)
        await session.close()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


def cmd_import(args: argparse.Namespace) -> int:
    from harness.stack.compose import import_compose

    result = import_compose(args.compose, output=args.output, entry=args.entry, force=args.force)
    for line in result.warnings:
        print(line, file=sys.stderr)
    print("\n".join(result.summary()))
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    from harness.stack.cleanup import clean_run
    from harness.state import RunState, state_root

    found = 0
    for path in sorted(state_root().glob("stack-*.json")):
        try:
            st = RunState.load(path)
        except (OSError, ValueError):
            continue
        found += 1
        owner = st.data["owner"]["pid"]
        if st.owner_alive:
            os.kill(owner, signal.SIGTERM)
            deadline = time.monotonic() + 15
            while st.owner_alive and time.monotonic() < deadline:
                time.sleep(0.1)
            print(f"stopped stack started by pid {owner}")
        if path.exists():
            for action in clean_run(st):
                print(action)
    if not found:
        print("no stack is running")
    return 0
