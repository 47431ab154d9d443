"""The learning log's markdown: people's words inert, each line findable by its first words."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.views import learning_log as views
from tests.views.test_dates_for_every_reader import _pairing

NOW = datetime(2026, 12, 8, 12, 0, tzinfo=UTC)


def test_peoples_words_cannot_mention_link_or_format_in_a_canvas():
    text = views.plain("Hi <!channel> @here ![](@U999) **big** [x](http://evil) # title\n| a | b |")
    assert text == (
        "Hi \\<\\!channel\\> @\u2060here \\!\\[\\](@U999) \\*\\*big\\*\\* "
        "\\[x\\](http://evil) \\# title \\| a \\| b \\|"
    )
    assert "\n" not in text


def test_the_opening_quotes_the_note_and_falls_back_to_a_prompt():
    pairing = _pairing()
    with_note = views.build_opening(pairing, note="Posters\nfor events", times=[])
    assert "## What exactly\n> Posters for events\n" in with_note
    assert "hardly overlap" in with_note and views.marker(pairing.id) in with_note
    without = views.build_opening(pairing, note="  ", times=[])
    assert "![](@U2), write here what exactly you want to learn" in without


def test_each_line_has_first_words_of_its_own_for_the_lookup_after_a_crash():
    pairing = _pairing()
    lines = [
        views.checkin_line(pairing, at=NOW),
        views.meeting_line(pairing, logged_by=pairing.learner, meetings=2, at=NOW),
        views.learned_line(pairing, at=NOW),
        views.closing_line(pairing, meetings=2, learned=False, at=NOW),
        views.pulse_line(author=pairing.teacher, note="great *chat*", at=NOW),
    ]
    probes = [views.probe(line) for line in lines]
    assert probes == [
        "Check-in, Tue 08 Dec 2026 12:00 UTC",
        "Session 2 held, logged Tue 08 Dec 2026 12:00 UTC by",
        "Learned it, Tue 08 Dec 2026 12:00 UTC:",
        "Pairing ended, Tue 08 Dec 2026 12:00 UTC:",
        "Pulse note, Tue 08 Dec 2026 12:00 UTC, from",
    ]
    assert "worked on **Canva** with ![](@U1)" in lines[3] and "learned" not in lines[3]


def test_the_notices_fit_slacks_limits_and_escape_the_topic():
    for message in (views.build_unavailable_notice("<b> & co"), views.build_shared_notice("<b> & co")):
        assert "&lt;b&gt; &amp; co" in message.text and len(message.blocks) == 1
    assert views.build_admin_notice(None) == []
    [notice] = views.build_admin_notice("missing_scope")
    assert "reinstall" in notice.to_dict()["elements"][0]["text"]
    [other] = views.build_admin_notice("canvas_disabled_user_team")
    assert "turned off or restricted" in other.to_dict()["elements"][0]["text"]
