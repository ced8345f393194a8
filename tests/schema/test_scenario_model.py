"""Scenario and stack loading: the real files, conversions, profiles, JSON Schema, CLI."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from harness.cli import main
from harness.commands.schema import schema_for
from harness.scenario import load_scenario
from harness.scenario.model import Scenario
from harness.schema.errors import FileError
from harness.stack.files import load_stack

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_every_shipped_scenario_is_valid(path):
    scenario = load_scenario(path)
    assert scenario.resolved_stack() is not None


def test_builtin_lending_stack_loads_with_derived_link_ends():
    stack = load_stack("lending")
    link = stack.links["lending->credit-bureau-a"]
    assert (link.from_, link.to) == ("lending", "credit-bureau-a")
    assert stack.classification.class_of("APPROVED_DEGRADED") == "degraded"
    assert stack.classification.class_of("SOMETHING_ELSE") == "ungraceful"
    assert stack.source == ROOT / "scenarios" / "stacks" / "lending.yaml"


def test_locustfile_is_resolved_relative_to_the_stack_file():
    stack = load_stack(ROOT / "tests" / "fixtures" / "stacks" / "echo.yaml")
    assert stack.load.locustfile == str(ROOT / "tests" / "fixtures" / "stacks" / "echo_locust.py")


SCENARIO = """\
    title: t
    plan: p
    stack: lending
    load: {users: 10, spawn_rate: 5}
    phases:
      - {name: baseline, duration: 20s, expect: {error_rate: "< 1%"}}
      - name: slow
        duration: 30s
        faults:
          - {link: lending->credit-bureau-a, toxic: latency, attributes: {latency: 800ms, jitter: 0.1s}, start: 5s, end: 25s}
          - {link: lending->credit-bureau-b, toxic: slicer, attributes: {average_size: 10, delay: 2ms}}
          - {link: lending->payment-gateway-primary, toxic: http_error, toxicity: 0.3, attributes: {status: 503}}
          - {service: credit-bureau-b, action: kill, restart: false, start: 10s}
        actions:
          - {at: 2s, service: lending, path: /v1/admin/maintenance, json: {minutes: 1}}
    profiles:
      gate:
        phase_durations: {baseline: 10s, slow: 15s}
        load: {users: 5}
"""


def test_toxic_attributes_are_converted_to_toxiproxy_units(tmp_path):
    scenario = load_scenario(write(tmp_path, "s.yaml", SCENARIO))
    latency, slicer, http_error, kill = scenario.phases[1].faults
    assert latency.attributes == {"latency": 800, "jitter": 100}
    assert latency.stream == "downstream" and (latency.start, latency.end) == (5.0, 25.0)
    assert slicer.attributes == {"average_size": 10, "delay": 2000}  # microseconds
    assert http_error.stream == "upstream" and http_error.toxicity == 0.3
    assert (kill.service, kill.action, kill.restart, kill.instance) == ("credit-bureau-b", "kill", False, 0)
    assert scenario.phases[1].fault_window(kill) == (10.0, 30.0)
    assert scenario.phases[1].actions[0].json_ == {"minutes": 1}


def test_profile_shortens_phases_and_scales_fault_offsets(tmp_path):
    scenario = load_scenario(write(tmp_path, "s.yaml", SCENARIO))
    gate = scenario.with_profile("gate")
    assert [p.duration for p in gate.phases] == [10.0, 15.0]
    latency = gate.phases[1].faults[0]
    assert (latency.start, latency.end) == (2.5, 12.5)
    assert gate.phases[1].actions[0].at == 1.0
    assert gate.load.users == 5 and gate.load.spawn_rate == 5
    assert gate.profile == "gate" and gate.resolved_stack() is scenario.resolved_stack()
    assert scenario.phases[0].duration == 20.0  # the original is untouched
    with pytest.raises(Exception, match="unknown profile 'gaet'.*did you mean 'gate'"):
        scenario.with_profile("gaet")


def test_dump_for_the_journal_round_trips(tmp_path):
    scenario = load_scenario(write(tmp_path, "s.yaml", SCENARIO))
    data = scenario.model_dump(mode="json", by_alias=True, exclude_none=True)
    assert data["phases"][0]["expect"]["error_rate"] == "< 1%"
    assert data["phases"][1]["actions"][0]["json"] == {"minutes": 1}
    again = Scenario.model_validate(json.loads(json.dumps(data)))
    assert again.phases[1].faults[0].attributes == {"latency": 800, "jitter": 100}
    assert again.phases[0].expect.error_rate.value == pytest.approx(0.01)


def test_load_scenario_raises_one_usage_error_with_every_line(tmp_path):
    path = write(tmp_path, "bad.yaml", SCENARIO.replace("20s", "20x").replace("toxic: slicer", "toxic: slicr"))
    with pytest.raises(FileError) as info:
        load_scenario(path)
    assert info.value.exit_code == 2
    lines = str(info.value).splitlines()
    assert len(lines) == len(info.value.issues) == 2
    assert lines[0].startswith(f"{path}:6 phases[0].duration: ")
    assert lines[1].startswith(f"{path}:11 phases[1].faults[1].toxic: got 'slicr'")


def test_stack_in_a_sibling_stacks_folder_is_found_before_builtins(tmp_path):
    (tmp_path / "stacks").mkdir()
    write(tmp_path / "stacks", "mine.yaml", """\
        name: mine
        entry: api
        services: {api: {command: ["{python}", "api.py", "--port", "{port}"]}}
    """)
    path = write(tmp_path, "s.yaml", "title: t\nplan: p\nstack: mine\nload: {users: 1, spawn_rate: 1, locustfile: builtin:borrower}\n"
                                     "phases: [{name: a, duration: 1s}]\n")
    assert load_scenario(path).resolved_stack().name == "mine"


def test_edge_links_are_fault_targets(tmp_path):
    path = write(tmp_path, "s.yaml", "title: t\nplan: p\nstack: lending\nload: {users: 1, spawn_rate: 1}\n"
                                     "phases: [{name: a, duration: 5s, faults: [{link: client->lending, toxic: down}]}]\n")
    assert load_scenario(path).phases[0].faults[0].link == "client->lending"


def test_json_schemas_describe_the_files():
    scenario = schema_for("scenario")
    assert scenario["additionalProperties"] is False
    assert set(scenario["required"]) >= {"title", "plan", "stack", "load", "phases"}
    phase = scenario["$defs"]["Phase"]["properties"]
    assert "pattern" in json.dumps(phase["duration"])
    stack = schema_for("stack")
    assert "from" in stack["$defs"]["Link"]["properties"]


def test_validate_command_prints_ok_or_errors_and_exits_0_or_2(tmp_path, capsys):
    good = ROOT / "scenarios" / "credit-bureau-outage.yaml"
    assert main(["validate", str(good), str(ROOT / "scenarios" / "stacks" / "lending.yaml")]) == 0
    assert capsys.readouterr().out.splitlines() == [f"ok {good}", f"ok {ROOT / 'scenarios' / 'stacks' / 'lending.yaml'}"]
    bad = write(tmp_path, "bad.yaml", SCENARIO.replace("link: lending->credit-bureau-a", "link: lending->bureau"))
    assert main(["validate", str(good), str(bad)]) == 2
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"ok {good}"
    assert out[1].startswith(f"{bad}:10 phases[1].faults[0].link: unknown link 'lending->bureau'")


def test_schema_command_prints_json(capsys):
    assert main(["schema", "stack"]) == 0
    assert json.loads(capsys.readouterr().out)["title"] == "chaosdrill stack file"


def test_validate_takes_a_folder_for_its_yaml_files(capsys):
    assert main(["validate", str(ROOT / "scenarios"), str(ROOT / "scenarios" / "stacks")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert f"ok {ROOT / 'scenarios' / 'credit-bureau-outage.yaml'}" in out
    assert f"ok {ROOT / 'scenarios' / 'stacks' / 'lending.yaml'}" in out


def test_validate_refuses_a_folder_with_nothing_to_check_and_names_a_missing_file(tmp_path, capsys):
    assert main(["validate", str(tmp_path)]) == 2  # a CI step pointed at the wrong folder must not pass
    assert f"no .yaml files in {tmp_path}" in capsys.readouterr().err
    assert main(["validate", str(tmp_path / "nope.yaml")]) == 2
    assert capsys.readouterr().out.splitlines() == [f"{tmp_path / 'nope.yaml'}: no such file"]  # no ':0'


def test_no_command_shows_the_commands_and_says_what_is_wrong(capsys):
    assert main([]) == 2
    out, err = capsys.readouterr()
    assert "validate" in out and "gameday" in out  # the list of commands
    assert err.strip() == "chaosdrill: error: name a command (the list is above)"
