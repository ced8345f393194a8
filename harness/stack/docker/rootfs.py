"""What goes into the built-in image: this machine's CPython 3.11 plus the project, as a root filesystem.

The built-in stack's services and the fault proxy are this project's own
Python code, so their image is made from what already runs them here: the
interpreter (at the same absolute path, so `{python}` means the same thing in
a container as on the host), its standard library, the shared libraries it
and the binary wheels link against (found with ldd), the installed
distributions the services import (with every folder they came from on
PYTHONPATH, so a venv's packages are found without its pyvenv.cfg tricks),
and the project's source under /app. Nothing is downloaded, and the wheels
match the interpreter's ABI exactly.

The root filesystem's digest (project files by content, the host's
interpreter and libraries by path, size and mtime) tags the image (image.py).
"""

from __future__ import annotations

import hashlib
import importlib.metadata as md
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from harness.errors import HarnessError

BUILDER_VERSION = "1"
APP_DIR = "/app"
# Parts of the project the containers need: the services, the fault proxy, stacks and test fixtures.
PROJECT_PARTS = ("harness", "mock_services", "scenarios", "tests/fixtures")
# Run on the host, never inside a service container: load generation and the terminal UI.
HOST_ONLY_DISTS = frozenset({"locust", "rich", "textual", "docker"})
# Standard library parts no service uses; leaving them out halves the image.
STDLIB_SKIP = frozenset({
    "site-packages", "test", "idlelib", "tkinter", "turtledemo", "ensurepip", "lib2to3", "pydoc_data",
})
SKIP_NAMES = re.compile(r"(\.opt-[12]\.pyc$)|(^config-3\.\d+)|(^_tkinter\.)")


def project_root() -> Path:
    import harness

    return Path(harness.__file__).resolve().parent.parent


@dataclass
class RootFs:
    """What goes into the image: host path -> path in the image (symlinks kept as symlinks)."""

    files: dict[str, Path] = field(default_factory=dict)  # image path -> host file
    links: dict[str, str] = field(default_factory=dict)  # image path -> link target
    project: set[str] = field(default_factory=set)  # image paths hashed by content
    python_path: list[str] = field(default_factory=list)  # the image's PYTHONPATH, in import order

    def add_host_path(self, path: Path) -> None:
        """Add `path` at the same place, with every symlink on the way (/lib -> usr/lib, ...)."""
        parts = Path(os.path.abspath(path)).parts
        current = Path(parts[0])
        for i, part in enumerate(parts[1:], start=1):
            current = current / part
            if current.is_symlink():
                target = os.readlink(current)
                self.links[str(current)] = target
                rest = Path(*parts[i + 1:]) if i + 1 < len(parts) else None
                resolved = (current.parent / target) if not os.path.isabs(target) else Path(target)
                self.add_host_path(Path(os.path.normpath(resolved / rest) if rest else os.path.normpath(resolved)))
                return
        if current.is_file():
            self.files[str(current)] = current

    def add_project_file(self, host: Path, image_path: str) -> None:
        self.files[image_path] = host
        self.project.add(image_path)

    def digest(self) -> str:
        h = hashlib.sha256(f"chaosdrill image builder {BUILDER_VERSION}\n".encode())
        for dest in sorted(self.files):
            src = self.files[dest]
            if dest in self.project:
                h.update(f"P {dest}\n".encode())
                h.update(src.read_bytes())
            else:
                st = src.stat()
                h.update(f"F {dest} {st.st_size} {st.st_mtime_ns} {st.st_mode & 0o777}\n".encode())
        for dest in sorted(self.links):
            h.update(f"L {dest} {self.links[dest]}\n".encode())
        h.update(f"PYTHONPATH {':'.join(self.python_path)}\n".encode())
        return h.hexdigest()


def _is_elf(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def _shared_libraries(elves: list[Path]) -> set[Path]:
    """Every library (and the loader) the ELF files need, as ldd resolves them here."""
    libs: set[Path] = set()
    for start in range(0, len(elves), 200):
        out = subprocess.run(["ldd", *map(str, elves[start:start + 200])], capture_output=True, text=True).stdout
        for line in out.splitlines():
            m = re.search(r"=>\s*(/\S+)", line) or re.match(r"\s*(/\S+)\s+\(0x", line)
            if m:
                libs.add(Path(m.group(1)))
    return libs


def distribution_closure(requirements: Iterable[str], skip: frozenset[str] = frozenset()) -> list[md.Distribution]:
    """The installed distributions `requirements` need, their own requirements included."""
    pending = [Requirement(r) for r in requirements]
    seen: dict[str, md.Distribution] = {}
    while pending:
        req = pending.pop()
        name = canonicalize_name(req.name)
        if name in seen or name in skip:
            continue
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        try:
            dist = md.distribution(req.name)
        except md.PackageNotFoundError:
            raise HarnessError(
                f"built-in image: distribution {req.name!r} (needed by the services) is not installed here"
            ) from None
        seen[name] = dist
        pending.extend(Requirement(r) for r in dist.requires or [])
    return list(seen.values())


def project_requirements(root: Path | None = None) -> list[str]:
    """The project's own dependencies, as pyproject.toml states them."""
    meta = tomllib.loads(((root or project_root()) / "pyproject.toml").read_text())
    return list(meta["project"]["dependencies"])


def installed_files(dist: md.Distribution) -> tuple[Path, list[Path]]:
    """Where `dist` is installed (the folder holding its .dist-info) and its files there.

    Files outside that folder (scripts in bin/, editable finders) are left out:
    a container needs none of them.
    """
    home = Path(str(dist.locate_file(""))).resolve()
    files = []
    for rel in dist.files or []:
        path = Path(dist.locate_file(rel)).resolve()
        if home in path.parents and path.is_file():
            files.append(path)
    return home, files


def _service_distributions(root: Path) -> list[md.Distribution]:
    """The installed distributions the project's services import: its dependencies' closure, minus host-only ones."""
    return distribution_closure(project_requirements(root), skip=HOST_ONLY_DISTS)


def import_order(dirs: Iterable[Path]) -> list[Path]:
    """`dirs` in the order this interpreter searches them (unknown ones last).

    The image names every directory a service distribution came from on
    PYTHONPATH, instead of relying on how the host found it: a venv's
    interpreter finds its site-packages only through pyvenv.cfg, a user site
    only under the same $HOME, a .pth-added folder only through that .pth.
    """
    rank = {}
    for i, entry in enumerate(sys.path):
        rank.setdefault(Path(entry or ".").resolve(), i)
    return sorted(set(dirs), key=lambda d: (rank.get(d, len(rank)), str(d)))


def collect_rootfs(root: Path | None = None) -> RootFs:
    """Everything the built-in image holds, without reading file contents yet."""
    root = root or project_root()
    fs = RootFs()
    exe = Path(sys.executable)
    fs.add_host_path(exe)
    if sys.prefix != sys.base_prefix and (Path(sys.prefix) / "pyvenv.cfg").is_file():
        fs.add_host_path(Path(sys.prefix) / "pyvenv.cfg")  # so sys.prefix in the container is the venv's
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    for dirpath, dirnames, filenames in os.walk(stdlib):
        if Path(dirpath) == stdlib:
            dirnames[:] = [d for d in dirnames if d not in STDLIB_SKIP and not SKIP_NAMES.search(d)]
        for name in filenames:
            if not SKIP_NAMES.search(name):
                fs.add_host_path(Path(dirpath) / name)
    homes: set[Path] = set()
    for dist in _service_distributions(root):
        home, files = installed_files(dist)
        if files:
            homes.add(home)
        for path in files:
            fs.add_host_path(path)
            if path.suffix == ".py":
                cached = path.parent / "__pycache__" / f"{path.stem}.{sys.implementation.cache_tag}.pyc"
                if cached.is_file():
                    fs.add_host_path(cached)
    fs.python_path = [APP_DIR, *map(str, import_order(homes))]
    elves = [Path(p) for p in fs.files.values() if p.name.endswith(".so") or ".so." in p.name or p == exe.resolve()]
    for lib in _shared_libraries([p for p in elves if _is_elf(p)]):
        fs.add_host_path(lib)
    busybox = shutil.which("busybox")
    if busybox and _is_elf(Path(busybox)):
        fs.files["/bin/busybox"] = Path(busybox)
        for applet in ("sh", "ls", "cat", "ps", "kill", "sleep", "wget"):
            fs.links[f"/bin/{applet}"] = "busybox"
    for part in PROJECT_PARTS:
        base = root / part
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__" and not d.startswith("."))
            for name in sorted(filenames):
                if name.endswith((".pyc", ".log", ".db")):
                    continue
                host = Path(dirpath) / name
                fs.add_project_file(host, f"{APP_DIR}/{host.relative_to(root).as_posix()}")
    if (root / "pyproject.toml").is_file():
        fs.add_project_file(root / "pyproject.toml", f"{APP_DIR}/pyproject.toml")
    return fs
