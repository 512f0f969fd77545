"""Charts drawn on the server as SVG: no script, no inline style (the CSP forbids both);
colours come from classes in console.css, sizes from SVG attributes."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape

from handover.web import fmt

TIER_ORDER = ("C3", "C2", "C1", "none")
ROW_HEIGHT = 22
BAR_HEIGHT = 14
LABEL_WIDTH = 150
BAR_WIDTH = 420
COUNT_WIDTH = 40


def tiers_chart(
    rows: list[dict[str, Any]], title: str, legend: dict[str, str], lang: str
) -> Markup:
    """A horizontal stacked bar per table: its columns by tier (C3, C2, C1, no PII).

    ``rows`` as from :func:`handover.web.views.tiers_by_table`; ``legend`` names each tier
    in the reader's language; every bar carries a ``<title>`` with its exact counts.
    """
    longest = max((sum(r[k] for k in TIER_ORDER) for r in rows), default=0)
    height = ROW_HEIGHT * (len(rows) + 2)
    width = LABEL_WIDTH + BAR_WIDTH + COUNT_WIDTH
    parts = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    x = LABEL_WIDTH
    for tier in TIER_ORDER:
        parts.append(
            f'<rect class="tier-{tier}" x="{x}" y="4" width="12" height="12"/>'
            f'<text x="{x + 16}" y="14">{escape(legend[tier])}</text>'
        )
        x += 100
    for i, r in enumerate(rows):
        y = ROW_HEIGHT * (i + 1) + 6
        total = sum(r[k] for k in TIER_ORDER)
        label = str(r["table"])
        parts.append(
            f'<text class="label" x="{LABEL_WIDTH - 6}" y="{y + BAR_HEIGHT - 3}" '
            f'text-anchor="end">{escape(label[:22])}</text>'
        )
        x0 = float(LABEL_WIDTH)
        for tier in TIER_ORDER:
            n = r[tier]
            if not n:
                continue
            w = BAR_WIDTH * n / longest if longest else 0
            tip = f"{label} · {legend[tier]}: {fmt.number(n, lang)}"
            parts.append(
                f'<rect class="tier-{tier}" x="{x0:.1f}" y="{y}" width="{w:.1f}" '
                f'height="{BAR_HEIGHT}"><title>{escape(tip)}</title></rect>'
            )
            x0 += w
        parts.append(
            f'<text class="count" x="{x0 + 4:.1f}" y="{y + BAR_HEIGHT - 3}">'
            f"{escape(fmt.number(total, lang))}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
