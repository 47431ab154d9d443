"""The programme's figures: one definition of each, computed once, read by the admin's App Home,
`python -m bot report`, the CSV export, the monthly summary and the demo.

Each figure is counted by the database (COUNT, SUM over CASE, AVG, GROUP BY) over a window of
time, and again over the window before it, so every figure has its trend. A report costs a fixed
number of queries however many people, wishes and pairings there are (benchmarks/report.py).
The definitions, in words, are in docs/figures.md; keep the two in step.
"""

from __future__ import annotations

import enum
import statistics
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, or_, select, union_all
from sqlalchemy.orm import Session, aliased

from bot.services.availability import WaitReason, open_wish_reasons
from models import (
    CareerStage,
    LunchFeedback,
    LunchSession,
    LunchSignup,
    LunchStatus,
    MatchingRound,
    Pairing,
    PairingMeeting,
    Person,
    PulseAnswer,
    SignupStatus,
    Skill,
    Topic,
    Wish,
)

TOP_TOPICS = 5
ESTABLISHED_MEETINGS = 3  # met three or more times: a real relationship, not a one-off
BEST_GROUPS = 3
MIN_RATED_PAIRS = 2  # a topic or department needs answers from this many pairs to be ranked
NOT_GIVEN = "Not given"


class Period(enum.StrEnum):
    MONTH = "month"
    DAYS_90 = "90_days"
    ALL_TIME = "all_time"

    @property
    def label(self) -> str:
        return {"month": "This month", "90_days": "Last 90 days", "all_time": "All time"}[self.value]

    @property
    def before_label(self) -> str:
        return {
            "month": "the same days of last month",
            "90_days": "the 90 days before",
            "all_time": "all time at the start of the month",
        }[self.value]

    @classmethod
    def parse(cls, raw: Any, default: Period | None = None) -> Period:
        try:
            return cls(str(raw))
        except ValueError:
            return default or cls.MONTH


@dataclass(frozen=True)
class Window:
    """[since, until): since None is the beginning of time."""

    since: datetime | None
    until: datetime


def month_start(moment: datetime) -> datetime:
    """The first instant of the month that `moment` ends: at exactly midnight on the 1st, that is
    the month before, so a summary drawn at the turn of a month covers the month just ended."""
    inside = moment - timedelta(microseconds=1)
    return inside.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _months_back(start: datetime, months: int) -> datetime:
    year, month = divmod(start.year * 12 + start.month - 1 - months, 12)
    return start.replace(year=year, month=month + 1)


def windows(period: Period, as_of: datetime) -> tuple[Window, Window]:
    """The period ending at `as_of`, and the one it is compared with.

    This month runs from the 1st (UTC) and compares with as many days of the month before; the
    last 90 days with the 90 days before them; all time with all time as it stood when this
    month began (so its trend is this month's growth)."""
    start = month_start(as_of)
    if period is Period.MONTH:
        before = _months_back(start, 1)
        return Window(start, as_of), Window(before, min(before + (as_of - start), start))
    if period is Period.DAYS_90:
        return Window(as_of - timedelta(days=90), as_of), Window(
            as_of - timedelta(days=180), as_of - timedelta(days=90)
        )
    return Window(None, as_of), Window(None, start)


# --- what a report holds ----------------------------------------------------------------------


@dataclass(frozen=True)
class TopicDemand:
    topic: str
    wishes: int
    teachers: int  # available colleagues who teach it now


@dataclass(frozen=True)
class RatedGroup:
    name: str
    rating: float
    pairs: int  # pairs whose pulse answers make up the rating


@dataclass(frozen=True)
class StagePairs:
    teacher_stage: str
    learner_stage: str
    pairs: int


@dataclass(frozen=True)
class Figures:
    """Every figure over one window. Counts are of distinct rows; ratings are means of 1-5."""

    window: Window
    participants: int
    active_members: int
    participants_active: int  # participants who are active members (the share's numerator)
    learning_only: int
    teaching_only: int
    both: int
    wishes_new: int
    open_wishes: int  # open at the window's end
    pairs_proposed: int
    pairs_accepted: int
    pairs_met: int
    pairs_established: int
    reverse_pairs: int
    cross_department_pairs: int
    exchange_pairs: int
    median_wait_days: float | None
    lunch_held: int
    lunch_seats: int
    lunch_rating: float | None
    pulse_answers: int
    pulse_rating: float | None
    pulse_stopped: int
    rounds: int

    @property
    def participation_share(self) -> float | None:
        return ratio(self.participants_active, self.active_members)

    @property
    def reverse_share(self) -> float | None:
        return ratio(self.reverse_pairs, self.pairs_proposed)

    @property
    def cross_department_share(self) -> float | None:
        return ratio(self.cross_department_pairs, self.pairs_proposed)

    @property
    def exchange_share(self) -> float | None:
        return ratio(self.exchange_pairs, self.pairs_proposed)


@dataclass(frozen=True)
class Details:
    """What only the current window shows: the lists behind the headline numbers."""

    open_by_reason: tuple[tuple[WaitReason, int], ...]
    top_open_topics: tuple[TopicDemand, ...]
    top_new_topics: tuple[TopicDemand, ...]
    unteachable_topics: tuple[TopicDemand, ...]  # every topic with open wishes nobody teaches
    best_topics: tuple[RatedGroup, ...]
    best_departments: tuple[RatedGroup, ...]
    who_teaches_whom: tuple[StagePairs, ...]


@dataclass(frozen=True)
class Row:
    """One figure as every reader shows it: a key (CSV, tests), a label, the value and the one
    before. Percentages are fractions; None is "not enough data"."""

    key: str
    label: str
    value: float | int | None
    previous: float | int | None
    kind: str = "count"  # count, share, rating, days


@dataclass(frozen=True)
class ProgrammeFigures:
    team_id: str
    period: Period
    as_of: datetime
    current: Figures
    previous: Figures
    details: Details
    headline_keys: tuple[str, ...] = field(
        default=(
            "participants",
            "open_wishes",
            "pairs_accepted",
            "pairs_established",
            "reverse_share",
            "median_wait_days",
            "pulse_rating",
        )
    )

    def rows(self) -> list[Row]:
        c, p = self.current, self.previous

        def row(key: str, label: str, kind: str = "count") -> Row:
            return Row(key, label, _value(c, key), _value(p, key), kind)

        return [
            row("participants", "Participants"),
            row("participation_share", "Share of active members", "share"),
            row("learning_only", "Learning only"),
            row("teaching_only", "Teaching only"),
            row("both", "Learning and teaching"),
            row("wishes_new", "New wishes"),
            row("open_wishes", "Open wishes"),
            row("pairs_proposed", "Pairs proposed"),
            row("pairs_accepted", "Pairs accepted"),
            row("pairs_met", "Pairs that met"),
            row("pairs_established", "Established pairs (met 3+ times)"),
            row("reverse_share", "Reverse pairs", "share"),
            row("cross_department_share", "Cross-department pairs", "share"),
            row("exchange_share", "Exchange pairs", "share"),
            row("median_wait_days", "Median wait for a partner", "days"),
            row("lunch_held", "Lunch 'n' Learns held"),
            row("lunch_seats", "Lunch 'n' Learn seats filled"),
            row("lunch_rating", "Lunch 'n' Learn rating", "rating"),
            row("pulse_answers", "Pulse answers"),
            row("pulse_rating", "Pulse rating", "rating"),
            row("pulse_stopped", "Pairs that stopped meeting"),
        ]

    def headline(self) -> list[Row]:
        by_key = {r.key: r for r in self.rows()}
        return [by_key[key] for key in self.headline_keys]


def _value(figures: Figures, key: str) -> float | int | None:
    return getattr(figures, key)


def ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def trend(row: Row) -> str:
    """▲ or ▼ against the period before; "" when equal or either side is unknown."""
    if row.value is None or row.previous is None or row.value == row.previous:
        return ""
    return "▲" if row.value > row.previous else "▼"


# --- computing them -------------------------------------------------------------------------


def programme_figures(session: Session, *, team_id: str, period: Period, as_of: datetime) -> ProgrammeFigures:
    current_window, previous_window = windows(period, as_of)
    current, previous = _figures(session, team_id=team_id, windows=(current_window, previous_window))
    return ProgrammeFigures(
        team_id=team_id,
        period=period,
        as_of=as_of,
        current=current,
        previous=previous,
        details=_details(session, team_id=team_id, window=current_window),
    )


def _within(column: Any, window: Window) -> ColumnElement[bool]:
    upper = column < window.until
    return upper if window.since is None else and_(column >= window.since, upper)


def _in_any(column: Any, wins: Sequence[Window]) -> ColumnElement[bool]:
    return or_(*(_within(column, window) for window in wins))


def _count_if(condition: ColumnElement[bool]) -> Any:
    # SUM(CASE ...) rather than COUNT(*) FILTER: portable to SQLite and PostgreSQL alike.
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _flag(condition: ColumnElement[bool]) -> Any:
    return case((condition, 1), else_=0)


def _avg_if(condition: ColumnElement[bool], value: Any) -> Any:
    return func.avg(case((condition, value), else_=None))  # AVG skips the NULLs


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _open_at(moment: datetime) -> ColumnElement[bool]:
    """A wish open at `moment`: created before it, and not closed (met, withdrawn) by then."""
    return and_(Wish.created_at < moment, or_(Wish.closed_at.is_(None), Wish.closed_at >= moment))


def _active_member(moment: datetime) -> ColumnElement[bool]:
    return and_(
        Person.created_at < moment,
        Person.forgotten_at.is_(None),
        or_(Person.deactivated_at.is_(None), Person.deactivated_at >= moment),
    )


def _figures(session: Session, *, team_id: str, windows: Sequence[Window]) -> list[Figures]:
    """Every figure for each window, each table read once for all of them (conditional sums)."""
    values: list[dict[str, Any]] = [{"window": window} for window in windows]
    for part in (_participation, _wishes, _pairs, _median_wait_days, _lunch, _pulse, _rounds):
        for figures_of_window, found in zip(
            values, part(session, team_id=team_id, windows=windows), strict=True
        ):
            figures_of_window.update(found)
    return [Figures(**figures_of_window) for figures_of_window in values]


def _participation(session: Session, *, team_id: str, windows: Sequence[Window]) -> list[dict[str, int]]:
    """People who, during the window, had a wish or offered a skill, or were in a pair proposed in
    it. Pairings count too, so people who were forgotten (their wishes and skills deleted) still
    appear in the period in which they took part."""

    def wish_alive(window: Window) -> ColumnElement[bool]:
        alive = Wish.created_at < window.until
        if window.since is not None:
            alive = and_(alive, or_(Wish.closed_at.is_(None), Wish.closed_at >= window.since))
        return alive

    def side(person: Any, flags: list[ColumnElement[bool]], learns: bool, where: Any) -> Any:
        # One row per person already in each branch: the union to group is a few rows a person.
        columns = [person.label("person_id")]
        for index, flag in enumerate(flags):
            mine, other = func.max(_flag(flag)), literal(0)
            columns.append((mine if learns else other).label(f"learns_{index}"))
            columns.append((other if learns else mine).label(f"teaches_{index}"))
        return select(*columns).where(where, or_(*flags)).group_by(person)

    roles = union_all(
        side(Wish.person_id, [wish_alive(w) for w in windows], True, Wish.team_id == team_id),
        side(
            Pairing.learner_id,
            [_within(Pairing.proposed_at, w) for w in windows],
            True,
            Pairing.team_id == team_id,
        ),
        side(Skill.person_id, [Skill.created_at < w.until for w in windows], False, Skill.team_id == team_id),
        side(
            Pairing.teacher_id,
            [_within(Pairing.proposed_at, w) for w in windows],
            False,
            Pairing.team_id == team_id,
        ),
    ).subquery()
    per_person = (
        select(
            roles.c.person_id,
            *(
                func.max(roles.c[f"{role}_{i}"]).label(f"{role}_{i}")
                for i in range(len(windows))
                for role in ("learns", "teaches")
            ),
        )
        .group_by(roles.c.person_id)
        .subquery()
    )
    columns = []
    for index, window in enumerate(windows):
        learns, teaches = per_person.c[f"learns_{index}"] == 1, per_person.c[f"teaches_{index}"] == 1
        columns += [
            _count_if(and_(learns, ~teaches)),
            _count_if(and_(teaches, ~learns)),
            _count_if(and_(learns, teaches)),
            _count_if(and_(or_(learns, teaches), _active_member(window.until))),
        ]
    row = session.execute(
        select(*columns).select_from(per_person).join(Person, Person.id == per_person.c.person_id)
    ).one()
    members = session.execute(
        select(*(_count_if(_active_member(w.until)) for w in windows)).where(Person.team_id == team_id)
    ).one()
    found = []
    for index in range(len(windows)):
        learning_only, teaching_only, both, active = (int(v) for v in row[index * 4 : index * 4 + 4])
        found.append(
            {
                "participants": learning_only + teaching_only + both,
                "active_members": int(members[index]),
                "participants_active": active,
                "learning_only": learning_only,
                "teaching_only": teaching_only,
                "both": both,
            }
        )
    return found


def _wishes(session: Session, *, team_id: str, windows: Sequence[Window]) -> list[dict[str, int]]:
    columns = []
    for window in windows:
        columns += [_count_if(_within(Wish.created_at, window)), _count_if(_open_at(window.until))]
    row = session.execute(select(*columns).where(Wish.team_id == team_id)).one()
    return [{"wishes_new": int(row[2 * i]), "open_wishes": int(row[2 * i + 1])} for i in range(len(windows))]


PAIR_KEYS = (
    "pairs_proposed",
    "pairs_accepted",
    "pairs_met",
    "pairs_established",
    "reverse_pairs",
    "cross_department_pairs",
    "exchange_pairs",
)


def _pairs(session: Session, *, team_id: str, windows: Sequence[Window]) -> list[dict[str, int]]:
    """The pairs proposed in the window, followed to its end: accepted, met, established. One row per
    pairing with its meetings counted (a LEFT JOIN grouped by pairing), then summed per window."""
    per_pairing = (
        select(
            Pairing.proposed_at,
            Pairing.accepted_at,
            Pairing.is_reverse,
            Pairing.is_cross_department,
            Pairing.exchange_topic_id,
            *(_count_if(PairingMeeting.logged_at < w.until).label(f"met_{i}") for i, w in enumerate(windows)),
        )
        .outerjoin(PairingMeeting, PairingMeeting.pairing_id == Pairing.id)
        .where(Pairing.team_id == team_id, _in_any(Pairing.proposed_at, windows))
        .group_by(Pairing.id)
        .subquery()
    )
    pairing = per_pairing.c
    columns = []
    for index, window in enumerate(windows):
        proposed = _within(pairing.proposed_at, window)
        met = pairing[f"met_{index}"]
        columns += [
            _count_if(proposed),
            _count_if(and_(proposed, pairing.accepted_at.is_not(None), pairing.accepted_at < window.until)),
            _count_if(and_(proposed, met >= 1)),
            _count_if(and_(proposed, met >= ESTABLISHED_MEETINGS)),
            _count_if(and_(proposed, pairing.is_reverse.is_(True))),
            _count_if(and_(proposed, pairing.is_cross_department.is_(True))),
            _count_if(and_(proposed, pairing.exchange_topic_id.is_not(None))),
        ]
    row = session.execute(select(*columns).select_from(per_pairing)).one()
    size = len(PAIR_KEYS)
    return [
        {key: int(value) for key, value in zip(PAIR_KEYS, row[i * size : (i + 1) * size], strict=True)}
        for i in range(len(windows))
    ]


def _median_wait_days(session: Session, *, team_id: str, windows: Sequence[Window]) -> list[dict[str, Any]]:
    """Median days from a wish to its first accepted pairing, over wishes first paired in the window.

    A wish re-added after it closed starts again (its created_at moves), so only pairings accepted
    after its current start count."""
    first = (
        select(Pairing.wish_id, func.min(Pairing.accepted_at).label("first_accepted"))
        .join(Wish, Wish.id == Pairing.wish_id)
        .where(
            Pairing.team_id == team_id,
            Pairing.accepted_at.is_not(None),
            Pairing.accepted_at >= Wish.created_at,
        )
        .group_by(Pairing.wish_id)
        .subquery()
    )
    rows = session.execute(
        select(
            _days_between(session, Wish.created_at, first.c.first_accepted),
            *(_flag(_within(first.c.first_accepted, w)) for w in windows),
        )
        .join(first, first.c.wish_id == Wish.id)
        .where(_in_any(first.c.first_accepted, windows))
    ).all()
    found = []
    for index in range(len(windows)):
        waits = [float(row[0]) for row in rows if row[index + 1]]
        found.append({"median_wait_days": statistics.median(waits) if waits else None})
    return found


def _days_between(session: Session, start: Any, end: Any) -> Any:
    """Days from `start` to `end`, computed by the database (no datetimes to load per row)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", end - start) / 86400.0
    return func.julianday(end) - func.julianday(start)


def _lunch(session: Session, *, team_id: str, windows: Sequence[Window]) -> list[dict[str, Any]]:
    """Sessions held (scheduled, not cancelled, started in the window), their seats taken, and the
    average rating attendees gave them."""
    held = and_(
        LunchSession.team_id == team_id,
        LunchSession.status == LunchStatus.SCHEDULED,
        _in_any(LunchSession.starts_at, windows),
    )
    in_window = [_within(LunchSession.starts_at, w) for w in windows]
    counts = session.execute(select(*(_count_if(c) for c in in_window)).where(held)).one()
    seats = session.execute(
        select(*(_count_if(c) for c in in_window))
        .select_from(LunchSignup)
        .join(LunchSession, LunchSession.id == LunchSignup.session_id)
        .where(held, LunchSignup.status == SignupStatus.ATTENDING)
    ).one()
    ratings = session.execute(
        select(*(_avg_if(c, LunchFeedback.rating) for c in in_window))
        .join(LunchSession, LunchSession.id == LunchFeedback.session_id)
        .where(held)
    ).one()
    return [
        {"lunch_held": int(counts[i]), "lunch_seats": int(seats[i]), "lunch_rating": _float(ratings[i])}
        for i in range(len(windows))
    ]


def _pulse(session: Session, *, team_id: str, windows: Sequence[Window]) -> list[dict[str, Any]]:
    columns = []
    for window in windows:
        answered = _within(PulseAnswer.answered_at, window)
        columns += [
            _count_if(answered),
            _avg_if(answered, PulseAnswer.rating),
            _count_if(and_(answered, PulseAnswer.stopped_meeting.is_(True))),
        ]
    row = session.execute(
        select(*columns).where(
            PulseAnswer.team_id == team_id,
            PulseAnswer.answered_at.is_not(None),
            _in_any(PulseAnswer.answered_at, windows),
        )
    ).one()
    return [
        {
            "pulse_answers": int(row[3 * i]),
            "pulse_rating": _float(row[3 * i + 1]),
            "pulse_stopped": int(row[3 * i + 2]),
        }
        for i in range(len(windows))
    ]


def _rounds(session: Session, *, team_id: str, windows: Sequence[Window]) -> list[dict[str, int]]:
    row = session.execute(
        select(*(_count_if(_within(MatchingRound.started_at, w)) for w in windows)).where(
            MatchingRound.team_id == team_id
        )
    ).one()
    return [{"rounds": int(value)} for value in row]


# --- the lists behind the numbers (current window only) ----------------------------------------


def _details(session: Session, *, team_id: str, window: Window) -> Details:
    reasons = open_wish_reasons(session, team_id=team_id, now=window.until)
    counted: dict[WaitReason, int] = {}
    for reason in reasons.values():
        counted[reason] = counted.get(reason, 0) + 1
    top_open, top_new, unteachable = _demand(session, team_id=team_id, window=window)
    return Details(
        open_by_reason=tuple((reason, counted[reason]) for reason in WaitReason if reason in counted),
        top_open_topics=top_open,
        top_new_topics=top_new,
        unteachable_topics=unteachable,
        best_topics=_best_topics(session, team_id=team_id, window=window),
        best_departments=_best_departments(session, team_id=team_id, window=window),
        who_teaches_whom=_who_teaches_whom(session, team_id=team_id, window=window),
    )


def _demand(
    session: Session, *, team_id: str, window: Window
) -> tuple[tuple[TopicDemand, ...], tuple[TopicDemand, ...], tuple[TopicDemand, ...]]:
    """Topics by open wishes at the window's end and by wishes new in it, with how many active
    colleagues (not paused, gone or forgotten) teach each: the top few of each, and every topic
    with open wishes that nobody teaches. Two GROUP BY queries, merged here."""
    teachers = dict(
        session.execute(
            select(Skill.topic_id, func.count())
            .join(Person, Person.id == Skill.person_id)
            .where(
                Skill.team_id == team_id,
                Skill.created_at < window.until,
                Person.paused.is_(False),
                _active_member(window.until),
            )
            .group_by(Skill.topic_id)
        ).all()
    )
    rows = session.execute(
        select(
            Topic.id,
            Topic.display_name,
            _count_if(_open_at(window.until)),
            _count_if(_within(Wish.created_at, window)),
        )
        .join(Wish, Wish.topic_id == Topic.id)
        .where(Topic.team_id == team_id, Wish.created_at < window.until)
        .group_by(Topic.id, Topic.display_name)
    ).all()
    open_demand = sorted(
        (
            TopicDemand(name, int(count), teachers.get(topic_id, 0))
            for topic_id, name, count, _new in rows
            if count
        ),
        key=lambda d: (-d.wishes, d.topic.casefold()),
    )
    new_demand = sorted(
        (
            TopicDemand(name, int(new), teachers.get(topic_id, 0))
            for topic_id, name, _count, new in rows
            if new
        ),
        key=lambda d: (-d.wishes, d.topic.casefold()),
    )
    return (
        tuple(open_demand[:TOP_TOPICS]),
        tuple(new_demand[:TOP_TOPICS]),
        tuple(d for d in open_demand if d.teachers == 0),
    )


def _answered_in(window: Window) -> ColumnElement[bool]:
    return and_(
        PulseAnswer.answered_at.is_not(None),
        PulseAnswer.rating.is_not(None),
        _within(PulseAnswer.answered_at, window),
    )


def _ranked(rows: list[Any]) -> tuple[RatedGroup, ...]:
    groups = [
        RatedGroup(name or NOT_GIVEN, float(rating), pairs)
        for name, rating, pairs in rows
        if pairs >= MIN_RATED_PAIRS
    ]
    groups.sort(key=lambda g: (-g.rating, -g.pairs, g.name.casefold()))
    return tuple(groups[:BEST_GROUPS])


def _best_topics(session: Session, *, team_id: str, window: Window) -> tuple[RatedGroup, ...]:
    rows = session.execute(
        select(Topic.display_name, func.avg(PulseAnswer.rating), func.count(func.distinct(Pairing.id)))
        .join(Pairing, Pairing.id == PulseAnswer.pairing_id)
        .join(Topic, Topic.id == Pairing.topic_id)
        .where(PulseAnswer.team_id == team_id, _answered_in(window))
        .group_by(Topic.id, Topic.display_name)
    ).all()
    return _ranked(rows)


def _best_departments(session: Session, *, team_id: str, window: Window) -> tuple[RatedGroup, ...]:
    """A pair counts for each of its two departments (once if both are the same); "Finance" and
    "finance" are one. Grouped by the pair of departments in SQL (a few dozen rows), then folded."""
    learner, teacher = aliased(Person), aliased(Person)
    learner_key, teacher_key = (
        func.lower(func.trim(learner.department)),
        func.lower(func.trim(teacher.department)),
    )
    rows = session.execute(
        select(
            learner_key,
            teacher_key,
            func.min(learner.department),
            func.min(teacher.department),
            func.sum(PulseAnswer.rating),
            func.count(PulseAnswer.rating),
            func.count(func.distinct(Pairing.id)),
        )
        .join(Pairing, Pairing.id == PulseAnswer.pairing_id)
        .join(learner, learner.id == Pairing.learner_id)
        .join(teacher, teacher.id == Pairing.teacher_id)
        .where(PulseAnswer.team_id == team_id, _answered_in(window))
        .group_by(learner_key, teacher_key)
    ).all()
    totals: dict[str, list[Any]] = {}
    for learner_dept, teacher_dept, learner_name, teacher_name, rating_sum, ratings, pairs in rows:
        for key, name in {learner_dept: learner_name, teacher_dept: teacher_name}.items():
            if not key:
                continue
            total = totals.setdefault(key, [(name or "").strip(), 0, 0, 0])
            total[1] += int(rating_sum or 0)
            total[2] += int(ratings)
            total[3] += int(pairs)
    return _ranked(
        [
            (name, rating_sum / ratings, pairs)
            for name, rating_sum, ratings, pairs in totals.values()
            if ratings
        ]
    )


def _who_teaches_whom(session: Session, *, team_id: str, window: Window) -> tuple[StagePairs, ...]:
    """Pairs accepted in the window by the teacher's and the learner's career stage."""
    teacher, learner = aliased(Person), aliased(Person)
    rows = session.execute(
        select(teacher.career_stage, learner.career_stage, func.count())
        .select_from(Pairing)
        .join(teacher, teacher.id == Pairing.teacher_id)
        .join(learner, learner.id == Pairing.learner_id)
        .where(
            Pairing.team_id == team_id,
            Pairing.accepted_at.is_not(None),
            _within(Pairing.accepted_at, window),
        )
        .group_by(teacher.career_stage, learner.career_stage)
    ).all()
    order = {stage: stage.rank for stage in CareerStage}
    rows = sorted(rows, key=lambda r: (order.get(r[0], 99), order.get(r[1], 99)))
    return tuple(StagePairs(_stage(t), _stage(lrn), int(n)) for t, lrn, n in rows)


def _stage(stage: CareerStage | None) -> str:
    return stage.label.capitalize() if stage else NOT_GIVEN


# --- pairs over time (the monthly chart) -------------------------------------------------------


@dataclass(frozen=True)
class MonthPairs:
    month: str  # "2026-11"
    proposed: int
    accepted: int
    established: int


def _month_key(session: Session, column: Any) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM")
    return func.strftime("%Y-%m", column)


def pairs_over_time(
    session: Session, *, team_id: str, as_of: datetime, months: int = 12
) -> tuple[MonthPairs, ...]:
    """Pairs proposed, accepted and established per calendar month, the last `months` months up to
    `as_of` (months without pairs included, as zeros): two GROUP BY queries."""
    end = month_start(as_of + timedelta(microseconds=1))
    first = _months_back(end, months - 1)
    window = Window(first, as_of)
    proposed_month = _month_key(session, Pairing.proposed_at)
    meetings = (
        select(PairingMeeting.pairing_id, func.count().label("meetings"))
        .join(Pairing, Pairing.id == PairingMeeting.pairing_id)
        .where(Pairing.team_id == team_id, PairingMeeting.logged_at < as_of)
        .group_by(PairingMeeting.pairing_id)
        .subquery()
    )
    counts = {
        month: (int(proposed), int(established))
        for month, proposed, established in session.execute(
            select(
                proposed_month,
                func.count(),
                _count_if(func.coalesce(meetings.c.meetings, 0) >= ESTABLISHED_MEETINGS),
            )
            .select_from(Pairing)
            .outerjoin(meetings, meetings.c.pairing_id == Pairing.id)
            .where(Pairing.team_id == team_id, _within(Pairing.proposed_at, window))
            .group_by(proposed_month)
        )
    }
    accepted_month = _month_key(session, Pairing.accepted_at)
    accepted = dict(
        session.execute(
            select(accepted_month, func.count())
            .where(
                Pairing.team_id == team_id,
                Pairing.accepted_at.is_not(None),
                _within(Pairing.accepted_at, window),
            )
            .group_by(accepted_month)
        ).all()
    )
    series = []
    for index in range(months):
        key = f"{_months_back(end, months - 1 - index):%Y-%m}"
        proposed, established = counts.get(key, (0, 0))
        series.append(MonthPairs(key, proposed, int(accepted.get(key, 0)), established))
    return tuple(series)


def all_periods(session: Session, *, team_id: str, as_of: datetime) -> Iterator[ProgrammeFigures]:
    """Every period's figures: what the CSV export writes."""
    for period in Period:
        yield programme_figures(session, team_id=team_id, period=period, as_of=as_of)
