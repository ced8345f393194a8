"""`python -m harness.load --config CONFIG.json` (the orchestrator's load
process) or `python -m harness.load --worker --master HOST[:PORT]`.

Locust is imported first: it monkey-patches the standard library for gevent
before anything else loads it. docs/load.md describes the config and files.
"""

from __future__ import annotations

import locust  # noqa: F401,I001 - must come first: gevent monkey-patching

import argparse
import logging
import sys

from harness.errors import ChaosdrillError


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m harness.load", description=__doc__)
    p.add_argument("--config", help="the run's CONFIG.json (standalone or master)")
    p.add_argument("--worker", action="store_true", help="join a master as a Locust worker")
    p.add_argument("--master", default="127.0.0.1:5557", help="HOST[:PORT] of the master (with --worker)")
    p.add_argument("--name", help="worker id in the metrics stream (default host:pid)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(process)d %(name)s %(levelname)s %(message)s")
    try:
        if args.worker:
            from harness.load.worker import run_worker

            return run_worker(args.master, args.name)
        if not args.config:
            p.error("--config CONFIG.json is required (or --worker --master HOST:PORT)")
        from harness.load.config import load_config

        config = load_config(args.config)
        if config.processes > 0 or config.expect_workers > 0:  # remote workers alone need a master too
            from harness.load.master import run_master

            return run_master(config)
        from harness.load.standalone import run_standalone

        return run_standalone(config)
    except ChaosdrillError as exc:
        print(f"chaosdrill load: {exc}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
