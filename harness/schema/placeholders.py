"""Check `{...}` placeholders in stack commands before anything starts.

harness.stack.templating fills them at run time; this finds a misspelt
placeholder or an unknown link while validating, with the file's line.
"""

from __future__ import annotations

import re
from typing import Iterable

from harness.schema.suggest import did_you_mean, unknown_name

PLACEHOLDER = re.compile(r"\{([a-z_]+)(?::([^{}]+))?\}")
SIMPLE = ("host", "port", "instance", "state_dir", "python", "stack_dir")
WITH_ARG = ("link", "link_address", "link_host", "link_port", "service")


def placeholder_problems(text: str, links: Iterable[str], services: Iterable[str]) -> list[str]:
    """One message per bad placeholder in `text` (empty when all are known)."""
    links, services = list(links), list(services)
    problems = []
    for m in PLACEHOLDER.finditer(text):
        key, arg = m.group(1), m.group(2)
        if key in SIMPLE and arg is None:
            continue
        if key in ("link", "link_address", "link_host", "link_port") and arg:
            if arg not in links:
                problems.append(f"placeholder {m.group(0)}: {unknown_name('link', arg, links)}")
            continue
        if key == "service" and arg:
            if arg not in services:
                problems.append(f"placeholder {m.group(0)}: {unknown_name('service', arg, services)}")
            continue
        known = [f"{{{k}}}" for k in SIMPLE] + ["{link:FROM->TO}", "{link_address:FROM->TO}",
                                                "{link_host:FROM->TO}", "{link_port:FROM->TO}", "{service:NAME}"]
        problems.append(f"unknown placeholder {m.group(0)}{did_you_mean('{' + key + '}', known)}; "
                        f"known: {', '.join(known)}")
    return problems
