"""`import_compose`: a Compose file in, a stack, a starter drill and its load out.

The steps, each its own module: read the file (source.py), read each
service and warn about what a stack cannot hold (services.py), find the
edges and rewrite what names them (mentions.py, edges.py), pick the entry
(entry.py), and write the three files (assemble.py, starter.py, files.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from harness.stack.compose.assemble import stack_text
from harness.stack.compose.edges import LinkPlan, wire
from harness.stack.compose.entry import answers_http, choose_entry
from harness.stack.compose.files import Outputs, project_name
from harness.stack.compose.services import ComposeService, read_services
from harness.stack.compose.source import ComposeFile, read_compose
from harness.stack.compose.starter import drill_text, locustfile_text


@dataclass
class ImportResult:
    """What was written, and the warnings (one line each, for stderr)."""

    outputs: Outputs
    warnings: list[str]
    name: str
    entry: str
    services: list[str]
    links: list[LinkPlan]
    http: bool

    def summary(self) -> list[str]:
        """What was written and the next commands, for stdout."""
        o = self.outputs
        return [
            f"wrote {o.stack} (stack {self.name}: {len(self.services)} service(s), {len(self.links)} link(s), "
            f"entry {self.entry}, backend docker)",
            f"wrote {o.drill} (starter drill: a baseline, each link down in turn, a recovery)",
            f"wrote {o.locustfile} (starter load: GET / on {self.entry}; replace it with what your users do)",
            "next:",
            f"  chaosdrill validate {o.stack} {o.drill}",
            f"  chaosdrill run {o.drill} --backend docker --profile smoke",
        ]


def import_compose(path: Path, output: Path | None = None, entry: str | None = None, force: bool = False,
                   environ: Mapping[str, str] | None = None) -> ImportResult:
    """Read `path`, write the files; UsageError (exit 2, one line) for a file that is not a Compose
    file, one Compose itself refuses, or files that exist (without `force`)."""
    compose = read_compose(path, environ)
    name = project_name(compose)
    outputs = Outputs.choose(compose, name, output)
    outputs.check(force)
    services = _without_one_shot_jobs(compose, read_services(compose))
    wiring = wire(compose, services)
    entry_name = choose_entry(compose, services, wiring, entry)
    http = answers_http(services[entry_name], wiring.ports[entry_name])
    links = list(wiring.links.values())
    folder = outputs.stack.resolve().parent
    outputs.write(
        stack_text(compose, name, services, wiring, entry_name, folder, outputs.locustfile.name),
        drill_text(name, outputs.drill.name, outputs.stack.name, outputs.locustfile.name, entry_name, http,
                   [(lk.name, lk.source, lk.target, lk.port if "#" in lk.name else None) for lk in links]),
        locustfile_text(name, entry_name),
    )
    return ImportResult(outputs, compose.notes.lines, name, entry_name, list(services), links, http[0])


def _without_one_shot_jobs(compose: ComposeFile, services: dict[str, ComposeService]) -> dict[str, ComposeService]:
    """A service others wait on to complete (a migration) cannot be part of a stack, whose services run
    until stopped and must answer a health check: dropped, with a warning saying who waited for it."""
    jobs: dict[str, list[str]] = {}
    for svc in services.values():
        for target in svc.awaits_completion:
            jobs.setdefault(target, []).append(svc.name)
    for job, waiting in jobs.items():
        compose.warn(("services", job),
                     f"not carried over: {', '.join(waiting)} wait(s) for it to complete "
                     "(service_completed_successfully), and a stack runs services that keep running; run it "
                     "before the drill")
    kept = {name: svc for name, svc in services.items() if name not in jobs}
    for svc in kept.values():
        for job in jobs:
            svc.depends_on.pop(job, None)
    return kept
