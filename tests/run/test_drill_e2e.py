"""Real drills, end to end, on the generic echo stack (no lending code involved)."""

from __future__ import annotations


from tests.run.conftest import SCENARIOS, only_journal, run_cli


def test_a_drill_whose_plan_holds_passes_with_a_full_journal(tmp_path, isolated_state):
    res = run_cli(["run", str(SCENARIOS / "echo-outage.yaml"), "--report-dir", str(tmp_path / "r")], tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.startswith("PASSED: Echo dependency outage")
    j = only_journal(tmp_path / "r")
    assert (j["format"], j["version"], j["status"], j["exit_code"]) == ("chaosdrill-journal", 1, "passed", 0)
    assert [p["name"] for p in j["phases"]] == ["baseline", "back-down", "recovery"]
    # The fault ran on time, was removed, and nothing was left behind.
    (fault,) = j["faults"]
    assert fault["target"] == {"link": "front->back"} and fault["kind"] == "down"
    assert fault["scheduled_at"] == 3.0
    assert fault["lag_ms"] >= 0  # how small it is, is measured in benchmarks/, not here
    assert 7.0 <= fault["removed_at"] < 8.0
    assert j["leftovers"]["checked"] and not j["leftovers"]["toxics"] and not j["leftovers"]["disabled_proxies"]
    # The per-second metrics show the fault: DEP_DOWN only while back was down.
    by_t = {m["t"]: m["endpoints"]["GET /hello"] for m in j["metrics"] if "GET /hello" in m["endpoints"]}
    before, during = [by_t[t] for t in (0, 1, 2) if t in by_t], [by_t[t] for t in (4, 5, 6) if t in by_t]
    assert before and during
    assert all(s["codes"].get("DEP_DOWN", 0) == 0 for s in before)
    assert all(s["codes"].get("DEP_DOWN", 0) == s["n"] for s in during)
    assert all(by_t[t]["retry_after_missing"] == 0 for t in by_t)
    kinds = [e["type"] for e in j["events"]]
    for kind in ("stack_started", "load_started", "phase_started", "fault_applied", "fault_removed",
                 "load_stopped", "stack_stopped"):
        assert kind in kinds
    assert {e["name"] for e in j["expectations"]} >= {"error_rate", "ungraceful", "recovers_within"}
    assert all(e["passed"] for e in j["expectations"])
    run_dir = next(p for p in (tmp_path / "r").iterdir() if p.is_dir())
    for name in ("report.html", "summary.md", "junit.xml"):
        assert (run_dir / name).exists(), name
    assert not list(isolated_state.glob("*.json"))  # the run removed its state file
    # The run is in the history beside its folder, one row with all its measures (docs/history.md).
    from harness.history.store import measures_of, open_read, runs_of

    conn = open_read(tmp_path / "r" / "history.sqlite")
    (run,) = runs_of(conn, "echo-outage", 10)
    assert (run["run_id"], run["status"], run["exit_code"], run["score"]) == (j["run_id"], "passed", 0, 100)
    measures = measures_of(conn, [run["id"]])[run["id"]]
    assert [(e["phase"], e["name"], e["measured"]) for e in measures["expectations"]] == \
        [(e["phase"], e["name"], e["measured"]) for e in j["expectations"]]
    assert [(p["name"], bool(p["faulted"])) for p in measures["phases"]] == \
        [("baseline", False), ("back-down", True), ("recovery", False)]
    assert 'id="history"' not in (run_dir / "report.html").read_text()  # no earlier run to draw a trend with


def test_a_drill_that_hangs_fails_and_says_which_expectation_by_how_much(tmp_path, isolated_state):
    res = run_cli(["run", str(SCENARIOS / "echo-hang.yaml"), "--report-dir", str(tmp_path / "r"), "--no-history"],
                  tmp_path)
    assert res.returncode == 1, res.stdout + res.stderr
    assert not list((tmp_path / "r").glob("history.sqlite*")) and not list(tmp_path.glob("**/*.sqlite"))
    assert res.stdout.startswith("FAILED: Echo edge hang")
    assert "edge-hang: ungraceful == 0: measured" in res.stdout
    j = only_journal(tmp_path / "r")
    (exp,) = [e for e in j["expectations"] if e["phase"] == "edge-hang"]
    assert not exp["passed"] and exp["measured"] > 0
    codes = {}
    for m in j["metrics"]:
        for code, n in m["endpoints"]["GET /hello"]["codes"].items():
            codes[code] = codes.get(code, 0) + n
    assert codes.get("timeout", 0) > 0  # client-side timeouts, as the toxic must cause


def test_bad_input_gets_one_line_and_exit_2(tmp_path, isolated_state):
    broken = tmp_path / "broken.yaml"
    broken.write_text((SCENARIOS / "echo-outage.yaml").read_text().replace("front->back", "front->nowhere"))
    broken.write_text(broken.read_text().replace("stack: ../stacks/echo.yaml",
                                                 f"stack: {SCENARIOS.parent / 'stacks' / 'echo.yaml'}"))
    res = run_cli(["run", str(broken), "--report-dir", str(tmp_path / "r")], tmp_path)
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
    assert "front->nowhere" in res.stderr and "broken.yaml:" in res.stderr
    assert not (tmp_path / "r").exists()
    # Every problem of every file, and an unknown --service-arg service, before anything starts.
    good = SCENARIOS / "echo-outage.yaml"
    res = run_cli(["run", str(good), str(broken), str(tmp_path / "nope.yaml"), "--service-arg", "frnt=--x",
                   "--report-dir", str(tmp_path / "r")], tmp_path)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "--service-arg: unknown service 'frnt' in stack echo" in res.stderr
    assert f"{tmp_path / 'nope.yaml'}: no such file" in res.stderr and "front->nowhere" in res.stderr
    assert not (tmp_path / "r").exists()


def test_a_service_that_never_starts_is_a_harness_failure_with_its_log(tmp_path, isolated_state):
    stack = (SCENARIOS.parent / "stacks" / "echo.yaml").read_text()
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    (stacks / "echo.yaml").write_text(stack.replace('"--dep-timeout", "0.3"]', '"--dep-timeout", "0.3", "--fail-start"]')
                                      .replace("{stack_dir}/../echo_service.py",
                                               str(SCENARIOS.parent / "echo_service.py")))
    scen = tmp_path / "scen"
    scen.mkdir()
    (scen / "s.yaml").write_text((SCENARIOS / "echo-outage.yaml").read_text())
    (stacks / "echo_locust.py").write_text((SCENARIOS.parent / "stacks" / "echo_locust.py").read_text())
    res = run_cli(["run", str(scen / "s.yaml"), "--report-dir", str(tmp_path / "r")], tmp_path)
    assert res.returncode == 3, res.stdout + res.stderr
    assert "front exited with code 2 before becoming healthy" in res.stdout
    assert "refusing to start" in res.stdout
    j = only_journal(tmp_path / "r")
    assert j["status"] == "error"
    assert not list(isolated_state.glob("*.json"))


def test_load_stages_land_a_known_time_before_the_first_phase(tmp_path, isolated_state):
    """t0 counts from the load's own start (not from spawning its process), so a stage
    change at load time T happens between T - warmup - 1 and T - warmup on the drill's
    clock (warmup: users / spawn_rate + 1 s = 2 s here); gate profiles place crowds by it."""
    scenario = tmp_path / "stages.yaml"
    scenario.write_text(f"""
title: Stages on the drill clock
plan: a stage change lands where the docs say
stack: {SCENARIOS.parent / "stacks" / "echo.yaml"}
load:
  users: 10
  spawn_rate: 10
  stages:
    - {{duration: 4s, users: 10, spawn_rate: 10}}
    - {{duration: 60s, users: 20, spawn_rate: 20}}
phases:
  - {{name: only, duration: 4s, expect: {{ungraceful: "== 0"}}}}
""")
    notes = tmp_path / "notes.sqlite"  # --history naming a file that is not SQLite: one warning, same verdict
    notes.write_text("not a database\n" * 100)
    res = run_cli(["run", str(scenario), "--report-dir", str(tmp_path / "r"), "--history", str(notes)], tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.startswith("PASSED: Stages on the drill clock")
    assert (f"chaosdrill: warning: history not written: {notes}: cannot write the run to it: not a SQLite file "
            "(file is not a database)\n") in res.stderr
    assert notes.read_text() == "not a database\n" * 100 and list((tmp_path / "r").glob("*/report.html"))
    events = only_journal(tmp_path / "r")["events"]
    started = [e["t"] for e in events if e["type"] == "load_started" and "local" in e["message"]]
    changed = [e["t"] for e in events if e["type"] == "users_changed" and e.get("data", {}).get("users") == 20]
    assert len(started) == 1 and -3.0 <= started[0] <= -2.0, started
    assert len(changed) == 1 and 1.0 <= changed[0] <= 2.3, changed  # load time 4 s
    assert abs(changed[0] - started[0] - 4.0) < 0.3


def test_a_service_arg_the_service_refuses_is_a_usage_error(tmp_path, isolated_state):
    """A --service-arg the service's own command line refuses (it exits 2 before becoming healthy) is the
    user's input at fault: exit 2, naming the option, not a harness failure (3)."""
    res = run_cli(["run", str(SCENARIOS / "echo-outage.yaml"), "--service-arg", "front=--no-such-flag",
                   "--report-dir", str(tmp_path / "r")], tmp_path)
    assert res.returncode == 2, res.stdout + res.stderr
    assert "--service-arg front=--no-such-flag: service front exited with code 2" in res.stdout
    assert "unrecognized arguments: --no-such-flag" in res.stdout
    assert not list(isolated_state.glob("*.json"))
