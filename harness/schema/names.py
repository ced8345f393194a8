"""How files, journals, consoles and reports name one instance of a service.

Instance 0 is the service's own name and the others add `#N` (`lending`,
`lending#1`), the way links name them (`client->lending#1`), so a name read
in a report can be pasted into a scenario's `instances:` or a fault target.
"""

from __future__ import annotations


def instance_name(service: str, index: int | None) -> str:
    return f"{service}#{index}" if index else service
