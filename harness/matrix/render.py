"""matrix.json and a self-contained heat-map page (no script, no network)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

_ENV = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                   autoescape=select_autoescape(["html", "j2"]))


def render_matrix(matrix: dict[str, Any], journal: dict[str, Any], out_dir: Path,
                  fail_on: str = "never") -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    cells = []
    for i, cell in enumerate(matrix["cells"]):
        cells.append({**cell, "anchor": f"cell-{i}"})
    grid = {(c["link"], c["fault"]): c for c in cells}
    load = journal.get("scenario", {}).get("load", {})
    html = _ENV.get_template("matrix.html.j2").render(
        stack=journal.get("stack", {}).get("name") or journal.get("scenario", {}).get("stack", ""),
        started_at=journal.get("started_at", ""),
        links=matrix["links"], faults=matrix["faults"], grid=grid, cells=cells,
        runs=matrix["runs"], pruned=matrix["pruned"], settings=matrix["settings"],
        baseline=matrix["baseline"] or {"n": 0, "error_rate": 0.0, "p99_ms": 0.0, "bounds": "n/a"},
        stopped=matrix.get("stopped", ""), score=matrix.get("score"),
        load=f"{load.get('users', '?')} users",
    )
    paths = {"json": out_dir / "matrix.json", "html": out_dir / "matrix.html", "junit": out_dir / "junit.xml"}
    paths["json"].write_text(json.dumps(matrix, indent=1))
    paths["html"].write_text(html)
    write_junit(matrix, journal, paths["junit"], fail_on)
    return paths


def write_junit(matrix: dict[str, Any], journal: dict[str, Any], path: Path, fail_on: str) -> Path:
    """The drill's testsuite plus one testcase per cell, so CI lists every link x fault;
    a cell fails only at `--fail-on`'s outcome or worse (with `never`, none does: the matrix is a map)."""
    import xml.etree.ElementTree as ET

    from harness.matrix.catalogue import OUTCOMES
    from harness.report import junit

    suite = junit.testsuite(journal)
    bar = None if fail_on == "never" else OUTCOMES.index(fail_on)
    failures = int(suite.get("failures", "0"))
    for cell in matrix["cells"]:
        ran = cell.get("ran")
        seconds = float(cell.get("end", 0)) - float(cell.get("start", 0)) if ran else 0.0
        case = ET.SubElement(suite, "testcase", name=f"{cell['link']} x {cell['fault']}",
                             classname=suite.get("name", "matrix"), time=f"{seconds:.3f}")
        ev = cell.get("evidence") or {}
        text = cell["outcome"] + (f" (implied by {cell.get('implied_by')}, not run)" if not ran else
                                  f": {ev.get('n', 0)} requests, errors {float(ev.get('error_rate', 0)):.1%}, "
                                  f"{ev.get('ungraceful', 0)} ungraceful, p99 {float(ev.get('p99_ms', 0)):.0f} ms"
                                  + (f", invariants broken: {', '.join(ev['violated'])}" if ev.get("violated") else ""))
        if bar is not None and OUTCOMES.index(cell["outcome"]) >= bar:
            failures += 1
            ET.SubElement(case, "failure", message=text, type=cell["outcome"]).text = text
        ET.SubElement(case, "system-out").text = text
    suite.set("tests", str(int(suite.get("tests", "0")) + len(matrix["cells"])))
    suite.set("failures", str(failures))
    return junit.write_suites([suite], path)
