"""Images: the built-in one, built from the root filesystem (rootfs.py), and a service's own `build:`.

Building takes seconds, so each image is tagged with a hash of what went
into it and reused while that hash holds: the built-in image's files, or a
service's build context (the files the engine would be sent), Dockerfile and
args. Also where the built-in image puts things a service's command names:
the interpreter, and the stack's folder.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import stat
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any, Iterable

from harness.errors import HarnessError, UsageError
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
    if held(client, tag):
        return tag
    if on_event:
        on_event("image_build", f"building {tag} ({len(fs.files)} files)", {"tag": tag})
    with tempfile.TemporaryFile(prefix="chaosdrill-image-") as ctx:
        write_context(fs, digest, ctx)
        ctx.seek(0)
        try:
            client.images.build(fileobj=ctx, custom_context=True, tag=tag, rm=True, forcerm=True,
                                labels={"chaosdrill.image": "builtin"})
        except docker.errors.BuildError as exc:
            raise HarnessError(f"building the built-in image {tag} failed: {exc.msg} {log_tail(exc.build_log)}") from None
        except docker.errors.APIError as exc:
            raise HarnessError(f"building the built-in image {tag} failed: {exc.explanation or exc}") from None
    return tag


def held(client: Any, tag: str) -> bool:
    """Whether the engine holds an image of this tag: an image tagged by its content's hash is reused."""
    import docker.errors

    try:
        client.images.get(tag)
        return True
    except docker.errors.ImageNotFound:
        return False


def log_tail(build_log: Iterable[dict[str, Any]], lines: int = 3) -> str:
    """The last lines of a build's log, as one line."""
    texts = [str(c.get("stream") or c.get("error") or "").strip() for c in build_log]
    return " | ".join([t for t in texts if t][-lines:])


def context_digest(context: Path, dockerfile: str, args: dict[str, str]) -> str:
    """A hash of what a build uses: each file the engine would be sent (.dockerignore applied, as the
    SDK does), by path and content, the Dockerfile and the build args."""
    from docker.utils.build import exclude_paths

    ignore = context / ".dockerignore"
    patterns = ([line.strip() for line in ignore.read_text().splitlines() if line.strip() and line.strip()[0] != "#"]
                if ignore.is_file() else [])
    h = hashlib.sha256()
    for rel in sorted(exclude_paths(str(context), patterns, dockerfile=dockerfile)):
        path = context / rel
        h.update(rel.encode() + b"\0")
        if path.is_symlink():
            h.update(b"->" + os.readlink(path).encode())
        elif path.is_file():
            with open(path, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
        h.update(b"\0")
    dockerfile_path = Path(dockerfile) if Path(dockerfile).is_absolute() else context / dockerfile
    h.update(dockerfile.encode() + b"\0" + dockerfile_path.read_bytes())
    for key in sorted(args):
        h.update(f"\0{key}={args[key]}".encode())
    return h.hexdigest()


def built_image_repo(stack_name: str, service: str) -> str:
    """`chaosdrill-<stack>-<service>`, as an image repository may be named."""
    return re.sub(r"[^a-z0-9_.-]+", "-", f"chaosdrill-{stack_name}-{service}".lower()).strip("-._")


def service_image(client: Any, stack: Any, name: str, on_event: Any = None) -> str:
    """The image of a service with `build:`, built from its context unless the engine holds this content's tag.

    A failed build is one line naming `services.<name>.build` and the end of the build log (exit 3); a
    context or Dockerfile that is not there is the stack's mistake (exit 2)."""
    import docker.errors

    build = stack.services[name].build
    where = f"stack {stack.name}: services.{name}.build"
    context = Path(build.context).expanduser()
    if not context.is_absolute():
        context = (stack.stack_dir or Path.cwd()) / context
    if not context.is_dir():
        raise UsageError(f"{where}.context: no such folder {context}")
    dockerfile = Path(build.dockerfile) if Path(build.dockerfile).is_absolute() else context / build.dockerfile
    if not dockerfile.is_file():
        raise UsageError(f"{where}.dockerfile: no such file {dockerfile}")
    tag = f"{built_image_repo(stack.name, name)}:{context_digest(context, build.dockerfile, build.args)[:16]}"
    if held(client, tag):
        return tag
    if on_event:
        on_event("image_build", f"building {tag} for services.{name} from {context}", {"tag": tag, "service": name})
    try:
        client.images.build(path=str(context), dockerfile=build.dockerfile, buildargs=dict(build.args), tag=tag,
                            rm=True, forcerm=True, labels={"chaosdrill.image": "build"})
    except docker.errors.BuildError as exc:
        raise HarnessError(f"{where}: building {tag} from {context} failed: {exc.msg.strip()}; the build log "
                           f"ends: {log_tail(exc.build_log) or 'empty'}") from None
    except docker.errors.APIError as exc:
        raise HarnessError(f"{where}: building {tag} from {context} failed: {exc.explanation or exc}") from None
    given = stack.services[name].image
    if given:  # `image:` beside `build:` names the built image, as in Compose
        repo, sep, version = given.rpartition(":")
        client.images.get(tag).tag(*((repo, version) if sep and "/" not in version else (given, None)))
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
