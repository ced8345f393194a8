"""The stream reader and merger, the config checks, stages/control, clocks."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from harness.errors import UsageError
from harness.load.buckets import MetricsCollector
from harness.load.classify import Classifier
from harness.load.clock import ClockSync
from harness.load.config import parse_config
from harness.load.schedule import LoadSchedule, UserTarget
from harness.load.stream import JsonlWriter, MetricsTail, SecondMerger
from harness.metrics.series import Second, Stats

BASE = {"hosts": ["http://127.0.0.1:1"], "users": 10, "metrics_path": "m.jsonl", "run_time_s": 30,
        "classification": {"field": "code", "classes": {"success": ["OK"], "degraded": ["DEFERRED"]}}}


class Answer:
    def __init__(self, status: int, body: bytes) -> None:
        self.status_code, self.content, self.headers = status, body, {}


def collector(worker: str, clock) -> MetricsCollector:
    return MetricsCollector(Classifier("code", {"OK": "success", "DEFERRED": "degraded"}, frozenset({"DEFERRED"}),
                                       5000), worker, clock=clock)


def test_tail_reads_only_complete_lines_and_keeps_events_apart(tmp_path):
    path = tmp_path / "m.jsonl"
    tail = MetricsTail(path)
    assert tail.poll() == []  # no file yet
    rec = {"v": 1, "worker": "a", "second": 100, "endpoints": {}}
    with open(path, "w") as f:
        f.write(json.dumps(rec) + "\n" + json.dumps({"v": 1, "event": "worker_lost", "worker": "b", "t": 1.0})
                + "\n" + '{"v": 1, "worker": "a", "sec')
    assert tail.poll() == [rec]
    assert [e["event"] for e in tail.take_events()] == ["worker_lost"]
    with open(path, "a") as f:
        f.write('ond": 101, "endpoints": {}}\n')
    assert [r["second"] for r in tail.poll()] == [101]
    assert tail.poll() == []


def test_collector_records_merge_exactly_across_workers(tmp_path):
    clock = {"t": 1000.2}
    a, b = collector("a", lambda: clock["t"]), collector("b", lambda: clock["t"])
    b.clock_offset = 0.5  # b's clock is half a second behind the master's
    for c in (a, b):
        c.on_request(name="x", response_time=1.5, response=Answer(200, b'{"code":"OK"}'))
        c.on_request(name="x", response_time=20.0, response=Answer(503, b'{"code":"DEFERRED"}'))
        c.on_request(name="y", response_time=3.0, response=None, exception=ConnectionResetError())
    assert a.drain() == ([], [])  # second 1000 is not over yet
    clock["t"] = 1001.1
    a.acknowledge("r1", "L1", "OK")
    writer = JsonlWriter(tmp_path / "m.jsonl")
    ra, acks = a.drain()
    rb, _ = b.drain(final=True)
    writer.write(ra + rb)
    writer.close()
    assert acks == [{"request_id": "r1", "loan_id": "L1", "code": "OK", "t": 1001.1, "worker": "a"}]
    assert [(r["worker"], r["second"]) for r in ra + rb] == [("a", 1000), ("b", 1000)]
    merger = SecondMerger()
    merger.add_all(MetricsTail(tmp_path / "m.jsonl").poll())
    (sec,) = merger.ordered()
    x, y = sec.endpoints["x"], sec.endpoints["y"]
    assert (x.n, x.classes["success"], x.classes["degraded"], x.retry_after_missing) == (4, 2, 2, 2)
    assert x.codes == {"OK": 2, "DEFERRED": 2} and x.hist.max_us == 20000
    assert (y.n, y.codes, y.ungraceful) == (2, {"reset": 2}, 2)
    assert isinstance(x, Stats) and merger.workers == {"a", "b"}


def test_requests_are_also_counted_per_entry_instance_by_their_url(tmp_path):
    config = parse_config({**BASE, "hosts": ["http://127.0.0.1:7001", "http://127.0.0.1:7002/"],
                           "host_names": ["lending", "lending#1"]})
    clock = {"t": 500.0}
    c = MetricsCollector(Classifier("code", {"OK": "success"}, frozenset(), 5000), "a",
                         clock=lambda: clock["t"], targets=config.targets())
    c.on_request(name="GET /q", response_time=1.0, response=Answer(200, b'{"code":"OK"}'),
                 url="http://127.0.0.1:7001/v1/q")
    c.on_request(name="GET /q", response_time=1.0, response=Answer(500, b"crash"), url="http://127.0.0.1:7002/v1/q")
    c.on_request(name="GET /q", response_time=1.0, response=Answer(500, b"crash"), url="http://127.0.0.1:7002/v1/q")
    c.on_request(name="GET /other", response_time=1.0, response=Answer(200, b'{"code":"OK"}'),
                 url="http://10.0.0.9:80/x")  # a host the drill did not start: endpoint only
    c.on_request(name="GET /nourl", response_time=1.0, response=Answer(200, b'{"code":"OK"}'))
    clock["t"] = 501.0
    records, _ = c.drain()
    merger = SecondMerger()
    merger.add_all(records + records)  # two workers' worth: instances add up like endpoints
    (sec,) = merger.ordered()
    assert sec.total().n == 10
    assert {k: (v.n, v.ungraceful) for k, v in sec.instances.items()} == {"lending": (2, 0), "lending#1": (4, 4)}
    assert sec.part("instance lending#1").codes == {"http_500": 4}
    assert Second.from_json(sec.to_json()).instances["lending"].n == 2
    with pytest.raises(UsageError, match="host_names"):
        parse_config({**BASE, "host_names": ["a", "b"]})


def test_config_errors_name_the_field():
    for change, text in [({"hosts": []}, "hosts"), ({"users": 1.5}, "users"), ({"run_time_s": "soon"}, "run_time_s"),
                         ({"classification": {"classes": {"fine": ["OK"]}}}, "classification.classes.fine"),
                         ({"stages": [{"at_s": "x", "users": 1}]}, "stages[0].at_s"),
                         ({"pacing": {"mode": "bursty"}}, "pacing.mode")]:
        with pytest.raises(UsageError, match=text.replace("[", r"\[").replace("]", r"\]")):
            parse_config({**BASE, **change})
    # the load process is started by hand too (docs/load.md): a misspelt key or a host that is
    # no URL is refused, not left at its default or failed on later
    with pytest.raises(UsageError, match=r"unknown key 'userz' \(did you mean 'users'\?\)"):
        parse_config({**BASE, "userz": 5})
    with pytest.raises(UsageError, match="hosts: expected a list of base URLs"):
        parse_config({**BASE, "hosts": ["127.0.0.1:8080"]})
    data = dict(BASE)
    del data["run_time_s"]
    with pytest.raises(UsageError, match="run_time_s"):
        parse_config(data)


def test_stages_and_control_lines(tmp_path):
    control = tmp_path / "control.jsonl"
    cfg = parse_config({**BASE, "spawn_rate": 5, "control_path": str(control), "stages": [
        {"duration": "2s", "users": 20}, {"duration": "500ms", "users": 40, "spawn_rate": 50},
        {"at_s": 10, "users": 5}]})
    sched = LoadSchedule(cfg)
    assert sched.initial == UserTarget(10, 5.0)
    assert sched.changes(0.0) == [UserTarget(20, 5.0)]
    assert sched.changes(1.9) == []
    assert sched.changes(2.0) == [UserTarget(40, 50.0)]
    control.write_text(json.dumps({"users": 300, "spawn_rate": 100}) + "\n" + '{"users": 7')
    assert sched.changes(3.0) == [UserTarget(300, 100.0)]  # the cut line waits
    with open(control, "a") as f:
        f.write("}\n")
    assert sched.changes(3.1) == [UserTarget(7, 100.0)]
    assert sched.changes(10.0) == [UserTarget(5, 100.0)]


def test_clock_sync_prefers_the_shortest_round_trip():
    sync = ClockSync()
    assert sync.offset == 0.0
    sync.add(t0=100.0, master_t=110.30, t1=100.6)  # queued: rtt 0.6
    sync.add(t0=101.0, master_t=111.001, t1=101.002)  # rtt 2 ms: offset 10.0
    assert sync.offset == pytest.approx(10.0)
    assert sync.rtt == pytest.approx(0.002)


def test_orchestrator_side_modules_do_not_load_gevent():
    """The asyncio orchestrator imports these; gevent's monkey-patching must
    never reach it (nor the pytest process running the other tests)."""
    code = ("import sys, harness.load.config, harness.load.stream, harness.load.schedule, harness.load.buckets, "
            "harness.load.clock, harness.load.acks, harness.load.lending_endpoints, harness.load.protocol, "
            "harness.commands.worker; "
            "bad = [m for m in ('gevent', 'locust') if m in sys.modules]; assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_the_load_config_reads_durations_as_scenarios_do_without_pydantic():
    """One duration parser for scenario files and the load's config, and the load
    process (every worker too) does not pay pydantic's import for it."""
    cfg = parse_config({**BASE, "run_time_s": "1m", "stages": [{"duration": "750us", "users": 2}, {"users": 1}]})
    assert cfg.run_time_s == 60.0 and cfg.stages[1].start_s == pytest.approx(0.00075)
    code = "import sys, harness.load.config; assert 'pydantic' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
