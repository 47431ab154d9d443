"""A small horizontal grouped bar chart as SVG text: pure, no plotting library, no fonts to install.

The admin report's "who teaches whom by career stage" reads better as bars than as a table: the
reverse direction (juniors teaching, seniors learning) shows at a glance. Any browser opens it.
"""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape

from bot.services.insights import ProgrammeReport

COLOURS = ("#4a90d9", "#e8833a", "#5bb381", "#b35bb3")  # colour-blind-safe enough for two series
LABEL_WIDTH = 130
BAR_AREA = 360
BAR_HEIGHT = 14
BAR_GAP = 3
GROUP_GAP = 12
TOP = 48


def grouped_bar_chart_svg(
    title: str, series: Sequence[str], groups: Sequence[tuple[str, Sequence[int]]]
) -> str:
    """One group of bars per (label, values), one bar per series, lengths to the largest value."""
    if len(series) > len(COLOURS):
        raise ValueError(f"at most {len(COLOURS)} series")
    if any(len(values) != len(series) for _, values in groups):
        raise ValueError("each group needs one value per series")
    largest = max((value for _, values in groups for value in values), default=0) or 1
    group_height = len(series) * (BAR_HEIGHT + BAR_GAP) + GROUP_GAP
    width = LABEL_WIDTH + BAR_AREA + 60
    height = TOP + len(groups) * group_height + 10
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="10" y="20" font-size="14" font-weight="bold">{escape(title)}</text>',
    ]
    for index, name in enumerate(series):  # the legend
        x = LABEL_WIDTH + index * 120
        parts.append(f'<rect x="{x}" y="30" width="10" height="10" fill="{COLOURS[index]}"/>')
        parts.append(f'<text x="{x + 14}" y="39">{escape(name)}</text>')
    for row, (label, values) in enumerate(groups):
        y = TOP + row * group_height
        middle = y + len(series) * (BAR_HEIGHT + BAR_GAP) / 2 + 4
        parts.append(f'<text x="{LABEL_WIDTH - 8}" y="{middle:.0f}" text-anchor="end">{escape(label)}</text>')
        for index, value in enumerate(values):
            bar_y = y + index * (BAR_HEIGHT + BAR_GAP)
            length = round(BAR_AREA * value / largest)
            parts.append(
                f'<rect class="bar" x="{LABEL_WIDTH}" y="{bar_y}" width="{length}" height="{BAR_HEIGHT}" '
                f'fill="{COLOURS[index]}">'
                f"<title>{escape(f'{label}, {series[index]}: {value}')}</title></rect>"
            )
            parts.append(f'<text x="{LABEL_WIDTH + length + 4}" y="{bar_y + BAR_HEIGHT - 3}">{value}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def build_career_stage_chart(report: ProgrammeReport) -> str:
    """Pairs by the learner's and the teacher's career stage: the reverse direction, drawn."""
    return grouped_bar_chart_svg(
        "Who learns and who teaches, by career stage (pairs proposed)",
        ("learning", "teaching"),
        [(group.name, (group.learning, group.teaching)) for group in report.by_career_stage],
    )
