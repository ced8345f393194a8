"""`chaosdrill stack import`: refusals in one line, the files it writes, and that they validate."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from harness.cli import main
from harness.commands.validate import validate_file
from harness.schema.yaml_source import read_yaml
from harness.stack.compose import import_compose

APP = """
    name: shop
    services:
      web:
        build: ./web
        ports: ["8080:80"]
        environment: {API_URL: "http://api:8000"}
        healthcheck: {test: ["CMD", "curl", "-f", "http://localhost/healthz"]}
      api:
        image: team/api:1.2
        command: serve --port 8000
        environment: [DATABASE_URL=postgres://app:pw@db:5432/app]
        depends_on: [db]
      db:
        image: postgres:16
        restart: always
"""


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["stack", "import", *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def app(compose_file) -> Path:
    path = compose_file(APP)
    (path.parent / "web").mkdir()
    (path.parent / "web" / "Dockerfile").write_text("FROM python:3.11-slim\n")
    return path


def test_writes_a_stack_a_drill_and_a_locustfile_that_validate(app, capsys):
    code, out, err = run_cli(capsys, str(app))
    assert code == 0, err
    assert err.splitlines() == [f"{app}:16 services.db.restart: not carried over (chaosdrill starts a service "
                                "again only after its own kill fault: restart_on_kill)"]
    folder = app.parent
    stack, drill, locust = folder / "shop.stack.yaml", folder / "shop.drill.yaml", folder / "shop_locust.py"
    assert out.splitlines() == [
        f"wrote {stack} (stack shop: 3 service(s), 2 link(s), entry web, backend docker)",
        f"wrote {drill} (starter drill: a baseline, each link down in turn, a recovery)",
        f"wrote {locust} (starter load: GET / on web; replace it with what your users do)",
        "next:",
        f"  chaosdrill validate {stack} {drill}",
        f"  chaosdrill run {drill} --backend docker --profile smoke",
    ]
    assert validate_file(stack) == [] and validate_file(drill) == []
    data = read_yaml(stack).data
    assert data["backend"] == "docker" and data["entry"] == "web"
    assert data["services"]["web"]["build"] == {"context": "web"} and data["services"]["web"]["port"] == 80
    assert data["services"]["web"]["health"] == {"path": "/healthz"}
    assert data["load"] == {"locustfile": "shop_locust.py"}
    scenario = read_yaml(drill).data
    assert [p["name"] for p in scenario["phases"]] == ["baseline", "web->api down", "api->db down", "recovery"]
    assert [p.get("faults") for p in scenario["phases"][1:3]] == [[{"link": "web->api", "toxic": "down"}],
                                                                  [{"link": "api->db", "toxic": "down"}]]
    # web answers HTTP (its healthcheck GETs a URL): baseline and recovery expect no ungraceful answer
    assert scenario["phases"][0]["expect"] == scenario["phases"][-1]["expect"] == {"ungraceful": "== 0"}
    assert "expect" not in scenario["phases"][1]
    assert "web answers HTTP (its healthcheck GETs /healthz)" in drill.read_text()
    assert set(scenario["profiles"]["smoke"]["phase_durations"].values()) == {"3s"}


def test_an_entry_that_may_not_speak_http_gets_no_expectation(compose_file):
    path = compose_file("""
        services:
          gw: {image: gw, ports: ["5432:5432"], environment: {DB: "db:5432"}}
          db: {image: postgres:16}
    """)
    result = import_compose(path, environ={})
    assert not result.http
    scenario = read_yaml(result.outputs.drill).data
    assert all("expect" not in p for p in scenario["phases"])
    assert "gw may not answer HTTP (its port 5432 is not one HTTP servers use" in result.outputs.drill.read_text()
    assert validate_file(result.outputs.drill) == []


def test_output_path_and_no_overwrite_without_force(app, capsys, tmp_path):
    out_dir = tmp_path / "drills"
    out_dir.mkdir()
    code, out, _ = run_cli(capsys, str(app), "-o", str(out_dir / "team.stack.yaml"))
    assert code == 0 and f"wrote {out_dir / 'team.drill.yaml'}" in out
    stack = read_yaml(out_dir / "team.stack.yaml").data
    assert stack["services"]["web"]["build"]["context"] == "../web"  # relative to the stack's own folder
    assert validate_file(out_dir / "team.drill.yaml") == []

    before = (out_dir / "team.drill.yaml").read_text()
    code, out, err = run_cli(capsys, str(app), "-o", str(out_dir / "team.stack.yaml"))
    assert code == 2 and out == ""
    assert err.strip().splitlines() == [
        f"chaosdrill: error: not overwriting {out_dir / 'team.stack.yaml'}, {out_dir / 'team.drill.yaml'}, "
        f"{out_dir / 'team_locust.py'}: they exist; --force overwrites, or -o STACK_FILE writes elsewhere"]
    assert (out_dir / "team.drill.yaml").read_text() == before
    assert run_cli(capsys, str(app), "-o", str(out_dir / "team.stack.yaml"), "--force")[0] == 0


@pytest.mark.parametrize("text, message", [
    ("title: x\nplan: y\nstack: lending\nload: {users: 1, spawn_rate: 1}\nphases: []\n",
     ":5 phases: this is a chaosdrill scenario (it has phases), not a Compose file"),
    ("name: s\nentry: a\nservices: {a: {command: [x]}}\n",
     ":2 entry: this is a chaosdrill stack file (it has entry), not a Compose file"),
    ("hello: world\n", ":1: not a Compose file: no top-level 'services' mapping"),
    ("services: [web, api]\n", ":1 services: not a Compose file: no top-level 'services' mapping"),
    ("services:\n  web: nginx\n", ":2 services.web: a service's settings are a mapping, got str"),
    ("- just\n- a list\n", ":1: expected a mapping of keys at the top level, got a list"),
    ("services: {web: {image: x}\n", ":2: YAML syntax error"),
    ("", ": the file is empty"),
    ("a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n" for p, c in zip("abcdef", "bcdefg")),
     "YAML aliases would expand to more than 10000 values (a YAML bomb?)"),
])
def test_a_file_that_is_not_a_compose_file_is_one_line_and_exit_2(compose_file, capsys, text, message):
    path = compose_file(text, name="odd.yaml")
    code, out, err = run_cli(capsys, str(path))
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert err.startswith(f"chaosdrill: error: {path}") and message in err
    assert not list(path.parent.glob("*.stack.yaml"))


def test_a_missing_file_and_an_unknown_entry_are_one_line(app, capsys, tmp_path):
    code, _, err = run_cli(capsys, str(tmp_path / "nope.yaml"))
    assert code == 2 and err.strip() == f"chaosdrill: error: {tmp_path / 'nope.yaml'}: no such file"
    code, _, err = run_cli(capsys, str(app), "--entry", "wbe")
    assert code == 2 and err.strip().startswith("chaosdrill: error: --entry: unknown service 'wbe' (did you mean 'web'?)")


def test_the_entry_when_it_is_ambiguous_and_with_entry(compose_file):
    text = """
        services:
          admin: {image: a, ports: ["9000:9000"], depends_on: [db]}
          shop: {image: s, ports: ["8080:8080"], environment: {DB: "db:5432", CACHE: "cache:6379"}}
          db: {image: postgres:16, ports: ["5432:5432"]}
          cache: {image: redis:7}
    """
    result = import_compose(compose_file(text), environ={})
    assert result.entry == "shop"
    [said] = [w for w in result.warnings if "taken as the entry" in w]
    assert ("admin, shop publish ports and no other service depends on them; shop because it answers HTTP "
            "(it listens on 8080, a port HTTP servers use by convention) and it calls 2 other service(s); "
            "`--entry NAME` picks another") in said
    chosen = import_compose(compose_file(text), environ={}, entry="admin", force=True)
    assert chosen.entry == "admin" and not [w for w in chosen.warnings if "taken as the entry" in w]


def test_twenty_services_import_in_well_under_a_second(compose_file):
    lines = ["services:"]
    for i in range(20):
        lines += [f"  svc{i}:", f"    image: team/svc{i}:1.0", f"    ports: ['{8000 + i}:8080']" if i == 0 else
                  "    expose: ['8080']", "    environment:"]
        lines += [f"      DEP{j}_URL: http://svc{j}:8080/api?x={j}" for j in range(i + 1, min(i + 4, 20))]
        lines += [f"      CACHE{i}: svc{(i + 7) % 20}:8080", "      LEVEL: info", "    healthcheck:",
                  "      test: ['CMD', 'curl', '-f', 'http://localhost:8080/healthz']", "      interval: 5s"]
        lines += ["    depends_on: [" + ", ".join(f"svc{j}" for j in range(i + 1, min(i + 3, 20))) + "]"]
    path = compose_file("\n".join(lines) + "\n")
    started = time.perf_counter()
    result = import_compose(path, environ={})
    elapsed = time.perf_counter() - started
    assert len(result.services) == 20 and len(result.links) >= 57
    assert elapsed < 1.0, f"import of 20 services took {elapsed:.2f}s"
    assert validate_file(result.outputs.stack) == []
