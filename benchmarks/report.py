"""How long does the admin's report take on a big programme, and how many queries?

    python benchmarks/report.py                      # 10,000 people, SQLite and PostgreSQL
    python benchmarks/report.py --quick              # 1,000 people
    python benchmarks/report.py --skip-pg            # SQLite only

Builds a workspace of --people people with 5 wishes each (50,000 for 10,000 people), skills, and two
years of weekly rounds with their pairings, meetings, pulse answers and Lunch 'n' Learns (bulk
inserts, seeded). Then times bot.services.figures.programme_figures, what App Home, `report` and
the export read, for each period (median and best of --repeat runs), and counts its queries with a
SQLAlchemy event listener. The same on a programme a tenth of the size shows that the count does
not grow with the data. Goal: under 1 s and a fixed number of queries. Figures, not a test.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import event, insert, text  # noqa: E402

from benchmarks._common import (  # noqa: E402
    DEFAULT_PG_SERVER,
    PG_HOWTO,
    migrated_sqlite,
    pg_database,
    pg_reachable,
    remove_tree,
    rule,
    temp_dir,
    verdict,
)
from bot.cli import migrations  # noqa: E402
from bot.db import Database  # noqa: E402
from bot.services import figures  # noqa: E402
from models import (  # noqa: E402
    Answer,
    CareerStage,
    LunchFeedback,
    LunchSession,
    LunchSignup,
    MatchingRound,
    Pairing,
    PairingMeeting,
    PairingStatus,
    Person,
    PulseAnswer,
    SignupStatus,
    Skill,
    SkillLevel,
    Topic,
    Wish,
    WishStatus,
    Workspace,
    utcnow,
)

TEAM = "T1"
GOAL_SECONDS = 1.0
WISHES_PER_PERSON = 5
WEEKS = 104
DEPARTMENTS = ("Engineering", "Sales", "Operations", "Marketing", "Finance", "People", "Legal", "Data")


def build(url: str, *, people: int, seed: int) -> dict[str, int]:
    """The programme, inserted in bulk; returns how many rows of each kind."""
    rng = random.Random(seed)
    now = utcnow()
    start = now - timedelta(weeks=WEEKS)
    database = Database(url)
    stages = list(CareerStage)
    topics_count = max(30, people // 33)
    with database.transaction() as session:
        session.add(Workspace(team_id=TEAM, installed_at=start))
        session.flush()
        session.execute(
            insert(Topic),
            [
                {"team_id": TEAM, "key": f"topic {i}", "display_name": f"Topic {i}", "created_at": start}
                for i in range(topics_count)
            ],
        )
        person_rows = [
            {
                "team_id": TEAM,
                "slack_user_id": f"U{i:06d}",
                "display_name": f"Person {i}",
                "career_stage": rng.choices(stages, (0.4, 0.33, 0.21, 0.06))[0],
                "department": rng.choice(DEPARTMENTS),
                "capacity": rng.choice((1, 1, 2)),
                "paused": rng.random() < 0.03,
                "profile_completed_at": start,
                "created_at": start + timedelta(days=rng.randint(0, WEEKS * 7 - 1)),
            }
            for i in range(people)
        ]
        session.execute(insert(Person), person_rows)
        person_ids = list(range(1, people + 1))
        topic_ids = list(range(1, topics_count + 1))
        wish_rows, skill_rows = [], []
        for person_id in person_ids:
            chosen = rng.sample(topic_ids, WISHES_PER_PERSON + 2)
            for topic_id in chosen[:WISHES_PER_PERSON]:
                created = start + timedelta(days=rng.uniform(0, WEEKS * 7 - 1))
                closed = rng.random() < 0.4
                wish_rows.append(
                    {
                        "team_id": TEAM,
                        "person_id": person_id,
                        "topic_id": topic_id,
                        "status": WishStatus.MET if closed else WishStatus.OPEN,
                        "created_at": created,
                        "closed_at": created + timedelta(days=rng.randint(10, 90)) if closed else None,
                    }
                )
            for topic_id in chosen[WISHES_PER_PERSON:]:
                skill_rows.append(
                    {
                        "team_id": TEAM,
                        "person_id": person_id,
                        "topic_id": topic_id,
                        "level": rng.choice(list(SkillLevel)),
                        "created_at": start,
                    }
                )
        session.execute(insert(Wish), wish_rows)
        session.execute(insert(Skill), skill_rows)
        session.execute(
            insert(MatchingRound),
            [
                {"team_id": TEAM, "round_key": f"R{week}", "started_at": start + timedelta(weeks=week)}
                for week in range(WEEKS)
            ],
        )
        pair_rows, meeting_rows, pulse_rows = [], [], []
        per_week = max(1, people // 50)
        wish_ids = list(range(1, len(wish_rows) + 1))
        for week in range(WEEKS):
            proposed = start + timedelta(weeks=week, hours=1)
            for _ in range(per_week):
                wish_id = rng.choice(wish_ids)
                wish = wish_rows[wish_id - 1]
                accepted = rng.random() < 0.7
                teacher_id = rng.choice(person_ids)
                while teacher_id == wish["person_id"]:
                    teacher_id = rng.choice(person_ids)
                pair_rows.append(
                    {
                        "team_id": TEAM,
                        "round_id": week + 1,
                        "learner_id": wish["person_id"],
                        "teacher_id": teacher_id,
                        "topic_id": wish["topic_id"],
                        "wish_id": wish_id,
                        "exchange_topic_id": rng.choice(topic_ids) if rng.random() < 0.2 else None,
                        "is_reverse": rng.random() < 0.4,
                        "is_cross_department": rng.random() < 0.8,
                        "status": PairingStatus.COMPLETED if accepted else PairingStatus.DECLINED,
                        "learner_answer": Answer.ACCEPTED,
                        "teacher_answer": Answer.ACCEPTED if accepted else Answer.DECLINED,
                        "proposed_at": proposed,
                        "expires_at": proposed + timedelta(days=5),
                        "accepted_at": proposed + timedelta(days=1) if accepted else None,
                    }
                )
                if accepted:
                    pairing_id = len(pair_rows)
                    for meeting in range(rng.randint(0, 5)):
                        meeting_rows.append(
                            {
                                "pairing_id": pairing_id,
                                "checkin_slot": meeting,
                                "rating": rng.randint(2, 5),
                                "logged_at": proposed + timedelta(days=7 * (meeting + 1)),
                            }
                        )
                    if rng.random() < 0.6:
                        for person_id in (pair_rows[-1]["learner_id"], pair_rows[-1]["teacher_id"]):
                            pulse_rows.append(
                                {
                                    "team_id": TEAM,
                                    "pairing_id": pairing_id,
                                    "person_id": person_id,
                                    "number": 1,
                                    "asked_at": proposed + timedelta(days=31),
                                    "answered_at": proposed + timedelta(days=32),
                                    "rating": rng.randint(1, 5),
                                    "stopped_meeting": rng.random() < 0.05,
                                }
                            )
        session.execute(insert(Pairing), pair_rows)
        session.execute(insert(PairingMeeting), meeting_rows)
        session.execute(insert(PulseAnswer), pulse_rows)
        lunches = WEEKS * 2
        session.execute(
            insert(LunchSession),
            [
                {
                    "team_id": TEAM,
                    "host_id": rng.choice(person_ids),
                    "title": f"Lunch {i}",
                    "starts_at": start + timedelta(days=3.5 * i),
                    "created_at": start,
                }
                for i in range(lunches)
            ],
        )
        signups = [
            {
                "session_id": lunch,
                "person_id": person_id,
                "status": SignupStatus.ATTENDING,
                "signed_up_at": start,
            }
            for lunch in range(1, lunches + 1)
            for person_id in rng.sample(person_ids, min(12, people))
        ]
        session.execute(insert(LunchSignup), signups)
        session.execute(
            insert(LunchFeedback),
            [
                {
                    **{k: row[k] for k in ("session_id", "person_id")},
                    "rating": rng.randint(3, 5),
                    "created_at": start,
                }
                for row in signups[::2]
            ],
        )
        session.execute(text("ANALYZE"))  # statistics, as autovacuum would have gathered by then
    database.dispose()
    return {
        "people": people,
        "wishes": len(wish_rows),
        "skills": len(skill_rows),
        "rounds": WEEKS,
        "pairings": len(pair_rows),
        "meetings": len(meeting_rows),
        "pulse answers": len(pulse_rows),
        "lunch sign-ups": len(signups),
    }


def measure(url: str, *, repeat: int) -> dict[figures.Period, tuple[float, float, int]]:
    """Per period: (median seconds, best seconds, queries of one report)."""
    database = Database(url)
    statements: list[str] = []
    event.listen(database.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    results = {}
    try:
        for period in figures.Period:
            times, counts = [], set()
            for _ in range(repeat):
                with database.transaction() as session:
                    statements.clear()
                    began = time.perf_counter()
                    figures.programme_figures(session, team_id=TEAM, period=period, as_of=utcnow())
                    times.append(time.perf_counter() - began)
                    counts.add(len(statements))
            assert len(counts) == 1, f"the query count changed between runs: {counts}"
            results[period] = (statistics.median(times), min(times), counts.pop())
    finally:
        database.dispose()
    return results


def report_on(label: str, url: str, *, people: int, seed: int, repeat: int) -> tuple[bool, dict]:
    rule(f"{label}: {people:,} people")
    began = time.perf_counter()
    sizes = build(url, people=people, seed=seed)
    print(
        ", ".join(f"{count:,} {kind}" for kind, count in sizes.items()),
        f"(built in {time.perf_counter() - began:.0f} s)",
    )
    results = measure(url, repeat=repeat)
    ok = True
    for period, (median, best, queries) in results.items():
        fast = median < GOAL_SECONDS
        ok &= fast
        print(
            f"  {period.label:<14} median {median * 1000:6.0f} ms, best {best * 1000:6.0f} ms, "
            f"{queries} queries  {verdict(fast)}"
        )
    return ok, {period: queries for period, (_m, _b, queries) in results.items()}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--quick", action="store_true", help="1,000 people")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip-pg", action="store_true")
    parser.add_argument("--pg-server", default=DEFAULT_PG_SERVER)
    parser.add_argument("--strict", action="store_true", help="exit 1 if a goal is missed")
    args = parser.parse_args()
    people = 1_000 if args.quick else args.people
    if not args.skip_pg and not pg_reachable(args.pg_server):
        print(PG_HOWTO.format(url=args.pg_server), file=sys.stderr)
        return 2
    workdir = temp_dir("report")
    all_ok, counts = True, {}
    try:
        for size in (people // 10, people):
            ok, counts[("SQLite", size)] = report_on(
                "SQLite",
                migrated_sqlite(workdir, f"report-{size}.db"),
                people=size,
                seed=args.seed,
                repeat=args.repeat,
            )
            all_ok &= ok or size != people
            if args.skip_pg:
                continue
            with pg_database(args.pg_server, f"flipside_bench_report_{size}") as url:
                database = Database(url)
                migrations.upgrade(database)
                database.dispose()
                ok, counts[("PostgreSQL", size)] = report_on(
                    "PostgreSQL", url, people=size, seed=args.seed, repeat=args.repeat
                )
                all_ok &= ok or size != people
    finally:
        remove_tree(workdir)
    fixed = all(counts[(db, people // 10)] == counts[(db, people)] for db, size in counts if size == people)
    rule("Summary")
    print(f"Under {GOAL_SECONDS:.0f} s on {people:,} people: {verdict(all_ok)}")
    print(f"The same number of queries at {people // 10:,} and {people:,} people: {verdict(fixed)}")
    return 0 if (all_ok and fixed) or not args.strict else 1


if __name__ == "__main__":
    sys.exit(main())
