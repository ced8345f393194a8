"""Drive `chaosdrill gameday` in a real terminal (tmux): type, read the screen, time it."""

from __future__ import annotations

import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TmuxGameday:
    """One game day in a detached 200x50 tmux session; `close()` always leaves nothing running."""

    def __init__(self, workdir: Path, *args: str) -> None:
        self.workdir = workdir
        self.name = f"gameday-{uuid.uuid4().hex[:8]}"
        self.reports = workdir / "reports"
        self.state_dir = workdir / "state"
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.exit_file = workdir / "exit-code"
        self.web_port = free_port()
        argv = [sys.executable, "-m", "harness.cli", "gameday", "--report-dir", str(self.reports),
                "--web-port", str(self.web_port), *args]
        shell = (f"unset COLUMNS LINES; cd {shlex.quote(str(REPO))} && CHAOSDRILL_STATE_DIR={shlex.quote(str(self.state_dir))} "
                 f"{' '.join(shlex.quote(a) for a in argv)}; echo $? > {shlex.quote(str(self.exit_file))}; sleep 120")
        # A private tmux server with no config: its size is ours, whatever other sessions do.
        self.tmux = ["tmux", "-S", str(workdir / "tmux.sock"), "-f", "/dev/null"]
        subprocess.run([*self.tmux, "new-session", "-d", "-s", self.name, "-x", "200", "-y", "50", shell], check=True)
        self.pids: dict[str, int] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}/"

    def screen(self) -> str:
        proc = subprocess.run([*self.tmux, "capture-pane", "-p", "-t", self.name], capture_output=True, text=True)
        return proc.stdout

    def type(self, text: str, enter: bool = True) -> None:
        subprocess.run([*self.tmux, "send-keys", "-t", self.name, "-l", text], check=True)
        if enter:
            self.key("Enter")

    def key(self, *keys: str) -> None:
        subprocess.run([*self.tmux, "send-keys", "-t", self.name, *keys], check=True)

    def keystroke_ms(self, ch: str, timeout: float = 5.0) -> float:
        """Type one character; milliseconds until the screen shows it once more than before."""
        before = self.screen().count(ch)
        started = time.monotonic()
        self.type(ch, enter=False)
        while self.screen().count(ch) <= before and time.monotonic() - started < timeout:
            time.sleep(0.002)
        return (time.monotonic() - started) * 1000

    def wait_for(self, text: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{text!r} not on the screen within {timeout:g}s; screen:\n{self.screen()}")

    def state_file(self) -> Path | None:
        files = sorted(self.state_dir.glob("*-gameday*.json"))
        return files[0] if files else None

    def remember_pids(self) -> dict[str, int]:
        """Every process the run's state file lists (services, load, fault proxy) plus the game day itself."""
        path = self.state_file()
        assert path is not None, "the running game day has no state file"
        data = json.loads(path.read_text())
        pids = {p["name"]: p["pid"] for p in data.get("processes", [])}
        if data.get("fault_proxy", {}).get("pid"):
            pids["fault-proxy"] = data["fault_proxy"]["pid"]
        pids["gameday"] = data["owner"]["pid"]
        self.pids = pids
        return pids

    def wait_exit(self, timeout: float = 60.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.exit_file.exists() and self.exit_file.read_text().strip():
                return int(self.exit_file.read_text())
            time.sleep(0.2)
        raise AssertionError(f"the game day did not end within {timeout:g}s; screen:\n{self.screen()}")

    def run_dir(self) -> Path:
        dirs = sorted(self.reports.glob("*-gameday*"))
        assert dirs, f"no game day folder in {self.reports}"
        return dirs[-1]

    def journal(self) -> dict:
        return json.loads((self.run_dir() / "journal.json").read_text())

    def kill_terminal(self) -> None:
        subprocess.run([*self.tmux, "kill-server"], capture_output=True)

    def close(self) -> None:
        """Quit if still running, then make sure nothing it started survives."""
        if not self.exit_file.exists() and self.state_file() is not None:
            try:
                self.key("C-c")
                self.wait_exit(40)
            except (AssertionError, subprocess.CalledProcessError):
                pass  # the terminal is gone or the game day hangs: the pids below are ended anyway
        self.kill_terminal()
        for pid in self.pids.values():
            alive_pid_cleanup(pid)


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def alive_pid_cleanup(pid: int) -> None:
    if alive(pid):
        for sig in (signal.SIGCONT, signal.SIGKILL):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
