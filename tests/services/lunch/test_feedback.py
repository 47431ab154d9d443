"""Feedback: ratings from attendees only, after the session, and the host's summary."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.services.lunch import feedback, schedule, seats
from bot.services.lunch.common import Outcome
from tests.services.lunch.factories import NOW, TEAM, new_session, person


def test_feedback_from_attendees_after_the_session_and_a_summary_for_the_host(db):
    with db.transaction() as session:
        host = person(session, "UHOST")
        a, b, c = (person(session, f"U{n}") for n in "ABC")
        lunch = new_session(session, host, capacity=None)
        for someone in (a, b):
            seats.sign_up(session, session_id=lunch.id, person=someone, now=NOW)
        after = lunch.ends_at + timedelta(minutes=1)
        early = feedback.record_feedback(session, session_id=lunch.id, person=a, rating=5, now=NOW)
        assert early.outcome == Outcome.NOT_OVER
        stranger = feedback.record_feedback(session, session_id=lunch.id, person=c, rating=1, now=after)
        assert stranger.outcome == Outcome.NOT_ATTENDEE
        assert {
            p.slack_user_id for _lunch, p in schedule.due_feedback_asks(session, team_id=TEAM, now=after)
        } == {
            "UA",
            "UB",
        }
        assert feedback.record_feedback(
            session, session_id=lunch.id, person=a, rating=5, now=after
        ).outcome == (Outcome.RATED)
        feedback.record_feedback(
            session, session_id=lunch.id, person=a, rating=4, note=" Great\n\n\n\ntips ", now=after
        )
        feedback.record_feedback(session, session_id=lunch.id, person=b, rating=3, now=after)
        assert schedule.due_feedback_asks(session, team_id=TEAM, now=after) == []
        summary = feedback.feedback_summary(session, lunch)
        assert (summary.count, summary.average, summary.notes) == (2, 3.5, ["Great\n\ntips"])
        assert summary.by_rating == {1: 0, 2: 0, 3: 1, 4: 1, 5: 0}
        assert schedule.due_host_summaries(session, team_id=TEAM, now=after) == []
        [(found, _summary)] = schedule.due_host_summaries(
            session, team_id=TEAM, now=after + timedelta(days=2)
        )
        assert found.id == lunch.id
        [(past, _summary)] = feedback.hosted_past(session, person=host, now=after)
        assert past.id == lunch.id


@pytest.mark.parametrize("raw_rating", ["0", "6", "x", None, "3.5"])
def test_ratings_are_one_to_five(raw_rating):
    with pytest.raises(ValueError, match="Pick a rating from 1 to 5"):
        feedback.validate_rating(raw_rating)
