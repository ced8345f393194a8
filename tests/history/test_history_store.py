"""The run history's store: concurrent writers lose nothing, a killed writer leaves whole runs only,
a store that cannot be written is one warning, and a long history still renders its trend at once."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from history_writer import FIXTURE, journal

from harness.history import HistoryError, record
from harness.history.extract import record_of
from harness.history.store import append_all, open_read
from harness.history.trend import trend_of
from harness.report.trend_chart import trend_chart

ROOT = Path(__file__).resolve().parents[2]
WRITER = Path(__file__).with_name("history_writer.py")


def writer(store: Path, prefix: str, count: int, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, str(WRITER), str(store), prefix, str(count), *extra], env=env,
                            stderr=subprocess.PIPE, text=True)


def check_whole(store: Path) -> list[str]:
    """The store passes integrity_check and every run row has all its measures and nothing else
    has any: returns the run ids."""
    conn = sqlite3.connect(store)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        runs = conn.execute("SELECT id, run_id, n_expectations, n_invariants, n_phases FROM runs").fetchall()
        for table, column in (("expectations", 2), ("invariants", 3), ("phases", 4)):
            counts = dict(conn.execute(f"SELECT run, count(*) FROM {table} GROUP BY run").fetchall())
            assert {r[0]: counts.get(r[0], 0) for r in runs} == {r[0]: r[column] for r in runs}, table
            assert set(counts) <= {r[0] for r in runs}, f"{table} rows of a run that is not there"
        return [r[1] for r in runs]
    finally:
        conn.close()


def test_two_writers_at_once_lose_nothing(tmp_path):
    store, go = tmp_path / "history.sqlite", tmp_path / "go"
    procs = [writer(store, name, 50, "--go", str(go)) for name in ("a", "b")]
    time.sleep(0.5)  # both interpreters up and waiting, so they race for the new file from the first run
    go.touch()
    for p in procs:
        assert p.wait(timeout=120) == 0, p.stderr.read()
    run_ids = check_whole(store)
    assert sorted(run_ids) == sorted(f"{w}-{i:04d}" for w in "ab" for i in range(50))
    assert sqlite3.connect(store).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_writer_killed_inside_its_transaction_leaves_only_whole_runs(tmp_path):
    store, marker = tmp_path / "history.sqlite", tmp_path / "paused"
    p = writer(store, "k", 10, "--pause-at", "5", str(marker))
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert p.poll() is None and time.monotonic() < deadline, p.stderr.read() if p.poll() is not None else "slow"
        time.sleep(0.01)
    p.send_signal(signal.SIGKILL)  # holding the write lock, its 6th run row written, none of its measures
    p.wait(timeout=10)
    assert sorted(check_whole(store)) == [f"k-{i:04d}" for i in range(5)]
    # the lock died with it: the next run appends at once
    p = writer(store, "next", 1)
    assert p.wait(timeout=30) == 0, p.stderr.read()
    assert len(check_whole(store)) == 6


def test_a_writer_killed_at_any_moment_leaves_a_readable_store(tmp_path):
    store = tmp_path / "history.sqlite"
    for n, delay in enumerate((0.6, 0.83, 1.1)):
        p = writer(store, f"w{n}", 0)  # appends until killed
        time.sleep(delay)
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=10)
        run_ids = check_whole(store)
        assert any(r.startswith(f"w{n}-") for r in run_ids), "the writer appended nothing before the kill"


def test_a_history_that_cannot_be_written_is_one_warning_line(tmp_path):
    j = json.loads(FIXTURE.read_text())
    said: list[str] = []
    not_sqlite = tmp_path / "notes.sqlite"
    not_sqlite.write_text("these are notes, not a database\n" * 40)
    assert record(j, not_sqlite, said.append) is None
    assert not_sqlite.read_text().startswith("these are notes")  # left as it was
    assert record(j, tmp_path, said.append) is None  # a folder
    assert said == [f"history not written: {not_sqlite}: cannot write the run to it: not a SQLite file "
                    "(file is not a database)",
                    f"history not written: {tmp_path}: is a folder; name the history file, e.g. "
                    f"{tmp_path / 'history.sqlite'}"]


def _read_only(folder: Path):
    """Make `folder` read-only even for root (chattr +i), or skip; returns the undo."""
    folder.chmod(0o555)
    undo = [lambda: folder.chmod(0o755)]
    if os.access(folder, os.W_OK):  # root: permissions do not stop it
        done = subprocess.run(["chattr", "+i", str(folder)], capture_output=True)
        if done.returncode != 0:
            folder.chmod(0o755)
            pytest.skip("cannot make a folder read-only here")
        undo.insert(0, lambda: subprocess.run(["chattr", "-i", str(folder)], check=True))
    return lambda: [u() for u in undo]


def test_a_read_only_folder_is_one_warning_and_the_trend_is_left_out(tmp_path):
    folder = tmp_path / "reports"
    folder.mkdir()
    undo = _read_only(folder)
    said: list[str] = []
    try:
        assert record(json.loads(FIXTURE.read_text()), folder / "history.sqlite", said.append) is None
    finally:
        undo()
    assert said == [f"history not written: {folder / 'history.sqlite'}: cannot open it: unable to open database "
                    "file (a folder that cannot be written?)"]
    assert not list(folder.iterdir())


def test_a_written_run_comes_back_as_its_trend(tmp_path):
    store = tmp_path / "history.sqlite"
    base = json.loads(FIXTURE.read_text())
    for i in range(3):
        trend = record(journal("t", i, base), store, pytest.fail)
    assert [p["run_id"] for p in trend] == ["t-0000", "t-0001", "t-0002"]
    assert [p["current"] for p in trend] == [False, False, True]
    assert trend[-1]["status"] == "failed" and trend[-1]["score"] == 54
    # a report re-rendered later shows the trend as it stood at its run
    conn = open_read(store)
    assert [p["run_id"] for p in trend_of(conn, journal("t", 1, base))] == ["t-0000", "t-0001"]


def test_a_thousand_runs_render_their_trend_in_under_a_second(tmp_path):
    store = tmp_path / "history.sqlite"
    base = json.loads(FIXTURE.read_text())
    template = record_of(base)  # one journal read, a thousand runs of it

    def run(i: int):
        j = journal("r", i, {})  # only its run id, start and score
        template.run.update(run_id=j["run_id"], started_at=j["started_at"], score=j["score"]["value"])
        return template

    append_all(store, (run(i) for i in range(1000)))
    newest = journal("r", 999, base)
    for last in (20, 1000):
        started = time.perf_counter()
        conn = open_read(store)
        points = trend_of(conn, newest, last)
        svg = trend_chart(points)
        conn.close()
        took = time.perf_counter() - started
        print(f"trend of the last {last} of 1,000 runs: {took * 1000:.0f} ms")
        assert len(points) == last and svg.count('<g class="run">') == last
        assert took < 1.0, f"trend of the last {last} of 1,000 runs took {took:.2f}s"


def test_a_store_of_a_newer_schema_is_neither_written_nor_misread(tmp_path):
    store = tmp_path / "history.sqlite"
    j = json.loads(FIXTURE.read_text())
    assert record(j, store, pytest.fail)
    with sqlite3.connect(store) as conn:
        conn.execute("UPDATE schema_version SET version = 2")
    said: list[str] = []
    assert record(j, store, said.append) is None
    newer = "history schema version 2 is newer than this chaosdrill's (1); upgrade chaosdrill to read or write it"
    assert said == [f"history not written: {store}: cannot write the run to it: {newer}"]
    with pytest.raises(HistoryError, match="newer than this chaosdrill"):
        open_read(store)
    assert check_whole(store) == [j["run_id"]]
