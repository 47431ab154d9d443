"""Topic normalisation and fuzzy merging."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select

from bot.config import ProgrammeDefaults
from bot.services import profiles
from bot.services.topics import TopicError, clean_text, resolve_topic, split_topics, topic_key, validate_topic
from models import Topic


@pytest.mark.parametrize(
    "typed", ["Social Media", "social-media", " social  media ", "SOCIAL_MEDIA", "social/media"]
)
def test_spellings_share_one_key(typed):
    assert topic_key(clean_text(typed)) == "social media"


def test_split_topics_on_commas_semicolons_and_newlines_dedupes_and_keeps_order():
    assert split_topics("excel, tiktok; canva\nExcel ,, ;") == ["excel", "tiktok", "canva"]


def test_clean_text_removes_control_and_invisible_characters():
    assert clean_text("a\x00b\u200bc\n d\t") == "abc d"


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Please name a topic"),
        ("🎉", "at least one letter or number"),
        ("x" * 81, "at most 80 characters; that one has 81"),
        ("!!!", "at least one letter or number"),
    ],
)
def test_invalid_topics(typed, message):
    with pytest.raises(TopicError, match=message):
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


def test_two_people_creating_the_same_new_topic_at_once_share_it(database):
    """The second insert meets the first's unique key (on PostgreSQL it waits for its commit)."""
    with database.transaction() as setup:
        profiles.ensure_workspace(setup, team_id="T1", defaults=ProgrammeDefaults())
    results: dict[str, object] = {}

    def second_person() -> None:
        with database.transaction() as session:
            resolved = resolve_topic(session, team_id="T1", typed="Copilot prompts")
            results["second"] = (resolved.topic.id, resolved.created)

    with database.transaction() as session:
        first = resolve_topic(session, team_id="T1", typed="copilot prompts")
        assert first.created
        other = threading.Thread(target=second_person)
        other.start()
        time.sleep(0.3)  # the other transaction reaches its insert (or, on SQLite, the write lock)
        first_id = first.topic.id
    other.join(timeout=10)
    assert results["second"] == (first_id, False)
    with database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Topic).where(Topic.team_id == "T1")) == 1
