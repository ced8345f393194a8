"""An unusable --report-dir or --junit is one line and exit 2 before anything starts, not a traceback."""

from __future__ import annotations

import pytest

from tests.run.conftest import SCENARIOS, run_cli


@pytest.mark.parametrize("command", ["run", "gate", "matrix"])
def test_report_dir_that_is_a_file_is_one_line_exit_2(tmp_path, isolated_state, command):
    afile = tmp_path / "reports"
    afile.write_text("not a folder")
    target = {"run": [str(SCENARIOS / "echo-outage.yaml")], "gate": [str(SCENARIOS)], "matrix": []}[command]
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
