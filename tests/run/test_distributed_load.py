"""Locust master + 2 local workers: metrics merge, and a lost worker fails its phase."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.run.conftest import SCENARIOS, only_journal, run_cli


def children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def test_two_workers_merge_into_one_series(tmp_path, isolated_state):
    res = run_cli(["run", str(SCENARIOS / "echo-distributed.yaml"), "--report-dir", str(tmp_path / "r")], tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    j = only_journal(tmp_path / "r")
    workers = set()
    metrics = (tmp_path / "r").glob("*/load/metrics.jsonl").__next__().read_text().splitlines()
    for line in metrics:
        rec = json.loads(line)
        if "second" in rec:
            workers.add(rec["worker"])
    assert len(workers) == 2, workers
    total = sum(m["endpoints"].get("GET /hello", {}).get("n", 0) for m in j["metrics"])
    streamed = sum(json.loads(l)["endpoints"].get("GET /hello", {}).get("n", 0) for l in metrics if '"second"' in l)
    assert total == streamed > 0  # the journal holds every request of both workers, once
    # every load process says how busy it was: the master and each worker
    assert {c["process"] for c in j["load_cpu"]} == workers | {"master"}, j["load_cpu"][:6]


def test_a_worker_lost_mid_run_is_an_event_and_fails_the_phase(tmp_path, isolated_state):
    proc = subprocess.Popen([sys.executable, "-m", "harness.cli", "run", str(SCENARIOS / "echo-distributed.yaml"),
                             "--report-dir", str(tmp_path / "r")], cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        killed = None
        while time.monotonic() < deadline and killed is None:
            for path in isolated_state.glob("*.json"):
                data = json.loads(path.read_text() or "{}")
                load = [p for p in data.get("processes", []) if p["name"] == "load"]
                phase_started = list((tmp_path / "r").glob("*/load/metrics.jsonl"))
                if load and phase_started and phase_started[0].stat().st_size > 0:
                    kids = children(load[0]["pid"])
                    if len(kids) >= 2:
                        time.sleep(3)
                        os.kill(kids[0], signal.SIGKILL)
                        killed = kids[0]
            time.sleep(0.2)
        assert killed, "never saw the two workers"
        out, _ = proc.communicate(timeout=90)
    finally:
        proc.kill()
    assert proc.returncode == 1, out
    j = only_journal(tmp_path / "r")
    assert [e for e in j["events"] if e["type"] == "worker_lost"]
    (lost,) = [e for e in j["expectations"] if e["name"] == "load_workers"]
    assert lost["phase"] == "steady" and not lost["passed"]
    assert "load_workers" in out
