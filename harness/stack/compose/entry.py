"""Which service the load enters by, and whether it answers HTTP.

The entry is where users come in: a service that publishes `ports` and that
no other service depends on (the web front, not the database it also
publishes for a developer's client). When several qualify, the import picks
one and says which and why; `--entry NAME` overrides. Whether it answers
HTTP decides what the starter drill can expect of it (the starter load
speaks HTTP): its healthcheck GETs a URL, its port mapping says
`app_protocol: http`, or its port is one HTTP servers use by convention.
"""

from __future__ import annotations

from harness.errors import UsageError
from harness.stack.compose.edges import Wiring
from harness.stack.compose.services import ComposeService
from harness.stack.compose.source import ComposeFile
from harness.schema.suggest import unknown_name

HTTP_PORTS = frozenset({80, 81, 3000, 4000, 4200, 5000, 8000, 8008, 8080, 8081, 8088, 8888, 9080})


def answers_http(svc: ComposeService, port: int) -> tuple[bool, str]:
    """(yes or no, how that was decided), for the starter drill's comments."""
    if svc.health.http:
        return True, f"its healthcheck GETs {svc.health.path}"
    if any(p.http for p in svc.ports):
        return True, "its ports say app_protocol: http"
    if port in HTTP_PORTS:
        return True, f"it listens on {port}, a port HTTP servers use by convention"
    return False, (f"its port {port} is not one HTTP servers use by convention and its healthcheck GETs no URL")


def choose_entry(compose: ComposeFile, services: dict[str, ComposeService], wiring: Wiring,
                 wanted: str | None) -> str:
    if wanted is not None:
        if wanted not in services:
            raise UsageError(f"--entry: {unknown_name('service', wanted, services, known_in=str(compose.path))}")
        return wanted
    depended = {plan.target for plan in wiring.links.values()}
    roots = [s for s in services.values() if s.name not in depended]
    published = [s for s in roots if s.publishes]
    candidates = published or roots or list(services.values())
    if len(candidates) == 1:
        return candidates[0].name

    def rank(svc: ComposeService) -> tuple:
        http, _ = answers_http(svc, wiring.ports[svc.name])
        calls = sum(1 for plan in wiring.links.values() if plan.source == svc.name)
        return (not http, -calls, list(services).index(svc.name))

    chosen = min(candidates, key=rank)
    http, how = answers_http(chosen, wiring.ports[chosen.name])
    calls = sum(1 for plan in wiring.links.values() if plan.source == chosen.name)
    group = ("publish ports and no other service depends on them" if published else
             "are depended on by no other service (none that publishes ports is)" if roots else
             "depend on each other in a cycle")
    reasons = ([f"it answers HTTP ({how})"] if http else []) + [f"it calls {calls} other service(s)"]
    compose.warn(("services", chosen.name),
                 f"taken as the entry, the service the load enters by: {', '.join(s.name for s in candidates)} "
                 f"{group}; {chosen.name} because {' and '.join(reasons)}; `--entry NAME` picks another")
    return chosen.name
