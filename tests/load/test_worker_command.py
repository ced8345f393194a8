"""`chaosdrill worker --master HOST[:PORT]`: Ctrl-C at any moment (while it
starts, while it waits for its master, while it runs its users) is one line
and exit 130 with nothing left running; a master host that does not resolve
is refused at once."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from .conftest import ROOT
from .test_distributed import free_port
from .test_load_process import scripted

INTERRUPTED = "chaosdrill worker: interrupted\n"


def start_worker(master: str) -> subprocess.Popen:
    worker = subprocess.Popen([sys.executable, "-m", "harness.cli", "worker", "--master", master, "--name", "by-hand"],
                              cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                              start_new_session=True)
    asking = worker.stderr.readline()  # said just before it becomes the load process
    assert asking.startswith(f"chaosdrill worker: asking the load master at {master}"), asking
    return worker


def interrupt(worker: subprocess.Popen) -> tuple[int, str]:
    """Ctrl-C; the worker's exit code and what it said after its first line,
    once it has ended. Nothing of its process group may be left."""
    worker.send_signal(signal.SIGINT)
    try:
        _, err = worker.communicate(timeout=30)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
    with pytest.raises(ProcessLookupError):
        os.killpg(worker.pid, 0)
    return worker.returncode, err


def test_ctrl_c_while_the_worker_starts_is_one_line_and_exit_130():
    # Right after its first line the worker's Python is still loading Locust
    # (it was a KeyboardInterrupt traceback from an import).
    worker = start_worker(f"127.0.0.1:{free_port()}")
    assert interrupt(worker) == (130, INTERRUPTED)


def test_ctrl_c_while_the_worker_waits_for_its_master_is_one_line_and_exit_130():
    # A master that takes the connection and never answers: the worker waits
    # for its config (it was gevent's KeyboardInterrupt and a traceback).
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        silent.settimeout(60)
        worker = start_worker(f"127.0.0.1:{silent.getsockname()[1]}")
        conn, _ = silent.accept()
        with conn:
            assert interrupt(worker) == (130, INTERRUPTED)


def test_ctrl_c_while_the_worker_runs_flushes_then_is_one_line_and_exit_130(scripted_server, load_run):
    port = free_port()
    run = load_run(hosts=[scripted_server.url], users=2, run_time_s=60, processes=0, expect_workers=1,
                   master_port=port, **scripted(user_classes=["OkUser"])).start()
    worker = start_worker(f"127.0.0.1:{port}")
    deadline = time.monotonic() + 60
    while not any(r["worker"] == "by-hand" for r in run.records()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert any(r["worker"] == "by-hand" for r in run.records()), run.log_text()
    code, err = interrupt(worker)
    assert code == 130 and err.endswith(INTERRUPTED), err  # it was exit 0
    assert "Traceback" not in err
    assert "stopping on its own (SIGINT)" in err


@pytest.mark.parametrize("host, why", [("no-such-host.invalid", "does not resolve"),
                                       ("a..b", "is not a valid host name")])
def test_a_master_host_that_does_not_resolve_is_refused_at_once(host, why):
    # It was a 30 s wait for a config that could never come, then exit 3.
    started = time.monotonic()
    res = subprocess.run([sys.executable, "-m", "harness.cli", "worker", "--master", f"{host}:5557"], cwd=ROOT,
                         capture_output=True, text=True, timeout=25)
    assert res.returncode == 2, res.stderr
    (line,) = res.stderr.splitlines()
    assert line.startswith(f"chaosdrill: error: --master '{host}:5557': ") and host in line and why in line
    assert time.monotonic() - started < 20
