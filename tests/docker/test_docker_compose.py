"""A Compose app imported with `chaosdrill stack import`, validated and drilled on the docker backend.

tests/fixtures/compose is a three-service app: web built from its own
Dockerfile, api and store from python:3.11-slim (the built-in image under
that name: no registry answers here), store a TCP key-value server. The
starter drill cuts each link in turn; the journal must show every fault on,
the app answering through the links, and nothing left behind.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.cli import main
from harness.errors import HarnessError, UsageError
from harness.stack.docker.labels import LABEL_RUN
from harness.stack.docker.runtime import DockerStackRuntime
from harness.stack.files import load_stack
from harness.stack.runtime import StackOptions

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "tests" / "fixtures" / "compose"


@pytest.fixture
def python_image(docker_client, builtin_image) -> str:
    """What the fixture's FROM and image: name, made of the built-in image (Python 3.11 and the project)."""
    docker_client.images.get(builtin_image).tag("python", "3.11-slim")
    return "python:3.11-slim"


def sums(journal: dict, phase: str) -> dict[str, int]:
    """Answers of one phase by outcome class, from the journal's per-second metrics."""
    window = next(p for p in journal["phases"] if p["name"] == phase)
    out: dict[str, int] = {}
    for record in journal["metrics"]:
        if window["start"] <= record["t"] < window["end"]:
            for stats in record["endpoints"].values():
                for cls, n in stats["classes"].items():
                    out[cls] = out.get(cls, 0) + n
    return out


def test_a_compose_app_imported_validated_and_drilled(engine, docker_client, python_image, tmp_path, capsys):
    app = tmp_path / "shop"
    shutil.copytree(APP, app)
    assert main(["stack", "import", str(app / "compose.yaml")]) == 0
    written = capsys.readouterr()
    assert written.err == ""  # this file holds nothing the import cannot carry over
    stack, drill = app / "shop.stack.yaml", app / "shop.drill.yaml"
    assert main(["validate", str(stack), str(drill)]) == 0
    capsys.readouterr()

    state = tmp_path / "state"
    env = {**os.environ, "DOCKER_HOST": engine.base_url, "PYTHONPATH": str(ROOT), "CHAOSDRILL_STATE_DIR": str(state)}
    run = subprocess.run([sys.executable, "-m", "harness.cli", "run", str(drill), "--backend", "docker",
                          "--profile", "smoke", "--report-dir", str(tmp_path / "reports"), "--quiet"],
                         env=env, capture_output=True, text=True, timeout=240)
    assert run.returncode == 0, run.stdout + run.stderr
    [journal_path] = (tmp_path / "reports").glob("*/journal.json")
    journal = json.loads(journal_path.read_text())

    assert journal["status"] == "passed"
    assert [e["type"] for e in journal["events"]].count("image_build") == 1  # web, from its Dockerfile
    links = {f["target"]["link"]: f for f in journal["faults"]}
    assert set(links) == {"web->api", "api->store"}
    for name, fault in links.items():
        assert fault["kind"] == "down" and fault["applied_at"] is not None and fault["removed_at"] is not None, name
    assert not [e for e in journal["events"] if e["type"] in ("fault_failed", "fault_removal_failed")]
    # The app answered through the links: web's 200 needs api, and api's needs the store, both proxied.
    for phase in ("baseline", "recovery"):
        counts = sums(journal, phase)
        assert counts["success"] > 0 and counts["ungraceful"] == 0, (phase, counts)
    for phase in ("web->api down", "api->store down"):
        counts = sums(journal, phase)
        assert counts["success"] == 0 and counts["ungraceful"] > 0, (phase, counts)
    services = journal["stack"]["services"]
    assert services["web"][0]["image"].startswith("chaosdrill-shop-web:")
    assert services["store"][0]["image"].endswith("python:3.11-slim")
    # Nothing left: no fault, no container, network or volume of the run, no state file.
    assert journal["leftovers"] == {"checked": True, "toxics": [], "disabled_proxies": [], "paused": []}
    label = {"label": LABEL_RUN}
    assert docker_client.containers.list(all=True, filters=label) == []
    assert docker_client.networks.list(filters=label) == [] and docker_client.volumes.list(filters=label) == []
    assert not list(state.glob("*.json"))


def test_a_build_that_fails_is_one_line_naming_the_service_and_the_log(engine, docker_client, python_image,
                                                                      builtin_image, tmp_path):
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "Dockerfile").write_text("FROM python:3.11-slim\nCOPY missing.py /srv/\n")
    (tmp_path / "stack.yaml").write_text(
        "name: broken\nbackend: docker\nentry: web\n"
        "services:\n  web:\n    build: {context: web}\n    port: 8080\n")
    stack = load_stack(tmp_path / "stack.yaml")
    rt = DockerStackRuntime(stack, StackOptions(), base_url=engine.base_url, builtin_image=builtin_image)
    with pytest.raises(HarnessError) as caught:
        asyncio.run(rt.start())
    message = str(caught.value)
    assert caught.value.exit_code == 3 and "\n" not in message
    assert message.startswith("stack broken: services.web.build: building chaosdrill-broken-web:")
    assert "missing.py" in message and "the build log ends:" in message
    assert docker_client.containers.list(all=True, filters={"label": f"{LABEL_RUN}={rt.run_label}"}) == []

    stack.services["web"].build.context = "nowhere"
    rt = DockerStackRuntime(stack, StackOptions(), base_url=engine.base_url, builtin_image=builtin_image)
    with pytest.raises(UsageError, match=r"^stack broken: services\.web\.build\.context: no such folder .*/nowhere$"):
        asyncio.run(rt.start())
