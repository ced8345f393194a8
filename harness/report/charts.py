"""The report's four pictures, all on one time axis with the fault windows drawn.

Built from harness.report.svg primitives; each function returns one inline
<svg> string (or "" when there is nothing to draw).
"""

from __future__ import annotations

import math
from html import escape

from harness.metrics.series import OUTCOME_CLASSES
from harness.report.model import FaultRow, Run, StateRow
from harness.report.svg import (
    MARGIN_LEFT,
    MARGIN_RIGHT,
    OKABE_ITO as C,
    WIDTH,
    Frame,
    Scale,
    clip_text,
    fmt_clock,
    fmt_ms_tick,
    linear_ticks,
    log_ticks,
    path_d,
    step_points,
    text_width,
)

CLASS_COLOURS = {"success": C["green"], "degraded": C["orange"], "rejected": C["sky"], "ungraceful": C["vermillion"]}
CLASS_LABELS = {"success": "success", "degraded": "degraded (explicit)", "rejected": "rejected (explicit)",
                "ungraceful": "ungraceful"}
PERCENTILE_COLOURS = {50: C["blue"], 95: C["orange"], 99: C["vermillion"]}
STATE_COLOURS = {"closed": C["green"], "half-open": C["yellow"], "open": C["vermillion"],
                 "primary": C["blue"], "backup": C["purple"], "none": "#bbbbbb"}
EXTRA_STATE_COLOURS = [C["sky"], C["orange"], C["black"], C["purple"]]


def _overlays(frame: Frame, run: Run) -> None:
    """Phase boundaries, fault windows and aborts, the same on every chart."""
    frame.markers(((p["start"], f"phase {p['name']} starts") for p in run.phases[1:]), "phase-line")
    frame.bands(((f.start, f.end, f.label) for f in run.faults if not f.failed), "fault-band")
    frame.bands(((float(t), t + 1.0, f"load generator at >= 90% CPU ({entry['phase']})")
                 for entry in run.saturation for t in entry.get("at", [])), "saturated-band")
    frame.markers(((float(a.get("t", 0)), f"abort: {a.get('message', '')}") for a in run.aborts), "abort-line")


def not_run(run: Run, phase: dict) -> bool:
    """A phase that starts at or after the first abort never ran."""
    return any(float(a.get("t", 0)) <= phase["start"] for a in run.aborts)


def timeline(run: Run) -> str:
    """Phases as bands, one lane per fault with its label, aborts and notes marked."""
    lane = 24
    lanes = max(1, len(run.faults))
    marks = bool(run.aborts or run.notes)
    probe = Frame(run.t_start, run.t_end, 1, top=8)
    names, rows = _phase_labels(run, probe.x)
    head = 30 + 14 * (rows - 1)  # phases that overlap (a game day's hypotheses) get label rows of their own
    plot_h = head + lanes * lane + 4 + (20 if marks else 4)
    f = Frame(run.t_start, run.t_end, plot_h, top=8)
    x = f.x
    # phases
    for i, (p, (label, row)) in enumerate(zip(run.phases, names)):
        a, b = x(p["start"]), x(p["end"])
        extra = " notrun" if not_run(run, p) else ""
        f.add(f'<rect class="phase phase{i % 2}{extra}" x="{a:.1f}" y="{f.top}" width="{max(b - a, 0):.1f}" '
              f'height="{plot_h}"><title>{escape(p["name"])}: {fmt_clock(p["start"])}–{fmt_clock(p["end"])}'
              f'</title></rect>')
        f.add(f'<text class="phase-name" x="{a + 5:.1f}" y="{f.top + 18 + 14 * row}">{escape(label)}</text>')
    if not run.faults:
        f.add(f'<text class="muted" x="{MARGIN_LEFT + 8}" y="{f.top + head + 16}">no faults injected</text>')
    # faults, one lane each
    for i, fault in enumerate(run.faults):
        y = f.top + head + i * lane
        a, b = x(max(fault.start, run.t_start)), x(min(fault.end, run.t_end))
        cls = "fault failed" if fault.failed else ("fault link" if "->" in fault.target else "fault service")
        f.add(f'<rect class="{cls}" x="{a:.1f}" y="{y + 3}" width="{max(b - a, 2):.1f}" height="{lane - 6}" rx="3">'
              f'<title>{escape(fault.label)} ({fmt_clock(fault.start)}–{fmt_clock(fault.end)}) {escape(fault.result)}'
              f'</title></rect>')
        label = lane_label(fault) + (" — FAILED to apply" if fault.failed else "")
        room = {"in": b - a - 8, "right": WIDTH - MARGIN_RIGHT - b - 6, "left": a - 9}
        fits = [side for side in room if text_width(label) <= room[side]]
        side = fits[0] if fits else max(room, key=room.__getitem__)  # else the most room, label cut to it
        label = clip_text(label, room[side])
        ty = f"{y + lane / 2 + 4:.1f}"
        if side == "in":
            f.add(f'<text class="fault-label in" x="{a + 5:.1f}" y="{ty}">{escape(label)}</text>')
        elif side == "right":
            f.add(f'<text class="fault-label" x="{b + 5:.1f}" y="{ty}">{escape(label)}</text>')
        else:
            f.add(f'<text class="fault-label" x="{a - 5:.1f}" y="{ty}" text-anchor="end">{escape(label)}</text>')
    # aborts and notes: a line through everything, a label in the bottom lane
    lane_y = f.plot_bottom - 6
    for ab in run.aborts:
        t = float(ab.get("t", 0))
        px = x(min(max(t, run.t_start), run.t_end))
        f.add(f'<line class="abort-line" x1="{px:.1f}" y1="{f.top}" x2="{px:.1f}" y2="{f.plot_bottom}">'
              f'<title>abort: {escape(str(ab.get("message", "")))}</title></line>')
        anchor = "end" if px > WIDTH / 2 else "start"
        dx = -5 if anchor == "end" else 5
        f.add(f'<text class="abort-label" x="{px + dx:.1f}" y="{lane_y}" text-anchor="{anchor}">'
              f'ABORT {fmt_clock(t)}</text>')
    for n, note in enumerate(run.notes, 1):
        t = float(note.get("t", 0))
        px = x(min(max(t, run.t_start), run.t_end))
        f.add(f'<g class="note"><title>note N{n}: {escape(str(note.get("message", "")))}</title>'
              f'<path d="M{px:.1f} {f.plot_bottom - 15} L{px - 5:.1f} {f.plot_bottom - 6} '
              f'L{px + 5:.1f} {f.plot_bottom - 6} Z"/>'
              f'<text x="{px + 8:.1f}" y="{lane_y}">N{n}</text></g>')
    f.time_axis()
    return f.render("timeline of phases, faults, aborts and notes", "chart timeline")


def _phase_labels(run: Run, x: Scale) -> tuple[list[tuple[str, int]], int]:
    """Each phase's label and its row: the first row where it does not run into a label already
    there (phases that follow each other share row 0; overlapping ones go below)."""
    ends: list[float] = []  # per row, where its last label ends
    out = []
    for p in run.phases:
        a, b = x(p["start"]), x(p["end"])
        label = clip_text(p["name"] + (" (not run)" if not_run(run, p) else ""), b - a - 6, 12)
        row = next((r for r, end in enumerate(ends) if a + 5 >= end), len(ends))
        if row == len(ends):
            ends.append(0.0)
        ends[row] = max(b, a + 5 + text_width(label) + 4)
        out.append((label, row))
    return out, max(1, len(ends))


def lane_label(fault: FaultRow) -> str:
    """'lending->credit-bureau-a: http_latency (upstream) latency=5000 ...': the target first, so a
    label cut to fit still tells the lanes apart (the whole label is in the band's tooltip)."""
    suffix = f" on {fault.target}"
    if fault.target and fault.label.endswith(suffix):
        return f"{fault.target}: {fault.label[:-len(suffix)]}"
    return fault.label


def throughput(run: Run) -> str:
    if not run.has_metrics:
        return ""
    assert run.series is not None
    seconds = run.series.per_second(run.t_start, _plot_end(run))
    f = Frame(run.t_start, run.t_end, 200)
    totals = [s.n for _, s in seconds]
    top = max(totals + [1]) * 1.05
    y = Scale(0, top, f.plot_bottom, f.top)
    _overlays(f, run)
    f.value_axis(y, "requests / s", linear_ticks(0, top, max(2, f.plot_height // 30)))
    x = f.x
    ts = [t for t, _ in seconds]
    base = [0.0] * len(seconds)
    for cls in OUTCOME_CLASSES:
        upper = [b + s.classes.get(cls, 0) for b, (_, s) in zip(base, seconds)]
        if any(u > b for u, b in zip(upper, base)):
            # each second's count held over [t, t+1): a class that starts with a fault starts at
            # the fault band's edge, not half a second before it as a line between midpoints drew
            pts = step_points(ts, upper, x, y)
            back = step_points(ts, base, x, y)[::-1]
            f.add(f'<path class="area" fill="{CLASS_COLOURS[cls]}" d="{path_d(pts + back)}Z">'
                  f'<title>{CLASS_LABELS[cls]}</title></path>')
        base = upper
    f.legend([(CLASS_LABELS[c], CLASS_COLOURS[c], "box") for c in OUTCOME_CLASSES] + _overlay_legend(run))
    f.time_axis()
    return f.render("requests per second by outcome class")


def _plot_end(run: Run) -> int:
    """The seconds the charts draw end with the run's axis: not the partial second recorded
    while the load stopped after the last phase (drawn as a full second it reads as a drop)."""
    assert run.series is not None
    return min(run.series.seconds[-1].t + 1, math.ceil(run.t_end))


def _overlay_legend(run: Run) -> list[tuple[str, str, str]]:
    items = []
    if run.faults:
        items.append(("fault active", "#7a5195", "fault-band"))
    if run.saturation:
        items.append(("load generator saturated", "#444444", "saturated-band"))
    if run.aborts:
        items.append(("abort", C["vermillion"], "dash"))
    return items


def latency(run: Run) -> str:
    if not run.has_metrics:
        return ""
    assert run.series is not None
    seconds = run.series.per_second(run.t_start, _plot_end(run))
    lines: dict[str, list[tuple[float, float | None]]] = {}
    for q in (50, 95, 99):
        lines[f"p{q}"] = [(t, s.percentile_ms(q) if s.n else None) for t, s in seconds]
    lines["max"] = [(t, s.max_ms if s.n else None) for t, s in seconds]
    values = [v for pts in lines.values() for _, v in pts if v]
    if not values:
        return ""
    lo, hi = min(values), max(values)
    use_log = hi / max(lo, 1e-3) >= 50
    f = Frame(run.t_start, run.t_end, 200)
    if use_log:
        y = Scale(10 ** math.floor(math.log10(max(lo, 1e-3))), 10 ** math.ceil(math.log10(hi)), f.plot_bottom,
                  f.top, log=True)
        ticks = log_ticks(y.d0, y.d1, max(2, f.plot_height // 24))
        title = "latency (log scale)"
    else:
        y = Scale(0, hi * 1.1, f.plot_bottom, f.top)
        ticks = linear_ticks(0, hi * 1.1, max(2, f.plot_height // 30))
        title = "latency"
    _overlays(f, run)
    f.value_axis(y, title, ticks, fmt_ms_tick)
    x = f.x
    styles = {"p50": (C["blue"], ""), "p95": (C["orange"], ""), "p99": (C["vermillion"], ""),
              "max": ("#555555", ' stroke-dasharray="2 3"')}
    for name, pts in lines.items():
        colour, dash = styles[name]
        d = "".join(path_d(seg) for seg in _segments(pts, x, y))
        if d:
            f.add(f'<path class="line" stroke="{colour}"{dash} d="{d}"><title>{name}</title></path>')
    f.legend([(n, styles[n][0], "dash" if n == "max" else "line") for n in lines] + _overlay_legend(run))
    f.time_axis()
    return f.render("latency percentiles per second")


def _segments(pts: list[tuple[float, float | None]], x: Scale, y: Scale) -> list[list[tuple[float, float]]]:
    """Runs of seconds that had requests; silent seconds break the line."""
    segs: list[list[tuple[float, float]]] = [[]]
    for t, v in pts:
        if v is None:
            if segs[-1]:
                segs.append([])
        else:
            segs[-1].append((x(t + 0.5), y(v)))
    return [s for s in segs if s]


def services(run: Run) -> str:
    """Breaker states and gateway in use as coloured strips, one per series."""
    rows: list[StateRow] = run.state_rows
    if not rows:
        return ""
    row_h = 30
    f = Frame(run.t_start, run.t_end, len(rows) * row_h)
    x = f.x
    _overlays(f, run)
    colours = dict(STATE_COLOURS)
    extra = iter(EXTRA_STATE_COLOURS * 4)
    for i, row in enumerate(rows):
        y = f.top + i * row_h
        f.add(f'<text class="row-label" x="{MARGIN_LEFT + 2}" y="{y + 11}">{escape(row.label)}</text>')
        for start, end, state in row.spans:
            if state not in colours:
                colours[state] = next(extra, "#999999")
            a, b = x(max(start, run.t_start)), x(min(end, run.t_end))
            if b <= a:
                continue
            f.add(f'<rect x="{a:.1f}" y="{y + 14}" width="{b - a:.1f}" height="12" fill="{colours[state]}">'
                  f'<title>{escape(row.label)}: {escape(state)} {fmt_clock(start)}–{fmt_clock(end)}</title></rect>')
    used = []
    for row in rows:
        for _, _, state in row.spans:
            if state not in used:
                used.append(state)
    f.add(f'<line class="axis" x1="{MARGIN_LEFT}" y1="{f.top}" x2="{MARGIN_LEFT}" y2="{f.plot_bottom}"/>')
    f.add(f'<text class="at" transform="translate(14 {f.top + f.plot_height / 2:.0f}) rotate(-90)" '
          f'text-anchor="middle">state</text>')
    f.legend([(s, colours[s], "box") for s in used] + _overlay_legend(run))
    f.time_axis()
    return f.render("circuit-breaker states and gateway in use")


__all__ = ["timeline", "throughput", "latency", "services"]
