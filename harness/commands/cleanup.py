"""`chaosdrill cleanup`: end what a killed run left behind."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("cleanup", help="remove processes, proxies and faults a killed run left behind")
    p.set_defaults(func=cmd_cleanup)


def cmd_cleanup(args: argparse.Namespace) -> int:
    from harness.state import clean_run, stale_runs

    runs = stale_runs()
    if not runs:
        print("nothing to clean: no run was left behind")
        return 0
    for st in runs:
        print(f"run {st.data.get('run_id')} (owner pid {st.data['owner']['pid']} is gone):")
        for action in clean_run(st):
            print(f"  {action}")
    return 0
