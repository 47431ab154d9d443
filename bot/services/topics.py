"""Topics: one shared object per subject, however people spell it."""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz, process, utils
from sqlalchemy import and_, delete, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import TOPIC_MAX_LENGTH, Topic

# Typos within this similarity (rapidfuzz's normalised Indel ratio, 0-100) join the existing topic:
# "socail media" -> "social media" scores 92, "excels" -> "excel" 91, "java" -> "javascript" 57.
MERGE_SIMILARITY = 88
SUGGEST_SIMILARITY = 75
# Short words differ by one letter too easily ("go"/"no", "ios"/"os") to merge them silently.
MERGE_MIN_LENGTH = 5
_SEPARATORS = re.compile(r"[,;\n]+")
_KEY_JUNK = re.compile(r"[\s\-_/.:'\"`*~|()\[\]{}!?]+")


class TopicError(ValueError):
    """A topic people typed cannot be used; the message is safe to show them."""


@dataclass(frozen=True)
class ResolvedTopic:
    topic: Topic
    typed: str
    created: bool
    merged: bool  # a close spelling was taken as an existing topic
    similar: Topic | None = None  # a new topic close to a known one: offered as "did you mean"


def clean_text(raw: str) -> str:
    """Printable text on one line: control characters out, whitespace folded, Unicode normalised."""
    text = unicodedata.normalize("NFKC", raw)
    kept = []
    for char in text:
        category = unicodedata.category(char)
        if char.isspace() or category in ("Zl", "Zp"):
            kept.append(" ")
        elif category in ("Cc", "Cs", "Co") or (category == "Cf" and char != "\u200d"):
            continue  # NUL, escapes, zero-width spaces and direction overrides (the ZWJ joins emoji)
        else:
            kept.append(char)
    text = "".join(kept)
    return " ".join(text.split())


def topic_key(display: str) -> str:
    """The spelling-insensitive identity of a topic: "Social-Media" == " social  media "."""
    return " ".join(_KEY_JUNK.sub(" ", display.casefold()).split())


def split_topics(raw: str) -> list[str]:
    """`excel, tiktok; canva` -> three topics, first spelling of each kept, order kept."""
    seen: set[str] = set()
    topics = []
    for part in _SEPARATORS.split(raw):
        display = clean_text(part)
        key = topic_key(display)
        if display and key not in seen:
            seen.add(key)
            topics.append(display)
    return topics


def validate_topic(display: str) -> None:
    if not display:
        raise TopicError("Please name a topic, e.g. `social media`.")
    if len(display) > TOPIC_MAX_LENGTH:
        raise TopicError(
            f"A topic can be at most {TOPIC_MAX_LENGTH} characters; that one has {len(display)}."
        )
    if not any(char.isalnum() for char in display):
        raise TopicError("A topic needs at least one letter or number (emoji alone won't match anyone).")


@dataclass(frozen=True)
class TopicMatch:
    """What typed text names, before anything is stored: an existing topic, or a key to create."""

    typed: str  # cleaned
    key: str
    topic: Topic | None  # the existing topic (same key, or a close spelling), else None
    merged: bool = False
    similar: Topic | None = None  # for a new topic: a known one close to it, offered as "did you mean"


def match_topic(session: Session, *, team_id: str, typed: str) -> TopicMatch:
    """The topic `typed` names, found but never created (a wish refused creates nothing)."""
    display = clean_text(typed)
    validate_topic(display)
    key = topic_key(display)
    existing = _topic_by_key(session, team_id=team_id, key=key)
    if existing is not None:
        return TopicMatch(display, key, existing)
    close = closest_topic(session, team_id=team_id, key=key, cutoff=SUGGEST_SIMILARITY)
    if close is not None and _is_typo_of(key, close):
        return TopicMatch(display, key, close, merged=True)
    return TopicMatch(display, key, None, similar=close)


def accept_topic(session: Session, *, team_id: str, match: TopicMatch) -> ResolvedTopic:
    """The topic of `match`, created now if it is new: called once the wish or skill is taken."""
    if match.topic is not None:
        if not match.merged:
            _prefer_nicer_casing(match.topic, match.typed)
        return ResolvedTopic(match.topic, match.typed, created=False, merged=match.merged)
    try:
        with session.begin_nested():
            topic = Topic(team_id=team_id, key=match.key, display_name=match.typed)
            session.add(topic)
    except IntegrityError:
        # Someone created the same topic at the same moment (PostgreSQL: our insert waited for
        # their commit on the unique key, then failed): theirs is the one.
        existing = _topic_by_key(session, team_id=team_id, key=match.key)
        if existing is None:
            raise
        return ResolvedTopic(existing, match.typed, created=False, merged=False)
    topic_index.forget(team_id)
    return ResolvedTopic(topic, match.typed, created=True, merged=False, similar=match.similar)


def resolve_topic(session: Session, *, team_id: str, typed: str) -> ResolvedTopic:
    """The topic `typed` names: an existing one (same key, or a close spelling), or a new one."""
    return accept_topic(session, team_id=team_id, match=match_topic(session, team_id=team_id, typed=typed))


def _topic_by_key(session: Session, *, team_id: str, key: str) -> Topic | None:
    # FOR KEY SHARE (PostgreSQL; SQLite serialises writers anyway): the prune job cannot delete
    # this topic between our finding it and our wish or skill pointing at it.
    return session.scalar(
        select(Topic).where(Topic.team_id == team_id, Topic.key == key).with_for_update(key_share=True)
    )


def _is_typo_of(key: str, topic: Topic) -> bool:
    similarity = fuzz.ratio(utils.default_process(key), utils.default_process(topic.key))
    return (
        similarity >= MERGE_SIMILARITY and len(key) >= MERGE_MIN_LENGTH and _digits(topic.key) == _digits(key)
    )


class TopicIndex:
    """Each workspace's topic keys by id, so a near-miss lookup loads no Topic rows.

    An entry is used only while the workspace's count, highest id and latest creation time of
    topics are what it was built from, so another process's new or pruned topics are seen at the
    cost of one small aggregate query (the time too, as SQLite may hand a deleted id out again).
    Exact keys never come from here: they are looked up in the database, and the unique key
    decides races, so a stale entry can at worst miss a "did you mean".
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[tuple[Any, ...], dict[int, str]]] = {}

    def keys(self, session: Session, *, team_id: str) -> dict[int, str]:
        stamp = tuple(
            session.execute(
                select(func.count(Topic.id), func.max(Topic.id), func.max(Topic.created_at)).where(
                    Topic.team_id == team_id
                )
            ).one()
        )
        with self._lock:
            entry = self._entries.get(team_id)
        if entry is not None and entry[0] == stamp:
            return entry[1]
        rows = session.execute(select(Topic.id, Topic.key).where(Topic.team_id == team_id))
        keys = {topic_id: key for topic_id, key in rows}
        with self._lock:
            self._entries[team_id] = (stamp, keys)
        return keys

    def forget(self, team_id: str) -> None:
        with self._lock:
            self._entries.pop(team_id, None)


topic_index = TopicIndex()


def closest_topic(session: Session, *, team_id: str, key: str, cutoff: int) -> Topic | None:
    keys = topic_index.keys(session, team_id=team_id)
    if not keys:
        return None
    match = process.extractOne(
        key, keys, scorer=fuzz.ratio, processor=utils.default_process, score_cutoff=cutoff
    )
    if match is None:
        return None
    # The index may be a moment old: trust the row, not the cached key (locked as by key above).
    topic = session.scalar(
        select(Topic).where(Topic.id == match[2], Topic.team_id == team_id).with_for_update(key_share=True)
    )
    if topic is None:
        return None
    if fuzz.ratio(utils.default_process(key), utils.default_process(topic.key)) < cutoff:
        return None
    return topic


def _digits(key: str) -> list[str]:
    # "Web 2" and "Web 3", "Python 3.11" and "Python 3.12" are different topics, not typos.
    return re.findall(r"\d+", key)


def _prefer_nicer_casing(topic: Topic, display: str) -> None:
    # Keep the first spelling unless it was all lower case ("excel" gives way to "Excel").
    if topic.display_name == topic.display_name.lower() and display != display.lower():
        topic.display_name = display


def _still_unused():
    """No row points at this topic", from every foreign key to topics (a table added later that
    refers to topics keeps its topics without anyone remembering to list it here)."""
    referring = [
        fk.parent
        for table in Topic.metadata.tables.values()
        for fk in table.foreign_keys
        if fk.column.table is Topic.__table__
    ]
    return and_(*(~exists().where(column == Topic.id) for column in referring))


def prune_unused_topics(session: Session) -> int:
    """Delete the topics no wish, skill, pairing or Lunch 'n' Learn refers to (a skill removed, a
    person forgotten, a session deleted), so text nobody stands behind any more is not kept."""
    candidates = session.execute(select(Topic.id, Topic.team_id).where(_still_unused())).all()
    pruned = 0
    for topic_id, team_id in candidates:
        try:
            with session.begin_nested():
                result = session.execute(delete(Topic).where(Topic.id == topic_id, _still_unused()))
        except IntegrityError:
            continue  # someone took the topic up a moment ago (PostgreSQL): it stays
        pruned += result.rowcount or 0
        topic_index.forget(team_id)
    return pruned
