"""Ending what a dead run left, whatever its backend: containers, proxies, processes, files.

A run's state file (harness.state) lists what it made; `chaosdrill cleanup`,
the watchdog and the next run call clean_run on the records of runs whose
owner is gone. Container runs are handed to the docker backend's cleanup,
imported only for them.
"""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

from harness.stack.processes import pid_alive
from harness.state import RunState


def clean_run(st: RunState) -> list[str]:
    """End what a dead run left: containers, toxics and proxies, processes, its files."""
    done: list[str] = []
    if st.data.get("docker"):
        from harness.stack.docker.cleanup import clean_state

        done += clean_state(st)
    fp = st.data.get("fault_proxy") or {}
    proxy_pid_alive = fp.get("pid") and pid_alive(fp["pid"], fp.get("start_time"))
    if fp.get("url") and st.data.get("proxies") and (proxy_pid_alive or not fp.get("pid")):
        try:
            from harness.proxy_client.client import FaultProxyClient

            client = FaultProxyClient(fp["url"])
            for name in st.data["proxies"]:
                client.delete_proxy(name)
                done.append(f"removed proxy {name} from {fp['url']}")
        except Exception as exc:  # the server may be gone already
            done.append(f"could not reach fault proxy {fp['url']}: {exc}")
    procs = list(st.data.get("processes", []))
    if proxy_pid_alive:
        procs.append({"name": "fault-proxy", "pid": fp["pid"], "start_time": fp.get("start_time")})
    for proc in procs:
        if pid_alive(proc["pid"], proc.get("start_time")):
            for sig in (signal.SIGCONT, signal.SIGKILL):
                try:
                    os.killpg(proc["pid"], sig)
                except (ProcessLookupError, PermissionError):
                    try:
                        os.kill(proc["pid"], sig)
                    except ProcessLookupError:
                        pass
            done.append(f"killed {proc['name']} (pid {proc['pid']})")
    state_dir = st.data.get("state_dir")
    if state_dir and Path(state_dir).is_dir() and st.data.get("state_dir_owned", True):
        shutil.rmtree(state_dir, ignore_errors=True)
        done.append(f"removed {state_dir}")
    st.remove()
    return done
