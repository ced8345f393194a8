"""A load generator at the end of its CPU is named, not mistaken for the system's latency."""

from __future__ import annotations

import textwrap

from harness.run.verdict import decide
from harness.scenario import Scenario
from tests.run.conftest import ROOT, only_journal, run_cli


def _journal(shares: list[float], strict: bool = False) -> dict:
    """A journal of one 6 s phase and the load's CPU share in each of its seconds."""
    journal = {
        "status": "completed", "exit_code": 0, "phases": [{"name": "steady", "start": 0.0, "end": 6.0}],
        "load_cpu": [{"t": t, "process": "local", "share": s} for t, s in enumerate(shares)],
        "expectations": [
            {"phase": "steady", "endpoint": None, "name": "p99_ms", "threshold": "< 100", "passed": True},
            {"phase": "steady", "endpoint": None, "name": "error_rate", "threshold": "< 1%", "passed": True},
        ],
    }
    if strict:
        journal["strict_load"] = True
    return journal


SCENARIO = Scenario.model_validate({"title": "t", "plan": "p", "stack": "lending",
                                    "load": {"users": 1, "spawn_rate": 1}, "phases": [{"name": "steady",
                                                                                       "duration": 6}]})


def test_three_saturated_seconds_flag_the_phase_and_its_latency_not_its_error_rate():
    out = decide(_journal([0.5, 0.95, 0.97, 0.2, 1.0, 0.4]), SCENARIO)
    (entry,) = out["load_saturation"]
    assert entry["phase"] == "steady" and entry["seconds"] == 3 and entry["at"] == [1, 2, 4]
    assert entry["peak"] == 1.0
    p99, error_rate = out["expectations"]
    assert p99["load_saturated"] == 3 and "saturated load generator" in p99["why"]
    assert "load_saturated" not in error_rate  # a share of answers is not the load's queueing
    assert out["status"] == "passed"  # said, not failed, without --strict-load


def test_two_saturated_seconds_are_not_enough_and_strict_load_fails_a_saturated_drill():
    assert decide(_journal([0.95, 0.99, 0.1, 0.1, 0.1, 0.1]), SCENARIO)["load_saturation"] == []
    out = decide(_journal([0.95, 0.99, 0.91, 0.1, 0.1, 0.1], strict=True), SCENARIO)
    assert out["status"] == "failed" and out["exit_code"] == 1
    assert "--strict-load: load generator saturated in steady: 3 of 6 s" in out["reason"]


BURNER = """\
import hashlib

from gevent import monkey
from locust import FastHttpUser, constant_pacing, task

# Real OS threads (not greenlets): hashing a large buffer releases the GIL, so the load process
# takes more than one core's worth of CPU even on a machine busy with other work, as a
# locustfile that signs or encrypts every request body would.
_start_thread = monkey.get_original("_thread", "start_new_thread")
_started = []


def _sign_forever() -> None:
    body = b"x" * (1 << 20)
    while True:
        hashlib.sha256(body).digest()


class Signer(FastHttpUser):
    wait_time = constant_pacing(0.1)

    def on_start(self) -> None:
        if not _started:
            _started.append(True)
            for _ in range(16):  # enough runnable threads to keep a core's worth on a machine busy with tests
                _start_thread(_sign_forever, ())

    @task
    def hello(self) -> None:
        self.client.get("/hello", name="GET /hello")
"""


def test_a_drill_whose_load_process_runs_out_of_cpu_is_flagged_and_strict_load_fails_it(tmp_path, isolated_state):
    (tmp_path / "burner.py").write_text(BURNER)
    drill = tmp_path / "burn.yaml"
    drill.write_text(textwrap.dedent(f"""\
        title: A load generator out of CPU
        plan: the system is fine; the load process is not
        stack: {ROOT / "tests/fixtures/stacks/echo.yaml"}
        load: {{users: 2, spawn_rate: 2, locustfile: burner.py}}
        phases:
          - {{name: steady, duration: 8s, expect: {{p99_ms: "< 5000", ungraceful: "== 0"}}}}
        """))
    res = run_cli(["run", str(drill), "--strict-load", "--report-dir", str(tmp_path / "r")], tmp_path, timeout=120)
    journal = only_journal(tmp_path / "r")
    assert max(s["share"] for s in journal["load_cpu"]) >= 0.9, journal["load_cpu"]
    assert res.returncode == 1, res.stdout + res.stderr
    (entry,) = journal["load_saturation"]
    assert entry["phase"] == "steady" and entry["seconds"] >= 3
    assert "! load generator saturated in steady" in res.stdout
    assert "--strict-load: load generator saturated in steady" in journal["reason"]
    (p99,) = [e for e in journal["expectations"] if e["name"] == "p99_ms"]
    assert p99["load_saturated"] >= 3
    (run_dir,) = [p for p in (tmp_path / "r").iterdir() if p.is_dir()]  # beside it: the run history
    summary = (run_dir / "summary.md").read_text()
    assert "load generator saturated in steady" in summary
    html = (run_dir / "report.html").read_text()
    assert 'class="saturated-band"' in html  # the seconds are shaded on the charts
