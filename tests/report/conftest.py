"""Fixture journals (tests/fixtures/journals) and their rendered reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

JOURNALS = Path(__file__).resolve().parents[1] / "fixtures" / "journals"
# simulated by make_fixtures.py (gameday: a game day's record), and one recorded by a real
# `chaosdrill run` of the credit-bureau drill
NAMES = ("pass", "fail", "abort", "recorded-credit-bureau-outage", "gameday")


def load(name: str) -> dict:
    return json.loads((JOURNALS / f"{name}.json").read_text())


@pytest.fixture(name="load")
def load_fixture():
    """The loader, as a fixture: test modules here are not a package."""
    return load


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, dict[str, Path]]:
    """Every fixture rendered once per module: name -> {"report", "summary", "junit"}."""
    from harness.report import render_all

    root = tmp_path_factory.mktemp("reports")
    with pytest.MonkeyPatch.context() as mp:  # never append to a real CI job summary
        mp.delenv("GITHUB_STEP_SUMMARY", raising=False)
        return {name: render_all(load(name), root / name) for name in NAMES}
