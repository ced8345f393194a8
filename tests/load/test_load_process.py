"""The load process against a server whose every answer is known: the
stream must count exactly what the server did, class by class."""

from __future__ import annotations

import json
import signal
import time

from harness.load.stream import MetricsTail

from .conftest import SCRIPTED_CLASSIFICATION, SCRIPTED_LOCUSTFILE

# path -> (class, code, every answer lacks Retry-After)
EXPECTED = {
    "ok": ("success", "OK", False),
    "slow": ("success", "OK", False),
    "degraded": ("degraded", "OVERLOADED", False),
    "noretry": ("degraded", "OVERLOADED", True),
    "rejected": ("rejected", "RISK_REJECTED", False),
    "bare500": ("ungraceful", "http_500", False),
    "unknown": ("ungraceful", "WHATEVER", False),
    "reset": ("ungraceful", "reset", False),
    "hang": ("ungraceful", "timeout", False),
}


def scripted(**extra):
    return {"locustfile": SCRIPTED_LOCUSTFILE, "user_classes": ["ScriptedUser"],
            "classification": SCRIPTED_CLASSIFICATION, "retryable_codes": ["OVERLOADED"], **extra}


def check_exact(series, counts, acks):
    assert sorted(series.endpoints()) == sorted(EXPECTED)
    assert len(acks) == len({a["request_id"] for a in acks}) == counts["/ok"]
    for name, (cls, code, lacks_retry_after) in EXPECTED.items():
        stats = series.window(0, 1e12, name)
        assert stats.n == counts[f"/{name}"] > 0, name
        assert stats.classes[cls] == stats.n, (name, stats.classes)
        assert stats.codes == {code: stats.n}, name
        assert stats.retry_after_missing == (stats.n if lacks_retry_after else 0), name
        assert stats.hist.total == stats.n


def test_stream_counts_exactly_what_the_server_did(scripted_server, load_run):
    run = load_run(hosts=[scripted_server.url], users=5, run_time_s=3, **scripted()).start()
    assert run.wait(timeout=20) == 0, run.log_text()
    ended = time.time()
    series, merger = run.series()
    check_exact(series, scripted_server.counts(), run.acks())
    assert merger.workers == {"local"}
    # every second of the stream lies inside the run
    assert run.started - 1 <= series.seconds[0].t and series.seconds[-1].t <= ended
    # latency: the server sleeps 100 ms on /slow, the client gives up at 1 s on /hang
    slow = series.window(0, 1e12, "slow")
    assert 100 <= slow.percentile_ms(50) <= 150
    assert series.window(0, 1e12, "ok").percentile_ms(50) < 50
    hang = series.window(0, 1e12, "hang")
    assert 1000 <= hang.percentile_ms(50) <= 1300 and hang.max_ms < 2500


def test_sigterm_stops_cleanly_and_flushes_the_last_second(scripted_server, load_run):
    run = load_run(hosts=[scripted_server.url], users=1, run_time_s=60,
                   **scripted(user_classes=["OkUser"])).start()
    deadline = time.time() + 20
    while len(run.records()) < 3 and time.time() < deadline:
        time.sleep(0.1)
    assert len(run.records()) >= 3, run.log_text()
    raised = time.time()
    with open(run.config["control_path"], "a") as f:
        f.write(json.dumps({"users": 6, "spawn_rate": 100}) + "\n")
    time.sleep(3.5)
    signalled = time.time()
    run.popen.send_signal(signal.SIGTERM)
    assert run.wait(timeout=10) == 0, run.log_text()
    assert time.time() - signalled < 5
    series, _ = run.series()
    counts = scripted_server.counts()
    assert series.window(0, 1e12, "ok").n == counts["/ok"]
    # the second the signal arrived in was written although it never ended
    assert series.seconds[-1].t >= int(signalled)
    # six users after the control line, one before
    before = [s.total().n for s in series.seconds if s.t < int(raised)][1:]
    after = [s.total().n for s in series.seconds if int(raised) + 1 < s.t < int(signalled)]
    assert before and after, [(s.t, s.total().n) for s in series.seconds]
    assert min(after) > 2.5 * max(before), (before, after)
    tail = MetricsTail(run.config["metrics_path"])
    tail.poll()
    events = [(e["event"], e.get("users"), e.get("reason")) for e in tail.take_events()]
    assert events == [("load_started", 1, None), ("users_changed", 6, None), ("load_stopping", None, "signal")]


def test_bad_config_exits_2_naming_the_field(scripted_server, load_run):
    run = load_run(hosts=[scripted_server.url], users=1, run_time_s=3,
                   **scripted(locustfile="/nonexistent/locustfile.py")).start()
    assert run.wait(timeout=20) == 2
    assert "locustfile: no such file /nonexistent/locustfile.py" in run.log_text()
