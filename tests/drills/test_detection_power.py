"""Detection power of the gate, tested: for every resilience switch of the
lending service, the drill named in detection.CATCHES fails and names the
expected expectation; with every mechanism on, those drills pass.

Each case runs only the drill(s) it needs (`chaosdrill gate --only`), so the
matrix costs about one short drill per switch plus one gate of the catching
drills. Slow (minutes): CI runs it, `-m "not slow"` skips it locally.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .detection import CATCHES, failures

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def _gate(tmp_path: Path, drills: list[str], *extra: str) -> tuple[int, dict[str, set[str]], str]:
    report_dir = tmp_path / "reports"
    args = [sys.executable, "-m", "harness.cli", "gate", str(ROOT / "scenarios"), "--report-dir", str(report_dir),
            "--junit", str(tmp_path / "junit.xml"), *extra]
    for drill in drills:
        args += ["--only", f"{drill}.yaml"]
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=540,
                          env={**__import__("os").environ, "CI": "true"})
    return done.returncode, failures(report_dir), done.stdout[-3000:] + done.stderr[-3000:]


@pytest.fixture(scope="module")
def healthy_gate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, dict[str, set[str]], str]:
    """The catching drills with every mechanism on, once: the all-on test's run and the base a
    switched-off run is compared with (both in one run history, as a team's CI keeps it)."""
    folder = tmp_path_factory.mktemp("healthy-gate")
    drills = sorted({drill for drill, _ in CATCHES.values()})
    return (folder, *_gate(folder, drills, "--history", str(folder / "history.sqlite")))


@pytest.mark.parametrize("switch", sorted(CATCHES))
def test_a_switched_off_mechanism_fails_its_drill_by_the_named_expectation(tmp_path: Path, switch: str,
                                                                           request: pytest.FixtureRequest) -> None:
    drill, expected = CATCHES[switch]
    extra = ["--service-arg", f"lending=--no-{switch}"]
    healthy = request.getfixturevalue("healthy_gate")[0] if switch == "breaker" else None
    if healthy is not None:
        extra += ["--history", str(healthy / "history.sqlite")]
    code, failed, output = _gate(tmp_path, [drill], *extra)
    assert code == 1, f"--no-{switch}: gate exit {code}, expected 1 (a drill failed)\n{output}"
    assert failed.get(drill, set()) & expected, (
        f"--no-{switch}: {drill} failed on {sorted(failed.get(drill, ()))}, none of {sorted(expected)}\n{output}")
    # the gate's last lines name the failed drill and its worst failure, where a CI log is read first
    assert f"  FAILED  {drill}.yaml — " in output and "gate: 0/1 passed" in output, output
    # the junit file CI reads names the same failure
    junit = (tmp_path / "junit.xml").read_text()
    assert "<failure" in junit
    if healthy is not None:
        _compared_with_the_healthy_run(healthy, tmp_path, drill)


def _compared_with_the_healthy_run(healthy: Path, broken: Path, drill: str) -> None:
    """Runs that remember: the healthy gate against this one names the regression with both values,
    and the run history shows both runs."""
    cli = [sys.executable, "-m", "harness.cli"]
    res = subprocess.run([*cli, "compare", str(healthy / "reports"), str(broken / "reports")], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 1, res.stdout + res.stderr
    (line,) = [ln for ln in res.stdout.splitlines() if ln.startswith("  ") and "all-slow: p90_ms" in ln]
    assert line.lstrip().startswith("REGRESSED") and " ms -> " in line, line  # both values, in ms
    assert "all-slow: p90_ms" in res.stdout.splitlines()[-1]  # the last line names it
    shown = subprocess.run([*cli, "history", "--drill", drill, "--history", str(healthy / "history.sqlite")],
                           cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert "2 run(s)" in shown.stdout and "PASSED" in shown.stdout and "FAILED" in shown.stdout, shown.stdout


def test_with_every_mechanism_on_the_catching_drills_pass(healthy_gate) -> None:
    folder, code, failed, output = healthy_gate
    assert code == 0 and not any(failed.values()), f"{ {d: sorted(f) for d, f in failed.items() if f} }\n{output}"
    # The gate's load is sized for one load process: its own CPU never decides a verdict.
    for path in (folder / "reports").glob("*/journal.json"):
        journal = json.loads(path.read_text())
        assert journal["load_cpu"], f"{path}: no load CPU recorded"
        assert not journal["load_saturation"], f"{path}: {journal['load_saturation']}"
