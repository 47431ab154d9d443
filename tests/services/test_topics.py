"""Topic normalisation and fuzzy merging."""

from __future__ import annotations

import pytest

from bot.config import ProgrammeDefaults
from bot.services import profiles
from bot.services.topics import TopicError, clean_text, resolve_topic, split_topics, topic_key, validate_topic


@pytest.mark.parametrize(
    "typed", ["Social Media", "social-media", " social  media ", "SOCIAL_MEDIA", "social/media"]
)
def test_spellings_share_one_key(typed):
    assert topic_key(clean_text(typed)) == "social media"


def test_split_topics_on_commas_semicolons_and_newlines_dedupes_and_keeps_order():
    assert split_topics("excel, tiktok; canva\nExcel ,, ;") == ["excel", "tiktok", "canva"]


def test_clean_text_removes_control_and_invisible_characters():
    assert clean_text("a\x00b\u200bc\n d\t") == "abc d"


@pytest.mark.parametrize("typed", ["", "🎉", "x" * 81, "!!!"])
def test_invalid_topics(typed):
    with pytest.raises(TopicError):
        validate_topic(clean_text(typed))


@pytest.fixture
def session(database):
    with database.transaction() as session:
        profiles.ensure_workspace(session, team_id="T1", defaults=ProgrammeDefaults())
        yield session


def test_resolve_merges_typos_and_keeps_distinct_topics_apart(session):
    social = resolve_topic(session, team_id="T1", typed="social media").topic
    assert resolve_topic(session, team_id="T1", typed="Socail Media").topic is social
    assert resolve_topic(session, team_id="T1", typed="Socail Media").merged
    java = resolve_topic(session, team_id="T1", typed="java").topic
    assert resolve_topic(session, team_id="T1", typed="javascript").topic is not java
    web2 = resolve_topic(session, team_id="T1", typed="web 2").topic
    assert resolve_topic(session, team_id="T1", typed="web 3").topic is not web2


def test_nicer_casing_wins_over_lower_case(session):
    topic = resolve_topic(session, team_id="T1", typed="excel").topic
    resolve_topic(session, team_id="T1", typed="Excel")
    assert topic.display_name == "Excel"
    resolve_topic(session, team_id="T1", typed="EXCEL")
    assert topic.display_name == "Excel"


def test_topics_are_per_workspace(session):
    profiles.ensure_workspace(session, team_id="T2", defaults=ProgrammeDefaults())
    a = resolve_topic(session, team_id="T1", typed="canva").topic
    b = resolve_topic(session, team_id="T2", typed="canva").topic
    assert a.id != b.id
