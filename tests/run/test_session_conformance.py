"""Every way a drill runs holds its faults the same way: the session core's conformance test.

Five entry points each hold a black-hole fault (a `timeout` toxic: the link
accepts connections and never answers) on the echo stack's front->back
link: a scripted run, a game day driven by a script, the pytest plugin, a
matrix cell, and `stack up` with the fault posted by toxiproxy-python (a
user's own client, which knows nothing of leases). For each:

- the fault stays on for all of 15 s, checked once a second by a request
  through the link itself (the pytest plugin's heartbeat once renewed only
  its state file, and the fault proxy dropped the fault after ~4 s);
- SIGKILLed, the process holding it has the fault ended within 3 s, and
  every process of its run (services, load, fault proxy, watchdog) gone
  within 30 s;
- Ctrl-C (SIGINT) leaves nothing: no process, no state file.

The holders run side by side, so the whole check costs one hold, not five.
The fault is a black hole rather than `down` because a disabled proxy frees
its port, which another holder's service may then take and answer on.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
import signal
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from harness.stack.processes import pid_alive

ROOT = Path(__file__).resolve().parents[2]
ECHO = ROOT / "tests" / "fixtures" / "stacks" / "echo.yaml"
LINK, PROXY = "front->back", "front-to-back"
HOLD_S = 15


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "harness.cli", *args]


class Holder:
    """One entry point holding a black hole on front->back, in its own process and state folder."""

    def __init__(self, name: str, folder: Path) -> None:
        self.name = name
        self.folder = folder
        self.state_dir = folder / "state"
        self.proc: subprocess.Popen | None = None
        self.state: dict = {}
        self.link: str | None = None  # host:port the link's proxy listens on
        self.problems: list[str] = []

    # -- start: each entry point its own way
    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "CHAOSDRILL_STATE_DIR": str(self.state_dir), "CI": "true"}
        argv, stdin = getattr(self, f"_argv_{self.name.replace(' ', '_')}")()
        self.proc = subprocess.Popen(argv, cwd=self.folder, env=env, stdin=subprocess.PIPE if stdin else None,
                                     stdout=open(self.folder / "out.txt", "w"), stderr=subprocess.STDOUT, text=True)
        if stdin:
            assert self.proc.stdin is not None
            self.proc.stdin.write(stdin)
            self.proc.stdin.flush()  # and keep it open: the game day runs until it is stopped

    def _argv_run(self) -> tuple[list[str], str | None]:
        drill = self.folder / "hold.yaml"
        drill.write_text(textwrap.dedent(f"""\
            title: Hold a fault
            plan: the link is down for the whole phase
            stack: {ECHO}
            load: {{users: 2, spawn_rate: 2}}
            phases:
              - name: hold
                duration: 60s
                faults: [{{link: "{LINK}", toxic: timeout, attributes: {{timeout: 0}}}}]
            """))
        return cli("run", str(drill), "--report-dir", "r"), None

    def _argv_game_day(self) -> tuple[list[str], str | None]:
        return (cli("gameday", "--stack", str(ECHO), "--no-console", "--web-port", "-1", "--users", "2",
                    "--report-dir", "r"), f"timeout {LINK} 0\n")

    def _argv_pytest_plugin(self) -> tuple[list[str], str | None]:
        (self.folder / "pytest.ini").write_text(f"[pytest]\nchaosdrill_stack = {ECHO}\n")
        (self.folder / "test_hold.py").write_text(textwrap.dedent(f"""\
            import time

            def test_hold(chaosdrill_stack):
                with chaosdrill_stack.fault("{LINK}", timeout=0):
                    time.sleep(120)
            """))
        return [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
                "test_hold.py"], None

    def _argv_matrix_cell(self) -> tuple[list[str], str | None]:
        return cli("matrix", "--stack", str(ECHO), "--links", LINK, "--faults", "timeout", "--baseline", "2",
                   "--fault-time", "60", "--settle", "1", "--users", "2", "--report-dir", "r"), None

    def _argv_stack_up(self) -> tuple[list[str], str | None]:
        return cli("stack", "up", "--stack", str(ECHO)), None

    # -- reading the run's state
    def read_state(self) -> bool:
        for path in self.state_dir.glob("*.json"):
            try:
                self.state = json.loads(path.read_text())
            except ValueError:
                continue
            fp = self.state.get("fault_proxy") or {}
            if fp.get("url") and PROXY in self.state.get("proxies", []):
                try:
                    self.link = api(fp["url"], f"/proxies/{PROXY}")["listen"]
                except OSError:
                    return False
                return True
        return False

    def post_fault_if_mine(self) -> None:
        """`stack up` holds no fault of its own: a user's Toxiproxy client black-holes the link."""
        if self.name != "stack up":
            return
        from toxiproxy import Toxiproxy

        host, port = self.state["fault_proxy"]["url"].removeprefix("http://").split(":")
        server = Toxiproxy()
        server.update_api_consumer(host, int(port))
        server.get_proxy(PROXY).add_toxic(type="timeout", attributes={"timeout": 0})

    def toxics(self) -> list[str]:
        try:
            return [tx["name"] for tx in api(self.state["fault_proxy"]["url"], f"/proxies/{PROXY}")["toxics"]]
        except OSError:
            return []

    def pids(self) -> list[tuple[int, int | None]]:
        procs = [(p["pid"], p.get("start_time")) for p in self.state.get("processes", [])]
        fp = self.state.get("fault_proxy") or {}
        if fp.get("pid"):
            procs.append((fp["pid"], fp.get("start_time")))
        return procs + [(pid, None) for pid in watchdogs(self.state_dir)]

    def leftovers(self) -> list[str]:
        out = [f"pid {pid}" for pid, start in self.pids() if pid_alive(pid, start)]
        out += [f"state file {p.name}" for p in self.state_dir.glob("*.json")]
        return out


def api(url: str, path: str) -> dict:
    with urllib.request.urlopen(url + path, timeout=3) as resp:
        return json.loads(resp.read())


def watchdogs(state_dir: Path) -> list[int]:
    """Watchdog processes watching a state file in this folder."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if "harness.watchdog" in cmdline and str(state_dir) in cmdline:
                out.append(int(entry.name))
    return out


def link_answers(address: str) -> bool:
    """One request through the link's proxy (to back's /hello): True when it answered."""
    try:
        with urllib.request.urlopen(f"http://{address}/hello", timeout=0.5) as resp:
            return json.loads(resp.read()).get("code") == "OK"
    except (OSError, ValueError, urllib.error.HTTPError):
        return False


def wait(predicate, timeout: float, step: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


ENTRY_POINTS = ["run", "game day", "pytest plugin", "matrix cell", "stack up"]


def start_all(tmp_path: Path) -> list[Holder]:
    holders = [Holder(name, tmp_path / name.replace(" ", "-")) for name in ENTRY_POINTS]
    for h in holders:
        h.start()
    for h in holders:
        if not wait(h.read_state, 90, step=0.2):
            h.problems.append(f"never started: {(h.folder / 'out.txt').read_text()[-2000:]}")
            continue
        h.post_fault_if_mine()
        # On by the fault proxy's own account (a probe alone could time out on a machine busy starting stacks)
        if not wait(lambda: h.toxics() and not link_answers(h.link), 60, step=0.2):
            h.problems.append("the fault never went on")
    return holders


def stop_all(holders: list[Holder]) -> None:
    for h in holders:
        if h.proc is not None and h.proc.poll() is None:
            h.proc.kill()
        if h.proc is not None:
            h.proc.wait(10)


def report(holders: list[Holder]) -> str:
    return "\n".join(f"{h.name}: {'; '.join(h.problems)}" for h in holders if h.problems)


@pytest.mark.slow
def test_every_entry_point_holds_its_fault_and_a_killed_holder_leaves_nothing(tmp_path):
    holders = start_all(tmp_path)
    try:
        ready = [h for h in holders if not h.problems]
        with ThreadPoolExecutor(len(ready) or 1) as probes:
            for second in range(HOLD_S):  # once a second through each link, side by side
                began = time.monotonic()
                answered = list(probes.map(lambda h: link_answers(h.link), ready))
                for h, yes in zip(ready, answered):
                    if yes and not any("answered" in p for p in h.problems):
                        h.problems.append(f"the link answered {second + 1}s into the hold: the fault was dropped")
                time.sleep(max(0.0, 1.0 - (time.monotonic() - began)))
        for h in ready:
            h.read_state()  # the latest process list (a restarted service has a new pid)
            h.proc.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        for h in ready:
            if not wait(lambda: link_answers(h.link), max(0.0, killed + 3.0 - time.monotonic())):
                h.problems.append("the fault outlived its SIGKILLed holder by 3 s")
        for h in ready:
            if not wait(lambda: not h.leftovers(), max(0.0, killed + 30.0 - time.monotonic()), step=0.25):
                h.problems.append(f"30 s after SIGKILL still there: {', '.join(h.leftovers())}")
    finally:
        stop_all(holders)
    assert not report(holders), report(holders)


@pytest.mark.slow
def test_ctrl_c_on_every_entry_point_leaves_nothing(tmp_path):
    holders = start_all(tmp_path)
    try:
        ready = [h for h in holders if not h.problems]
        for h in ready:
            h.read_state()
            h.proc.send_signal(signal.SIGINT)
        for h in ready:
            try:
                h.proc.wait(60)
            except subprocess.TimeoutExpired:
                h.problems.append("still running 60 s after Ctrl-C")
                continue
            out = (h.folder / "out.txt").read_text()
            if "Traceback" in out and h.name != "pytest plugin":  # pytest prints KeyboardInterrupt's own
                h.problems.append(f"a traceback on Ctrl-C: {out[-1500:]}")
            if not wait(lambda: not h.leftovers(), 5, step=0.25):
                h.problems.append(f"left behind after Ctrl-C: {', '.join(h.leftovers())}")
    finally:
        stop_all(holders)
    assert not report(holders), report(holders)
