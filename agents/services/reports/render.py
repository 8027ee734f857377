"""A report's charts (matplotlib, Agg: no display), its HTML (CSS inlined for mail clients) and text.

Charts are PNGs referenced by Content-ID (``cid:funnel``) in the HTML: mail clients show attached
inline images where they block remote ones and data URIs. The admin shows the same HTML with the
images inlined as data URIs (agents/admin.py).
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from html import escape

from agents.services.reports.figures import Figures

CSS = """
body { font-family: Helvetica, Arial, sans-serif; color: #1f2933; font-size: 14px; }
h1 { font-size: 20px; margin: 0 0 4px; }
h2 { font-size: 16px; margin: 20px 0 6px; border-bottom: 1px solid #d9e2ec; }
table { border-collapse: collapse; margin: 4px 0 8px; }
th, td { padding: 3px 10px; border: 1px solid #d9e2ec; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #f0f4f8; }
.muted { color: #627d98; font-size: 12px; }
img { max-width: 560px; }
"""


def pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _png(draw: object) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    figure, axes = plt.subplots(figsize=(6.4, 3.2), dpi=100)
    try:
        draw(axes)  # type: ignore[operator]
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        return buffer.getvalue()
    finally:
        plt.close(figure)


def _bars(labels: Sequence[str], values: Sequence[float], title: str, *, horizontal: bool = True) -> bytes:
    def draw(axes: object) -> None:
        if horizontal:
            axes.barh(list(labels)[::-1], list(values)[::-1], color="#486581")  # type: ignore[attr-defined]
        else:
            axes.bar(list(labels), list(values), color="#486581")  # type: ignore[attr-defined]
            axes.tick_params(axis="x", labelrotation=45, labelsize=7)  # type: ignore[attr-defined]
        axes.set_title(title, fontsize=10)  # type: ignore[attr-defined]

    return _png(draw)


def charts(figures: Figures) -> list[dict[str, str]]:
    """[{name, content_type, data_base64}] of the charts the figures allow (none for an empty period)."""
    made: list[tuple[str, bytes]] = []
    if any(stage.count for stage in figures.funnel):
        made.append(("funnel", _bars([s.name for s in figures.funnel], [s.count for s in figures.funnel], "Funnel")))
    per_agent = figures.cost.get("per agent") or []
    if per_agent:
        made.append(
            (
                "cost",
                _bars([a["agent"] for a in per_agent], [float(a["cost"]) for a in per_agent], "Spend per agent"),
            )
        )
    if figures.daily_paid:
        days = list(figures.daily_paid)
        made.append(
            (
                "paid",
                _bars(days, [float(figures.daily_paid[d]) for d in days], "Paid per day", horizontal=False),
            )
        )
    return [
        {"name": name, "content_type": "image/png", "data_base64": base64.b64encode(data).decode()}
        for name, data in made
    ]


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    head = "".join(f"<th>{escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def html(figures: Figures, *, title: str, images: Sequence[dict[str, str]]) -> str:
    import css_inline

    charted = {image["name"] for image in images}

    def chart(name: str) -> str:
        return f'<p><img src="cid:{name}" alt="{name} chart"></p>' if name in charted else ""

    parts = [f"<h1>{escape(title)}</h1>"]
    parts.append(
        f'<p class="muted">{figures.start:%Y-%m-%d %H:%M} to {figures.end:%Y-%m-%d %H:%M} (UTC), business time</p>'
    )
    if figures.empty:
        parts.append("<p>No activity in this period.</p>")
    parts.append("<h2>Funnel</h2>" + chart("funnel"))
    parts.append(
        _table(["stage", "count", "from previous"], [(s.name, s.count, pct(s.conversion)) for s in figures.funnel])
    )
    parts.append("<h2>Campaigns</h2>")
    if figures.campaigns:
        parts.append(
            _table(
                ["campaign", "variant", "sent", "reply rate", "positive rate", "meeting rate"],
                [
                    (c.campaign, c.variant, c.sent, pct(c.reply_rate), pct(c.positive_rate), pct(c.meeting_rate))
                    for c in figures.campaigns
                ],
            )
        )
    else:
        parts.append("<p>No cold email sent in this period.</p>")
    parts.append("<h2>Revenue</h2>" + chart("paid"))
    rows = [(cur, v["invoiced"], v["paid"], v["overdue"]) for cur, v in figures.revenue.items()]
    parts.append(_table(["currency", "invoiced", "paid (net of refunds)", "overdue"], rows) if rows else "<p>None.</p>")
    parts.append(f"<p>Overdue invoices: {figures.overdue_invoices}</p>")
    parts.append("<h2>Delivery and retention</h2>")
    parts.append(_table(["figure", "value"], [(k, "n/a" if v is None else v) for k, v in figures.delivery.items()]))
    parts.append("<h2>Agents</h2>")
    agents = {k: v for k, v in figures.agents.items() if k != "most failing"}
    agents["failure rate"] = pct(figures.agents.get("failure rate"))
    parts.append(_table(["figure", "value"], [(k, "n/a" if v is None else v) for k, v in agents.items()]))
    if figures.agents.get("most failing"):
        parts.append(
            _table(
                ["most failing agent", "failed runs"],
                [(a["agent"], a["failed"]) for a in figures.agents["most failing"]],
            )
        )
    parts.append("<h2>Cost</h2>" + chart("cost"))
    summary = {k: v for k, v in figures.cost.items() if k not in ("per agent", "per client")}
    summary["cache hit rate"] = pct(figures.cost.get("cache hit rate"))
    parts.append(_table(["figure", "value"], [(k, "n/a" if v is None else v) for k, v in summary.items()]))
    if figures.cost.get("per client"):
        parts.append(_table(["client", "cost"], [(c["client"], c["cost"]) for c in figures.cost["per client"]]))
    document = f"<html><head><style>{CSS}</style></head><body>{''.join(parts)}</body></html>"
    return str(css_inline.inline(document))


def text(figures: Figures, *, title: str) -> str:
    lines = [title, f"{figures.start:%Y-%m-%d %H:%M} to {figures.end:%Y-%m-%d %H:%M} (UTC)", ""]
    if figures.empty:
        lines += ["No activity in this period.", ""]
    lines.append("Funnel")
    lines += [f"  {s.name}: {s.count} ({pct(s.conversion)} of previous)" for s in figures.funnel]
    lines.append("Campaigns")
    lines += [
        f"  {c.campaign} / {c.variant}: {c.sent} sent, replies {pct(c.reply_rate)}, positive {pct(c.positive_rate)}, "
        f"meetings {pct(c.meeting_rate)}"
        for c in figures.campaigns
    ] or ["  none"]
    lines.append("Revenue")
    lines += [
        f"  {cur}: invoiced {v['invoiced']}, paid {v['paid']}, overdue {v['overdue']}"
        for cur, v in figures.revenue.items()
    ] or ["  none"]
    lines.append(f"  overdue invoices: {figures.overdue_invoices}")
    lines.append("Delivery and retention")
    lines += [f"  {k}: {'n/a' if v is None else v}" for k, v in figures.delivery.items()]
    lines.append("Agents")
    lines += [f"  {k}: {v}" for k, v in figures.agents.items() if k != "most failing"]
    lines.append("Cost")
    lines += [f"  {k}: {v}" for k, v in figures.cost.items() if k not in ("per agent", "per client")]
    return "\n".join(lines) + "\n"
