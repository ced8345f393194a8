"""What the exact per-second metrics cost the load: requests/s of the same
Locust load with and without the chaosdrill request listener, side by side.

    python benchmarks/bench_runner_overhead.py [--seconds 5] [--users 20] [--rounds 4]

A fast keep-alive HTTP server (uvloop, its own process) answers every GET
with a fixed `{"code":"OK",...}` body. Each round runs, in fresh child
processes, Locust (FastHttpUser, no wait) once without and once with the
listener (classification + per-second buckets + the JSONL flush every
second), alternating the order each round so machine noise hits both alike.
Prints each run's requests/s and CPU time per request, the medians and both
ratios; the issue's aim is under 10 % fewer requests/s with the listener. On
a busy shared machine req/s swings with the neighbours; CPU per request of
the (CPU-bound) load process is the steadier measure of the same cost.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BODY = b'{"code":"OK","message":"fine"}'
RESPONSE = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
            + str(len(BODY)).encode() + b"\r\n\r\n" + BODY)


def serve(port_file: str) -> None:
    import asyncio

    import uvloop

    class Answer(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self.t = transport
            self.buf = b""

        def data_received(self, data: bytes) -> None:
            self.buf += data
            n = self.buf.count(b"\r\n\r\n")
            if n:
                self.buf = self.buf[self.buf.rfind(b"\r\n\r\n") + 4:]
                self.t.write(RESPONSE * n)  # type: ignore[attr-defined]

    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(Answer, "127.0.0.1", 0)
        Path(port_file).write_text(str(server.sockets[0].getsockname()[1]))
        await asyncio.Event().wait()

    uvloop.run(main())


def child(url: str, seconds: float, users: int, with_metrics: bool, out_dir: str) -> None:
    import locust  # noqa: F401 - gevent monkey-patching first
    import gevent
    from locust import FastHttpUser, constant, task
    from locust.env import Environment

    class Hammer(FastHttpUser):
        host = url
        wait_time = constant(0)

        @task
        def ok(self) -> None:
            self.client.get("/v1/users/1/quota", name="GET /v1/users/{id}/quota")

    env = Environment(user_classes=[Hammer])
    flusher = None
    if with_metrics:
        from harness.load.buckets import MetricsCollector
        from harness.load.classify import Classifier
        from harness.load.lifecycle import every_second
        from harness.load.stream import JsonlWriter

        collector = MetricsCollector(Classifier("code", {"OK": "success"}, frozenset(), 5000.0), "bench")
        writer = JsonlWriter(Path(out_dir) / "metrics.jsonl")
        env.events.request.add_listener(collector.on_request)
        flusher = every_second(lambda: writer.write(collector.drain()[0]))
    count = {"n": 0}
    env.events.request.add_listener(lambda **_: count.__setitem__("n", count["n"] + 1))
    runner = env.create_local_runner()
    runner.start(users, spawn_rate=users * 10)
    gevent.sleep(1.0)  # warm-up: users spawned, connections open
    start_n, start_t, start_cpu = count["n"], time.perf_counter(), time.process_time()
    gevent.sleep(seconds)
    done_n, done_t, done_cpu = count["n"], time.perf_counter(), time.process_time()
    runner.quit()
    if flusher is not None:
        flusher.kill()
    n = done_n - start_n
    print(json.dumps({"rps": n / (done_t - start_t), "cpu_us": (done_cpu - start_cpu) * 1e6 / max(n, 1)}))


def listener_cost_us(calls: int = 200_000) -> float:
    """CPU microseconds one listener call takes (classify + bucket), measured
    directly: steady even on a busy machine."""
    from harness.load.buckets import MetricsCollector
    from harness.load.classify import Classifier

    class Answer:
        status_code = 200
        content = BODY
        headers: dict[str, str] = {}

    collector = MetricsCollector(Classifier("code", {"OK": "success"}, frozenset(), 5000.0), "bench")
    answer = Answer()
    on_request = collector.on_request
    started = time.process_time()
    for i in range(calls):
        on_request(request_type="GET", name="GET /v1/users/{id}/quota", response_time=1.0 + (i & 63),
                   response_length=len(BODY), response=answer, context={}, exception=None)
    spent = time.process_time() - started
    collector.drain(final=True)
    return spent * 1e6 / calls


def run_child(url: str, seconds: float, users: int, with_metrics: bool) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run([sys.executable, __file__, "--child", "with" if with_metrics else "without",
                              "--url", url, "--seconds", str(seconds), "--users", str(users), "--out", tmp],
                             cwd=ROOT, capture_output=True, text=True, timeout=seconds + 60)
        if out.returncode != 0:
            raise SystemExit(f"benchmark child failed:\n{out.stderr[-2000:]}")
        return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--users", type=int, default=20)
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--child", choices=["with", "without"], help=argparse.SUPPRESS)
    p.add_argument("--url", help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    p.add_argument("--serve", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.serve:
        return serve(args.serve)
    if args.child:
        return child(args.url, args.seconds, args.users, args.child == "with", args.out)

    with tempfile.TemporaryDirectory() as tmp:
        port_file = os.path.join(tmp, "port")
        server = subprocess.Popen([sys.executable, __file__, "--serve", port_file], cwd=ROOT)
        try:
            deadline = time.time() + 10
            while not os.path.exists(port_file) or not Path(port_file).read_text():
                if time.time() > deadline or server.poll() is not None:
                    raise SystemExit("benchmark server did not start")
                time.sleep(0.05)
            url = f"http://127.0.0.1:{Path(port_file).read_text()}"
            with socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), timeout=2):
                pass
            rps: dict[str, list[float]] = {"without": [], "with": []}
            cpu: dict[str, list[float]] = {"without": [], "with": []}
            print(f"{args.users} users, no wait, {args.seconds:g} s per run, {args.rounds} rounds, server {url}")
            for r in range(args.rounds):
                for variant in ("without", "with") if r % 2 == 0 else ("with", "without"):
                    res = run_child(url, args.seconds, args.users, variant == "with")
                    rps[variant].append(res["rps"])
                    cpu[variant].append(res["cpu_us"])
                    print(f"  round {r + 1} {variant:>7} listener: {res['rps']:8.0f} req/s, "
                          f"{res['cpu_us']:6.1f} us CPU per request")
        finally:
            server.terminate()
            server.wait(timeout=5)
    base, measured = statistics.median(rps["without"]), statistics.median(rps["with"])
    cpu_base, cpu_measured = statistics.median(cpu["without"]), statistics.median(cpu["with"])
    print(f"median without listener: {base:8.0f} req/s, {cpu_base:6.1f} us CPU/request")
    print(f"median with listener:    {measured:8.0f} req/s, {cpu_measured:6.1f} us CPU/request")
    print(f"req/s ratio with/without: {measured / base:.3f} ({(1 - measured / base) * 100:+.1f} % fewer req/s; aim < 10 %)")
    cost = listener_cost_us()
    print(f"listener alone: {cost:.2f} us CPU per call = {cost / cpu_base * 100:.1f} % of a request's "
          f"{cpu_base:.0f} us without it")
    print(f"CPU per request ratio:    {cpu_measured / cpu_base:.3f} (the load process is CPU-bound, so this is "
          f"the throughput cost on an otherwise idle core: {(1 - cpu_base / cpu_measured) * 100:+.1f} % fewer req/s)")


if __name__ == "__main__":
    main()
