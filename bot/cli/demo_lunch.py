"""The Lunch 'n' Learn part of `python -m bot demo`: propose sessions on what the sample organisation
wants to learn, fill some seats, and print the channel announcement and weekly line-up as they read."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import ProgrammeDefaults
from bot.services import profiles
from bot.services.lunch import announcements, demand, proposing, schedule, seats
from bot.services.lunch.common import zone
from bot.views import lunch as views
from bot.views.plaintext import blocks_to_text
from models import Person, Skill

DEMO_CHANNEL = "C0LUNCHDEMO"
PLACES = ("Kitchen, 3rd floor", "https://meet.example.com/lunch-and-learn")


def demo_lunch(session: Session, *, team_id: str, now: datetime, rng: random.Random) -> str:
    people = list(
        session.scalars(
            select(Person)
            .where(Person.team_id == team_id, Person.deactivated_at.is_(None), Person.forgotten_at.is_(None))
            .order_by(Person.id)
        )
    )
    if len(people) < 3:
        return "Lunch 'n' Learn: the sample organisation is too small for a session."
    settings = profiles.programme_settings(session, team_id=team_id, defaults=ProgrammeDefaults())
    picks = demand.suggest_sessions(
        session, team_id=team_id, threshold=settings.lnl_demand_threshold, now=now
    )
    lines = ["Lunch 'n' Learn", "==============="]
    lines += [
        f"Suggested: {pick.wishers} people want to learn {pick.topic.display_name}; asked "
        f"{pick.teacher.display_name} ({_stage(pick.teacher)}) to host a session."
        for pick in picks[:5]
    ]
    hosts = [(pick.teacher, pick.topic.display_name) for pick in picks[:2]] or _any_teachers(session, people)
    channel = settings.channel_id or DEMO_CHANNEL
    created = []
    for index, (host, topic) in enumerate(hosts[:2]):
        local_day = (now + timedelta(days=2 + index)).astimezone(zone(host.tz)).date()
        starts = datetime.combine(local_day, time(12, 30), tzinfo=zone(host.tz))
        proposal = proposing.Proposal(
            title=f"{topic}: a quick start",
            topic=topic,
            description=f"Bring your lunch and a laptop: {host.display_name} shows the {topic} basics.",
            host_user_id=host.slack_user_id,
            starts_at=starts.astimezone(now.tzinfo),
            duration_minutes=45,
            location=PLACES[index % len(PLACES)],
            capacity=8 if index == 0 else None,
        )
        lunch = proposing.create_session(session, proposal=proposal, proposer=host, host=host, now=now)
        lunch.channel_id = channel
        _fill(session, lunch, people, now=now, rng=rng, extra=2 if lunch.capacity else 0)
        created.append(lunch)
    if not created:
        return "\n".join([*lines, "Nobody teaches anything yet, so no session was proposed."])
    names = {person.slack_user_id: person.display_name for person in people}
    announcement = views.build_announcement(seats.state_of(session, created[0]))
    lineup = schedule.weekly_lineup(session, team_id=team_id, week="this week", now=now)
    lines += [
        "",
        f"--- #{channel}: the announcement (updates in place as people sign up) ---",
        blocks_to_text(announcement.blocks, users=names),
        "",
        f"--- #{channel}: the weekly line-up (Monday morning) ---",
        blocks_to_text(views.build_lineup(lineup).blocks, users=names),
    ]
    return "\n".join(lines)


def _stage(person: Person) -> str:
    return person.career_stage.label if person.career_stage else "career stage not given"


def _any_teachers(session: Session, people: list[Person]) -> list[tuple[Person, str]]:
    by_id = {person.id: person for person in people}
    skills = session.scalars(select(Skill).where(Skill.person_id.in_(by_id)).order_by(Skill.id).limit(2))
    return [(by_id[skill.person_id], skill.topic.display_name) for skill in skills]


def _fill(
    session: Session, lunch, people: list[Person], *, now: datetime, rng: random.Random, extra: int
) -> None:
    """Wishers for the topic first (they were told), then a few curious colleagues."""
    wishers = announcements.wishers(session, lunch)
    others = [p for p in people if p.id != lunch.host_id and p not in wishers]
    wanted = (lunch.capacity or 6) + extra
    keen = wishers[:wanted] + rng.sample(others, min(len(others), max(0, wanted - len(wishers))))
    for minutes, person in enumerate(keen):
        seats.sign_up(session, session_id=lunch.id, person=person, now=now + timedelta(minutes=minutes))
