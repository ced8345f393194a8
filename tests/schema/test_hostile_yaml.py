"""Hostile YAML: whatever a file holds, `chaosdrill validate` answers in bounded time.

A CI gate validates contributed scenario files, so one file must not hang it
(a "billion laughs" of nested aliases, thousands of nested `[`) or crash it
(a traceback). Random bytes, random YAML token soups and mutations of every
library drill give `ok` or `file:LINE ...` lines (exit 0 or 2), never an
exception, each within 2 s; a few real command lines check the one line,
the exit code and the time end to end.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.commands.validate import validate_file
from harness.schema.yaml_source import MAX_BYTES, MAX_DEPTH, MAX_VALUES, parse_yaml

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = sorted((ROOT / "scenarios").glob("*.yaml")) + sorted((ROOT / "scenarios" / "stacks").glob("*.yaml"))
FILE_LINE = re.compile(r"^(.+?)(:\d+)?[ :]")  # FILE:LINE field: message, FILE:LINE: message, FILE: message

TOKENS = [
    "\n", "\n  ", "\n    ", "\n- ", " ", "  ", "\t", ":", ": ", "- ", "-", "? ", ",", "[", "]", "{", "}", "#", "|", ">",
    "'", '"', "\\", "&a ", "&b ", "*a", "*b", "<<: ", "!!str ", "!!int ", "!!set ", "!!binary ", "!foo ",
    "!!python/object:os.system ", "%YAML 1.1\n", "%TAG ! tag:x,2000:\n", "---\n", "...\n", "~", "null", "true", "yes",
    "on", "0o17", "0777", "0x1F", "1" + "0" * 400, "-1e400", "1e3", "1:30", ".inf", ".nan", "2024-13-45", "9" * 5000,
    "-_", "=",
    "title", "plan", "stack", "lending", "load", "users", "phases", "name", "duration", "10s", "faults", "link",
    "toxic", "expect", "error_rate", '"< 1%"', "services", "command", "port", "\x00", "\x85", "\u2028", "\ufeff",
    "é", "\U0001f600",
]


def outcome(path: Path) -> list[str]:
    """What `chaosdrill validate FILE` prints for the file (exit 0 when empty, else 2); asserts the bounds."""
    start = time.perf_counter()
    lines = validate_file(path)
    elapsed = time.perf_counter() - start
    assert elapsed < 2.0, f"validate took {elapsed:.2f}s"
    for line in lines:
        assert "\n" not in line and "Traceback" not in line, line
        assert FILE_LINE.match(line), line
    return lines


def check_text(directory: Path, data: bytes) -> list[str]:
    path = directory / "drill.yaml"
    path.write_bytes(data)
    return outcome(path)


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("hostile")


FAST = settings(max_examples=150, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@FAST
@given(data=st.binary(max_size=4000))
def test_random_bytes(folder, data):
    check_text(folder, data)


@FAST
@given(tokens=st.lists(st.sampled_from(TOKENS), max_size=300))
def test_yaml_token_soup(folder, tokens):
    check_text(folder, "".join(tokens).encode("utf-8", "surrogatepass"))


@st.composite
def mutated_drill(draw) -> tuple[Path, bytes]:
    path = draw(st.sampled_from(LIBRARY))
    lines = path.read_text(encoding="utf-8").split("\n")
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(lines) - 1))
        kind = draw(st.sampled_from(["drop", "copy", "insert", "indent", "replace"]))
        if kind == "drop" and len(lines) > 1:
            del lines[i]
        elif kind == "copy":
            lines.insert(i, lines[draw(st.integers(0, len(lines) - 1))])
        elif kind == "insert":
            at = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:at] + draw(st.sampled_from(TOKENS)) + lines[i][at:]
        elif kind == "indent":
            lines[i] = " " * draw(st.integers(0, 8)) + lines[i].lstrip()
        elif kind == "replace" and ": " in lines[i]:
            key = lines[i].split(": ", 1)[0]
            lines[i] = f"{key}: {draw(st.sampled_from(TOKENS))}"
    return path, "\n".join(lines).encode("utf-8", "surrogatepass")


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=mutated_drill())
def test_mutated_library_drills(folder, case):
    original, data = case
    target = folder / original.parent.name / original.name  # a stack stays a stack (folder name and all)
    target.parent.mkdir(exist_ok=True)
    target.write_bytes(data)
    outcome(target)


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: p.name)
def test_library_drills_are_ok(path):
    assert outcome(path) == []


# ---------------------------------------------------------------- the bounds, one by one


def billion_laughs() -> str:
    levels = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    levels += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    return "title: laughs\n" + "\n".join(levels) + "\n"


HUGE = "title: huge\nplan: |\n" + ("  " + "x" * 62 + "\n") * 20_000
HOSTILE = {
    "laughs.yaml": (billion_laughs(), 6, "YAML aliases would expand to more than 10000 values (a YAML bomb?)"),
    "deep.yaml": ("[" * 5000 + "\n", 1, f"YAML nested more than {MAX_DEPTH} lists and mappings deep"),
    "deep-block.yaml": ("".join(" " * i + f"k{i}:\n" for i in range(100)), MAX_DEPTH + 1, "YAML nested more than"),
    "huge.yaml": (HUGE, HUGE[:MAX_BYTES].count("\n") + 1, "the file goes past 1 MiB here"),
    "wide.yaml": ("title: wide\nphases: [" + ", ".join(["1"] * 20_000) + "]\n", 2,
                  "the file holds more than 10000 values"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_each_bound_is_one_line_naming_the_line(folder, name):
    text, line, message = HOSTILE[name]
    assert outcome_of(folder, name, text) == (line, message)


def outcome_of(folder: Path, name: str, text: str) -> tuple[int, str]:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    lines = outcome(path)
    assert len(lines) == 1, lines
    found = re.match(rf"^{re.escape(str(path))}:(\d+): (.*)$", lines[0])
    assert found, lines[0]
    return int(found.group(1)), found.group(2)[:len(HOSTILE[name][2])]


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_the_pure_python_parser_keeps_the_same_bounds(monkeypatch, name):
    """Where PyYAML has no libyaml, its own parser runs under the same composer."""
    from harness.schema import yaml_source

    monkeypatch.setattr(yaml_source, "_Loader", yaml_source._PyLoader)
    text, line, message = HOSTILE[name]
    start = time.perf_counter()
    with pytest.raises(yaml_source.YamlSyntaxError) as caught:
        parse_yaml(text, name)
    assert (caught.value.line, caught.value.message[:len(message)]) == (line, message)
    assert time.perf_counter() - start < 2.0


def test_aliases_within_the_budget_and_merges_still_work():
    text = "base: &base {users: 5, spawn_rate: 5}\nload:\n  <<: *base\n  users: 7\nagain: *base\n"
    source = parse_yaml(text, "x.yaml")
    assert source.data == {"base": {"users": 5, "spawn_rate": 5}, "load": {"spawn_rate": 5, "users": 7},
                           "again": {"users": 5, "spawn_rate": 5}}
    assert source.line_of(("load", "users")) == 4 and source.line_of(("again", "users")) == 1


@pytest.mark.parametrize("text, line, message", [
    ("a: &a [1, *a]\n", 1, "YAML alias *a is inside the node it names"),
    ("title: x\ntitle: y\n", 2, 'YAML syntax error: duplicate key "title", first given on line 1'),
    ("a: !!python/object:os.system ls\n", 1, "YAML tag !!python/object:os.system is not supported"),
    ("a: 2024-13-45\n", 1, "YAML value '2024-13-45' looks like a date but is not one; quote it"),
    ("a: 1\nb: x\x00\n", 2, "YAML error: unacceptable character #x0000"),
    ("? [a]\n: 1\n", 1, "YAML mapping key is a list or a mapping"),
])
def test_refusals_name_their_line(text, line, message):
    from harness.schema.yaml_source import YamlSyntaxError

    with pytest.raises(YamlSyntaxError) as caught:
        parse_yaml(text, "x.yaml")
    assert (caught.value.line, caught.value.message[:len(message)]) == (line, message)


def test_yaml_1_2_scalars():
    text = "a: [yes, no, on, off, true, False, null, ~, 0777, 0o17, 0x1f, 1_000, 1e3, .5, 1:30, '1']\n"
    assert parse_yaml(text, "x.yaml").data["a"] == [
        "yes", "no", "on", "off", True, False, None, None, 777, 15, 31, 1000, 1000.0, 0.5, "1:30", "1"]


plain_values = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                         st.text(st.characters(exclude_categories=["Cs"]), max_size=30),
                         st.sampled_from(["yes", "on", "0o17", "0777", "1e3", "1:30", "<<", "=", "~", "- a", "a: b"]))
documents = st.recursive(plain_values, lambda inner: st.lists(inner, max_size=4)
                         | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=20)


@settings(max_examples=150, deadline=None, database=None)
@given(data=st.dictionaries(st.text(max_size=10), documents, min_size=1, max_size=5), flow=st.booleans())
def test_what_is_written_reads_back_the_same(data, flow):
    from harness.schema.yaml_source import dump_yaml

    assert parse_yaml(dump_yaml(data, flow_leaves=flow), "x.yaml").data == data


def test_the_bounds_are_what_the_docs_say():
    docs = (ROOT / "docs" / "scenarios.md").read_text(encoding="utf-8")
    assert (MAX_BYTES, MAX_DEPTH, MAX_VALUES) == (1024 * 1024, 64, 10_000)
    assert "1 MiB" in docs and "64" in docs and "10,000" in docs


# ---------------------------------------------------------------- end to end


def _validate(path: Path) -> tuple[subprocess.CompletedProcess, float]:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "validate", str(path)],
                          capture_output=True, text=True, timeout=60)
    return proc, time.perf_counter() - start


def test_hostile_files_on_the_command_line(folder):
    """One line, exit 2, no traceback, and no slower than validating a valid file (Python's start-up) by much."""
    _, baseline = _validate(ROOT / "scenarios" / "stacks" / "lending.yaml")
    for name in ("laughs.yaml", "deep.yaml", "huge.yaml"):
        path = folder / name
        path.write_text(HOSTILE[name][0], encoding="utf-8")
        proc, elapsed = _validate(path)
        assert proc.returncode == 2, proc
        assert proc.stdout.splitlines() == [proc.stdout.strip()] and proc.stdout.startswith(f"{path}:"), proc.stdout
        assert HOSTILE[name][2] in proc.stdout
        assert len(proc.stderr.splitlines()) == 1 and "Traceback" not in proc.stderr, proc.stderr
        assert elapsed < max(1.0, baseline + 0.5), f"{name}: {elapsed:.2f}s (a valid file: {baseline:.2f}s)"
