"""`chaosdrill gate --profile`: a profile no drill has is refused, a drill without it is named."""

from __future__ import annotations

from harness.commands.gate import _with_profile
from harness.scenario import load_scenario
from tests.run.conftest import ROOT, SCENARIOS, run_cli


def test_a_misspelt_profile_is_refused_before_any_drill_runs(tmp_path):
    res = run_cli(["gate", str(ROOT / "scenarios"), "--only", "flash", "--profile", "gaet",
                   "--report-dir", str(tmp_path / "r")], tmp_path)
    assert res.returncode == 2, res.stdout + res.stderr
    assert "--profile gaet: no drill in" in res.stderr and "did you mean 'gate'?" in res.stderr
    assert "Traceback" not in res.stderr
    assert not (tmp_path / "r").exists()  # nothing ran


def test_a_drill_without_the_profile_runs_at_full_length_and_says_so(tmp_path, capsys):
    with_profile = ROOT / "scenarios" / "flash-crowd.yaml"
    without = SCENARIOS / "echo-outage.yaml"  # a test drill with no profiles
    loaded = _with_profile([(with_profile, load_scenario(with_profile)), (without, load_scenario(without))],
                           "gate", str(tmp_path))
    gate_baseline = load_scenario(with_profile).profiles["gate"].phase_durations["baseline"]
    assert [s.phases[0].duration for _, s in loaded] == [gate_baseline, load_scenario(without).phases[0].duration]
    assert gate_baseline < load_scenario(with_profile).phases[0].duration
    assert f"gate: {without} has no 'gate' profile: it runs at full length" in capsys.readouterr().err


def test_every_broken_scenario_of_the_folder_is_reported_at_once(tmp_path):
    """Like `run`, the gate names the problems of every broken file, not only of the first."""
    for name, key in (("a.yaml", "fautls"), ("b.yaml", "faults_")):
        (tmp_path / name).write_text(
            "title: t\nplan: p\nstack: lending\nload: {users: 1, spawn_rate: 1}\n"
            f"phases:\n  - {{name: baseline, duration: 2s, {key}: []}}\n"
        )
    res = run_cli(["gate", str(tmp_path), "--profile", "none", "--report-dir", str(tmp_path / "r")], tmp_path)
    assert res.returncode == 2, res.stdout + res.stderr
    assert "a.yaml:6 phases[0].fautls: unknown key" in res.stderr
    assert "b.yaml:6 phases[0].faults_: unknown key" in res.stderr
    assert "Traceback" not in res.stderr
    assert not (tmp_path / "r").exists()  # nothing ran
