"""Borrowing throughput and latency of the mock lending stack, end to end.

    python benchmarks/bench_lending.py [--duration 5] [--connections 4 16 64] [--profile] [--compare]

Starts the stack directly (two bureau replicas, primary and backup gateways,
one lending instance; no fault proxy) and drives `POST /v1/loans` with wrk in
its own process (unique request ids, random borrowers among ten million, so
every request is a full application: credit report, risk decision, two
SQLite commits in lending, one disbursement commit in the gateway). Prints
loans/s, p50/p99 and the answers per concurrency level. `--profile` samples
lending with py-spy during one extra run and prints its hottest functions.
`--compare` measures, side by side in this run, the lean HTTP server and
client of mock_services against aiohttp's on a trivial JSON endpoint (the
choice the services rest on).
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
SERVERS = Path(__file__).with_name("lending_servers.py")
UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def to_ms(text: str) -> float:
    match = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    if not match:
        raise ValueError(f"unexpected wrk latency {text!r}")
    return float(match.group(1)) * UNITS[match.group(2)]


def cpu_seconds(stack: LocalStack) -> dict[str, float]:
    """CPU time (user+system) used so far by each service process."""
    import psutil
    times = {}
    for name, service in stack.services.items():
        t = psutil.Process(service.pid).cpu_times()
        times[name] = t.user + t.system
    return times


def run_wrk(url: str, connections: int, duration: float) -> dict[str, object]:
    threads = min(2, connections)
    nonce = f"{time.time_ns():x}"
    out = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{max(1, round(duration))}s",
                          "--latency", "-s", str(SCRIPT), url, "--", nonce],
                         capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = to_ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
    p99 = to_ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
    codes = re.search(r"CODES (.*)", out).group(1)
    errors = re.search(r"Socket errors: (.*)", out)
    return {"connections": connections, "rps": rps, "p50": p50, "p99": p99, "codes": codes,
            "errors": errors.group(1) if errors else ""}


def wrk_plain(url: str, connections: int, duration: float) -> tuple[float, float]:
    out = subprocess.run(["wrk", "-t", "1", "-c", str(connections), "-d", f"{max(1, round(duration))}s", "--latency",
                          url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return rps, to_ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))


def compare(duration: float, rounds: int = 2) -> None:
    """Lean vs aiohttp: server requests/s under wrk, client CPU per call; alternated rounds."""
    servers = {}
    try:
        for kind in ("lean", "aiohttp"):
            process = subprocess.Popen([sys.executable, str(SERVERS), "server", kind], stdout=subprocess.PIPE, text=True)
            servers[kind] = (process, process.stdout.readline().strip().rsplit(" ", 1)[1])
        results: dict[str, list[float]] = {"lean": [], "aiohttp": []}
        client_cpu: dict[str, list[float]] = {"lean": [], "aiohttp": []}
        for _ in range(rounds):
            for kind, (_, url) in servers.items():
                results[kind].append(wrk_plain(url + "/v1/ping", 32, duration)[0])
                out = subprocess.run([sys.executable, str(SERVERS), "client", kind, servers["lean"][1], "20000"],
                                     capture_output=True, text=True, check=True).stdout
                client_cpu[kind].append(float(out.split()[-1]))
        lean, aio = max(results["lean"]), max(results["aiohttp"])
        print(f"server GET /v1/ping, 32 conns: lean {lean:.0f} req/s, aiohttp {aio:.0f} req/s, ratio {lean / aio:.2f}x")
        lc, ac = min(client_cpu["lean"]), min(client_cpu["aiohttp"])
        print(f"client CPU per call: lean {lc:.0f} us, aiohttp {ac:.0f} us, ratio {ac / lc:.2f}x")
    finally:
        for process, _ in servers.values():
            process.terminate()
            process.wait(5)


def run_wrk_split(urls: list[str], connections: int, duration: float) -> dict[str, object]:
    """One wrk per lending instance at once (connections split); loans/s summed, worst p50/p99."""
    if len(urls) == 1:
        return run_wrk(urls[0], connections, duration)
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(len(urls)) as pool:
        parts = list(pool.map(lambda u: run_wrk(u, max(1, connections // len(urls)), duration), urls))
    return {"connections": connections, "rps": sum(float(p["rps"]) for p in parts),
            "p50": max(float(p["p50"]) for p in parts), "p99": max(float(p["p99"]) for p in parts),
            "codes": " | ".join(str(p["codes"]) for p in parts),
            "errors": " | ".join(str(p["errors"]) for p in parts if p["errors"])}


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


def bench_stack(tmp: Path, instances: int, args: argparse.Namespace) -> None:
    stack = LocalStack(tmp, lending_args=["--max-concurrency", "1024"], lending_instances=instances)
    try:
        stack.start()
        urls = [stack.lending(i).url for i in range(instances)]
        run_wrk_split(urls, 8, 1.0)  # warm-up: connections, caches, SQLite pages
        print(f"lending instances: {instances}")
        print(f"{'conns':>6} {'loans/s':>9} {'p50 ms':>8} {'p99 ms':>8}  answers")
        cpu_per_loan: dict[str, float] = {}
        for connections in args.connections:
            before = cpu_seconds(stack)
            r = run_wrk_split(urls, connections, args.duration)
            after = cpu_seconds(stack)
            loans = float(r["rps"]) * max(1, round(args.duration))
            cpu_per_loan = {name: (after[name] - before[name]) / loans * 1000 for name in after}
            print(f"{r['connections']:>6} {r['rps']:>9.0f} {r['p50']:>8.2f} {r['p99']:>8.2f}  {r['codes']}"
                  + (f"  socket errors: {r['errors']}" if r["errors"] else ""), flush=True)
        total = sum(cpu_per_loan.values())
        print("CPU ms per loan at the last level: " + ", ".join(f"{name} {ms:.2f}" for name, ms in cpu_per_loan.items())
              + f"; total {total:.2f} (2 cores: ceiling ~{2000 / total:.0f} loans/s before the load generator's share)")
        if args.profile and instances == 1:
            print(profile(stack, urls[0], args.connections[len(args.connections) // 2], args.duration, tmp))
    finally:
        stack.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per concurrency level")
    parser.add_argument("--connections", type=int, nargs="+", default=[4, 16, 64])
    parser.add_argument("--instances", type=int, nargs="+", default=[1, 2],
                        help="lending instances (sharing one database) to measure, each a separate stack")
    parser.add_argument("--profile", action="store_true", help="also profile lending with py-spy")
    parser.add_argument("--compare", action="store_true", help="also compare lean vs aiohttp server and client")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (apt-get install wrk)")
    for instances in args.instances:
        with tempfile.TemporaryDirectory(prefix="bench-lending-") as tmp:
            bench_stack(Path(tmp), instances, args)
    if args.compare:
        compare(min(args.duration, 3.0))


if __name__ == "__main__":
    main()
