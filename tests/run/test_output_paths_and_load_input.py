"""Bad run options and load input are one line and exit 2 before anything starts (or before load), not a traceback."""

from __future__ import annotations

import pytest

from tests.run.conftest import ROOT, SCENARIOS, run_cli


@pytest.mark.parametrize("command", ["run", "gate", "matrix", "gameday"])
def test_report_dir_that_is_a_file_is_one_line_exit_2(tmp_path, isolated_state, command):
    afile = tmp_path / "reports"
    afile.write_text("not a folder")
    target = {"run": [str(SCENARIOS / "echo-outage.yaml")], "gate": [str(SCENARIOS)], "matrix": [], "gameday": ["--no-console"]}[command]
    res = run_cli([command, *target, "--report-dir", str(afile)], tmp_path, timeout=60)
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr + res.stdout
    assert f"--report-dir {afile}" in res.stderr
    assert "starting stack" not in res.stderr


def test_junit_that_is_a_folder_is_refused_before_the_drill(tmp_path, isolated_state):
    folder = tmp_path / "out"
    folder.mkdir()
    res = run_cli(["run", str(SCENARIOS / "echo-outage.yaml"), "--report-dir", str(tmp_path / "r"),
                   "--junit", str(folder)], tmp_path, timeout=60)
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr + res.stdout
    assert f"--junit {folder}: is a folder" in res.stderr
    assert "starting stack" not in res.stderr


def test_a_load_section_the_load_process_refuses_is_exit_2_and_cleaned_up(tmp_path, isolated_state):
    """user_classes naming no class of the locustfile: the load process exits 2 (its usage
    error); the drill is bad input (2), not a harness failure (3), and nothing is left."""
    from tests.run.conftest import ROOT, only_journal

    scenario = tmp_path / "bad-load.yaml"
    scenario.write_text(
        "title: bad load\nplan: x\n"
        f"stack: {ROOT / 'tests/fixtures/stacks/echo.yaml'}\n"
        "load: {users: 2, spawn_rate: 2, user_classes: [NoSuchUser]}\n"
        "phases:\n  - {name: baseline, duration: 2s}\n"
    )
    res = run_cli(["run", str(scenario), "--report-dir", str(tmp_path / "r")], tmp_path, timeout=120)
    assert res.returncode == 2, res.stdout + res.stderr
    assert "Traceback" not in res.stdout + res.stderr
    assert "NoSuchUser" in res.stdout
    journal = only_journal(tmp_path / "r")
    assert journal["exit_code"] == 2
    assert journal["leftovers"]["checked"]


def test_a_master_address_that_cannot_be_bound_is_refused_before_anything_starts(tmp_path, isolated_state):
    """A taken --master-port or an address this host lacks: one line, exit 2, no stack started (it was
    Locust's ZeroMQ traceback and exit 3 after the stack and the load had started)."""
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        res = run_cli(["run", str(SCENARIOS / "echo-outage.yaml"), "--master-port", str(port),
                       "--report-dir", str(tmp_path / "r")], tmp_path)
    assert res.returncode == 2, res.stdout + res.stderr
    assert f"--master-port {port}: the Locust master cannot listen on 127.0.0.1:{port}" in res.stderr
    assert "starting stack" not in res.stdout + res.stderr and "Traceback" not in res.stderr
    res = run_cli(["gate", str(SCENARIOS), "--master-bind", "192.0.2.1", "--report-dir", str(tmp_path / "r")], tmp_path)
    assert res.returncode == 2 and "--master-bind 192.0.2.1: the Locust master cannot listen" in res.stderr


def test_master_options_for_drills_without_remote_workers_are_refused(tmp_path, isolated_state):
    """--master-port is only for drills with load.workers; on others it would be silently ignored."""
    res = run_cli(["run", str(SCENARIOS / "echo-outage.yaml"), "--master-port", "5598",
                   "--report-dir", str(tmp_path / "r")], tmp_path)
    assert res.returncode == 2, res.stdout + res.stderr
    assert "--master-port: no drill given waits for remote workers (load.workers)" in res.stderr
    assert "starting stack" not in res.stdout + res.stderr and "Traceback" not in res.stderr


def test_replicas_decide_which_instance_links_exist(tmp_path, isolated_state):
    """Drills are checked against the stack as --replicas runs it: client->lending#2 exists with 3
    lending instances and not with 1, whatever the stack file says."""
    import pytest

    from harness.scenario import load_scenario
    from harness.schema.errors import FileError

    scenario = tmp_path / "third.yaml"
    scenario.write_text(
        "title: third instance\nplan: fault the third lending instance's edge link\nstack: lending\n"
        "load: {users: 2, spawn_rate: 2}\n"
        "phases:\n  - name: fault\n    duration: 2s\n"
        "    faults: [{link: \"client->lending#2\", toxic: timeout, attributes: {timeout: 0}}]\n"
        "    expect: {instances: {\"lending#2\": {error_rate: \"< 100%\"}}}\n")
    with pytest.raises(FileError) as refused:
        load_scenario(scenario)
    assert "client->lending#2" in str(refused.value) and "lending#2" in str(refused.value)
    loaded = load_scenario(scenario, {"lending": 3})
    assert loaded.resolved_stack().entry_instances() == ["lending", "lending#1", "lending#2"]
    # and the other way round: a stack file's replica taken away by --replicas is refused before anything starts
    res = run_cli(["run", str(ROOT / "scenarios" / "gray-release.yaml"),
                   "--replicas", "lending=1", "--report-dir", str(tmp_path / "r")], tmp_path)
    assert res.returncode == 2, res.stdout + res.stderr
    assert "unknown link 'client->lending#1'" in res.stderr
    assert "starting stack" not in res.stdout + res.stderr and "Traceback" not in res.stderr
