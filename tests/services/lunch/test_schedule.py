"""What the jobs find due: reminders at their time, and the weekly line-up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.config import ProgrammeDefaults
from bot.services import profiles
from bot.services.lunch import hosting, schedule, seats
from tests.services.lunch.factories import NOW, START, TEAM, demand_for, new_session, person


def test_reminders_go_out_at_their_time_nearest_one_only(db):
    with db.transaction() as session:
        host = person(session, "UHOST")
        early, late = person(session, "UEARLY"), person(session, "ULATE")
        lunch = new_session(session, host)
        seats.sign_up(session, session_id=lunch.id, person=early, now=NOW)
        seats.sign_up(session, session_id=lunch.id, person=late, now=START - timedelta(hours=3))

        def due(at: datetime) -> set[tuple[str, int]]:
            found = schedule.due_reminders(session, team_id=TEAM, minutes=[1440, 15], now=at)
            return {(r.person.slack_user_id, r.minutes) for r in found}

        assert due(START - timedelta(days=1, minutes=1)) == set()
        assert due(START - timedelta(days=1)) == {("UHOST", 1440), ("UEARLY", 1440)}
        assert due(START - timedelta(minutes=14)) == {("UHOST", 15), ("UEARLY", 15), ("ULATE", 15)}
        assert due(START) == set()  # started: too late for a reminder
        assert schedule.due_reminders(session, team_id=TEAM, minutes=[], now=START) == []


def test_lineup_is_due_from_monday_morning_in_the_programme_timezone(db):
    with db.transaction() as session:
        settings = profiles.programme_settings(session, team_id=TEAM, defaults=ProgrammeDefaults())
        monday = datetime(2026, 3, 2, tzinfo=UTC)
        assert schedule.lineup_week(settings, now=monday + timedelta(hours=8, minutes=59)) is None
        assert schedule.lineup_week(settings, now=monday + timedelta(hours=9)) == "2026-W10"
        assert schedule.lineup_week(settings, now=monday + timedelta(days=1, hours=10)) is None
        settings.matching_timezone = "Asia/Tokyo"  # 09:00 in Tokyo is 00:00 UTC
        assert schedule.lineup_week(settings, now=monday) == "2026-W10"


def test_weekly_lineup_lists_the_next_seven_days(db):
    with db.transaction() as session:
        host = person(session, "UHOST")
        soon = new_session(session, host)
        new_session(session, host, starts_at=NOW + timedelta(days=8))
        cancelled = new_session(session, host)
        hosting.cancel_session(session, session_id=cancelled.id, person=host, is_admin=False, now=NOW)
        demand_for(session, "Canva", 2, [])
        lineup = schedule.weekly_lineup(session, team_id=TEAM, week="2026-W10", now=NOW)
        assert [state.lunch.id for state in lineup.sessions] == [soon.id]
        assert [
            (d.topic.display_name, d.wishers, d.teachers) for d in lineup.demand
        ] == []  # Canva is planned
        assert not lineup.empty
