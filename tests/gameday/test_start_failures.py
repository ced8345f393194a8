"""A game day that never got running: interrupted while starting, or a stack that never becomes healthy."""

from __future__ import annotations

import os


def test_a_game_day_interrupted_while_starting_is_aborted_not_passed(tmp_path, unhealthy_stack):
    """Ctrl-C before the load ran: nothing was tried, so the record says ABORTED and the exit is 130."""
    import json
    import signal
    import subprocess
    import sys
    import time

    stack = unhealthy_stack("30s")
    env = {**os.environ, "CHAOSDRILL_STATE_DIR": str(tmp_path / "state")}
    proc = subprocess.Popen([sys.executable, "-m", "harness.cli", "gameday", "--no-console", "--web-port", "-1",
                             "--stack", str(stack), "--report-dir", str(tmp_path / "r")],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not list((tmp_path / "r").glob("*/logs/api-0.log")):
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, out + err
    assert "ABORTED" in out and "PASSED" not in out
    journal = json.loads(next((tmp_path / "r").glob("*/journal.json")).read_text())
    assert journal["status"] == "aborted" and journal["exit_code"] == 130
    assert "while starting" in journal["reason"]
    assert not list((tmp_path / "state").glob("*.json"))


def test_a_stack_that_never_becomes_healthy_is_said_once(tmp_path, unhealthy_stack):
    import subprocess
    import sys

    stack = unhealthy_stack("2s")
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "gameday", "--no-console", "--web-port", "-1",
                           "--stack", str(stack), "--report-dir", str(tmp_path / "r")], input="quit\n",
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "CHAOSDRILL_STATE_DIR": str(tmp_path / "state")})
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert (proc.stdout + proc.stderr).count("did not become healthy") == 1, proc.stdout + proc.stderr
