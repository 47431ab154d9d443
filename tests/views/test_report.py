"""The programme report in words: rates, ratings and the plain text, from hand-built figures."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime

from bot.services.insights import Period, ProgrammeReport, TopicDemand
from bot.views.report import percent, rating, render_text

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def report(**overrides) -> ProgrammeReport:
    """Every count zero, no topics and no groups, unless overridden."""
    values = {f.name: 0 for f in fields(ProgrammeReport)}
    values.update(
        team_id="T1",
        period=Period.ALL_TIME,
        since=None,
        until=NOW,
        top_topics=(),
        unmet_topics=(),
        by_career_stage=(),
        by_department=(),
    )
    values.update({name: None for name in values if name.startswith("average_")})
    values.update(overrides)
    return ProgrammeReport(**values)


def test_rates_and_ratings_read_as_people_say_them():
    assert (percent(None), percent(0.5), percent(2 / 3)) == ("-", "50%", "67%")
    assert (rating(None), rating(4.46), rating(5)) == ("-", "4.5/5", "5.0/5")


def test_empty_figures_say_so_instead_of_leaving_blanks():
    text = render_text(report())
    assert text.startswith("Flipside programme report: all time (up to 23 Nov 2026)")
    assert "Acceptance rate   - (of 0 answered or expired)" in text
    assert "(no new wishes)" in text and "(nobody yet)" in text


def test_long_topic_names_are_cut_to_keep_the_columns():
    long = "Negotiating with suppliers across three continents and time zones"
    text = render_text(report(top_topics=(TopicDemand(long, 3, 1),), unmet_topics=(TopicDemand(long, 2, 0),)))
    assert f"  {long[:39]}… " in text
    assert long not in text
