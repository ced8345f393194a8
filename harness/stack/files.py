"""Reading a stack file: where a name resolves, what is checked beyond the schema, the one loader.

Every problem is a `file:LINE field: message` line (harness.schema); the
checks here are those that need more than one field (links naming
services, placeholders naming links, fixed ports meeting, the invariant
plugin and its module, the locustfile).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.errors import UsageError
from harness.schema.errors import FileError, issue_at
from harness.schema.loading import Report, read_source, validate_source
from harness.schema.placeholders import placeholder_problems
from harness.schema.suggest import unknown_name
from harness.schema.yaml_source import YamlSource
from harness.stack.model import (BUILTIN_LOCUSTFILE_PREFIX, BUILTIN_STACK_DIR, EDGE_FROM, LINK_KEY,
                                 OUTCOME_CLASSES, Stack, fixed_port_clashes)


def _check_stack(data: dict[str, Any], report: Report) -> None:
    services = data.get("services") if isinstance(data.get("services"), dict) else {}
    names = list(services)
    links = data.get("links") if isinstance(data.get("links"), dict) else {}
    entry = data.get("entry")
    if isinstance(entry, str) and services and entry not in services:
        report(("entry",), unknown_name("service", entry, names))

    for key, body in links.items():
        body = body if isinstance(body, dict) else {}
        m = LINK_KEY.match(str(key))
        if not m:
            report(("links", key), f"a link is named 'FROM->TO' (e.g. 'api->db'), got '{key}'")
            continue
        if m.group("from") == EDGE_FROM and EDGE_FROM not in services:
            if set(body) <= {"listen", "description"} and "listen" in body:
                continue  # the runner makes it; the file only fixes its port (validated with the model)
            report(("links", key), f"links from '{EDGE_FROM}' are made by the runner (the load's way in to the "
                   f"entry service); name the entry with `entry:` instead (or give such a link only `listen:`, "
                   "to fix the port the load enters by)")
            continue
        for side, group in (("from", "from"), ("to", "to")):
            given = body.get(side)
            if given is not None and not isinstance(given, str):
                continue
            value = given or m.group(group)
            if given and given != m.group(group):
                report(("links", key, side), f"'{given}' does not match the link name '{key}' ({side} is '{m.group(group)}')")
            elif services and value not in services:
                report(("links", key, side) if given else ("links", key), unknown_name("service", value, names))

    backend = data.get("backend", "process")
    for key, body in links.items():
        if backend == "process" and isinstance(body, dict) and "port" in body:
            report(("links", key, "port"), "the process backend forwards a link to its target's own port; "
                                           "a port here is the docker backend's")
    for name, svc in services.items():
        if not isinstance(svc, dict):
            continue
        if backend == "process" and "command" not in svc and "address" not in svc:
            report(("services", name), "a service of the process backend needs a command (or an address, "
                                       "when it is already running)")
        if backend == "process" and "entrypoint" in svc:
            report(("services", name, "entrypoint"), "an image's entrypoint is the docker backend's; a process "
                                                     "runs its command")
        for key in ("entrypoint", "command"):
            argv = svc.get(key)
            for i, arg in enumerate(argv) if isinstance(argv, list) else ():
                if isinstance(arg, str):
                    for problem in placeholder_problems(arg, links, names):
                        report(("services", name, key, i), problem)
        env = svc.get("env")
        if isinstance(env, dict):
            for k, v in env.items():
                if isinstance(v, str):
                    for problem in placeholder_problems(v, links, names):
                        report(("services", name, "env", k), problem)

    fixed = []
    for name, svc in services.items() if backend != "docker" else ():  # a container has its own ports
        port, replicas = (svc.get("port"), svc.get("replicas", 1)) if isinstance(svc, dict) else (None, 1)
        if not isinstance(port, bool) and isinstance(port, int) and isinstance(replicas, int) and replicas >= 1:
            fixed.append((name, port, replicas))
    for name, problem in fixed_port_clashes(fixed)[1]:
        report(("services", name, "port"), problem)

    def check_service(loc: tuple, value: Any) -> None:
        if isinstance(value, str) and services and value not in services:
            report(loc, unknown_name("service", value, names))

    audit = data.get("audit")
    if isinstance(audit, dict):
        if isinstance(audit.get("plugin"), str):
            from harness.invariants import plugins

            known = plugins()
            if audit["plugin"] not in known:
                report(("audit", "plugin"), unknown_name("invariant plugin", audit["plugin"], known))
        for ep_name, ep in (audit.get("endpoints") or {}).items() if isinstance(audit.get("endpoints"), dict) else ():
            if isinstance(ep, dict):
                check_service(("audit", "endpoints", ep_name, "service"), ep.get("service"))
        for i, step in enumerate(audit.get("before") or []) if isinstance(audit.get("before"), list) else ():
            if isinstance(step, dict):
                check_service(("audit", "before", i, "service"), step.get("service"))
    metrics = data.get("metrics")
    if isinstance(metrics, list):
        for i, src in enumerate(metrics):
            if isinstance(src, dict):
                check_service(("metrics", i, "service"), src.get("service"))

    classification = data.get("classification")
    classes = classification.get("classes") if isinstance(classification, dict) else None
    if isinstance(classes, dict):
        owner: dict[str, str] = {}
        for cls in OUTCOME_CLASSES:
            codes = classes.get(cls)
            if not isinstance(codes, list):
                continue
            for i, code in enumerate(codes):
                if not isinstance(code, str):  # the structural pass reports it (a list item may be a mapping)
                    continue
                if code in owner:
                    report(("classification", "classes", cls, i),
                           f"code '{code}' is already in class '{owner[code]}'; a code has one class")
                else:
                    owner[code] = cls
        retry = classification.get("retry_after_required")
        if isinstance(retry, list):
            for i, code in enumerate(retry):
                if isinstance(code, str) and code not in owner:
                    report(("classification", "retry_after_required", i), unknown_name("code", code, owner))


# ---------------------------------------------------------------- loading


def builtin_stacks() -> list[str]:
    return sorted(p.stem for p in BUILTIN_STACK_DIR.glob("*.yaml"))


def resolve_stack_path(ref: str | Path, base_dir: Path | None = None) -> Path:
    """A stack reference as a file: a path (relative to base_dir) or a built-in name.

    A name (no slash, no .yaml) is looked up in `base_dir/stacks/` first, so a
    user's scenarios folder can keep its own stacks, then in the built-in
    scenarios/stacks/.
    """
    text = str(ref)
    looks_like_path = isinstance(ref, Path) or "/" in text or "\\" in text or text.endswith((".yaml", ".yml"))
    if looks_like_path:
        path = Path(text).expanduser()
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        return path
    candidates = ([base_dir / "stacks" / f"{text}.yaml"] if base_dir is not None else []) + [
        BUILTIN_STACK_DIR / f"{text}.yaml"
    ]
    for path in candidates:
        if path.is_file():
            return path
    raise UsageError(f"{unknown_name('stack', text, builtin_stacks())}; or give the path of a stack file")


def _import_audit_module(source: YamlSource, base_dir: Path) -> list:
    """Import the stack's own invariants (audit.module) first, so its plugin is known to the checks."""
    from harness.invariants.modules import ModuleProblem, import_invariants_module

    audit = source.data.get("audit") if isinstance(source.data, dict) else None
    spec = audit.get("module") if isinstance(audit, dict) else None
    if not isinstance(spec, str):
        return []
    try:
        import_invariants_module(spec, base_dir)
    except ModuleProblem as exc:
        return [issue_at(source, ("audit", "module"), str(exc))]
    return []


def validate_stack_file(path: Path) -> tuple[Stack | None, list]:
    """The stack (None if invalid) and every issue in the file, for `validate`."""
    try:
        source = read_source(path)
    except FileError as exc:
        return None, exc.issues
    module_issues = _import_audit_module(source, path.resolve().parent)
    stack, issues = validate_source(source, Stack, semantic=_check_stack)
    issues = [*module_issues, *issues]
    if stack is not None and module_issues:
        stack = None
    if stack is not None:
        stack._source = path.resolve()
        issues = _resolve_locustfile(stack, source)
        if issues:
            stack = None
    return stack, sorted(issues, key=lambda i: i.line)


def _resolve_locustfile(stack: Stack, source: Any) -> list:
    from harness.schema.locustfiles import locustfile_problem

    if stack.load is None or stack.load.locustfile.startswith(BUILTIN_LOCUSTFILE_PREFIX):
        return []
    path = Path(stack.load.locustfile).expanduser()
    if not path.is_absolute():
        path = (stack.stack_dir or Path.cwd()) / path
    if not path.is_file():
        return [issue_at(source, ("load", "locustfile"), f"no such file: {path}")]
    problem = locustfile_problem(path)
    if problem:
        return [issue_at(source, ("load", "locustfile"), problem)]
    stack.load.locustfile = str(path.resolve())
    return []


def load_stack(path_or_name: str | Path, base_dir: Path | None = None) -> Stack:
    """A validated stack from a built-in name ("lending") or a file path.

    Raises FileError (a UsageError: exit 2) listing every problem as
    `file:LINE field: message`.
    """
    path = resolve_stack_path(path_or_name, base_dir)
    stack, issues = validate_stack_file(path)
    if issues or stack is None:
        raise FileError(issues)
    return stack


__all__ = ["builtin_stacks", "load_stack", "resolve_stack_path", "validate_stack_file"]
