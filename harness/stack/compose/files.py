"""Where the import writes: the stack, the starter drill and its locustfile, side by side.

By default next to the Compose file, named after the project
(`shop.stack.yaml`, `shop.drill.yaml`, `shop_locust.py`); `-o STACK_FILE`
chooses the stack's path and the other two go beside it. A file that exists
is never overwritten without `--force`: a team's edited drill is worth more
than a fresh starter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from harness.errors import UsageError
from harness.stack.compose.source import ComposeFile

SUFFIXES = (".stack.yaml", ".stack.yml", ".yaml", ".yml")


def project_name(compose: ComposeFile) -> str:
    """Compose's project name: its `name:`, else the folder's name, lowercase letters, digits, - and _."""
    given = compose.data.get("name")
    raw = str(given) if isinstance(given, (str, int)) and str(given).strip() else compose.folder.name
    name = re.sub(r"[^a-z0-9_-]+", "-", raw.lower()).strip("-_")
    return name or "stack"


@dataclass(frozen=True)
class Outputs:
    stack: Path
    drill: Path
    locustfile: Path

    @classmethod
    def choose(cls, compose: ComposeFile, name: str, output: Path | None) -> "Outputs":
        if output is None:
            folder, base = compose.path.parent, name
        elif output.is_dir():
            folder, base = output, name
        else:
            folder = output.parent
            base = next((output.name[:-len(s)] for s in SUFFIXES if output.name.endswith(s)), output.name) or name
        stack = output if output is not None and not output.is_dir() else folder / f"{base}.stack.yaml"
        outputs = cls(stack, folder / f"{base}.drill.yaml", folder / f"{base}_locust.py")
        for path in outputs.all():
            if path.resolve() == compose.path.resolve():
                raise UsageError(f"{path}: that is the Compose file itself; give another -o STACK_FILE")
        return outputs

    def all(self) -> tuple[Path, Path, Path]:
        return self.stack, self.drill, self.locustfile

    def check(self, force: bool) -> None:
        """Refuse, in one line, to overwrite anything unless `force`; and say so when a folder is missing."""
        if not self.stack.parent.is_dir():
            raise UsageError(f"-o {self.stack}: no such folder {self.stack.parent}")
        existing = [str(p) for p in self.all() if p.exists()]
        if existing and not force:
            raise UsageError(f"not overwriting {', '.join(existing)}: {'it exists' if len(existing) == 1 else 'they exist'}"
                             "; --force overwrites, or -o STACK_FILE writes elsewhere")

    def write(self, stack: str, drill: str, locustfile: str) -> None:
        for path, text in zip(self.all(), (stack, drill, locustfile)):
            try:
                path.write_text(text, encoding="utf-8")
            except OSError as exc:
                raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
