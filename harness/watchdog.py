"""The watchdog: ends a run's faults when the run can no longer do it.

Started by the runner as its own session, it outlives a SIGKILLed runner.
It watches the run's state file: the runner renews its leases by touching
the file every second. When the file goes away the run ended cleanly and the
watchdog exits. When the owner is dead or the lease expires, the watchdog
ends every fault still leased: SIGCONT for paused services, a restart for
killed ones, and, on a fault proxy without leases of its own (a real
Toxiproxy), removal of the run's toxics and re-enabling its proxies. After
`linger` seconds it removes what else the run left (processes, proxies,
files), as `chaosdrill cleanup` would.

    python -m harness.watchdog STATE_FILE [--linger 10]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from harness.stack.processes import pid_alive
from harness.stack.cleanup import clean_run
from harness.state import RunState

# After ending a dead run's faults, its stack keeps running this long before it is removed: long
# enough to see that the faults are gone and the services answer again, short enough that a
# cancelled CI job leaves nothing running by the time the next job starts.
LINGER_S = 10.0


def lease_expired(state: RunState, now: float | None = None) -> bool:
    now = now or time.time()
    try:
        age = now - state.path.stat().st_mtime
    except FileNotFoundError:
        return False
    return not state.owner_alive or age > float(state.data.get("lease_ttl", 5.0))


def end_faults(state: RunState) -> list[str]:
    """End every leased fault of a run whose runner is gone."""
    done: list[str] = []
    for fault in state.data.get("process_faults", []):
        pid, start = fault.get("pid"), fault.get("start_time")
        if fault["kind"] == "pause" and pid and pid_alive(pid, start):
            try:
                os.killpg(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
            done.append(f"continued {fault['name']} (pid {pid})")
        elif fault["kind"] in ("kill", "restart") and fault.get("restart") and not (pid and pid_alive(pid, start)):
            with open(fault["log"], "ab") as log:
                popen = subprocess.Popen(fault["argv"], env={**os.environ, **fault.get("env", {})},
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
            state.add_process(fault["name"], popen.pid)
            done.append(f"restarted {fault['name']} as pid {popen.pid}")
    state.data["process_faults"] = []
    if state.data.get("docker"):
        from harness.stack.docker.cleanup import end_faults as end_container_faults

        done += end_container_faults(state)
    fp = state.data.get("fault_proxy") or {}
    if fp.get("url") and state.data.get("proxies"):
        try:
            from harness.proxy_client.client import FaultProxyClient

            client = FaultProxyClient(fp["url"])
            existing = client.proxies()
            for name in state.data["proxies"]:
                if name not in existing:
                    continue
                for toxic in client.toxics(name):
                    client.remove_toxic(name, toxic)
                    done.append(f"removed toxic {toxic} from {name}")
                if not existing[name].enabled:
                    client.set_enabled(name, True)
                    done.append(f"re-enabled proxy {name}")
        except Exception as exc:
            done.append(f"fault proxy {fp['url']} unreachable: {exc}")
    state.save()
    return done


def watch(path: Path, linger: float, poll: float = 0.25, out=sys.stderr) -> int:
    ended_at: float | None = None
    while True:
        if not path.exists():
            return 0
        try:
            state = RunState.load(path)
        except (OSError, ValueError):
            time.sleep(poll)
            continue
        if ended_at is None and lease_expired(state):
            for line in end_faults(state):
                print(f"watchdog {state.data.get('run_id')}: {line}", file=out, flush=True)
            ended_at = time.time()
        if ended_at is not None and time.time() - ended_at >= linger:
            if not state.owner_alive:
                for line in clean_run(state):
                    print(f"watchdog {state.data.get('run_id')}: {line}", file=out, flush=True)
                return 0
            ended_at = None  # the runner was only suspended and is back
        time.sleep(poll)


def spawn(state_path: Path, log_path: Path, linger: float | None = None) -> subprocess.Popen:
    """Start a watchdog for a run; it survives the runner's death."""
    if linger is None:
        linger = float(os.environ.get("CHAOSDRILL_WATCHDOG_LINGER", str(LINGER_S)))
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "harness.watchdog", str(state_path), "--linger", str(linger)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m harness.watchdog")
    p.add_argument("state", type=Path)
    p.add_argument("--linger", type=float, default=LINGER_S)
    args = p.parse_args(argv)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a terminal Ctrl-C is for the runner
    return watch(args.state, args.linger)


if __name__ == "__main__":
    sys.exit(main())
