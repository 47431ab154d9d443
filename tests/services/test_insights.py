"""Programme figures: exact numbers on hand-built histories, periods, and SQL doing the counting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select

from bot.config import ProgrammeDefaults
from bot.services import insights, profiles
from bot.services.insights import Period
from bot.views.report import render_text
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


def test_an_empty_programme_reports_zeros_and_no_rates(session, org):
    report = insights.build_report(session, team_id="T1", period=Period.ALL_TIME, now=NOW)
    assert (report.participants, report.pairs_proposed, report.lunch_sessions) == (0, 0, 0)
    assert report.acceptance_rate is None and report.average_session_rating is None
    assert report.by_career_stage == () and report.top_topics == ()
    assert "Participants      0" in render_text(report)


def test_last_four_weeks_counts_exactly_what_happened_in_them(session, org):
    history(org)
    r = insights.build_report(session, team_id="T1", period=Period.LAST_4_WEEKS, now=NOW)

    # ben and cai learn, dee teaches, ana does both (her met wish was still open in the period)
    assert (r.learners_only, r.teachers_only, r.both) == (2, 1, 1)
    assert (r.wishes_new, r.wishes_open, r.wishes_met) == (3, 4, 1)
    assert r.rounds == 1
    assert (r.pairs_proposed, r.pairs_accepted, r.pairs_declined, r.pairs_expired, r.pairs_waiting) == (
        4,
        1,
        1,
        1,
        1,
    )
    assert r.acceptance_rate == pytest.approx(1 / 3)
    assert (r.reverse_share, r.cross_department_share) == (0.5, 1.0)
    assert (r.sessions_logged, r.average_session_rating) == (3, 4.5)
    assert (r.closing_feedback, r.average_feedback_rating) == (0, None)
    assert (r.lunch_sessions, r.lunch_attendance, r.average_lunch_rating, r.lunch_upcoming) == (1, 2, 4.5, 1)


def test_longer_periods_take_in_older_history(session, org):
    history(org)
    quarter = insights.build_report(session, team_id="T1", period=Period.QUARTER, now=NOW)
    assert (quarter.pairs_proposed, quarter.pairs_accepted, quarter.rounds) == (5, 2, 2)
    assert quarter.wishes_new == 5
    assert (quarter.sessions_logged, quarter.average_session_rating) == (4, pytest.approx(11 / 3))
    assert (quarter.closing_feedback, quarter.average_feedback_rating) == (1, 5.0)
    everything = insights.build_report(session, team_id="T1", period=Period.ALL_TIME, now=NOW)
    assert everything.since is None and everything.pairs_proposed == 5


def test_top_topics_and_the_demand_nobody_can_meet(session, org):
    people = history(org)
    org.person("UEVE", department="Sales")  # takes part, teaches nothing
    paused = org.person("UPAU", paused=True)
    org.skill(paused, "Welding")  # a paused teacher cannot meet demand now
    org.wish(people["ben"], "Welding", at=days_ago(2))
    gone = org.person("UGONE", deactivated=True)
    org.wish(gone, "Juggling", at=days_ago(2))  # demand from someone who left does not count

    r = insights.build_report(session, team_id="T1", period=Period.LAST_4_WEEKS, now=NOW)

    assert [(t.topic, t.wishes, t.teachers) for t in r.top_topics] == [
        ("Canva", 1, 1),
        ("Juggling", 1, 0),
        ("Quantum", 1, 0),
        ("TikTok", 1, 1),
        ("Welding", 1, 0),
    ]
    assert [(t.topic, t.wishes) for t in r.unmet_topics] == [("Quantum", 2), ("Welding", 1)]
    assert r.unmet_wishes == 3


def test_breakdowns_by_career_stage_and_department(session, org):
    people = history(org)
    people["dee"].forgotten_at = NOW  # forgotten people leave the head counts, not the pair counts
    people["dee"].career_stage, people["dee"].department = None, None
    org.person("UNEW", stage=CareerStage.EARLY, department=" marketing", profile=True)
    r = insights.build_report(session, team_id="T1", period=Period.LAST_4_WEEKS, now=NOW)

    stages = {g.name: (g.people, g.learning, g.teaching) for g in r.by_career_stage}
    assert stages == {
        "Early career": (2, 0, 2),
        "Senior": (1, 2, 0),
        "Executive": (1, 2, 0),
        "Not given": (0, 0, 2),
    }
    departments = [(g.name, g.people, g.learning, g.teaching) for g in r.by_department]
    assert departments[0][1:] == (2, 4, 0)  # "Finance" and "finance" are one department
    assert departments[0][0].lower() == "finance"
    assert departments[1][1:] == (2, 0, 2) and departments[1][0].strip().lower() == "marketing"
    assert departments[-1] == ("Not given", 0, 0, 2)
    assert sum(g.learning for g in r.by_department) == r.pairs_proposed


def test_figures_are_counted_by_the_database_in_a_fixed_number_of_queries(database, session, org):
    history(org)
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(database.engine, "before_cursor_execute", record)
    try:
        insights.build_report(session, team_id="T1", period=Period.QUARTER, now=NOW)
        small = len(statements)
        learners = [org.person(f"UX{i}", department=f"Dept {i % 7}") for i in range(60)]
        for i, person in enumerate(learners):
            org.wish(person, f"Topic {i % 9}", at=days_ago(i % 40))
            org.pairing(person, learners[(i + 1) % 60], f"Topic {i % 9}", at=days_ago(1 + i % 30))
        statements.clear()
        report = insights.build_report(session, team_id="T1", period=Period.QUARTER, now=NOW)
    finally:
        event.remove(database.engine, "before_cursor_execute", record)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == small <= 20  # no query per row: the count does not grow with the data
    assert report.pairs_proposed == 65
    aggregates = ("group by", "count(", "sum(", "avg(")
    assert selects and all(any(word in s.lower() for word in aggregates) for s in selects)


def test_render_text_reads_well(session, org):
    history(org)
    text = render_text(insights.build_report(session, team_id="T1", period=Period.QUARTER, now=NOW))
    assert text.startswith("Flipside programme report: last quarter (13 weeks) (24 Aug 2026 to 23 Nov 2026)")
    assert "Acceptance rate   50% (of 4 answered or expired)" in text
    assert "Lunch 'n' Learn   1 held, 2 attending (2.0 a session), rating 4.5/5; 1 coming up" in text
    assert "Unmet demand: 2 open wishes" in text
    assert "  Quantum" in text


def test_period_parsing_falls_back_to_four_weeks():
    assert Period.parse("quarter") is Period.QUARTER
    assert Period.parse("nonsense") is Period.LAST_4_WEEKS
    assert Period.parse(None, Period.ALL_TIME) is Period.ALL_TIME
    assert Period.QUARTER.since(NOW) == NOW - timedelta(weeks=13)


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
