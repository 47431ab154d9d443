"""The programme's figures: exact numbers on hand-built histories, the periods and the ones before,
and the database doing the counting in a fixed number of queries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event

from bot.services import figures
from bot.services.availability import WaitReason
from bot.services.figures import Period, Window, windows
from models import CareerStage, PairingStatus, PulseAnswer, SignupStatus
from tests.services.test_insights import NOW, Org, days_ago, history


@pytest.fixture
def session(database):
    with database.transaction() as session:
        yield session


@pytest.fixture
def org(session):
    return Org(session)


def report(session, period: Period = Period.MONTH, as_of: datetime = NOW) -> figures.ProgrammeFigures:
    return figures.programme_figures(session, team_id="T1", period=period, as_of=as_of)


def pulse(org: Org, pairing, person, *, rating=None, stopped=False, at, number=1) -> PulseAnswer:
    return org.add(
        PulseAnswer(
            team_id=org.team,
            pairing_id=pairing.id,
            person_id=person.id,
            number=number,
            asked_at=at,
            answered_at=at,
            rating=rating,
            stopped_meeting=stopped,
        )
    )


def test_each_period_and_the_one_it_is_compared_with():
    assert windows(Period.MONTH, NOW) == (
        Window(datetime(2026, 11, 1, tzinfo=UTC), NOW),
        Window(datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 10, 23, 12, tzinfo=UTC)),
    )
    turn_of_month = datetime(2027, 1, 1, tzinfo=UTC)  # the monthly summary's moment: December whole
    assert windows(Period.MONTH, turn_of_month) == (
        Window(datetime(2026, 12, 1, tzinfo=UTC), turn_of_month),
        Window(datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)),
    )
    march_31 = datetime(2027, 3, 31, 18, tzinfo=UTC)  # February is shorter: its whole month
    assert windows(Period.MONTH, march_31)[1] == Window(
        datetime(2027, 2, 1, tzinfo=UTC), datetime(2027, 3, 1, tzinfo=UTC)
    )
    assert windows(Period.DAYS_90, NOW) == (
        Window(NOW - timedelta(days=90), NOW),
        Window(NOW - timedelta(days=180), NOW - timedelta(days=90)),
    )
    assert windows(Period.ALL_TIME, NOW) == (
        Window(None, NOW),
        Window(None, datetime(2026, 11, 1, tzinfo=UTC)),
    )
    assert Period.parse("90_days") is Period.DAYS_90 and Period.parse("quarter") is Period.MONTH


def test_an_empty_programme_has_zeros_and_nothing_to_rate(session, org):
    r = report(session, Period.ALL_TIME)
    assert (r.current.participants, r.current.pairs_proposed, r.current.lunch_held) == (0, 0, 0)
    assert r.current.participation_share is None and r.current.median_wait_days is None
    assert r.details.top_open_topics == () and r.details.open_by_reason == ()
    assert all(figures.trend(row) == "" for row in r.rows())


def test_this_month_counts_exactly_what_happened_in_it_and_compares_with_last_month(session, org):
    history(org)
    r = report(session)
    c, p = r.current, r.previous

    # ben and cai learn, dee teaches, ana does both (her met wish was open in the month)
    assert (c.learning_only, c.teaching_only, c.both, c.participants) == (2, 1, 1, 4)
    assert (c.active_members, c.participation_share) == (4, 1.0)
    assert (c.wishes_new, c.open_wishes) == (3, 4)
    assert (c.pairs_proposed, c.pairs_accepted, c.pairs_met, c.pairs_established) == (4, 1, 1, 1)
    assert (c.reverse_share, c.cross_department_share, c.exchange_share) == (0.5, 1.0, 0.0)
    assert (c.lunch_held, c.lunch_seats, c.lunch_rating) == (1, 2, 4.5)
    assert (c.pulse_answers, c.pulse_rating, c.rounds) == (0, None, 1)

    # 1-23 October: only ben's Quantum wish was new; ana's Excel wish was still open then
    assert (p.learning_only, p.teaching_only, p.both) == (1, 1, 1)
    assert (p.wishes_new, p.open_wishes, p.pairs_proposed) == (1, 2, 0)
    by_key = {row.key: row for row in r.rows()}
    assert figures.trend(by_key["open_wishes"]) == "▲" and figures.trend(by_key["pairs_proposed"]) == "▲"


def test_longer_periods_take_in_older_history(session, org):
    history(org)
    days_90 = report(session, Period.DAYS_90).current
    assert (days_90.pairs_proposed, days_90.pairs_accepted, days_90.pairs_met, days_90.rounds) == (5, 2, 2, 2)
    assert days_90.wishes_new == 5
    everything = report(session, Period.ALL_TIME)
    assert everything.current.window.since is None and everything.current.pairs_proposed == 5
    assert everything.previous.pairs_proposed == 1  # all time as it stood on 1 November


def test_open_wishes_by_reason_and_the_most_requested_topics_of_all_time(session, org):
    history(org)
    org.person("UEVE", department="Sales")  # takes part, teaches nothing
    paused = org.person("UPAU", paused=True)
    org.skill(paused, "Welding")  # a paused teacher cannot meet demand now
    for index in range(3):  # long-standing demand, older than the period: still "most requested"
        org.wish(org.person(f"UNEG{index}"), "Negotiation", at=days_ago(200))
    unfinished = org.person("UNEW", profile=False, stage=None)
    org.wish(unfinished, "TikTok", at=days_ago(1))

    r = report(session)

    assert [(t.topic, t.wishes, t.teachers) for t in r.details.top_open_topics] == [
        ("Negotiation", 3, 0),
        ("Quantum", 2, 0),
        ("TikTok", 2, 1),
        ("Canva", 1, 1),
    ]
    assert [t.topic for t in r.details.unteachable_topics] == ["Negotiation", "Quantum"]
    assert [(t.topic, t.wishes) for t in r.details.top_new_topics] == [
        ("TikTok", 2),
        ("Canva", 1),
        ("Quantum", 1),
    ]
    reasons = dict(r.details.open_by_reason)
    assert reasons == {
        WaitReason.PROFILE_UNFINISHED: 1,
        WaitReason.NO_TEACHER: 3,  # Negotiation
        # ben (learning TikTok) and cai (proposed Excel) learn one topic at a time.
        WaitReason.LEARNING_ANOTHER: 4,
    }
    assert sum(reasons.values()) == r.current.open_wishes == 8


def test_median_wait_from_a_wish_to_its_first_accepted_pairing(session, org):
    ana, ben, cai = org.person("UA"), org.person("UB"), org.person("UC")
    for learner, asked, accepted_after in ((ana, 20, 2), (ben, 20, 6), (cai, 30, 10)):
        wish = org.wish(learner, "Excel", at=days_ago(asked))
        first = org.pairing(learner, org.person(f"T{learner.slack_user_id}"), "Excel", at=days_ago(asked))
        first.wish_id, first.accepted_at = wish.id, days_ago(asked - accepted_after)
        again = org.pairing(learner, org.person(f"S{learner.slack_user_id}"), "Excel", at=days_ago(2))
        again.wish_id = wish.id  # a later pairing of the same wish: not "first"
    org.session.flush()
    assert report(session).current.median_wait_days == pytest.approx(6)
    assert report(session).previous.median_wait_days is None


def test_pulse_answers_rate_pairs_and_name_the_best_topics_and_departments(session, org):
    teacher = org.person("UT", department="Marketing", stage=CareerStage.EARLY)
    learners = [org.person(f"UL{i}", department=" finance", stage=CareerStage.EXECUTIVE) for i in range(4)]
    pairs = [
        org.pairing(learner, teacher, topic, at=days_ago(40))
        for learner, topic in zip(learners, ("TikTok", "TikTok", "Canva", "Canva"), strict=True)
    ]
    pulse(org, pairs[0], learners[0], rating=5, at=days_ago(5))
    pulse(org, pairs[0], teacher, rating=4, at=days_ago(5))
    pulse(org, pairs[1], learners[1], rating=5, at=days_ago(4))
    pulse(org, pairs[2], learners[2], rating=2, at=days_ago(3))
    pulse(org, pairs[3], learners[3], stopped=True, at=days_ago(3))
    pairs[3].status = PairingStatus.COMPLETED
    pulse(org, pairs[2], teacher, rating=1, at=days_ago(40))  # last month's answer

    r = report(session)
    assert (r.current.pulse_answers, r.current.pulse_rating, r.current.pulse_stopped) == (5, 4.0, 1)
    assert (r.previous.pulse_answers, r.previous.pulse_rating) == (1, 1.0)
    assert [(g.name, g.rating, g.pairs) for g in r.details.best_topics] == [
        ("TikTok", pytest.approx(14 / 3), 2)
    ]
    assert [(g.name, g.pairs) for g in r.details.best_departments] == [("finance", 3), ("Marketing", 3)]
    assert [
        (s.teacher_stage, s.learner_stage, s.pairs)
        for s in report(session, Period.ALL_TIME).details.who_teaches_whom
    ] == [("Early career", "Executive", 4)]


def test_lunch_and_learn_counts_held_sessions_their_seats_and_ratings(session, org):
    host, guest = org.person("UH"), org.person("UG")
    held = org.lunch(host, "Held", at=days_ago(3))
    org.signup(held, guest)
    org.signup(held, org.person("UW"), SignupStatus.WAITLISTED)
    org.lunch_feedback(held, guest, 3)
    org.lunch(host, "Coming", at=NOW + timedelta(days=1))
    c = report(session).current
    assert (c.lunch_held, c.lunch_seats, c.lunch_rating) == (1, 1, 3.0)


def test_the_report_takes_the_same_number_of_queries_however_big_the_programme(database, session, org):
    """Not timed (benchmarks/report.py times it): the query count must not grow with the data."""
    history(org)
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(database.engine, "before_cursor_execute", record)
    try:
        report(session, Period.DAYS_90)
        small = len(statements)
        people = [org.person(f"UX{i}", department=f"Dept {i % 7}") for i in range(60)]
        for i, person in enumerate(people):
            org.wish(person, f"Topic {i % 9}", at=days_ago(i % 40))
            org.skill(person, f"Topic {(i + 3) % 9}")
            pairing = org.pairing(person, people[(i + 1) % 60], f"Topic {i % 9}", at=days_ago(1 + i % 30))
            org.meeting(pairing, at=days_ago(i % 30), rating=4)
            pulse(org, pairing, person, rating=1 + i % 5, at=days_ago(1 + i % 20))
        statements.clear()
        big = report(session, Period.DAYS_90)
    finally:
        event.remove(database.engine, "before_cursor_execute", record)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == len(statements) == small <= 40
    assert big.current.pairs_proposed == 65 and big.current.pulse_answers == 60
