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


@pytest.mark.parametrize("switch", sorted(CATCHES))
def test_a_switched_off_mechanism_fails_its_drill_by_the_named_expectation(tmp_path: Path, switch: str) -> None:
    drill, expected = CATCHES[switch]
    code, failed, output = _gate(tmp_path, [drill], "--service-arg", f"lending=--no-{switch}")
    assert code == 1, f"--no-{switch}: gate exit {code}, expected 1 (a drill failed)\n{output}"
    assert failed.get(drill, set()) & expected, (
        f"--no-{switch}: {drill} failed on {sorted(failed.get(drill, ()))}, none of {sorted(expected)}\n{output}")
    # the gate's last lines name the failed drill and its worst failure, where a CI log is read first
    assert f"  FAILED  {drill}.yaml — " in output and "gate: 0/1 passed" in output, output
    # the junit file CI reads names the same failure
    junit = (tmp_path / "junit.xml").read_text()
    assert "<failure" in junit


def test_with_every_mechanism_on_the_catching_drills_pass(tmp_path: Path) -> None:
    drills = sorted({drill for drill, _ in CATCHES.values()})
    code, failed, output = _gate(tmp_path, drills)
    assert code == 0 and not any(failed.values()), f"{ {d: sorted(f) for d, f in failed.items() if f} }\n{output}"
    # The gate's load is sized for one load process: its own CPU never decides a verdict.
    for path in (tmp_path / "reports").glob("*/journal.json"):
        journal = json.loads(path.read_text())
        assert journal["load_cpu"], f"{path}: no load CPU recorded"
        assert not journal["load_saturation"], f"{path}: {journal['load_saturation']}"
