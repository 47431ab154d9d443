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


def fill_workspace(db: Database, team: str, *, now: datetime) -> dict[str, int]:
    """One row (at least) in every table keyed by `team`, directly or through a parent: what a
    purge must remove. Hand-made rows, because no one flow writes them all (OAuth rows, event
    ids, pending work). Returns the ids tests refer to."""
    from sqlalchemy import insert

    from models import (
        LearningLog,
        LearningLogEntry,
        LunchFeedback,
        LunchSession,
        LunchSignup,
        LunchSuggestion,
        MatchingRound,
        MonthlySummary,
        OutboxMessage,
        Pairing,
        PairingBlock,
        PairingFeedback,
        PairingMeeting,
        PendingWork,
        ProcessedEvent,
        ProgrammeSettings,
        PulseAnswer,
        SignupStatus,
        Skill,
        Topic,
        Wish,
        Workspace,
    )
    from models.slack_oauth import bots, installations

    installed = (now - timedelta(days=365)).replace(tzinfo=None)  # slack_sdk keeps naive UTC
    with db.transaction() as session:
        session.add_all([Workspace(team_id=team, name=f"{team} Inc"), ProgrammeSettings(team_id=team)])
        session.flush()
        learner = Person(team_id=team, slack_user_id=f"{team}-U1")
        teacher = Person(team_id=team, slack_user_id=f"{team}-U2")
        topic = Topic(team_id=team, key="canva", display_name="Canva")
        session.add_all([learner, teacher, topic])
        session.flush()
        matching_round = MatchingRound(team_id=team, round_key="2026-W01")
        lunch = LunchSession(
            team_id=team, host_id=teacher.id, title="Canva", starts_at=now + timedelta(days=3)
        )
        session.add_all(
            [
                matching_round,
                lunch,
                PairingBlock(team_id=team, person_id=learner.id, blocked_person_id=teacher.id),
                Wish(team_id=team, person_id=learner.id, topic_id=topic.id),
                Skill(team_id=team, person_id=teacher.id, topic_id=topic.id),
            ]
        )
        session.flush()
        pairing = Pairing(
            team_id=team,
            round_id=matching_round.id,
            learner_id=learner.id,
            teacher_id=teacher.id,
            topic_id=topic.id,
            expires_at=now + timedelta(days=5),
        )
        session.add(pairing)
        session.flush()
        session.add_all(
            [
                PairingMeeting(pairing_id=pairing.id, logged_by_id=learner.id, rating=5),
                LearningLog(team_id=team, pairing_id=pairing.id, opening="# Log", title="Log"),
                LearningLogEntry(team_id=team, pairing_id=pairing.id, key="c:1", markdown="- met"),
                PairingFeedback(pairing_id=pairing.id, person_id=learner.id, rating=5),
                LunchSignup(session_id=lunch.id, person_id=learner.id, status=SignupStatus.ATTENDING),
                LunchFeedback(session_id=lunch.id, person_id=learner.id, rating=4),
                LunchSuggestion(team_id=team, person_id=teacher.id, topic_id=topic.id, session_id=lunch.id),
                PulseAnswer(team_id=team, pairing_id=pairing.id, person_id=learner.id, number=1, rating=4),
                MonthlySummary(team_id=team, month="2026-11"),
                OutboxMessage(
                    team_id=team,
                    dedupe_key=f"pairing:{pairing.id}:proposal:{learner.slack_user_id}",
                    kind="proposal",
                    recipient=learner.slack_user_id,
                    text="A proposal",
                ),
                ProcessedEvent(event_id=f"Ev-{team}", team_id=team, received_at=now),
                PendingWork(team_id=team, kind="teachme.record", body={"team_id": team}),
            ]
        )
        oauth = {"client_id": "C", "app_id": "A", "team_id": team, "installed_at": installed}
        session.execute(insert(installations).values(user_id=f"{team}-U1", **oauth))
        session.execute(insert(bots).values(bot_token=f"xoxb-{team}", **oauth))
    return {"pairing": pairing.id, "lunch": lunch.id}
