"""Borrowing throughput and latency of the mock lending stack, end to end.

    python benchmarks/bench_lending.py [--duration 5] [--connections 4 16 64] [--profile]

Starts the stack directly (two bureau replicas, primary and backup gateways,
one lending instance; no fault proxy) and drives `POST /v1/loans` with wrk in
its own process (unique request ids, random borrowers among ten million, so
every request is a full application: credit report, risk decision, two
SQLite commits in lending, one disbursement commit in the gateway). Prints
loans/s, p50/p99 and the answers per concurrency level. `--profile` samples
lending with py-spy during one extra run and prints its hottest functions.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mock_services.local_stack import LocalStack  # noqa: E402

SCRIPT = Path(__file__).with_name("lending_loans.lua")
UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def to_ms(text: str) -> float:
    match = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    if not match:
        raise ValueError(f"unexpected wrk latency {text!r}")
    return float(match.group(1)) * UNITS[match.group(2)]


def run_wrk(url: str, connections: int, duration: float) -> dict[str, object]:
    threads = min(2, connections)
    out = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{max(1, round(duration))}s", "--latency",
                          "-s", str(SCRIPT), url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = to_ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
    p99 = to_ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
    codes = re.search(r"CODES (.*)", out).group(1)
    errors = re.search(r"Socket errors: (.*)", out)
    return {"connections": connections, "rps": rps, "p50": p50, "p99": p99, "codes": codes,
            "errors": errors.group(1) if errors else ""}


def profile(stack: LocalStack, url: str, connections: int, duration: float, workdir: Path) -> str:
    if shutil.which("py-spy") is None:
        return "py-spy not installed (pip install py-spy): no profile"
    raw = workdir / "lending.profile.txt"
    spy = subprocess.Popen(["py-spy", "record", "--pid", str(stack.lending().pid), "--format", "raw",
                            "--output", str(raw), "--duration", str(int(duration)), "--nonblocking"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(0.5)
    run_wrk(url, connections, duration)
    _, err = spy.communicate(timeout=duration + 30)
    if not raw.exists():
        return f"py-spy failed: {err.strip()[-300:]}"
    return summarize_profile(raw)


def summarize_profile(raw: Path, top: int = 18) -> str:
    """Self time and inclusive time per function from py-spy's collapsed stacks."""
    own: dict[str, int] = {}
    inclusive: dict[str, int] = {}
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        samples = int(count)
        total += samples
        frames = [re.sub(r" \(.*?/(site-packages|lib/python3\.\d+|main)/", " (", f) for f in stack.split(";")]
        own[frames[-1]] = own.get(frames[-1], 0) + samples
        for frame in set(frames):
            inclusive[frame] = inclusive.get(frame, 0) + samples
    lines = [f"{total} samples; hottest functions by own time (own% / inclusive%):"]
    for frame, samples in sorted(own.items(), key=lambda kv: -kv[1])[:top]:
        lines.append(f"  {100 * samples / total:5.1f}% / {100 * inclusive[frame] / total:5.1f}%  {frame}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per concurrency level")
    parser.add_argument("--connections", type=int, nargs="+", default=[4, 16, 64])
    parser.add_argument("--profile", action="store_true", help="also profile lending with py-spy")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (apt-get install wrk)")
    with tempfile.TemporaryDirectory(prefix="bench-lending-") as tmp:
        stack = LocalStack(Path(tmp), lending_args=["--max-concurrency", "1024"])
        try:
            stack.start()
            url = stack.lending().url
            run_wrk(url, 8, 1.0)  # warm-up: connections, caches, SQLite pages
            print(f"{'conns':>6} {'loans/s':>9} {'p50 ms':>8} {'p99 ms':>8}  answers")
            for connections in args.connections:
                r = run_wrk(url, connections, args.duration)
                print(f"{r['connections']:>6} {r['rps']:>9.0f} {r['p50']:>8.2f} {r['p99']:>8.2f}  {r['codes']}"
                      + (f"  socket errors: {r['errors']}" if r["errors"] else ""), flush=True)
            if args.profile:
                print(profile(stack, url, args.connections[len(args.connections) // 2], args.duration, Path(tmp)))
        finally:
            stack.stop()


if __name__ == "__main__":
    main()
