"""Docker backend costs, measured side by side with the process backend in one run.

    python benchmarks/bench_docker.py [--rounds 2] [--duration 3] [--connections 10] [--json]

Starts a private podman Docker-API engine (a temp folder, removed at the
end), then measures: the built-in image's cold build and its warm cache
check; and, alternating the two backends each round so machine noise hits
both alike, the echo stack's start time, then wrk through the entry edge
(front -> fault proxy -> back, so two proxy hops per request) for requests/s
and latency p50/p99. Prints medians over the rounds and docker/process ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness.engine.podman import PodmanService  # noqa: E402
from harness.stack.backends import make_runtime  # noqa: E402
from harness.stack.docker.image import builtin_image  # noqa: E402
from harness.stack.files import load_stack  # noqa: E402
from harness.stack.runtime import StackOptions  # noqa: E402

STACKS = {
    "process": ROOT / "tests" / "fixtures" / "stacks" / "echo.yaml",
    "docker": ROOT / "tests" / "docker" / "stacks" / "echo-docker.yaml",
}


def wrk(url: str, duration: float, connections: int) -> dict[str, float]:
    out = subprocess.run(
        ["wrk", "-t", "2", "-c", str(connections), "-d", f"{duration:g}s", "--latency", url],
        capture_output=True, text=True, check=True,
    ).stdout

    def latency(pct: str) -> float:
        m = re.search(rf"^\s*{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not m:
            return float("nan")
        return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50_ms": latency("50"), "p99_ms": latency("99"),
            "non_2xx": int(errors.group(1)) if errors else 0}


async def one_round(backend: str, engine: PodmanService, image: str, duration: float, connections: int) -> dict:
    stack = load_stack(STACKS[backend])
    rt = make_runtime(stack, StackOptions(), backend=backend,
                      **({"base_url": engine.base_url, "builtin_image": image} if backend == "docker" else {}))
    started = time.perf_counter()
    await rt.start()
    try:
        start_s = time.perf_counter() - started
        load = await asyncio.to_thread(wrk, rt.entry_urls[0] + "/hello", duration, connections)
    finally:
        await rt.stop()
    return {"start_s": start_s, **load}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--duration", type=float, default=3.0)
    p.add_argument("--connections", type=int, default=10)
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    if not shutil.which("wrk"):
        print("wrk is not installed", file=sys.stderr)
        return 3
    import docker

    results: dict[str, list[dict]] = {"process": [], "docker": []}
    with PodmanService() as engine:
        client = docker.DockerClient(base_url=engine.base_url, timeout=120)
        t = time.perf_counter()
        image = builtin_image(client)
        cold = time.perf_counter() - t
        t = time.perf_counter()
        again = builtin_image(client)
        warm = time.perf_counter() - t
        if again != image:  # someone changed the project meanwhile: that was a rebuild, not a cache hit
            print(f"note: the project changed during the cold build; {again} was built anew", file=sys.stderr)
            image = again
        size_mb = client.images.get(image).attrs["Size"] / 1e6
        for _ in range(args.rounds):
            for backend in ("process", "docker"):
                results[backend].append(asyncio.run(one_round(backend, engine, image, args.duration,
                                                              args.connections)))
        client.close()

    summary = {b: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for b, rs in results.items()}
    report = {
        "image": {"cold_build_s": cold, "warm_check_s": warm, "size_mb": size_mb},
        "median": summary,
        "docker_over_process": {k: summary["docker"][k] / summary["process"][k]
                                for k in ("start_s", "rps", "p50_ms", "p99_ms") if summary["process"][k]},
        "rounds": results,
        "settings": vars(args),
    }
    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    print(f"built-in image: cold build {cold:.1f} s, warm cache check {warm:.2f} s, {size_mb:.0f} MB")
    print(f"{'backend':8} {'start s':>8} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8}")
    for b, s in summary.items():
        print(f"{b:8} {s['start_s']:8.2f} {s['rps']:9.0f} {s['p50_ms']:8.2f} {s['p99_ms']:8.2f} {s['non_2xx']:8.0f}")
    ratio = report["docker_over_process"]
    print("docker/process: " + ", ".join(f"{k} x{v:.2f}" for k, v in ratio.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
