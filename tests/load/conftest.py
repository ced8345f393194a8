"""Run the real load process (`python -m harness.load`) against local servers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from harness.load.stream import MetricsTail, SecondMerger
from harness.metrics.series import Series
from .scripted_server import ScriptedServer

ROOT = Path(__file__).resolve().parents[2]
SCRIPTED_LOCUSTFILE = str(Path(__file__).with_name("scripted_locustfile.py"))
SCRIPTED_CLASSIFICATION = {"field": "code", "classes": {"success": ["OK"], "degraded": ["OVERLOADED"],
                                                          "rejected": ["RISK_REJECTED"]}}


class LoadRun:
    """One load process; always ended (its whole process group) on teardown."""

    def __init__(self, tmp: Path, **config: Any) -> None:
        self.dir = tmp
        self.config = {"metrics_path": str(tmp / "metrics.jsonl"), "acks_path": str(tmp / "acks.jsonl"),
                       "control_path": str(tmp / "control.jsonl"), "request_timeout_s": 1.0,
                       "spawn_rate": 100, **config}
        (tmp / "config.json").write_text(json.dumps(self.config))
        self.log = open(tmp / "load.log", "wb")
        self.popen: subprocess.Popen | None = None

    def start(self) -> "LoadRun":
        self.started = time.time()
        self.popen = subprocess.Popen([sys.executable, "-m", "harness.load", "--config", str(self.dir / "config.json")],
                                      cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def wait(self, timeout: float) -> int:
        assert self.popen is not None
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"load process still running after {timeout} s; log:\n{self.log_text()}")

    def log_text(self) -> str:
        return (self.dir / "load.log").read_text(errors="replace")[-4000:]

    def records(self) -> list[dict]:
        return MetricsTail(self.config["metrics_path"]).poll()

    def series(self) -> tuple[Series, SecondMerger]:
        merger = SecondMerger()
        merger.add_all(self.records())
        return Series(merger.ordered()), merger

    def acks(self) -> list[dict]:
        from harness.load.stream import read_acknowledgements

        return read_acknowledgements(self.config["acks_path"])

    def close(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.popen.wait(timeout=10)
        self.log.close()


@pytest.fixture
def scripted_server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as srv:
        yield srv


@pytest.fixture
def load_run(tmp_path: Path) -> Iterator[Any]:
    runs: list[LoadRun] = []

    def make(**config: Any) -> LoadRun:
        folder = tmp_path / f"run{len(runs)}"
        folder.mkdir()
        run = LoadRun(folder, **config)
        runs.append(run)
        return run

    try:
        yield make
    finally:
        for run in runs:
            run.close()
