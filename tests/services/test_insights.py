"""One person's App Home picture; and `Org`, hand-built histories that the figures' tests share."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.config import ProgrammeDefaults
from bot.services import insights, profiles
from models import (
    Answer,
    CareerStage,
    LunchFeedback,
    LunchSession,
    LunchSignup,
    LunchStatus,
    MatchingRound,
    Pairing,
    PairingFeedback,
    PairingMeeting,
    PairingStatus,
    Person,
    SignupStatus,
    Skill,
    SkillLevel,
    Topic,
    Wish,
    WishStatus,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


class Org:
    """Rows with exact timestamps and states, for tests that need a history rather than a flow."""

    def __init__(self, session, team: str = "T1") -> None:
        self.session, self.team = session, team
        self.topics: dict[str, Topic] = {}
        profiles.ensure_workspace(session, team_id=team, defaults=ProgrammeDefaults())
        self._rounds = 0

    def add(self, row):
        self.session.add(row)
        self.session.flush()
        return row

    def person(
        self,
        user_id: str,
        *,
        stage: CareerStage | None = CareerStage.MID,
        department: str | None = "Finance",
        name: str | None = None,
        paused: bool = False,
        profile: bool = True,
        deactivated: bool = False,
    ) -> Person:
        return self.add(
            Person(
                team_id=self.team,
                slack_user_id=user_id,
                display_name=name or user_id,
                career_stage=stage,
                department=department,
                paused=paused,
                profile_completed_at=days_ago(200) if profile else None,
                created_at=days_ago(200),
                deactivated_at=days_ago(1) if deactivated else None,
            )
        )

    def topic(self, name: str) -> Topic:
        if name not in self.topics:
            existing = self.session.scalar(
                select(Topic).where(Topic.team_id == self.team, Topic.key == name.lower())
            )
            self.topics[name] = existing or self.add(
                Topic(team_id=self.team, key=name.lower(), display_name=name)
            )
        return self.topics[name]

    def wish(self, person, topic: str, *, at=None, status=WishStatus.OPEN, closed=None, note=None) -> Wish:
        return self.add(
            Wish(
                team_id=self.team,
                person_id=person.id,
                topic_id=self.topic(topic).id,
                status=status,
                created_at=at or days_ago(100),
                closed_at=closed,
                note=note,
            )
        )

    def skill(self, person, topic: str, *, at=None, level=SkillLevel.CONFIDENT) -> Skill:
        return self.add(
            Skill(
                team_id=self.team,
                person_id=person.id,
                topic_id=self.topic(topic).id,
                level=level,
                created_at=at or days_ago(100),
            )
        )

    def round(self, at) -> MatchingRound:
        self._rounds += 1
        return self.add(MatchingRound(team_id=self.team, round_key=f"R{self._rounds}", started_at=at))

    def pairing(
        self,
        learner,
        teacher,
        topic: str,
        *,
        at,
        status=PairingStatus.ACTIVE,
        accepted: bool | None = None,
        reverse: bool = False,
        cross: bool = False,
        explanation: str = "",
    ) -> Pairing:
        accepted = status in (PairingStatus.ACTIVE, PairingStatus.COMPLETED) if accepted is None else accepted
        answer = Answer.ACCEPTED if accepted else Answer.PENDING
        return self.add(
            Pairing(
                team_id=self.team,
                learner_id=learner.id,
                teacher_id=teacher.id,
                topic_id=self.topic(topic).id,
                status=status,
                is_reverse=reverse,
                is_cross_department=cross,
                proposed_at=at,
                expires_at=at + timedelta(days=5),
                accepted_at=at + timedelta(days=1) if accepted else None,
                learner_answer=answer,
                teacher_answer=answer,
                explanation=explanation,
            )
        )

    def meeting(self, pairing, *, at, rating=None, by=None, note=None) -> PairingMeeting:
        return self.add(
            PairingMeeting(
                pairing_id=pairing.id,
                logged_by_id=by.id if by else pairing.learner_id,
                rating=rating,
                note=note,
                logged_at=at,
            )
        )

    def feedback(self, pairing, person, *, at, rating, note=None) -> PairingFeedback:
        return self.add(
            PairingFeedback(
                pairing_id=pairing.id, person_id=person.id, rating=rating, note=note, created_at=at
            )
        )

    def lunch(self, host, title: str, *, at, status=LunchStatus.SCHEDULED, location="Room 1") -> LunchSession:
        return self.add(
            LunchSession(
                team_id=self.team,
                host_id=host.id,
                title=title,
                starts_at=at,
                status=status,
                location=location,
            )
        )

    def signup(self, lunch, person, status=SignupStatus.ATTENDING) -> LunchSignup:
        return self.add(LunchSignup(session_id=lunch.id, person_id=person.id, status=status))

    def lunch_feedback(self, lunch, person, rating, note=None) -> LunchFeedback:
        return self.add(LunchFeedback(session_id=lunch.id, person_id=person.id, rating=rating, note=note))


@pytest.fixture
def session(database):
    with database.transaction() as session:
        yield session


@pytest.fixture
def org(session):
    return Org(session)


def history(org: Org) -> dict[str, Person]:
    """A small programme: recent activity (last 4 weeks) and older activity (5-12 weeks ago)."""
    ana = org.person("UANA", stage=CareerStage.EARLY, department="Marketing")
    ben = org.person("UBEN", stage=CareerStage.EXECUTIVE, department="finance")
    cai = org.person("UCAI", stage=CareerStage.SENIOR, department="Finance")
    dee = org.person("UDEE", stage=CareerStage.MID, department="IT")
    org.skill(ana, "TikTok")
    org.skill(ana, "Canva")
    org.skill(dee, "Excel")
    org.wish(ben, "TikTok", at=days_ago(10))
    org.wish(cai, "Canva", at=days_ago(20))
    org.wish(cai, "Quantum", at=days_ago(3))  # nobody teaches it
    org.wish(ben, "Quantum", at=days_ago(50))
    org.wish(ana, "Excel", at=days_ago(60), status=WishStatus.MET, closed=days_ago(5))
    org.round(days_ago(7))
    org.round(days_ago(60))
    recent_active = org.pairing(ben, ana, "TikTok", at=days_ago(7), reverse=True, cross=True)
    org.pairing(cai, ana, "Canva", at=days_ago(7), status=PairingStatus.DECLINED, reverse=True, cross=True)
    org.pairing(ben, dee, "Excel", at=days_ago(6), status=PairingStatus.EXPIRED, cross=True)
    org.pairing(cai, dee, "Excel", at=days_ago(2), status=PairingStatus.PROPOSED, cross=True)
    old = org.pairing(ana, dee, "Excel", at=days_ago(60), status=PairingStatus.COMPLETED, cross=True)
    org.meeting(recent_active, at=days_ago(3), rating=4)
    org.meeting(recent_active, at=days_ago(1), rating=5)
    org.meeting(recent_active, at=days_ago(2))  # logged without a rating
    org.meeting(old, at=days_ago(55), rating=2)
    org.feedback(old, ana, at=days_ago(40), rating=5)
    held = org.lunch(ana, "TikTok for beginners", at=days_ago(8))
    org.signup(held, ben)
    org.signup(held, cai)
    org.signup(held, dee, SignupStatus.CANCELLED)
    org.lunch_feedback(held, ben, 4)
    org.lunch_feedback(held, cai, 5)
    org.lunch(dee, "Cancelled one", at=days_ago(9), status=LunchStatus.CANCELLED)
    org.lunch(dee, "Excel tricks", at=NOW + timedelta(days=3))
    return {"ana": ana, "ben": ben, "cai": cai, "dee": dee}


def test_person_overview_lists_what_the_home_shows(session, org):
    people = history(org)
    ana, dee = people["ana"], people["dee"]
    overview = insights.person_overview(session, person=ana, now=NOW)
    assert [w.topic for w in overview.wishes] == []  # her only wish was met
    assert [(s.topic, s.level) for s in overview.skills] == [
        ("TikTok", SkillLevel.CONFIDENT),
        ("Canva", SkillLevel.CONFIDENT),
    ]
    [active] = overview.pairings
    assert (active.topic, active.learning, active.partner_user_id, active.sessions) == (
        "TikTok",
        False,
        "UBEN",
        3,
    )
    assert overview.lunches == ()  # her session is past

    org.signup(org.session.get(LunchSession, 3), ana, SignupStatus.WAITLISTED)
    dee_view = insights.person_overview(session, person=dee, now=NOW)
    assert [(p.topic, p.status) for p in dee_view.pairings] == [("Excel", PairingStatus.PROPOSED)]
    [lunch] = dee_view.lunches
    assert (lunch.title, lunch.hosting, lunch.waitlisted) == ("Excel tricks", True, False)
    [ana_lunch] = insights.person_overview(session, person=ana, now=NOW).lunches
    assert (ana_lunch.hosting, ana_lunch.waitlisted) == (False, True)
