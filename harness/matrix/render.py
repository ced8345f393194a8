"""matrix.json and a self-contained heat-map page (no script, no network)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

_ENV = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                   autoescape=select_autoescape(["html", "j2"]))


def render_matrix(matrix: dict[str, Any], journal: dict[str, Any], out_dir: Path) -> dict[str, Path]:
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
        load=f"{load.get('users', '?')} users",
    )
    paths = {"json": out_dir / "matrix.json", "html": out_dir / "matrix.html"}
    paths["json"].write_text(json.dumps(matrix, indent=1))
    paths["html"].write_text(html)
    return paths
