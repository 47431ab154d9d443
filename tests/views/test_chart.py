"""The report's chart is plain SVG built by a pure function: well-formed, scaled, escaped."""

from __future__ import annotations

from xml.etree import ElementTree

import pytest

from bot.views.chart import grouped_bar_chart_svg

SVG = "{http://www.w3.org/2000/svg}"


def bars(svg: str) -> list[ElementTree.Element]:
    return ElementTree.fromstring(svg).findall(f"{SVG}rect[@class='bar']")


def test_bars_are_scaled_to_the_largest_value_one_per_series_and_group():
    svg = grouped_bar_chart_svg("Pairs", ("learning", "teaching"), [("early", (2, 8)), ("executive", (4, 0))])
    widths = [int(bar.get("width")) for bar in bars(svg)]
    assert widths == [90, 360, 180, 0]
    assert "<title>early, teaching: 8</title>" in svg


def test_labels_are_escaped_and_an_empty_chart_is_still_valid():
    svg = grouped_bar_chart_svg('R&D <"dept">', ("a",), [("<script>", (0,))])
    root = ElementTree.fromstring(svg)  # parses: nothing unescaped got through
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert root.find(f"{SVG}title").text == 'R&D <"dept">'
    assert [int(bar.get("width")) for bar in bars(svg)] == [0]
    assert bars(grouped_bar_chart_svg("Nothing yet", ("a", "b"), [])) == []


def test_a_group_without_a_value_for_each_series_is_refused():
    with pytest.raises(ValueError, match="one value per series"):
        grouped_bar_chart_svg("x", ("a", "b"), [("g", (1,))])
