"""Ctrl-C, SIGTERM and SIGKILL of the runner leave no process and no fault behind."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from harness.stack.processes import pid_alive
from tests.run.conftest import SCENARIOS, only_journal


def start_run(tmp_path: Path, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "harness.cli", "run", str(SCENARIOS / "echo-long.yaml"),
         "--report-dir", str(tmp_path / "r")],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, **(env or {})},
    )


def wait_for_faults(state_dir: Path, timeout: float = 60) -> dict:
    """The run's state once its pause fault is leased (all three faults are on by then)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in state_dir.glob("*.json"):
            try:
                data = json.loads(path.read_text())
            except ValueError:
                continue
            if data.get("process_faults"):
                time.sleep(0.5)  # let the toxics land too
                return data
        time.sleep(0.1)
    raise AssertionError("the faults were never applied")


def api(url: str, path: str):
    with urllib.request.urlopen(url + path, timeout=3) as resp:
        return json.loads(resp.read() or b"null")


def active_faults(proxy_url: str, names: list[str]) -> list[str]:
    out = []
    for name, proxy in api(proxy_url, "/proxies").items():
        if name in names:
            out += [f"{name}/{t['name']}" for t in proxy["toxics"]]
            if not proxy["enabled"]:
                out.append(f"{name} disabled")
    return out


def all_pids(state: dict) -> list[tuple[int, int]]:
    procs = [(p["pid"], p["start_time"]) for p in state["processes"]]
    fp = state.get("fault_proxy") or {}
    if fp.get("pid"):
        procs.append((fp["pid"], fp["start_time"]))
    return procs


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupting_the_runner_cleans_up_and_still_writes_the_journal(tmp_path, isolated_state, sig):
    proc = start_run(tmp_path)
    try:
        state = wait_for_faults(isolated_state)
        proc.send_signal(sig)
        out, _ = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, out
    assert "Traceback" not in out
    j = only_journal(tmp_path / "r")
    assert j["status"] == "aborted" and j["reason"] == f"interrupted by {sig.name}"
    assert all(f["removed_at"] is not None for f in j["faults"])
    assert j["leftovers"]["checked"] and not j["leftovers"]["toxics"] and not j["leftovers"]["paused"]
    time.sleep(0.3)
    assert not [p for p in all_pids(state) if pid_alive(*p)]
    assert not list(isolated_state.glob("*.json"))


def test_a_sigkilled_runner_has_its_faults_ended_within_5s_and_a_new_run_starts_clean(tmp_path, isolated_state):
    proc = start_run(tmp_path, env={"CHAOSDRILL_WATCHDOG_LINGER": "4"})
    try:
        state = wait_for_faults(isolated_state)
        proxy_url = state["fault_proxy"]["url"]
        assert len(active_faults(proxy_url, state["proxies"])) == 2  # latency toxic + a disabled link
        (paused,) = state["process_faults"]
        proc.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        proc.wait(timeout=5)
    finally:
        proc.kill()
    back_port = None
    while time.monotonic() - killed < 5:
        if not active_faults(proxy_url, state["proxies"]):
            break
        time.sleep(0.1)
    assert not active_faults(proxy_url, state["proxies"]), "faults outlived the runner by 5 s"
    # The paused service answers again.
    stack = json.loads((tmp_path / "r").glob("*/load/config.json").__next__().read_text())
    assert stack["hosts"]
    with urllib.request.urlopen(stack["hosts"][0] + "/hello", timeout=3) as resp:
        assert json.loads(resp.read())["code"] == "OK"
    assert time.monotonic() - killed < 8
    # After its linger the watchdog removes the dead run's processes and files.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and (list(isolated_state.glob("*.json")) or
                                           [p for p in all_pids(state) if pid_alive(*p)]):
        time.sleep(0.2)
    assert not list(isolated_state.glob("*.json"))
    assert not [p for p in all_pids(state) if pid_alive(*p)]


# A sitecustomize for the interrupted chaosdrill: it writes one byte to
# CHAOSDRILL_TEST_READY_FD when Python first opens a file whose path holds
# CHAOSDRILL_TEST_READY_ON, so the test interrupts at a known point of the start
# and not within Python's own start-up (site), before any chaosdrill code runs.
READY_HOOK = """\
import os, sys

_fd = [int(os.environ["CHAOSDRILL_TEST_READY_FD"])]


def _hook(event, args):
    if event == "open" and _fd and os.environ["CHAOSDRILL_TEST_READY_ON"] in str(args[0]):
        os.write(_fd.pop(), b"!")


sys.addaudithook(_hook)
"""


@pytest.mark.parametrize("loading, delay", [("/argparse.", 0.0), ("/harness/commands/", 0.0),
                                            ("/harness/commands/", 0.1), ("/harness/commands/", 0.25),
                                            ("/harness/scenario/model", 0.02), ("/harness/scenario/model", 0.1)])
def test_ctrl_c_while_chaosdrill_starts_is_one_line_and_exit_130(tmp_path, loading, delay):
    """While Python loads the entry point (harness/cli.py imports argparse
    first), then the command modules: it was a KeyboardInterrupt traceback."""
    (tmp_path / "sitecustomize.py").write_text(READY_HOOK)
    scenarios = list(SCENARIOS.glob("*.yaml"))
    ready, ready_w = os.pipe()
    env = {**os.environ, "CHAOSDRILL_TEST_READY_FD": str(ready_w), "CHAOSDRILL_TEST_READY_ON": loading,
           "PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.Popen([sys.executable, "-m", "harness.cli", "validate", str(SCENARIOS)], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, pass_fds=(ready_w,))
    os.close(ready_w)
    try:
        assert select.select([ready], [], [], 60)[0] and os.read(ready, 1) == b"!", f"it never opened {loading}"
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        os.close(ready)
        proc.kill()
    # Or the interrupt came after validate's end (in Python's exit: killed by it, silently).
    finished = proc.returncode in (0, -signal.SIGINT) and not err and out.count("ok ") == len(scenarios)
    assert finished or (proc.returncode, err) == (130, "chaosdrill: interrupted\n"), (proc.returncode, err)
