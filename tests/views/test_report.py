"""The figures in words and pictures: values, trends, the plain text, the monthly summary, the chart."""

from __future__ import annotations

import io

from bot.services.figures import MonthPairs, Row, StagePairs
from bot.views.chart import build_summary_chart
from bot.views.report import build_monthly_summary, percent, rating, render_text, shown, with_trend
from tests.views.test_home_views import NASTY, big_report


def test_rates_and_ratings_read_as_people_say_them():
    assert (percent(None), percent(0.5), percent(2 / 3)) == ("-", "50%", "67%")
    assert (rating(None), rating(4.46), rating(5)) == ("-", "4.5/5", "5.0/5")
    assert (shown("days", 2.25), shown("count", None), shown("count", 7)) == ("2.2 days", "-", "7")


def test_a_trend_shows_only_when_both_periods_are_known_and_differ():
    assert with_trend(Row("x", "X", 5, 3)) == "5 ▲ (was 3)"
    assert with_trend(Row("x", "X", 1, 3)) == "1 ▼ (was 3)"
    assert with_trend(Row("x", "X", 3, 3)) == "3"
    assert with_trend(Row("x", "X", 0.5, None, "share")) == "50%"


def test_the_text_report_lists_every_figure_with_the_period_before():
    text = render_text(big_report())
    assert text.startswith("Flipside programme report: last 90 days (25 Aug 2026 to 23 Nov 2026 12:00 UTC)")
    assert "Compared with the 90 days before." in text
    lines = [line.split() for line in text.splitlines()]
    assert ["Pairs", "accepted", "300", "600", "▼"] in lines
    assert ["Exchange", "pairs", "10%", "10%"] in lines  # no arrow when nothing changed
    assert ["Median", "wait", "for", "a", "partner", "6.5", "days", "3.2", "days", "▲"] in lines
    assert ["waiting", "for", "the", "next", "round", "50"] in lines
    assert f"  Top 0 {NASTY}"[:40] in text  # a long topic is cut to keep the columns
    assert "Nobody teaches: Unmet 0" in text and "and 30 more" in text


def test_the_monthly_summary_shows_the_uploaded_chart_and_escapes_names():
    summary = build_monthly_summary(big_report(), file_id="F123")
    image = next(block for block in summary.blocks if block["type"] == "image")
    assert image["slack_file"] == {"id": "F123"} and image["alt_text"]
    text = str(summary.blocks)
    assert "Pairs accepted: 300 ▼ (was 600)" in text and "<!channel>" not in text
    assert not any(b["type"] == "image" for b in build_monthly_summary(big_report(), file_id=None).blocks)


def test_the_chart_is_a_png_drawn_from_the_figures():
    months = [MonthPairs(f"2026-{m:02d}", m, m // 2, m // 4) for m in range(1, 13)]
    stages = [StagePairs("Early career", "Executive", 7), StagePairs("Not given", "Senior", 1)]
    png = build_summary_chart(months, stages, title="Flipside in November 2026")
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    from PIL import Image  # matplotlib's own dependency

    assert Image.open(io.BytesIO(png)).size == (1100, 460)
    assert build_summary_chart([], [], title="Empty").startswith(b"\x89PNG")
