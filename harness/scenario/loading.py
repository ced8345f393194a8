"""Load a scenario file and check it against its stack and the invariant registry.

Names a scenario uses (links, services, codes, invariants, profile phases)
are checked on the raw file data, so their errors carry the file's line and
appear together with the structural ones.
"""

from __future__ import annotations

import re
from functools import partial
from pathlib import Path
from typing import Any

from harness.errors import UsageError
from harness.scenario.model import Scenario, abort_problems, window_problems
from harness.schema.errors import FileError, FileIssue, issue_at
from harness.schema.loading import Report, read_source, validate_source
from harness.schema.locustfiles import locustfile_problem
from harness.schema.suggest import unknown_name
from harness.schema.yaml_source import YamlSource


# Pseudo-codes the load records for answers without a code (docs/load.md, "Classification").
TRANSPORT_CODES = ("timeout", "reset", "refused", "closed", "error")
_HTTP_CODE = re.compile(r"^http_[1-5]\d\d$")


def is_transport_code(code: str) -> bool:
    return code in TRANSPORT_CODES or bool(_HTTP_CODE.match(code))


def _items(value: Any) -> list[tuple[int, dict]]:
    return [(i, v) for i, v in enumerate(value) if isinstance(v, dict)] if isinstance(value, list) else []


def _mapping(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def check_scenario(data: dict[str, Any], report: Report, stack: Any = None) -> None:
    """Cross-references of a scenario; stack-dependent ones only when the stack loaded."""
    phases = _items(data.get("phases"))
    names: dict[str, int] = {}
    for i, phase in phases:
        for sub_loc, message in window_problems(phase):
            report(("phases", i) + sub_loc, message)
        name = phase.get("name")
        if isinstance(name, str):
            if name in names:
                report(("phases", i, "name"), f"phase name '{name}' is already used by phases[{names[name]}]")
            else:
                names[name] = i

    for sub_loc, message in abort_problems(data.get("abort_if")):
        report(("abort_if",) + sub_loc, message)

    for pname, profile in _mapping(data.get("profiles")).items():
        for phase_name in _mapping(_mapping(profile).get("phase_durations")):
            if phase_name not in names:
                report(("profiles", pname, "phase_durations", phase_name), unknown_name("phase", phase_name, names))

    if stack is None:
        return
    if not _mapping(data.get("load")).get("locustfile") and not (stack.load and stack.load.locustfile):
        report(("load",), f"no locustfile: stack {stack.name} names none (its load.locustfile) and this "
               "scenario's load gives none; give load.locustfile (a path, or builtin:borrower)")
    links, services = stack.fault_links(), list(stack.services)
    entry_instances = stack.entry_instances()
    codes = stack.classification.all_codes()
    for i, phase in phases:
        for j, fault in _items(phase.get("faults")):
            link, service = fault.get("link"), fault.get("service")
            if isinstance(link, str) and link not in links:
                report(("phases", i, "faults", j, "link"), unknown_name("link", link, links))
            if isinstance(service, str) and service not in stack.services:
                report(("phases", i, "faults", j, "service"), unknown_name("service", service, services))
            elif isinstance(service, str) and stack.services[service].address is not None:
                report(("phases", i, "faults", j, "service"),
                       f"service {service!r} is already running at {stack.services[service].address} (address:), "
                       "not started by chaosdrill, so it cannot be killed, paused or restarted; fault a link to it")
            instance = fault.get("instance")
            if (isinstance(service, str) and service in stack.services and isinstance(instance, int)
                    and not isinstance(instance, bool) and instance >= stack.services[service].replicas):
                count = stack.services[service].replicas
                report(("phases", i, "faults", j, "instance"),
                       f"service {service!r} has {count} instance(s) in stack {stack.name} "
                       f"(0{f'-{count - 1}' if count > 1 else ''}); no instance {instance}")
        for j, action in _items(phase.get("actions")):
            service = action.get("service")
            if isinstance(service, str) and service not in stack.services:
                report(("phases", i, "actions", j, "service"), unknown_name("service", service, services))
        expect = _mapping(phase.get("expect"))
        targets = [(("phases", i, "expect"), expect)] + [
            (("phases", i, "expect", "endpoints", ep), _mapping(body))
            for ep, body in _mapping(expect.get("endpoints")).items()
        ] + [
            (("phases", i, "expect", "instances", name), _mapping(body))
            for name, body in _mapping(expect.get("instances")).items()
        ]
        for name in _mapping(expect.get("instances")):
            if name not in entry_instances:
                report(("phases", i, "expect", "instances", name),
                       unknown_name("instance", name, entry_instances, f"the entry service {stack.entry}"))
        for loc, body in targets:
            if body.get("retry_after") == "required" and not stack.classification.retry_after_required:
                report(loc + ("retry_after",), f"stack {stack.name} names no codes that must carry Retry-After "
                       "(classification.retry_after_required), so this cannot be checked")
            for code in _mapping(body.get("codes")):
                if code not in codes and not is_transport_code(str(code)):
                    report(loc + ("codes", code), unknown_name("code", code, codes, f"stack {stack.name}")
                           + f"; or a transport code: {', '.join(TRANSPORT_CODES)}, http_<status>")

    invariants = data.get("invariants")
    if isinstance(invariants, list) and invariants:
        from harness.invariants import invariants_of, plugins

        if stack.audit is None:
            report(("invariants",), f"stack {stack.name} has no audit section, so no invariant can be checked")
        else:
            known = invariants_of(stack.audit.plugin) if stack.audit.plugin in plugins() else {}
            for k, name in enumerate(invariants):
                if isinstance(name, str) and name not in known:
                    report(("invariants", k), unknown_name("invariant", name, known, f"plugin {stack.audit.plugin}"))


def _stack_for(source: YamlSource, path: Path, replicas: dict[str, int]) -> tuple[Any, list[FileIssue]]:
    ref = source.data.get("stack")
    if not isinstance(ref, str):
        return None, []  # the structural pass reports it
    from harness.stack.files import load_stack

    try:
        return load_stack(ref, base_dir=path.parent).with_replicas(replicas), []
    except FileError as exc:
        return None, [issue_at(source, ("stack",), f"stack '{ref}' has {len(exc.issues)} error(s), listed below"),
                      *exc.issues]
    except UsageError as exc:
        return None, [issue_at(source, ("stack",), str(exc))]


def _resolve_locustfile(scenario: Scenario, source: YamlSource, path: Path) -> list[FileIssue]:
    locustfile = scenario.load.locustfile
    if locustfile is None or locustfile.startswith("builtin:"):
        return []
    resolved = Path(locustfile).expanduser()
    if not resolved.is_absolute():
        resolved = path.parent / resolved
    if not resolved.is_file():
        return [issue_at(source, ("load", "locustfile"), f"no such file: {resolved}")]
    problem = locustfile_problem(resolved)
    if problem:
        return [issue_at(source, ("load", "locustfile"), problem)]
    scenario.load.locustfile = str(resolved.resolve())
    return []


def validate_scenario_file(path: Path | str, replicas: dict[str, int] | None = None
                           ) -> tuple[Scenario | None, list[FileIssue]]:
    """The scenario (None when invalid) and every issue in it and its stack,
    checked against the stack as `replicas` (`--replicas`) will run it."""
    path = Path(path)
    try:
        source = read_source(path)
    except FileError as exc:
        return None, exc.issues
    stack, issues = _stack_for(source, path, replicas or {})
    scenario, more = validate_source(source, Scenario, semantic=partial(check_scenario, stack=stack))
    issues = issues + more
    if scenario is not None and not issues:
        issues = _resolve_locustfile(scenario, source, path)
    if issues:
        return None, sorted(issues, key=lambda i: (i.file != str(path), i.file, i.line))
    assert scenario is not None
    scenario._source = path
    scenario._stack = stack
    return scenario, []


def load_scenario(path: Path | str, replicas: dict[str, int] | None = None) -> Scenario:
    """A validated scenario with its stack resolved; FileError (exit 2) lists every problem."""
    scenario, issues = validate_scenario_file(path, replicas)
    if issues or scenario is None:
        raise FileError(issues)
    return scenario
