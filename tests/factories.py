"""Build people, wishes and skills through the real services (no hand-made rows)."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.config import ProgrammeDefaults
from bot.db import Database
from bot.services import learning, profiles
from bot.services.profiles import ProfileInput
from models import CareerStage, Person, SkillLevel, utcnow


def add_person(
    db: Database,
    user_id: str,
    *,
    stage: CareerStage,
    department: str,
    teaches: str = "",
    learns: str = "",
    team: str = "T1",
    capacity: int = 1,
    tz: str = "Europe/London",
    tz_offset: int = 0,
    name: str | None = None,
    now: datetime | None = None,
    level: SkillLevel = SkillLevel.CONFIDENT,
) -> int:
    now = now or utcnow()
    with db.transaction() as session:
        person = profiles.get_or_create_person(
            session, team_id=team, slack_user_id=user_id, defaults=ProgrammeDefaults()
        )
        profiles.apply_slack_user(
            person, {"real_name": name or user_id, "tz": tz, "tz_offset": tz_offset}, now=now
        )
        profiles.save_profile(session, person, ProfileInput(stage, department, capacity, False), now=now)
        if teaches:
            learning.add_skills(session, person, teaches, level=level, now=now)
        if learns:
            learning.add_wishes(session, person, learns, now=now - timedelta(days=14))
        return person.id


def person(db: Database, user_id: str, team: str = "T1") -> Person:
    with db.transaction() as session:
        found = profiles.get_person(session, team_id=team, slack_user_id=user_id)
        assert found is not None
        return found


def eventually(predicate, *, timeout: float = 5.0, interval: float = 0.02):
    """Wait for work a listener does after its ack; returns the predicate's truthy value."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            assert value, "condition not met in time"
            return value
        time.sleep(interval)
