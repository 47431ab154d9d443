"""The assistant's answers, drawn from Flipside's own data: who can teach a topic, my wishes and
pairings, this week's Lunch 'n' Learns, and the topics in demand that I could teach.

Read-only but for creating the asker on first contact (as every command does). The question's
intent comes from bot.services.assistant_intents; the builder in bot.views.assistant renders."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.services import learning
from bot.services.assistant_intents import Intent, Question
from bot.services.availability import TeacherOption, WaitReason, open_wish_reasons, teachers_for
from bot.services.insights import PersonOverview, person_overview
from bot.services.lunch.demand import TopicDemand, topics_in_demand
from bot.services.lunch.seats import MySeat, listing
from bot.services.topics import TopicError, match_topic
from models import HostConsent, Person, Skill, Topic, Wish, WishStatus

TEACHERS_SHOWN = 5
WEEK = timedelta(days=7)
DEMAND_SHOWN = 5


@dataclass(frozen=True)
class TeachersAnswer:
    typed: str | None  # the topic as asked; None: the question named none
    topic: Topic | None = None  # the shared topic it names (typos merged), if anyone has it
    teachers: list[TeacherOption] = field(default_factory=list)
    similar: Topic | None = None  # a known topic close to an unknown one: "did you mean"
    problem: str | None = None  # the topic cannot be used (too long, no letters)
    wished: bool = False  # the asker already wishes to learn it


@dataclass(frozen=True)
class LearningAnswer:
    overview: PersonOverview
    waiting: dict[str, WaitReason]  # open wish's topic -> why it is still open (not yet paired)
    next_round: datetime


@dataclass(frozen=True)
class WeekAnswer:
    seats: list[MySeat]


@dataclass(frozen=True)
class CouldTeachAnswer:
    wanted: list[tuple[Topic, int]]  # my skills that colleagues wish to learn, with how many wish it
    untaught: list[TopicDemand]  # topics wished for that nobody (available) teaches yet
    has_skills: bool


@dataclass(frozen=True)
class SimpleAnswer:
    intent: Intent  # GREETING, HELP or UNKNOWN: the builder says what the assistant can do


Answer = TeachersAnswer | LearningAnswer | WeekAnswer | CouldTeachAnswer | SimpleAnswer


def answer_question(
    session: Session, *, person: Person, question: Question, next_round: datetime, now: datetime
) -> Answer:
    if question.intent == Intent.TEACHERS:
        return who_can_teach(session, learner=person, typed=question.topic, now=now)
    if question.intent == Intent.LEARNING:
        return my_learning(session, person=person, next_round=next_round, now=now)
    if question.intent == Intent.THIS_WEEK:
        return this_week(session, person=person, now=now)
    if question.intent == Intent.COULD_TEACH:
        return what_i_could_teach(session, person=person, now=now)
    return SimpleAnswer(question.intent)


def who_can_teach(session: Session, *, learner: Person, typed: str | None, now: datetime) -> TeachersAnswer:
    """Colleagues who could teach `learner` the topic now (availability.teachers_for: pause, snooze,
    leavers, blocks either way and free capacity respected)."""
    if not typed:
        return TeachersAnswer(None)
    try:
        match = match_topic(session, team_id=learner.team_id, typed=typed)
    except TopicError as error:
        return TeachersAnswer(typed, problem=str(error))
    if match.topic is None:
        return TeachersAnswer(match.typed, similar=match.similar)
    wished = session.scalar(
        select(func.count())
        .select_from(Wish)
        .where(Wish.person_id == learner.id, Wish.topic_id == match.topic.id, Wish.status == WishStatus.OPEN)
    )
    teachers = teachers_for(session, learner=learner, topic_id=match.topic.id, now=now, limit=TEACHERS_SHOWN)
    return TeachersAnswer(match.typed, match.topic, teachers, wished=bool(wished))


def my_learning(session: Session, *, person: Person, next_round: datetime, now: datetime) -> LearningAnswer:
    overview = person_overview(session, person=person, now=now)
    paired = {pairing.topic for pairing in overview.pairings if pairing.learning}
    reasons = open_wish_reasons(session, team_id=person.team_id, now=now)
    waiting = {
        wish.topic.display_name: reasons[wish.id]
        for wish in learning.open_wishes(session, person)
        if wish.id in reasons and wish.topic.display_name not in paired
    }
    return LearningAnswer(overview, waiting, next_round)


def this_week(session: Session, *, person: Person, now: datetime) -> WeekAnswer:
    """Sessions starting in the next seven days whose host has agreed to host them."""
    seats = [
        seat
        for seat in listing(session, person=person, now=now)
        if seat.state.lunch.starts_at < now + WEEK and seat.state.lunch.host_consent == HostConsent.ACCEPTED
    ]
    return WeekAnswer(seats)


def what_i_could_teach(session: Session, *, person: Person, now: datetime) -> CouldTeachAnswer:
    skills = session.scalars(select(Skill).where(Skill.person_id == person.id)).all()
    topics = [skill.topic for skill in skills]
    counts = learning.learner_counts(session, person, topics)
    wanted = sorted(
        ((topic, counts.get(topic.id, 0)) for topic in topics if counts.get(topic.id, 0) > 0),
        key=lambda pair: (-pair[1], pair[0].display_name.casefold()),
    )
    mine = {topic.id for topic in topics}
    untaught = [
        demand
        for demand in topics_in_demand(session, team_id=person.team_id, now=now, limit=DEMAND_SHOWN * 3)
        if demand.teachers == 0 and demand.topic.id not in mine
    ][:DEMAND_SHOWN]
    return CouldTeachAnswer(wanted[:DEMAND_SHOWN], untaught, has_skills=bool(topics))
