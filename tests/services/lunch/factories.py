"""Build people and sessions through the real services, at fixed times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.config import ProgrammeDefaults
from bot.services import learning, profiles
from bot.services.lunch import announcements, proposing
from bot.services.lunch.proposing import ProposalInput
from bot.views.common import Message
from models import CareerStage, LunchSession, OutboxMessage, OutboxStatus, Person, SkillLevel

TEAM = "T1"
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday morning
START = datetime(2026, 3, 4, 12, 30, tzinfo=UTC)  # the Wednesday after


def person(session, user_id: str, *, stage: CareerStage | None = CareerStage.MID, **fields) -> Person:
    found = profiles.get_or_create_person(
        session, team_id=TEAM, slack_user_id=user_id, defaults=ProgrammeDefaults()
    )
    found.display_name = fields.pop("name", f"{user_id.title()} Example")
    found.career_stage = stage
    found.profile_completed_at = NOW - timedelta(days=30)
    for name, value in fields.items():
        setattr(found, name, value)
    session.flush()
    return found


def proposal(**overrides) -> proposing.Proposal:
    values = dict(
        title="Canva in 30 minutes",
        topic="Canva",
        description="Posters without a designer.",
        host_user_id="UHOST",
        starts_at=START,
        duration_minutes=45,
        location="Kitchen",
        capacity=2,
    )
    values.update(overrides)
    return proposing.Proposal(**values)


def new_session(session, host: Person, **overrides) -> LunchSession:
    return proposing.create_session(
        session, proposal=proposal(**overrides), proposer=host, host=host, now=NOW
    )


def demand_for(session, topic: str, wishers: int, teachers: list[tuple[str, CareerStage | None, SkillLevel]]):
    for n in range(wishers):
        learning.add_wishes(session, person(session, f"UW{topic[:3].upper()}{n}"), topic, now=NOW)
    for user_id, stage, level in teachers:
        learning.add_skills(session, person(session, user_id, stage=stage), topic, level=level, now=NOW)


def queue(session, key: str, *, send_after: datetime = NOW) -> None:
    announcements.notify(
        session,
        team_id=TEAM,
        key=key,
        kind="test",
        recipient="U1",
        message=Message("hi"),
        now=send_after,
    )


def status_of(session, key: str) -> OutboxStatus:
    return session.scalar(select(OutboxMessage.status).where(OutboxMessage.dedupe_key == key))


def raw(**overrides) -> ProposalInput:
    """The proposal modal's values for a valid session, as Slack sends them; override any field."""
    values = dict(
        title="Canva basics",
        topic="canva",
        description="",
        host_user_id="U1",
        date="2026-03-10",
        time="12:30",
        timezone="America/New_York",
        duration="45",
        location="https://zoom.us/j/123",
        seats="10",
    )
    values.update(overrides)
    return ProposalInput(**values)
