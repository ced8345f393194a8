"""`chaosdrill cleanup`: end what a killed run left behind."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("cleanup", help="remove processes, proxies and faults a killed run left behind")
    p.set_defaults(func=cmd_cleanup)


def cmd_cleanup(args: argparse.Namespace) -> int:
    from harness.stack.cleanup import clean_run
    from harness.state import stale_runs

    runs = stale_runs()
    for st in runs:
        print(f"run {st.data.get('run_id')} (owner pid {st.data['owner']['pid']} is gone):")
        for action in clean_run(st):
            print(f"  {action}")
    containers = _stale_containers()
    for action in containers:
        print(f"  {action}")
    if not runs and not containers:
        print("nothing to clean: no run was left behind")
    return 0


def _stale_containers() -> list[str]:
    """Containers of dead runs on the Docker engine DOCKER_HOST names, if one is configured and answers."""
    import os

    if not os.environ.get("DOCKER_HOST") and not os.path.exists("/var/run/docker.sock"):
        return []
    try:
        from harness.stack.docker.cleanup import cleanup_stale

        return cleanup_stale()
    except Exception as exc:  # no engine, no SDK: nothing of ours can be there
        return [f"(docker engine not checked: {exc})"]
