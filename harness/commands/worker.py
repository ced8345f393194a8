"""`chaosdrill worker --master HOST[:PORT]`: lend this machine's CPU to a
drill's load. The worker asks the master for the run's config (and its
locustfile), runs its share of the users and streams its exact per-second
metrics to the master (docs/load.md, "Distributed mode"). The master must
listen where this machine can reach it (config master_bind_host/master_port,
expect_workers).
"""

from __future__ import annotations

import argparse
import os
import sys

from harness.errors import UsageError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("worker", help="run a Locust load worker for a drill's master",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--master", required=True, metavar="HOST[:PORT]", help="the load master (port default 5557)")
    p.add_argument("--name", help="this worker's id in the metrics stream (default host:pid)")
    p.set_defaults(func=cmd_worker)


def cmd_worker(args: argparse.Namespace) -> int:
    # Checked here so a typo fails fast; the load module is not imported in
    # this process, since it would monkey-patch it for gevent.
    host, sep, port = args.master.rpartition(":")
    if (sep and (not host or not port.isdigit())) or not args.master:
        raise UsageError(f"--master {args.master!r}: expected HOST[:PORT]")
    argv = [sys.executable, "-m", "harness.load", "--worker", "--master", args.master]
    if args.name:
        argv += ["--name", args.name]
    print(f"chaosdrill worker: asking the load master at {args.master} for its drill "
          "(gives up after 30 s without an answer)", file=sys.stderr)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, argv)
    return 0  # not reached
