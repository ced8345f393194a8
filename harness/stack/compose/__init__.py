"""`chaosdrill stack import`: a Compose file made a stack a drill can run, plus a starter drill.

A team's system often already runs from a Compose file. The import reads it
(source.py, within chaosdrill's YAML bounds), carries each service over to
the docker backend (services.py: image, build, command, entrypoint,
environment, env_file, ports, expose, depends_on, healthcheck), makes every
dependency edge a link the fault proxy sits on and rewrites each value that
names another service so it goes through that link (mentions.py,
edges.py), picks the entry (entry.py) and writes the stack, a starter drill
and a starter locustfile (assemble.py, starter.py, files.py). What it cannot
carry over is one warning line naming `file:LINE field`; nothing is dropped
silently. importer.py runs the steps.

Light to import (no pydantic, no docker SDK): the command stays quick.
"""

from harness.stack.compose.importer import ImportResult, import_compose

__all__ = ["ImportResult", "import_compose"]
