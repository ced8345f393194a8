"""The built-in image: built from the root filesystem (rootfs.py) once per content, no registry needed.

Building takes seconds, so the image is tagged with a hash of what went into
it and reused while that hash holds. Also where the image puts things a
service's command names: the interpreter, and the stack's folder.
"""

from __future__ import annotations

import io
import stat
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any, Iterable

from harness.errors import HarnessError
from harness.stack.docker.rootfs import APP_DIR, PROJECT_PARTS, RootFs, collect_rootfs, project_root

IMAGE_REPO = "chaosdrill-builtin"
STACK_DIR_IN_CONTAINER = "/stack"  # a stack's folder outside the project, mounted read-only


DOCKERFILE = """\
FROM scratch
COPY rootfs/ /
ENV PYTHONPATH={python_path} PYTHONUNBUFFERED=1 PATH=/bin:{bindir}
WORKDIR {app}
LABEL chaosdrill.image=builtin chaosdrill.digest={digest}
"""


def _dirs_for(paths: Iterable[str]) -> set[str]:
    dirs: set[str] = set()
    for p in paths:
        parent = Path(p).parent
        while str(parent) not in ("/", "."):
            dirs.add(str(parent))
            parent = parent.parent
    return dirs


def write_context(fs: RootFs, digest: str, out: Any) -> None:
    """A build context (Dockerfile + rootfs/) as one tar stream, written once."""
    with tarfile.open(fileobj=out, mode="w") as tar:
        dockerfile = DOCKERFILE.format(app=APP_DIR, python_path=":".join(fs.python_path or [APP_DIR]),
                                       bindir=Path(sys.executable).parent, digest=digest).encode()
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(dockerfile)
        tar.addfile(info, io.BytesIO(dockerfile))
        link_paths = set(fs.links)
        extra_dirs = {"/tmp", "/state", "/etc"}
        for d in sorted(_dirs_for([*fs.files, *fs.links]) | extra_dirs):
            if d in link_paths:
                continue
            info = tarfile.TarInfo("rootfs" + d)
            info.type = tarfile.DIRTYPE
            info.mode = 0o1777 if d in ("/tmp", "/state") else 0o755
            tar.addfile(info)
        for dest in sorted(fs.links):
            info = tarfile.TarInfo("rootfs" + dest)
            info.type = tarfile.SYMTYPE
            info.linkname = fs.links[dest]
            tar.addfile(info)
        for dest in sorted(fs.files):
            src = fs.files[dest]
            st = src.stat()
            info = tarfile.TarInfo("rootfs" + dest)
            info.size = st.st_size
            info.mode = stat.S_IMODE(st.st_mode) | 0o444
            info.mtime = int(st.st_mtime)
            with open(src, "rb") as f:
                tar.addfile(info, f)
        for name, text in (("/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"), ("/etc/group", "root:x:0:\n")):
            data = text.encode()
            info = tarfile.TarInfo("rootfs" + name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def builtin_image(client: Any, root: Path | None = None, on_event: Any = None) -> str:
    """The built-in image's tag, building it when no image with this content hash exists yet."""
    import docker.errors

    fs = collect_rootfs(root)
    digest = fs.digest()
    tag = f"{IMAGE_REPO}:{digest[:16]}"
    try:
        client.images.get(tag)
        return tag
    except docker.errors.ImageNotFound:
        pass
    if on_event:
        on_event("image_build", f"building {tag} ({len(fs.files)} files)", {"tag": tag})
    with tempfile.TemporaryFile(prefix="chaosdrill-image-") as ctx:
        write_context(fs, digest, ctx)
        ctx.seek(0)
        try:
            client.images.build(fileobj=ctx, custom_context=True, tag=tag, rm=True, forcerm=True,
                                labels={"chaosdrill.image": "builtin"})
        except docker.errors.BuildError as exc:
            tail = " | ".join(str(c.get("stream", c.get("error", ""))).strip() for c in list(exc.build_log)[-3:])
            raise HarnessError(f"building the built-in image {tag} failed: {exc.msg} {tail}") from None
        except docker.errors.APIError as exc:
            raise HarnessError(f"building the built-in image {tag} failed: {exc.explanation or exc}") from None
    return tag


def python_in_image() -> str:
    """The built-in image holds this interpreter at the same path, so `{python}` needs no translation."""
    return sys.executable


def stack_dir(stack: Any) -> Path | None:
    """The folder a stack was read from, if it says."""
    for attr in ("stack_dir", "dir", "path", "source"):
        value = getattr(stack, attr, None)
        if value:
            p = Path(value)
            return p if p.is_dir() else p.parent
    return None


def stack_dir_in_container(stack_dir: Path, root: Path | None, mounts: dict[str, Any]) -> str:
    """The stack's folder as containers see it: in /app when the built-in image holds it, else mounted."""
    root = (root or project_root()).resolve()
    try:
        rel = stack_dir.resolve().relative_to(root).as_posix()
    except ValueError:
        rel = None
    if rel is not None and any(rel == part or rel.startswith(part + "/") for part in PROJECT_PARTS):
        return f"{APP_DIR}/{rel}"
    mounts[str(stack_dir.resolve())] = {"bind": STACK_DIR_IN_CONTAINER, "mode": "ro"}
    return STACK_DIR_IN_CONTAINER
