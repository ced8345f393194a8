"""A writer process for the history's concurrency and kill tests: runs appended through the real `append`.

    python history_writer.py STORE PREFIX COUNT [--go FILE] [--pause-at N MARKER]

COUNT runs of a fixture journal (run ids PREFIX-0000, ...), each through
`harness.history.store.append` on its own connection, as a drill's end does.
--go waits for FILE to exist first, so two writers start together. --pause-at
writes MARKER and sleeps inside the transaction of run N, after its run row and
before its measures: where a kill would leave half a run if appends were not atomic.
COUNT 0 appends until killed.
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from pathlib import Path

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "journals" / "fail.json"


def journal(prefix: str, i: int, base: dict | None = None) -> dict:
    """The fixture journal as run `i` of a writer: its own run id and start time, a score that varies."""
    j = json.loads(json.dumps(base)) if base is not None else json.loads(FIXTURE.read_text())
    j["run_id"] = f"{prefix}-{i:04d}"
    j["started_at"] = f"2026-{1 + i // 600 % 12:02d}-{1 + i // 24 % 25:02d}T{i % 24:02d}:{i % 60:02d}:00Z"
    j["score"] = {"value": 40 + (i * 7) % 61, "classes": {}}
    return j


def main() -> None:
    from harness.history.extract import record_of
    from harness.history.store import append

    ap = argparse.ArgumentParser()
    ap.add_argument("store", type=Path)
    ap.add_argument("prefix")
    ap.add_argument("count", type=int)
    ap.add_argument("--go", type=Path, default=None)
    ap.add_argument("--pause-at", nargs=2, default=None, metavar=("N", "MARKER"))
    args = ap.parse_args()
    base = json.loads(FIXTURE.read_text())
    while args.go is not None and not args.go.exists():
        time.sleep(0.005)
    for i in (itertools.count() if args.count == 0 else range(args.count)):
        pause = None
        if args.pause_at is not None and i == int(args.pause_at[0]):
            marker = Path(args.pause_at[1])

            def pause() -> None:
                marker.write_text("in the transaction")
                time.sleep(120)
        append(args.store, record_of(journal(args.prefix, i, base)), pause=pause)


if __name__ == "__main__":
    main()
