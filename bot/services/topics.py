"""Topics: one shared object per subject, however people spell it."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from rapidfuzz import fuzz, process, utils
from sqlalchemy import select
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


def resolve_topic(session: Session, *, team_id: str, typed: str) -> ResolvedTopic:
    """The topic `typed` names: an existing one (same key, or a close spelling), or a new one."""
    display = clean_text(typed)
    validate_topic(display)
    key = topic_key(display)
    existing = session.scalar(select(Topic).where(Topic.team_id == team_id, Topic.key == key))
    if existing is not None:
        _prefer_nicer_casing(existing, display)
        return ResolvedTopic(existing, display, created=False, merged=False)
    close = closest_topic(session, team_id=team_id, key=key, cutoff=SUGGEST_SIMILARITY)
    if close is not None and _is_typo_of(key, close):
        return ResolvedTopic(close, display, created=False, merged=True)
    try:
        with session.begin_nested():
            topic = Topic(team_id=team_id, key=key, display_name=display)
            session.add(topic)
    except IntegrityError:
        # Someone created the same topic at the same moment (PostgreSQL: our insert waited for
        # their commit on the unique key, then failed): theirs is the one.
        existing = session.scalar(select(Topic).where(Topic.team_id == team_id, Topic.key == key))
        if existing is None:
            raise
        return ResolvedTopic(existing, display, created=False, merged=False)
    return ResolvedTopic(topic, display, created=True, merged=False, similar=close)


def _is_typo_of(key: str, topic: Topic) -> bool:
    similarity = fuzz.ratio(utils.default_process(key), utils.default_process(topic.key))
    return (
        similarity >= MERGE_SIMILARITY and len(key) >= MERGE_MIN_LENGTH and _digits(topic.key) == _digits(key)
    )


def closest_topic(session: Session, *, team_id: str, key: str, cutoff: int) -> Topic | None:
    topics = session.scalars(select(Topic).where(Topic.team_id == team_id)).all()
    if not topics:
        return None
    match = process.extractOne(
        key,
        {topic.id: topic.key for topic in topics},
        scorer=fuzz.ratio,
        processor=utils.default_process,
        score_cutoff=cutoff,
    )
    if match is None:
        return None
    by_id = {topic.id: topic for topic in topics}
    return by_id[match[2]]


def _digits(key: str) -> list[str]:
    # "Web 2" and "Web 3", "Python 3.11" and "Python 3.12" are different topics, not typos.
    return re.findall(r"\d+", key)


def _prefer_nicer_casing(topic: Topic, display: str) -> None:
    # Keep the first spelling unless it was all lower case ("excel" gives way to "Excel").
    if topic.display_name == topic.display_name.lower() and display != display.lower():
        topic.display_name = display
