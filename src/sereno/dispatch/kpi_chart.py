"""The KPI report as a picture: one panel per metric, a bar per group at p90 (p50 marked), the target line.

Plain SVG written here, so the console and exported reports need no charting library and work offline.
"""

from html import escape

from sereno.dispatch.kpis import KpiReport, KpiRow

METRICS = ("answer", "processing", "turnout", "travel", "total")
PANEL_W, PANEL_H, BAR_GAP = 240, 200, 6
COLOURS = {"ok": "#2e8b57", "late": "#c0392b", "none": "#4a78a8"}


def render_svg(report: KpiReport) -> str:
    panels = [(m, [r for r in report.rows if r.metric == m]) for m in METRICS]
    panels = [(m, rows) for m, rows in panels if rows]
    width = max(1, len(panels)) * (PANEL_W + 20) + 20
    height = PANEL_H + 130
    title = f"Response times by {report.group_by}: p90 (bar), p50 (black tick), target (dashed)"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        'font-family="sans-serif" font-size="11" role="img">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="20" y="20" font-size="13" font-weight="bold">{escape(title)}</text>',
    ]
    if not panels:
        parts.append('<text x="20" y="60">No incidents in this period.</text>')
    for index, (metric, rows) in enumerate(panels):
        parts.append(_panel(20 + index * (PANEL_W + 20), 60, metric, rows))
    parts.append(
        f'<text x="20" y="{height - 12}" fill="#555">Green: p90 within target; red: over it. Targets: NENA answer '
        "15 s (90%), NFPA 1225 processing 60 s (90%), NFPA 1710 turnout 80 s and travel 240 s (90%).</text>"
    )
    parts.append("</svg>")
    return "".join(parts)


def _panel(x0: int, y0: int, metric: str, rows: list[KpiRow]) -> str:
    target = rows[0].target_s
    top = max([r.p90_s or 0.0 for r in rows] + [target or 0.0]) * 1.15 or 1.0

    def y(seconds: float) -> float:
        return y0 + PANEL_H - seconds / top * PANEL_H

    bar_w = max(4.0, (PANEL_W - BAR_GAP * (len(rows) + 1)) / len(rows))
    out = [
        f'<text x="{x0}" y="{y0 - 10}" font-weight="bold">{escape(metric)} (s)</text>',
        f'<line x1="{x0}" y1="{y0 + PANEL_H}" x2="{x0 + PANEL_W}" y2="{y0 + PANEL_H}" stroke="#333"/>',
    ]
    for i, row in enumerate(rows):
        x = x0 + BAR_GAP + i * (bar_w + BAR_GAP)
        p90, p50 = row.p90_s or 0.0, row.p50_s or 0.0
        state = "none" if target is None else "ok" if p90 <= target else "late"
        out.append(
            f'<rect x="{x:.1f}" y="{y(p90):.1f}" width="{bar_w:.1f}" height="{y0 + PANEL_H - y(p90):.1f}" '
            f'fill="{COLOURS[state]}"><title>{escape(row.group)}: p90 {p90} s, p50 {p50} s, n={row.count}</title>'
            "</rect>"
        )
        out.append(f'<line x1="{x:.1f}" y1="{y(p50):.1f}" x2="{x + bar_w:.1f}" y2="{y(p50):.1f}" stroke="#000"/>')
        centre_x = x + bar_w / 2
        out.append(f'<text x="{centre_x:.1f}" y="{y(p90) - 3:.1f}" text-anchor="middle">{_seconds(p90)}</text>')
        label = escape(row.group[:10])
        out.append(f'<text x="{centre_x:.1f}" y="{y0 + PANEL_H + 14}" text-anchor="middle">{label}</text>')
        out.append(
            f'<text x="{centre_x:.1f}" y="{y0 + PANEL_H + 27}" text-anchor="middle" fill="#555">n={row.count}</text>'
        )
    if target is not None:
        out.append(
            f'<line x1="{x0}" y1="{y(target):.1f}" x2="{x0 + PANEL_W}" y2="{y(target):.1f}" stroke="#000" '
            f'stroke-dasharray="4 3"/><text x="{x0 + PANEL_W}" y="{y0 - 10}" text-anchor="end" fill="#555">'
            f"target {target:g} s</text>"
        )
    return "".join(out)


def _seconds(value: float) -> str:
    return f"{value:.0f}" if value >= 100 else f"{value:.1f}"
