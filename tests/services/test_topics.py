"""Topic normalisation and fuzzy merging."""

from __future__ import annotations

import re
import threading
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from bot.config import ProgrammeDefaults
from bot.services import profiles
from bot.services.topics import TopicError, clean_text, resolve_topic, split_topics, topic_key, validate_topic
from models import Topic

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


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


# --- A topic exists only while something refers to it; typed topics match a cached index -------


def _topic_keys(database, team="T1") -> set[str]:
    with database.transaction() as session:
        return set(session.scalars(select(Topic.key).where(Topic.team_id == team)))


def _me(session, user_id):
    return profiles.get_person(session, team_id="T1", slack_user_id=user_id)


def test_a_refused_wish_or_skill_leaves_no_new_topic(database):
    from bot.services import learning
    from models import CareerStage
    from tests.factories import add_person

    wishes = ", ".join(f"wish{n}" for n in range(10))
    more = ", ".join(f"more{n}" for n in range(10))
    add_person(database, "U1", stage=CareerStage.EARLY, department="Ops", learns=wishes)
    with database.transaction() as session:
        learning.add_wishes(session, _me(session, "U1"), more, now=NOW)
        outcome = learning.add_wishes(session, _me(session, "U1"), "Kubernetes", now=NOW)
        assert [typed for typed, _ in outcome.rejected] == ["Kubernetes"]
    with database.transaction() as session:
        skills = ", ".join(f"skill{n}" for n in range(10))
        learning.add_skills(session, _me(session, "U1"), skills, now=NOW)
        learning.add_skills(session, _me(session, "U1"), skills.replace("skill", "more"), now=NOW)
        outcome = learning.add_skills(session, _me(session, "U1"), "Terraform", now=NOW)
        assert [typed for typed, _ in outcome.rejected] == ["Terraform"]
    keys = _topic_keys(database)
    assert "kubernetes" not in keys and "terraform" not in keys
    assert len(keys) == 30  # wish0-9, more0-9 (wishes and skills share them), skill0-9


def test_unused_topics_are_pruned_and_used_ones_kept_and_pruning_twice_changes_nothing(database):
    from bot.services import learning
    from bot.services.topics import prune_unused_topics
    from models import CareerStage, LunchSession, LunchStatus, Skill
    from tests.factories import add_person

    add_person(
        database, "U1", stage=CareerStage.EARLY, department="Ops", learns="excel", teaches="canva, sql"
    )
    add_person(database, "U2", stage=CareerStage.SENIOR, department="Ops", teaches="figma")
    with database.transaction() as session:
        canva = resolve_topic(session, team_id="T1", typed="canva").topic
        learner = _me(session, "U1")
        (wish,) = learning.open_wishes(session, learner)
        assert learning.withdraw_wish(session, learner, wish.id, now=NOW)  # a withdrawn wish still refers
        session.add(
            LunchSession(
                team_id="T1",
                host_id=_me(session, "U2").id,
                topic_id=resolve_topic(session, team_id="T1", typed="figma").topic.id,
                title="Figma",
                starts_at=NOW,
                duration_minutes=45,
                location="Room 1",
                capacity=8,
                status=LunchStatus.SCHEDULED,
                version=1,
                created_at=NOW,
            )
        )
        for skill in session.scalars(select(Skill).where(Skill.topic_id == canva.id)):
            session.delete(skill)  # canva: nobody teaches or wants it any more
        figma_skill = session.scalar(select(Skill).join(Topic).where(Topic.key == "figma"))
        session.delete(figma_skill)  # figma: still the topic of a Lunch 'n' Learn
    assert _topic_keys(database) == {"excel", "canva", "sql", "figma"}
    with database.transaction() as session:
        assert prune_unused_topics(session) == 1
    assert _topic_keys(database) == {"excel", "sql", "figma"}
    with database.transaction() as session:
        assert prune_unused_topics(session) == 0
    # The index forgot the pruned topic: a near miss of it makes a new topic, not a dangling merge.
    with database.transaction() as session:
        resolved = resolve_topic(session, team_id="T1", typed="canvas")
        assert resolved.created and not resolved.merged


def test_a_near_miss_uses_the_cached_index_rather_than_loading_every_topic(database):
    from sqlalchemy import event

    with database.transaction() as session:
        profiles.ensure_workspace(session, team_id="T1", defaults=ProgrammeDefaults())
        for typed in ("social media", "excel pivot tables", "canva", "public speaking"):
            resolve_topic(session, team_id="T1", typed=typed)
    with database.transaction() as session:
        assert resolve_topic(session, team_id="T1", typed="public speeking").merged  # warms the index
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(database.engine, "before_cursor_execute", record)
    try:
        with database.transaction() as session:
            resolved = resolve_topic(session, team_id="T1", typed="socail media")
    finally:
        event.remove(database.engine, "before_cursor_execute", record)
    assert resolved.merged and resolved.topic.key == "social media"
    topic_reads = [s for s in statements if "FROM topics" in s]
    assert topic_reads and all(
        re.search(r"count\(|topics\.\"?key\"? =|topics\.id =", s) for s in topic_reads
    ), "\n".join(topic_reads)


def test_a_stale_index_never_creates_a_duplicate_and_sees_other_processes_topics(database):
    """Another process adds topics behind this one's index: exact keys come from the database
    (and the unique key), and the index notices the change before a near miss is matched."""
    with database.transaction() as session:
        profiles.ensure_workspace(session, team_id="T1", defaults=ProgrammeDefaults())
        resolve_topic(session, team_id="T1", typed="excel")  # the index now knows only excel
        resolve_topic(session, team_id="T1", typed="kubernetes")
    with database.transaction() as session:  # "another process": straight into the table
        session.add(Topic(team_id="T1", key="social media", display_name="Social media"))
    with database.transaction() as session:
        exact = resolve_topic(session, team_id="T1", typed="Social Media")
        near = resolve_topic(session, team_id="T1", typed="socail media")
    assert not exact.created and exact.topic.key == "social media"
    assert near.merged and near.topic.id == exact.topic.id
    assert sorted(_topic_keys(database)) == ["excel", "kubernetes", "social media"]


def test_the_prune_job_is_scheduled(flipside):
    from bot.jobs import all_jobs
    from bot.scheduler import job_context, run_job

    assert "prune-topics" in {spec.id for spec in all_jobs()}
    flipside.command("/canteach", "excel")
    flipside.work_done()
    with flipside.db.transaction() as session:
        session.add(Topic(team_id="T1", key="orphan", display_name="orphan"))
    ctx = job_context(settings=flipside.settings, database=flipside.db, client=flipside.app.client)
    assert run_job("prune-topics", ctx) == 1
    assert _topic_keys(flipside.db) == {"excel"}
