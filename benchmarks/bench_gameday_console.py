"""Game day console: keystroke-to-screen latency, light load vs saturating load, side by side, one run.

    python benchmarks/bench_gameday_console.py [--users 300] [--keys 15] [--rounds 2]

Starts `chaosdrill gameday` on the lending stack in a private 200x50 tmux
server, and alternates a light load (5 users) with a saturating one (--users,
ramped at once) so machine noise hits both alike. For each keystroke it
sends one character with `tmux send-keys` and polls `capture-pane` until the
character is on the screen. Prints median, p90 and max per condition, the
throughput the console showed, and the cost of one capture-pane (the
polling's own share of each number). Quits the game day at the end; the
record is left under a temporary folder it prints.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.gameday.tmux_console import TmuxGameday  # noqa: E402

LETTERS = "zqxjkvwyfbmpgh"


def keystrokes(gd: TmuxGameday, n: int) -> list[float]:
    out = []
    for i in range(n):
        out.append(gd.keystroke_ms(LETTERS[i % len(LETTERS)]))
        time.sleep(0.05)
    gd.key("C-u")
    time.sleep(0.3)
    return out


def shown_rps(gd: TmuxGameday) -> int:
    m = re.search(r"now: (\d+) req/s", gd.screen())
    return int(m.group(1)) if m else -1


def capture_cost(gd: TmuxGameday, n: int = 20) -> float:
    started = time.monotonic()
    for _ in range(n):
        gd.screen()
    return (time.monotonic() - started) / n * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=300, help="users of the saturating load")
    parser.add_argument("--keys", type=int, default=15, help="keystrokes per condition and round")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-gameday-"))
    gd = TmuxGameday(work, "--users", "5", "--spawn-rate", "5", "--web-port", "-1")
    results: dict[str, list[float]] = {"light (5 users)": [], f"saturated ({args.users} users)": []}
    rps: dict[str, list[int]] = {k: [] for k in results}
    try:
        gd.wait_for("success", timeout=90)
        time.sleep(3)
        for _ in range(args.rounds):
            for label, users in (("light (5 users)", 5), (f"saturated ({args.users} users)", args.users)):
                gd.type(f"users {users} {max(users, 500)}")
                gd.wait_for(f"load set to {users} users", timeout=15)
                time.sleep(6)
                rps[label].append(shown_rps(gd))
                results[label] += keystrokes(gd, args.keys)
        cost = capture_cost(gd)
        gd.type("quit")
        gd.wait_exit(90)
    finally:
        gd.close()
    print(f"keystroke to screen, {args.rounds} round(s) x {args.keys} keys per condition "
          f"(one capture-pane costs {cost:.1f} ms, included)")
    print(f"{'condition':<26}{'req/s shown':>12}{'median ms':>11}{'p90 ms':>9}{'max ms':>9}")
    for label, samples in results.items():
        samples.sort()
        p90 = samples[int(0.9 * (len(samples) - 1))]
        print(f"{label:<26}{statistics.median(rps[label]):>12.0f}{statistics.median(samples):>11.0f}"
              f"{p90:>9.0f}{samples[-1]:>9.0f}")
    print(f"record: {gd.run_dir()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
