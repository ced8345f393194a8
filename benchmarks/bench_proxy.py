"""Fault proxy throughput and added latency: direct vs proxied, side by side, one run.

    python benchmarks/bench_proxy.py [--duration 5] [--rounds 3] [--connections 10 100] [--toxiproxy PATH]
                                     [--upstream {minimal,credit-bureau}] [--haproxy]

Starts a tiny keep-alive HTTP upstream (uvloop, its own process), the fault
proxy server (its own process, no toxic on the proxy), and drives both with
wrk, alternating direct and proxied runs so that machine noise hits both
alike; prints requests/s, the proxied/direct ratio and the latency the proxy
adds at p50 and p99 (medians over the rounds), and the CPU time the proxy
server (or, direct, the upstream) spends per request, a number that machine
load disturbs much less than the ratio. `--toxic-path` also measures
the toxic pipeline path (a 0 ms latency toxic on each stream).

`--upstream credit-bureau` puts the mock credit bureau (a cached credit
report, `GET /v1/reports/u1`) behind the proxies instead: the call a drill's
proxy fronts, so the ratio says what the proxy costs in a drill, where the
minimal upstream (the default) is the worst case, since any work the upstream
does is work the proxy does not add to.

`--toxiproxy PATH` also runs a real Toxiproxy server binary (its releases,
or built from its source; chaosdrill ships none) as one more path in the same
alternation, so the two proxies are compared in one run on the same machine
rather than against figures measured elsewhere.

`--haproxy` also runs HAProxy (Debian's `haproxy`, C, TCP mode, its default
threads) in front of the same upstream: no toxics, no API, the plain hop. It
is not a fault proxy; it says how much of direct throughput any TCP hop keeps
on this machine, the ceiling a fault proxy's no-toxic path can approach.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"


def serve_upstream() -> None:
    """The upstream: answers every request head with a fixed 200, keep-alive, no parsing beyond framing."""
    import asyncio

    import uvloop

    class Answer(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self.transport = transport
            self.tail = b""

        def data_received(self, data: bytes) -> None:
            data = self.tail + data
            count = data.count(b"\r\n\r\n")  # wrk sends GETs without bodies
            self.tail = data[data.rfind(b"\r\n\r\n") + 4 :] if count else data
            if count:
                self.transport.write(RESPONSE * count)

    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(Answer, "127.0.0.1", 0, backlog=1024)
        print(server.sockets[0].getsockname()[1], flush=True)
        await asyncio.Event().wait()

    uvloop.run(main())


@dataclass
class WrkResult:
    rps: float
    p50_ms: float
    p99_ms: float
    cpu_us_per_request: float = 0.0  # of the process under test: the proxy, or the upstream when direct


def cpu_seconds(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds a process has used, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / ticks, int(fields[12]) / ticks


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(number) * _UNITS[unit]


def run_wrk(port: int, connections: int, duration: float, threads: int, path: str = "/") -> WrkResult:
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration:g}s", "--latency", f"http://127.0.0.1:{port}{path}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.MULTILINE).group(1))
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.MULTILINE).group(1))
    return WrkResult(rps, p50, p99)


UPSTREAMS = ("minimal", "credit-bureau")


def upstream_command(name: str, workdir: Path) -> tuple[list[str], str]:
    """The upstream's command line and the path wrk asks it for."""
    if name == "credit-bureau":
        db = workdir / "bureau.db"
        return [sys.executable, "-m", "mock_services.credit_bureau", "--port", "0", "--db", str(db)], "/v1/reports/u1"
    return [sys.executable, __file__, "--serve-upstream"], "/"


def _start(cmd: list[str], log: Path | None = None) -> tuple[subprocess.Popen, str]:
    """Start a process and read its first line (its port); its stderr goes to `log` when given."""
    stderr = open(log, "w") if log is not None else None  # noqa: SIM115 - closed below, the child has its own
    process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=stderr, text=True, cwd=ROOT)
    if stderr is not None:
        stderr.close()
    return process, process.stdout.readline().strip()


def _start_toxiproxy(binary: Path) -> tuple[subprocess.Popen, str, str]:
    """A Toxiproxy server on a free loopback port, its API address and version; its debug log
    goes nowhere (it logs every request)."""
    from harness.stack.ports import free_port

    port = free_port()
    process = subprocess.Popen(
        [str(binary), "-host", "127.0.0.1", "-port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    api = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(f"{api}/version", timeout=1) as answer:
                version = answer.read().decode().strip()
        except OSError:
            time.sleep(0.05)
            continue
        if version.startswith("{"):  # {"version": ...} since 2.6, plain text before
            version = json.loads(version).get("version", version)
        return process, api, version
    process.kill()
    raise SystemExit(f"bench_proxy: {binary} did not answer on {api}/version within 10 s")


def _start_haproxy(upstream_port: int, workdir: Path) -> tuple[subprocess.Popen, int]:
    """HAProxy in TCP mode, in the foreground, between a free loopback port and the upstream."""
    from harness.stack.ports import free_port

    port = free_port()
    config = workdir / "haproxy.cfg"
    config.write_text(
        "global\n  maxconn 4000\n"
        "defaults\n  mode tcp\n  timeout connect 5s\n  timeout client 60s\n  timeout server 60s\n"
        f"listen bench\n  bind 127.0.0.1:{port}\n  server upstream 127.0.0.1:{upstream_port}\n"
    )
    process = subprocess.Popen(["haproxy", "-db", "-f", str(config)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and process.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process, port
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit(f"bench_proxy: haproxy did not listen on 127.0.0.1:{port}: {process.communicate()[1][-500:]}")


def _post(url: str, body: object) -> dict:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def _versus_toxiproxy(connections: int, by_path: dict[str, list[WrkResult]]) -> dict:
    """This proxy against Toxiproxy run for run: the two measured in the same round sit seconds apart."""
    pairs = list(zip(by_path["proxied"], by_path["toxiproxy"]))
    return {
        "connections": connections,
        "rps_ratio": round(statistics.median(ours.rps / theirs.rps for ours, theirs in pairs), 3),
        "cpu_ratio": round(
            statistics.median(ours.cpu_us_per_request / theirs.cpu_us_per_request for ours, theirs in pairs), 3
        ),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--serve-upstream", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run (default 5)")
    parser.add_argument("--rounds", type=int, default=3, help="direct/proxied pairs per setting (default 3)")
    parser.add_argument("--connections", type=int, nargs="+", default=[10, 100])
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--toxic-path", action="store_true", help="also measure the toxic pipeline path")
    parser.add_argument("--toxiproxy", type=Path, metavar="PATH", help="also measure this Toxiproxy server binary")
    parser.add_argument("--haproxy", action="store_true",
                        help="also measure HAProxy in TCP mode: the plain hop, the ceiling of a no-toxic path")
    parser.add_argument("--upstream", choices=UPSTREAMS, default="minimal",
                        help="what the proxies front (default minimal: the worst case for the ratio)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    if args.serve_upstream:
        serve_upstream()
        return 0
    if shutil.which("wrk") is None:
        print("bench_proxy: wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    if args.toxiproxy is not None and not os.access(args.toxiproxy, os.X_OK):
        print(f"bench_proxy: --toxiproxy {args.toxiproxy}: not an executable file", file=sys.stderr)
        return 2
    if args.haproxy and shutil.which("haproxy") is None:
        print("bench_proxy: --haproxy: haproxy is not installed (apt-get install haproxy)", file=sys.stderr)
        return 2

    processes: list[subprocess.Popen] = []
    workdir = tempfile.TemporaryDirectory(prefix="bench_proxy-")
    load_before = f"{os.getloadavg()[0]:.2f}"
    try:
        command, path = upstream_command(args.upstream, Path(workdir.name))
        upstream_log = Path(workdir.name) / "upstream.log"
        upstream, port_line = _start(command, upstream_log)
        processes.append(upstream)
        port_text = port_line.rsplit(":", 1)[-1].strip("/")  # a port, or `listening on http://HOST:PORT`
        if not port_text.isdigit():
            raise SystemExit(f"bench_proxy: the {args.upstream} upstream did not start: "
                             f"{upstream_log.read_text().strip()[-500:]}")
        upstream_port = int(port_text)
        proxy_server, ready = _start([sys.executable, "-m", "harness.proxy", "--port", "0"])
        processes.append(proxy_server)
        api = ready.rsplit(" ", 1)[1]
        proxy = _post(f"{api}/proxies", {"name": "bench", "upstream": f"127.0.0.1:{upstream_port}", "listen": "127.0.0.1:0"})
        proxy_port = int(proxy["listen"].rsplit(":", 1)[1])
        targets = {"direct": upstream_port, "proxied": proxy_port}
        pids = {"direct": upstream.pid, "proxied": proxy_server.pid}
        if args.toxic_path:
            toxic = _post(f"{api}/proxies", {"name": "toxic", "upstream": f"127.0.0.1:{upstream_port}", "listen": "127.0.0.1:0"})
            for stream in ("upstream", "downstream"):
                _post(f"{api}/proxies/toxic/toxics", {"type": "latency", "stream": stream, "attributes": {"latency": 0}})
            targets["toxic path"] = int(toxic["listen"].rsplit(":", 1)[1])
            pids["toxic path"] = proxy_server.pid
        if args.toxiproxy is not None:
            toxiproxy, toxiproxy_api, version = _start_toxiproxy(args.toxiproxy)
            processes.append(toxiproxy)
            theirs = _post(f"{toxiproxy_api}/proxies", {"name": "bench", "upstream": f"127.0.0.1:{upstream_port}", "listen": "127.0.0.1:0"})
            targets["toxiproxy"] = int(theirs["listen"].rsplit(":", 1)[1])
            pids["toxiproxy"] = toxiproxy.pid
            print(f"Toxiproxy {version} from {args.toxiproxy}", flush=True)
        if args.haproxy:
            haproxy, targets["haproxy"] = _start_haproxy(upstream_port, Path(workdir.name))
            processes.append(haproxy)
            pids["haproxy"] = haproxy.pid
        for port in targets.values():  # warm up every path once
            run_wrk(port, 10, 1, args.threads, path)

        results: dict[int, dict[str, list[WrkResult]]] = {}
        kernel_share: dict[str, list[float]] = {name: [] for name in targets}
        for connections in args.connections:
            results[connections] = {name: [] for name in targets}
            for _ in range(args.rounds):
                for name, port in targets.items():
                    pid = pids[name]
                    before = cpu_seconds(pid)
                    result = run_wrk(port, connections, args.duration, args.threads, path)
                    after = cpu_seconds(pid)
                    used = sum(after) - sum(before)
                    result.cpu_us_per_request = used / max(1.0, result.rps * args.duration) * 1e6
                    kernel_share[name].append((after[1] - before[1]) / used if used else 0.0)
                    results[connections][name].append(result)
                    time.sleep(0.3)
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
        workdir.cleanup()

    report = []
    print(
        f"upstream: {args.upstream} (GET {path}); wrk -t{args.threads}, {args.duration:g} s per run, median of {args.rounds} alternating rounds "
        "(ratio: median of each round's path vs that round's direct run)"
    )
    print(f"load average before: {load_before}, after: {os.getloadavg()[0]:.2f}")
    print(
        f"{'conns':>5} {'path':>11} {'req/s':>10} {'ratio':>7} {'p50 ms':>8} {'p99 ms':>8} {'+p50 ms':>8} "
        f"{'+p99 ms':>8} {'cpu us/req':>10}"
    )
    for connections, by_path in results.items():
        direct = by_path["direct"]
        d_p50 = statistics.median(r.p50_ms for r in direct)
        d_p99 = statistics.median(r.p99_ms for r in direct)
        for name, runs in by_path.items():
            rps = statistics.median(r.rps for r in runs)
            p50 = statistics.median(r.p50_ms for r in runs)
            p99 = statistics.median(r.p99_ms for r in runs)
            cpu = statistics.median(r.cpu_us_per_request for r in runs)
            # each round's run against the direct run next to it, so that drift in
            # the machine's speed between rounds cancels out
            ratio = statistics.median(r.rps / d.rps for r, d in zip(runs, direct))
            row = {
                "connections": connections,
                "path": name,
                "rps": round(rps),
                "ratio": round(ratio, 3),
                "p50_ms": round(p50, 3),
                "p99_ms": round(p99, 3),
                "added_p50_ms": round(p50 - d_p50, 3),
                "added_p99_ms": round(p99 - d_p99, 3),
                "cpu_us_per_request": round(cpu, 1),
                "runs_rps": [round(r.rps) for r in runs],
            }
            report.append(row)
            print(
                f"{connections:>5} {name:>11} {rps:>10.0f} {ratio:>6.1%} {p50:>8.3f} {p99:>8.3f} "
                f"{p50 - d_p50:>+8.3f} {p99 - d_p99:>+8.3f} {cpu:>10.1f}"
            )
    shares = ", ".join(f"{name} {statistics.median(v):.0%}" for name, v in kernel_share.items() if v)
    print(f"cpu us/req: CPU time of the upstream (direct) or of that path's proxy server per request; in the kernel: {shares}")
    comparisons = [_versus_toxiproxy(connections, by_path) for connections, by_path in results.items() if "toxiproxy" in by_path]
    for row in comparisons:
        print(
            f"{row['connections']:>5} connections: this proxy serves {row['rps_ratio']:.2f}x Toxiproxy's requests/s "
            f"with {row['cpu_ratio']:.2f}x its CPU per request (median of each round's pair)"
        )
    if args.json:
        args.json.write_text(json.dumps({"upstream": args.upstream, "paths": report, "versus_toxiproxy": comparisons},
                                        indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
