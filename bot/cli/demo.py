"""`python -m bot demo`: Flipside on a sample organisation, with no Slack workspace needed.

It migrates a fresh SQLite database, loads the organisation through the same services the slash
commands use, runs a real matching round, and prints what people would read in Slack.

The demo's clock starts eight weeks in the past and runs forward to the moment the demo ends, so no
row is dated after it; the report it prints is `python -m bot report --as-of` that moment, word
for word, on the database it leaves.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from bot.cli import migrations, sample_org
from bot.cli.admin import report_text
from bot.cli.demo_assistant import print_assistant_exchange
from bot.cli.demo_canvas import print_learning_log
from bot.cli.demo_flow import print_demo_flow
from bot.config import ProgrammeDefaults
from bot.db import Database
from bot.delivery import pairing_notices as notices
from bot.delivery import pulse_notices
from bot.services import figures, learning, pairings, profiles, pulse, rounds
from bot.services.lunch import feedback as lunch_feedback
from bot.views.chart import build_summary_chart
from bot.views.plaintext import blocks_to_text
from bot.views.report import summary_title
from models import (
    LunchFeedback,
    LunchSession,
    LunchSignup,
    LunchStatus,
    OutboxMessage,
    Pairing,
    PairingStatus,
    Person,
    SignupStatus,
    Skill,
    Topic,
    Wish,
    WishStatus,
    utcnow,
)

TEAM_ID = "TDEMO"
RULE = "─" * 78
WEEKS = 8  # long enough for the 30-day relationship pulse
REPORT_PERIOD = figures.Period.ALL_TIME


def _fresh_database(url: str) -> Database:
    if url.startswith("sqlite:///") and ":memory:" not in url:
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    database = Database(url)
    migrations.upgrade(database)
    return database


def _heading(title: str) -> None:
    print(f"\n{RULE}\n{title}\n{RULE}")


def default_chart_path(database_url: str) -> str:
    """The chart goes next to the demo's database (or into the working folder)."""
    if database_url.startswith("sqlite:///") and ":memory:" not in database_url:
        database = Path(database_url.removeprefix("sqlite:///"))
        return str(database.with_name(f"{database.stem}-chart.png"))
    return "flipside-demo-chart.png"


def run_demo(*, database_url: str, people: int, seed: int, chart_path: str | None = None) -> int:
    rng = random.Random(seed)
    # Everything simulated happens before the real time the demo started; rows that the services
    # date with the real clock come after; the report is read at the end, after both.
    now = utcnow().replace(microsecond=0) - timedelta(weeks=WEEKS)
    defaults = ProgrammeDefaults()
    chart_path = default_chart_path(database_url) if chart_path is None else chart_path
    database = _fresh_database(database_url)
    print(f"Flipside demo: a sample organisation of {people} people in {database_url}")

    with database.transaction() as session:
        profiles.ensure_workspace(session, team_id=TEAM_ID, defaults=defaults)
        sample_org.load(
            session, team_id=TEAM_ID, people=sample_org.generate(people, rng=rng), defaults=defaults, now=now
        )
    with database.transaction() as session:
        print_what_the_bot_knows(session)

    _heading("The weekly matching round")
    with database.transaction() as session:
        listing = round_listing(session, defaults=defaults, now=now)
        summary = notices.run_round_and_notify(session, team_id=TEAM_ID, defaults=defaults, now=now)
    with database.transaction() as session:
        print_round(session, summary.round_key, listing)
        print_dms(session, limit=2)
    print_demo_flow(database, team_id=TEAM_ID, defaults=defaults, now=now, heading=_heading)
    print_learning_log(database, team_id=TEAM_ID, now=now)
    as_of = extra_sections(database, defaults=defaults, now=now, rng=rng, chart_path=chart_path)
    print(
        f"\nDone. The demo database is {database_url}. On it:\n"
        f"  DATABASE_URL={database_url} python -m bot report --period {REPORT_PERIOD.value} "
        f"--as-of {as_of.isoformat()}\n    prints the report above;\n"
        f"  DATABASE_URL={database_url} python -m bot match --dry-run\n"
        "    previews this week's round for the wishes still open."
    )
    database.dispose()
    return 0


def print_what_the_bot_knows(session) -> None:
    _heading("What Flipside knows")
    everyone = list(session.scalars(select(Person).where(Person.team_id == TEAM_ID)))
    stages = Counter(person.career_stage.label for person in everyone if person.career_stage)
    departments = Counter(person.department for person in everyone)
    print(
        f"{len(everyone)} people · " + ", ".join(f"{count} {stage}" for stage, count in stages.most_common())
    )
    print("Departments: " + ", ".join(f"{dept} {count}" for dept, count in sorted(departments.items())))
    topics = session.scalar(select(func.count()).select_from(Topic).where(Topic.team_id == TEAM_ID))
    wishes = session.scalar(
        select(func.count()).select_from(Wish).where(Wish.team_id == TEAM_ID, Wish.status == WishStatus.OPEN)
    )
    skills = session.scalar(select(func.count()).select_from(Skill).where(Skill.team_id == TEAM_ID))
    print(f"{topics} topics · {wishes} open wishes · {skills} skills on offer")
    print("\nMost wanted topics (wishes / people who can teach):")
    wanted = session.execute(
        select(Topic.display_name, func.count(Wish.id))
        .join(Wish, Wish.topic_id == Topic.id)
        .where(Topic.team_id == TEAM_ID, Wish.status == WishStatus.OPEN)
        .group_by(Topic.id, Topic.display_name)
        .order_by(func.count(Wish.id).desc(), Topic.display_name)
        .limit(8)
    ).all()
    for name, count in wanted:
        teachers = session.scalar(
            select(func.count())
            .select_from(Skill)
            .join(Topic, Topic.id == Skill.topic_id)
            .where(Topic.team_id == TEAM_ID, Topic.display_name == name)
        )
        print(f"  {name:<24} {count:>3} / {teachers}")
    social = session.scalars(select(Topic).where(Topic.team_id == TEAM_ID, Topic.key.like("%social%"))).all()
    variants = ", ".join(repr(v) for v in sample_org.TYPED_VARIANTS["Social media"])
    print(
        f"\nPeople typed 'Social media' also as {variants}: Flipside keeps "
        f"{len(social)} topic for them ({', '.join(t.display_name for t in social)})."
    )
    sample = everyone[0]
    print(f"\nOne profile, as `/mentoring profile` shows it to {sample.display_name}:")
    wishes_of = ", ".join(w.topic.display_name for w in learning.open_wishes(session, sample)) or "-"
    skills_of = ", ".join(
        f"{s.topic.display_name} ({s.level.label})" for s in learning.skills_of(session, sample)
    )
    print(f"  {sample.career_stage.label}, {sample.department}, teaches up to {sample.capacity} at once")
    print(f"  wants to learn: {wishes_of}\n  can teach: {skills_of}")


def round_listing(session, *, defaults: ProgrammeDefaults, now) -> list[str]:
    """The round's pairs in the third person, with their reasons as phrases (as the admin's dry
    run shows them). First two colleagues agree to swap topics and someone asks for a teacher by
    name, as the "Ask for …" buttons do, so the listing shows an exchange and a request."""
    everyone = list(session.scalars(select(Person).where(Person.team_id == TEAM_ID).order_by(Person.id)))
    teachers = [person for person in everyone if person.career_stage and learning.skills_of(session, person)]
    junior = next(p for p in teachers if p.career_stage.rank == 0)
    senior = next(p for p in teachers if p.career_stage.rank >= 2 and p.department != junior.department)
    for learner, teacher in ((junior, senior), (senior, junior)):
        topic = learning.skills_of(session, teacher)[0].topic
        learning.add_wishes(session, learner, topic.display_name, now=now - timedelta(days=10))
        _ask_for(session, learner, teacher, topic_id=topic.id)
    asker = next(
        p for p in reversed(teachers) if p not in (junior, senior) and learning.open_wishes(session, p)
    )
    wish = learning.open_wishes(session, asker)[0]
    named = next(
        person
        for person in session.scalars(
            select(Person).join(Skill, Skill.person_id == Person.id).where(Skill.topic_id == wish.topic_id)
        )
        if person not in (asker, junior, senior) and person.career_stage
    )
    _ask_for(session, asker, named, topic_id=wish.topic_id)
    session.flush()
    settings = profiles.programme_settings(session, team_id=TEAM_ID, defaults=defaults)
    plan = rounds.plan_round(session, team_id=TEAM_ID, settings=settings, now=now)
    return [
        plan.describe(match)
        for match in sorted(plan.result.matches, key=lambda m: (-m.score, m.main.wish_id))
    ]


def _ask_for(session, learner: Person, teacher: Person, *, topic_id: int) -> None:
    wish = session.scalars(select(Wish).where(Wish.person_id == learner.id, Wish.topic_id == topic_id)).one()
    wish.requested_teacher_id = teacher.id


def print_round(session, round_key: str, listing: list[str]) -> None:
    pairings = list(
        session.scalars(select(Pairing).where(Pairing.team_id == TEAM_ID).order_by(Pairing.score.desc()))
    )
    reverse = sum(pairing.is_reverse for pairing in pairings)
    cross = sum(pairing.is_cross_department for pairing in pairings)
    learners = session.scalar(
        select(func.count(func.distinct(Wish.person_id))).where(
            Wish.team_id == TEAM_ID, Wish.status == WishStatus.OPEN
        )
    )
    print(
        f"Round {round_key}: {len(pairings)} pairs for {learners} people with open wishes; "
        f"{reverse} junior-teaches-senior, {cross} across departments;"
    )
    exchanges = sum(pairing.is_exchange for pairing in pairings)
    print(f"{exchanges} of them two-way exchanges (one pairing, both topics).\n")
    for line in listing[:8]:
        print(f"• {line}")
    if len(listing) > 8:
        print(f"  … and {len(listing) - 8} more pairs")
    unmatched = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.team_id == TEAM_ID, OutboxMessage.kind == "unmatched")
        .limit(3)
    ).all()
    if unmatched:
        print("\nPeople left unmatched are told why, e.g.:")
        for row in unmatched:
            print("  " + blocks_to_text(row.blocks or []).replace("\n", "\n  "))


def print_dms(session, *, limit: int) -> None:
    rows = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.team_id == TEAM_ID, OutboxMessage.kind == "proposal")
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()
    _heading("The proposal DMs, as the two people read them (queued in the outbox)")
    names = {person.slack_user_id: person.display_name for person in session.scalars(select(Person))}
    for row in rows:
        print(f"To {names.get(row.recipient, row.recipient)}:")
        text = blocks_to_text(row.blocks or [])
        for user_id, name in names.items():
            text = text.replace(f"<@{user_id}>", f"@{name}").replace(f"@{user_id}", f"@{name}")
        print("  " + text.replace("\n", "\n  ") + "\n")


def extra_sections(
    database: Database, *, defaults: ProgrammeDefaults, now, rng: random.Random, chart_path: str | None
):
    """Lunch 'n' Learn, eight simulated weeks of the programme, and the admin report (and its
    chart), read at the end of the demo's clock; returns that moment."""
    print_lunch_and_learn(database, now=now, rng=rng)
    print_assistant_exchange(database, team_id=TEAM_ID, now=now)
    _heading(f"{WEEKS} weeks later: the admin's figures (App Home, `python -m bot report`, CSV export)")
    simulate_month(database, defaults=defaults, now=now, rng=rng)
    as_of = utcnow()  # after every row: the demo's clock has caught up with the real one
    with database.transaction() as session:
        print(report_text(session, TEAM_ID, REPORT_PERIOD.value, as_of))
        if chart_path:
            report = figures.programme_figures(session, team_id=TEAM_ID, period=REPORT_PERIOD, as_of=as_of)
            months = figures.pairs_over_time(session, team_id=TEAM_ID, as_of=as_of, months=3)
            chart = build_summary_chart(months, report.details.who_teaches_whom, title=summary_title(report))
    if chart_path:
        Path(chart_path).write_bytes(chart)
        print(f"\nThe monthly summary's chart (pairs per month, who teaches whom): {chart_path}")
    return as_of


def print_lunch_and_learn(database: Database, *, now, rng: random.Random) -> None:
    from bot.cli.demo_lunch import demo_lunch

    _heading("Lunch 'n' Learn")
    with database.transaction() as session:
        print(demo_lunch(session, team_id=TEAM_ID, now=now, rng=rng))


def simulate_month(
    database: Database, *, defaults: ProgrammeDefaults, now, rng: random.Random, weeks: int = WEEKS
) -> None:
    """Weekly rounds in which people answer, meet, rate their pairing when the pulse asks, attend
    Lunch 'n' Learns and give feedback, all through the services, each at its simulated time."""
    for week in range(weeks):
        moment = now + timedelta(days=7 * week, hours=1)
        with database.transaction() as session:
            if week:
                notices.run_round_and_notify(session, team_id=TEAM_ID, defaults=defaults, now=moment)
            settings = profiles.programme_settings(session, team_id=TEAM_ID, defaults=defaults)
            proposed = session.scalars(
                select(Pairing).where(Pairing.team_id == TEAM_ID, Pairing.status == PairingStatus.PROPOSED)
            ).all()
            for pairing in proposed:
                _answer_like_people_do(session, pairing, settings=settings, now=moment, rng=rng)
            active = session.scalars(
                select(Pairing).where(Pairing.team_id == TEAM_ID, Pairing.status == PairingStatus.ACTIVE)
            ).all()
            for pairing in active:
                if rng.random() < 0.7:
                    value = pairings.checkin_value(pairing)
                    pairings.schedule_next_checkin(pairing, now=moment)
                    change = pairings.log_meeting(
                        session,
                        value=value,
                        person=pairing.learner,
                        rating=rng.choice((3, 4, 4, 5, 5)),
                        note=None,
                        now=moment + timedelta(days=3),
                        settings=settings,
                    )
                    if change.outcome == pairings.Outcome.ENDED or rng.random() < 0.05:
                        _finish(session, pairing, now=moment + timedelta(days=3), rng=rng)
            _pulse_like_people_do(session, now=moment + timedelta(days=4), rng=rng)
            _rate_lunches(session, now=moment + timedelta(days=5), rng=rng)
        with database.transaction() as session:  # people who never answered: expiry runs
            pairings.expire_due(session, team_id=TEAM_ID, now=moment + timedelta(days=6))


def _pulse_like_people_do(session, *, now, rng: random.Random) -> None:
    """The pulse job's work at `now`, and the answers people give (a few pairs have stopped)."""
    for pairing, number in pulse.due_pulses(session, team_id=TEAM_ID, now=now):
        for person in pulse.ask(session, pairing, number, now=now):
            pulse_notices.enqueue_question(session, pairing, person, number, now=now)
            value = pulse.question_value(pairing.id, number)
            if rng.random() < 0.08 and pairing.status == PairingStatus.ACTIVE:
                result = pulse.stopped(session, value=value, person=person, now=now)
                if result.outcome is pulse.PulseOutcome.STOPPED:
                    pulse_notices.enqueue_partner_stopped(session, pairing, told_by=person, now=now)
            elif rng.random() < 0.85:
                pulse.rate(
                    session, value=value, person=person, rating=rng.choice((2, 3, 4, 4, 5, 5)), now=now
                )


def _rate_lunches(session, *, now, rng: random.Random) -> None:
    """Attendees of the sessions that have happened rate them (most do)."""
    attended = session.execute(
        select(LunchSignup.session_id, Person)
        .join(Person, Person.id == LunchSignup.person_id)
        .join(LunchSession, LunchSession.id == LunchSignup.session_id)
        .outerjoin(
            LunchFeedback,
            (LunchFeedback.session_id == LunchSignup.session_id) & (LunchFeedback.person_id == Person.id),
        )
        .where(
            LunchFeedback.id.is_(None),
            LunchSession.team_id == TEAM_ID,
            LunchSession.status == LunchStatus.SCHEDULED,
            LunchSession.starts_at <= now,
            LunchSignup.status == SignupStatus.ATTENDING,
        )
        .order_by(LunchSignup.id)
    ).all()
    for session_id, person in attended:
        if rng.random() < 0.7:
            lunch_feedback.record_feedback(
                session, session_id=session_id, person=person, rating=rng.choice((3, 4, 5, 5)), now=now
            )


def _answer_like_people_do(session, pairing: Pairing, *, settings, now, rng: random.Random) -> None:
    roll = rng.random()
    if roll < 0.15:
        return  # nobody answers: it expires
    value = pairings.button_value(pairing)
    if roll < 0.3:
        pairings.answer(
            session, value=value, person=pairing.teacher, accept=False, now=now, settings=settings
        )
        return
    for person in (pairing.learner, pairing.teacher):
        pairings.answer(session, value=value, person=person, accept=True, now=now, settings=settings)


def _finish(session, pairing: Pairing, *, now, rng: random.Random) -> None:
    if pairing.status == PairingStatus.ACTIVE:
        pairings.end(pairing, now=now, reason="said_done")
    for person in (pairing.learner, pairing.teacher):
        pairings.save_feedback(
            session, pairing_id=pairing.id, person=person, rating=rng.choice((4, 5)), note=None, now=now
        )
    if rng.random() < 0.5:
        pairings.mark_learned(session, pairing_id=pairing.id, person=pairing.learner, now=now)
