"""The stack file's text: the services as the docker backend runs them, the links, how answers count.

Written as data (dump_yaml quotes whatever chaosdrill's reader would take
for something else) in sections, with comments a reader needs: where it
came from, what was not carried over, and why answers are "OK".
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from harness.schema.yaml_source import dump_yaml
from harness.stack.compose.edges import Wiring
from harness.stack.compose.services import ComposeService
from harness.stack.compose.source import ComposeFile

SUCCESS_CODE = "OK"  # the code the starter locustfile gives an answer below HTTP 400


def relative(path: Path, folder: Path) -> str:
    """`path` as the stack file names it: relative to the stack's folder (absolute across drives)."""
    try:
        return Path(os.path.relpath(path, folder)).as_posix()
    except ValueError:
        return path.as_posix()


def service_data(svc: ComposeService, wiring: Wiring, stack_dir: Path) -> dict[str, Any]:
    env, command, entrypoint = wiring.service_values(svc)
    out: dict[str, Any] = {}
    if svc.image:
        out["image"] = svc.image
    if svc.build:
        build: dict[str, Any] = {"context": relative(svc.build["context"], stack_dir)}
        if svc.build["dockerfile"] != "Dockerfile":
            build["dockerfile"] = svc.build["dockerfile"]
        if svc.build["args"]:
            build["args"] = svc.build["args"]
        out["build"] = build
    for key, args in (("entrypoint", entrypoint), ("command", command)):
        if args is not None:
            out[key] = args
    out["port"] = wiring.ports[svc.name]
    if svc.replicas > 1:
        out["replicas"] = svc.replicas
    if env:
        out["env"] = env
    health: dict[str, Any] = {"path": svc.health.path}
    if svc.health.timeout:
        health["timeout"] = svc.health.timeout
    out["health"] = health
    return out


def stack_text(compose: ComposeFile, name: str, services: dict[str, ComposeService], wiring: Wiring,
               entry: str, stack_dir: Path, locustfile: str) -> str:
    head = {"name": name, "description": f"imported from {compose.path.name}", "backend": "docker", "entry": entry}
    links = {}
    for plan in wiring.links.values():
        body: dict[str, Any] = {"description": f"{plan.source} -> {plan.target}:{plan.port} ({plan.because})"}
        if plan.port != wiring.ports[plan.target]:
            body["port"] = plan.port
        if plan.listen is not None:
            body["listen"] = plan.listen
        links[plan.name] = body
    services_data = {n: service_data(s, wiring, stack_dir) for n, s in services.items()}
    not_carried = "".join(f"#   {line}\n" for line in compose.notes.lines)
    return (
        f"# Imported from {compose.path.name} by `chaosdrill stack import`: the services run as containers\n"
        "# (backend docker), and each dependency edge is a link, a proxy a drill can break; a value that\n"
        "# named another service now names the link's proxy ({link_address:FROM->TO}, ...). docs/stacks.md.\n"
        + (f"# What the import did not carry over, or guessed:\n{not_carried}" if not_carried else "")
        + dump_yaml(head)
        + dump_yaml({"services": services_data}, width=110)
        + (dump_yaml({"links": links}, width=110) if links else "")
        + "# The starter load (the locustfile) gives each answer below HTTP 400 the code OK; replace both\n"
          "# when your service answers with codes of its own (docs/stacks.md, Classification).\n"
        + dump_yaml({"classification": {"field": "code", "classes": {"success": [SUCCESS_CODE]}},
                     "load": {"locustfile": locustfile}})
    )
