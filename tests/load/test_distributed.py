"""Distributed load: a master with two local worker processes plus one
worker joined by hand (`chaosdrill worker`) counts exactly what the server
did; a worker lost mid-run is an event in the stream."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import psutil

from .conftest import ROOT
from .test_load_process import check_exact, scripted


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run_with_a_hand_started_worker(server, load_run, tmp_path, processes: int):
    port = free_port()
    run = load_run(hosts=[server.url], users=6, run_time_s=3, processes=processes, expect_workers=1,
                   master_port=port, **scripted()).start()
    log = open(tmp_path / "worker.log", "wb")
    worker = subprocess.Popen([sys.executable, "-m", "harness.cli", "worker", "--master", f"127.0.0.1:{port}",
                               "--name", "by-hand"], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    try:
        assert run.wait(timeout=40) == 0, run.log_text()
        assert worker.wait(timeout=10) == 0, (tmp_path / "worker.log").read_text()
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
        log.close()
    series, merger = run.series()
    acks = run.acks()
    check_exact(series, server.counts(), acks)
    assert {a["worker"] for a in acks} == merger.workers
    return merger.workers


def test_local_and_hand_started_workers_merge_exactly(scripted_server, load_run, tmp_path):
    workers = _run_with_a_hand_started_worker(scripted_server, load_run, tmp_path, processes=2)
    assert "by-hand" in workers and len(workers) == 3 and "local" not in workers


def test_remote_workers_alone_run_the_load(scripted_server, load_run, tmp_path):
    # `workers: 1` with no `processes`: the load must wait for the worker and run on it, not locally.
    assert _run_with_a_hand_started_worker(scripted_server, load_run, tmp_path, processes=0) == {"by-hand"}


def test_a_lost_worker_is_an_event_in_the_stream(scripted_server, load_run):
    run = load_run(hosts=[scripted_server.url], users=2, run_time_s=4, processes=1,
                   **scripted(user_classes=["OkUser"])).start()
    deadline = time.time() + 30
    while len(run.records()) < 2 and time.time() < deadline:
        time.sleep(0.1)
    workers = psutil.Process(run.popen.pid).children()
    assert len(workers) == 1, run.log_text()
    workers[0].kill()
    assert run.wait(timeout=30) == 0, run.log_text()
    from harness.load.stream import MetricsTail

    tail = MetricsTail(run.config["metrics_path"])
    tail.poll()
    events = tail.take_events()
    lost = [e for e in events if e["event"] == "worker_lost"]
    assert len(lost) == 1 and str(workers[0].pid) in lost[0]["worker"], events
    assert [e["port"] for e in events if e["event"] == "master_listening"]
