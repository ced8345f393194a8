"""Fill `{...}` placeholders in a service's command and environment.

A stack file refers to addresses that exist only at run time (its own port,
the proxy port of a link, another service's URL); this is the one place that
resolves them, so the process and Docker backends agree on the vocabulary.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from typing import Callable, Mapping

from harness.errors import UsageError

_PLACEHOLDER = re.compile(r"\{([a-z_]+)(?::([^{}]+))?\}")


@dataclass
class TemplateContext:
    host: str
    port: int
    instance: int
    state_dir: str
    link_url: Callable[[str], str]
    service_url: Callable[[str], str]
    extra: Mapping[str, str] = field(default_factory=dict)


def render(text: str, ctx: TemplateContext, where: str) -> str:
    """Replace every placeholder in `text`; `where` names the field for errors."""

    def sub(m: re.Match[str]) -> str:
        key, arg = m.group(1), m.group(2)
        if key == "host" and arg is None:
            return ctx.host
        if key == "port" and arg is None:
            return str(ctx.port)
        if key == "instance" and arg is None:
            return str(ctx.instance)
        if key == "state_dir" and arg is None:
            return ctx.state_dir
        if key == "python" and arg is None:
            return sys.executable
        if key == "link" and arg:
            return ctx.link_url(arg)
        if key in ("link_address", "link_host", "link_port") and arg:
            # any protocol: redis://{link_address:app->cache}/0, DB_HOST={link_host:app->db}
            address = ctx.link_url(arg).split("://", 1)[-1]
            host, _, port = address.rpartition(":")
            return {"link_address": address, "link_host": host, "link_port": port}[key]
        if key == "service" and arg:
            return ctx.service_url(arg)
        if key in ctx.extra and arg is None:
            return ctx.extra[key]
        raise UsageError(f"{where}: unknown placeholder '{m.group(0)}'")

    return _PLACEHOLDER.sub(sub, text)
