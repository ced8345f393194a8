"""The scenario examples in the README and docs are real: the README's is the library's file, the docs' validates.

Both were found wrong by following the docs as a new user: the README showed
an older version of the drill, and the docs' example aborted when run.
"""

from __future__ import annotations

from pathlib import Path

from harness.scenario.loading import validate_scenario_file

ROOT = Path(__file__).resolve().parents[2]


def _yaml_block_after(text: str, marker: str) -> str:
    return text.split(marker, 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]


def test_the_readme_shows_the_library_drill_as_it_is():
    shown = _yaml_block_after((ROOT / "README.md").read_text(), "The built-in drill")
    library = (ROOT / "scenarios" / "credit-bureau-outage.yaml").read_text()
    assert shown == library[: library.index("profiles:\n")]


def test_the_scenario_docs_example_validates(tmp_path):
    example = tmp_path / "example.yaml"
    example.write_text(_yaml_block_after((ROOT / "docs" / "scenarios.md").read_text(), "## Example"))
    scenario, issues = validate_scenario_file(example)
    assert issues == [] and scenario is not None
    assert scenario.abort_if is not None  # the abort line is part of what the example teaches
