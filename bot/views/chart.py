"""The monthly summary's chart as PNG bytes: pairs over time, and who teaches whom by career stage.

Drawn with matplotlib's Agg backend (no display, no GUI toolkit), imported only when a chart is
drawn so the web process never pays for it. Pure: figures in, bytes out.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from bot.services.figures import NOT_GIVEN, MonthPairs, StagePairs
from models import CareerStage

STAGES = [stage.label.capitalize() for stage in CareerStage]
COLOURS = {"proposed": "#9db7d5", "accepted": "#2f6db5", "established": "#e8833a"}


def build_summary_chart(
    months: Sequence[MonthPairs], who_teaches_whom: Sequence[StagePairs], *, title: str
) -> bytes:
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure  # the OO API: no pyplot global state between threads

    figure = Figure(figsize=(11, 4.6), dpi=100, layout="constrained")
    figure.suptitle(title, fontsize=13, fontweight="bold")
    over_time, stages = figure.subplots(1, 2, width_ratios=(1.35, 1))
    _pairs_over_time(over_time, months)
    _who_teaches_whom(stages, who_teaches_whom)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _pairs_over_time(axes, months: Sequence[MonthPairs]) -> None:
    labels = [m.month for m in months]
    positions = range(len(months))
    width = 0.28
    for offset, name in ((-1, "proposed"), (0, "accepted"), (1, "established")):
        axes.bar(
            [p + offset * width for p in positions],
            [getattr(m, name) for m in months],
            width,
            label=name if name != "established" else "established (met 3+ times)",
            color=COLOURS[name],
        )
    axes.set_title("Pairs per month")
    axes.set_xticks(list(positions), labels, rotation=45, ha="right", fontsize=8)
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.legend(fontsize=8, frameon=False)
    axes.spines[["top", "right"]].set_visible(False)


def _who_teaches_whom(axes, pairs: Sequence[StagePairs]) -> None:
    unknown = any(NOT_GIVEN in (p.teacher_stage, p.learner_stage) for p in pairs)
    stages = STAGES + ([NOT_GIVEN] if unknown else [])
    grid = [[0] * len(stages) for _ in stages]
    for pair in pairs:
        grid[stages.index(pair.teacher_stage)][stages.index(pair.learner_stage)] += pair.pairs
    axes.imshow(grid, cmap="Blues")
    axes.set_title("Who teaches whom (pairs accepted)")
    axes.set_xticks(range(len(stages)), stages, rotation=30, ha="right", fontsize=8)
    axes.set_yticks(range(len(stages)), stages, fontsize=8)
    axes.set_xlabel("learner's career stage")
    axes.set_ylabel("teacher's career stage")
    largest = max((max(row) for row in grid), default=0)
    for row, values in enumerate(grid):
        for column, value in enumerate(values):
            colour = "white" if largest and value > largest * 0.6 else "black"
            axes.text(column, row, str(value), ha="center", va="center", color=colour, fontsize=9)
