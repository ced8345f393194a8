"""One drill end to end: scenario -> plan -> execution -> journal -> verdict -> report.

The straight pipeline every front end runs a drill through (`chaosdrill run`,
`gate`, `matrix`, the pytest plugin), so each gets the same run folder, the
same verdict and the same summary lines.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import traceback
from pathlib import Path
from typing import Any

from harness.errors import ChaosdrillError
from harness.run.progress import Progress


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "drill"


def run_one(path: Path, scenario: Any, report_dir: Path, service_args: dict, replicas: dict,
            fault_proxy: str | None, progress: Progress, backend: str | None = None,
            driver: Any = None, run_name: str | None = None,
            master: tuple[str | None, int | None] = (None, None), strict_load: bool = False,
            allow_remote: bool = False, history: Path | None = None) -> tuple[dict, Path]:
    """One drill end to end. A `driver` (the matrix) applies faults itself and may
    return extra journal sections from its `sections()`. With `history` (a file) the
    finished run is appended to the run history and its report shows the drill's trend."""
    from harness.run.execution import Interrupted, RunOptions, execute
    from harness.run.folders import new_run_dir
    from harness.run.journal import Journal
    from harness.run.plan import make_plan
    from harness.run.verdict import decide

    stack = scenario.resolved_stack()
    plan = make_plan(scenario, stack)
    run_dir = new_run_dir(report_dir, slug(run_name or path.stem))
    scenario_data = scenario.model_dump(mode="json", by_alias=True, exclude_none=True)
    scenario_data["path"] = str(path)
    journal = Journal(run_dir.name, scenario_data)
    journal.strict_load = strict_load
    progress.event(f"== {scenario.title} ({path}) ==")
    progress.event(f"plan: {' '.join(scenario.plan.split())}")
    _say_answers(plan, progress)
    opts = RunOptions(run_dir=run_dir, service_args=service_args, replicas=replicas,
                      fault_proxy_url=fault_proxy, backend=backend, progress=progress,
                      abort_check=abort_check(), driver=driver, master_bind=master[0], master_port=master[1],
                      allow_remote=allow_remote)
    try:
        asyncio.run(execute(plan, journal, opts))
    except Interrupted:
        pass  # journal already says aborted/130
    except ChaosdrillError as exc:
        journal.status, journal.exit_code, journal.reason = "error", exc.exit_code, str(exc)
    except Exception as exc:  # a bug in the harness: keep the traceback in the run folder
        (run_dir / "error.txt").write_text(traceback.format_exc())
        journal.status, journal.exit_code = "error", 3
        journal.reason = f"internal error: {exc!r} (traceback in {run_dir / 'error.txt'})"
    finally:
        progress.close()
    if driver is not None and hasattr(driver, "sections"):
        journal.extra.update(driver.sections())
    data = decide(journal.to_dict(), scenario)
    journal_path = run_dir / "journal.json"
    journal_path.write_text(json.dumps(data, separators=(",", ":")))
    trend = None
    if history is not None:
        from harness.history import record

        trend = record(data, history)  # a history that cannot be written is one warning, never the verdict
    try:
        from harness.report import render_all

        render_all(data, run_dir, trend=trend)
    except Exception as exc:  # a report bug must not hide the verdict
        (run_dir / "report-error.txt").write_text(traceback.format_exc())
        print(f"chaosdrill: could not render the report: {exc!r}", file=sys.stderr)
    print_verdict(data, run_dir)
    return data, run_dir


def _say_answers(plan: Any, progress: Progress) -> None:
    """How many answers the drill's shares will be judged on, and any a single answer decides; nothing stops."""
    from harness.run.answers import estimate_answers

    estimate = estimate_answers(plan)
    for line in filter(None, [estimate.summary(), *estimate.warnings()]):
        progress.event(line)


def print_verdict(data: dict, run_dir: Path) -> None:
    from harness.judge.load_cpu import describe as describe_saturation

    status = data["status"].upper()
    title = data["scenario"].get("title", run_dir.name)
    line = f"{status}: {title}"
    if data.get("reason"):
        line += f" — {data['reason']}"
    print(line)
    for entry in data.get("load_saturation") or []:
        print(f"  ! {describe_saturation(entry)}: its latency and throughput are partly the load's own "
              "(fewer users per load process, or more processes: docs/load.md)")
    for exp in data.get("expectations", []):
        if not exp.get("passed"):
            where = exp["phase"] + (" (cut short)" if exp.get("partial") else "") + (
                f" [{exp['endpoint']}]" if exp.get("endpoint") else "")
            print(f"  x {where}: {exp['name']} {exp['threshold']}: measured {exp.get('display', exp.get('measured'))}"
                  + (f" ({exp['why']})" if exp.get("why") else ""))
    for inv in data.get("invariants", []):
        if not inv.get("passed"):
            print(f"  x invariant {inv['name']}: {inv.get('message', '')}")
    report = run_dir / "report.html"
    print(f"  report: {report if report.exists() else run_dir / 'journal.json'}")


def abort_check():
    try:
        from harness.judge import check_abort
    except ImportError:
        return None
    return lambda scenario, series, now_t: check_abort(scenario.abort_if, series, now_t) if scenario.abort_if else None
