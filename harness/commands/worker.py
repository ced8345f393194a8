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
import signal
import socket
import sys

from harness.errors import UsageError
from harness.load.protocol import master_address


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("worker", help="run a Locust load worker for a drill's master",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--master", required=True, metavar="HOST[:PORT]", help="the load master (port default 5557)")
    p.add_argument("--name", help="this worker's id in the metrics stream (default host:pid)")
    p.set_defaults(func=cmd_worker)


def cmd_worker(args: argparse.Namespace) -> int:
    # Checked here so a typo fails fast; the load process itself is not
    # imported in this process, since it would monkey-patch it for gevent.
    host, port = master_address(args.master)
    try:
        socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise UsageError(f"--master {args.master!r}: the host {host!r} does not resolve "
                         f"({exc.strerror or exc})") from None
    except UnicodeError:  # IDNA cannot encode it: an empty or over-long label ('a..b')
        raise UsageError(f"--master {args.master!r}: {host!r} is not a valid host name") from None
    argv = [sys.executable, "-m", "harness.load", "--worker", "--master", args.master]
    if args.name:
        argv += ["--name", args.name]
    # From here a Ctrl-C waits, pending across the exec, until the worker can
    # take it (harness.load.worker.run_worker): never a traceback mid-import.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    print(f"chaosdrill worker: asking the load master at {args.master} for its drill "
          "(gives up after 30 s without an answer)", file=sys.stderr)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, argv)
    return 0  # not reached
