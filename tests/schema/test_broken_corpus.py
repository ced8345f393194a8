"""Every broken file of tests/fixtures/broken_scenarios reports exactly its expected errors.

Each file lists its errors in `# expect: LINE FIELD: TEXT` comments; an error
matches when its line and field are equal and TEXT is part of its message.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.commands.validate import validate_file
from harness.scenario import validate_scenario_file
from harness.schema.errors import FileIssue
from harness.stack.files import validate_stack_file

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "broken_scenarios"
EXPECT = re.compile(r"^# expect: (\d+) ([^:]*): (.+)$")
SCENARIOS = sorted(CORPUS.glob("*.yaml"))
STACKS = sorted((CORPUS / "stacks").glob("*.yaml"))


def expected(path: Path) -> list[tuple[int, str, str]]:
    out = []
    for line in path.read_text().splitlines():
        m = EXPECT.match(line)
        if m:
            out.append((int(m.group(1)), m.group(2).strip(), m.group(3).strip()))
    assert out, f"{path.name} lists no '# expect:' lines"
    return out


def check(path: Path, issues: list[FileIssue]) -> None:
    own = [i for i in issues if Path(i.file).resolve() == path.resolve()]
    shown = "\n".join(str(i) for i in issues)
    for line, field, text in expected(path):
        hits = [i for i in own if i.line == line and i.field == field and text in i.message]
        assert hits, f"{path.name}: no error '{line} {field}: {text}' among:\n{shown}"
    assert len(own) == len(expected(path)), f"{path.name}: unexpected extra errors:\n{shown}"


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_broken_scenario_reports_each_expected_error(path: Path) -> None:
    scenario, issues = validate_scenario_file(path)
    assert scenario is None
    check(path, issues)


@pytest.mark.parametrize("path", STACKS, ids=lambda p: p.name)
def test_broken_stack_reports_each_expected_error(path: Path) -> None:
    stack, issues = validate_stack_file(path)
    assert stack is None
    check(path, issues)


def test_error_lines_read_file_line_field_message() -> None:
    path = CORPUS / "unknown_refs.yaml"
    lines = validate_file(path)
    assert any(re.fullmatch(rf"{re.escape(str(path))}:\d+ phases\[1\]\.faults\[0\]\.link: unknown link 'lending->bureau'.*; known: "
                            r".*lending->credit-bureau-a.*", line) for line in lines), lines


def test_corpus_is_not_trivial() -> None:
    assert len(SCENARIOS) >= 10 and len(STACKS) >= 2
