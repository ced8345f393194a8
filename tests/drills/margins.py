"""Measured values against thresholds over several gate runs: how the
thresholds of docs/drills.md were checked for margin.

    python -m tests.drills.margins REPORT_DIR [REPORT_DIR...]

For every drill expectation, the worst value measured over all runs found
under the folders (journal.json files) next to its threshold.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path


def collect(folders: list[Path]) -> dict[tuple[str, str], list[tuple[object, str, bool]]]:
    seen: dict[tuple[str, str], list[tuple[object, str, bool]]] = defaultdict(list)
    for folder in folders:
        for path in sorted(folder.rglob("journal.json")):
            journal = json.loads(path.read_text())
            drill = Path((journal.get("scenario") or {}).get("path") or journal["run_id"]).stem
            for e in journal.get("expectations") or []:
                where = e["phase"] + (f" {e['endpoint']}" if e.get("endpoint") else "")
                seen[(drill, f"{where}: {e['name']} {e['threshold']}")].append((e["measured"], e["display"], e["passed"]))
    return seen


def main(argv: list[str]) -> int:
    seen = collect([Path(a) for a in argv])
    for (drill, expectation), values in sorted(seen.items()):
        failed = sum(1 for _, _, ok in values if not ok)
        numeric = sorted((m, d) for m, d, _ in values if isinstance(m, (int, float)))
        shown = f"{numeric[0][1]} .. {numeric[-1][1]}" if numeric else ", ".join(sorted({d for _, d, _ in values}))[:80]
        print(f"{drill:26s} {expectation:60s} runs={len(values):2d} failed={failed} measured: {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
