"""The built-in image made from a venv: the services import what the venv holds.

Most users install chaosdrill into a venv. The image copies the host's
interpreter at its own path, so a venv's `python` inside the container must
still find the venv's site-packages (it did not: the container started the
venv's interpreter without pyvenv.cfg and every service died on
"No module named 'aiohttp'").
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from harness.stack.docker.rootfs import distribution_closure, installed_files, project_requirements, project_root

# What the builder itself imports on the host, beside what the services need.
BUILDER_NEEDS = ("docker", "packaging")


def make_venv(where: Path) -> Path:
    """A venv that holds the project's dependencies itself, as `pip install` into it would leave them."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True)
    site = where / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    for dist in distribution_closure([*project_requirements(), *BUILDER_NEEDS]):
        home, files = installed_files(dist)
        for src in files:
            dest = site / src.relative_to(home)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest)
    return where / "bin" / "python"


def test_a_venv_interpreter_runs_the_services_in_the_image(engine, docker_client, tmp_path):
    python = make_venv(tmp_path / "venv")
    build = textwrap.dedent(f"""
        import json, sys, aiohttp, docker
        from harness.stack.docker.image import builtin_image
        assert aiohttp.__file__.startswith(sys.prefix), aiohttp.__file__  # the venv's copy, not the host's
        client = docker.DockerClient(base_url={engine.base_url!r}, timeout=60)
        print(json.dumps({{"tag": builtin_image(client), "prefix": sys.prefix}}))
    """)
    env = {**os.environ, "PYTHONPATH": str(project_root())}
    out = subprocess.run([str(python), "-c", build], capture_output=True, text=True, env=env, timeout=300, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    built = json.loads(out.stdout.strip().splitlines()[-1])
    assert built["prefix"] == str(tmp_path / "venv")

    probe = "import sys, aiohttp, pydantic, harness.proxy.server, mock_services; print(sys.prefix)"
    logs = docker_client.containers.run(built["tag"], [str(python), "-c", probe], remove=True,
                                        network_mode="none", stdout=True, stderr=True)
    assert logs.decode().strip() == str(tmp_path / "venv")
