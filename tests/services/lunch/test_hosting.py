"""The host's edit and cancel: who may, what changed, and what queued messages stop."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.config import ProgrammeDefaults
from bot.services import profiles
from bot.services.lunch import announcements, hosting, seats
from bot.services.lunch.common import Outcome
from bot.services.lunch.proposing import ProposalError, ProposalField
from models import LunchStatus, OutboxStatus
from tests.services.lunch.factories import NOW, START, new_session, person, proposal, queue, status_of


def test_only_the_host_or_an_admin_may_edit_or_cancel(db):
    with db.transaction() as session:
        host = person(session, "UHOST")
        other = person(session, "UOTHER")
        flagged = person(session, "USLACKADMIN", is_slack_admin=True)
        admin = person(session, "UADMIN")
        lunch = new_session(session, host)
        kwargs = dict(session_id=lunch.id, proposal=proposal(title="New"), now=NOW)
        denied = hosting.edit_session(session, person=other, host=host, is_admin=False, **kwargs)
        assert denied.outcome == Outcome.NOT_ALLOWED and lunch.title == "Canva in 30 minutes"
        # A stored Slack admin flag is never trusted: only the admin check's answer counts.
        stale = hosting.edit_session(session, person=flagged, host=host, is_admin=False, **kwargs)
        assert stale.outcome == Outcome.NOT_ALLOWED and lunch.title == "Canva in 30 minutes"
        assert hosting.edit_session(session, person=admin, host=host, is_admin=True, **kwargs).changes == [
            "title"
        ]
        refused = hosting.cancel_session(session, session_id=lunch.id, person=other, is_admin=False, now=NOW)
        assert refused.outcome == Outcome.NOT_ALLOWED
        cancelled = hosting.cancel_session(session, session_id=lunch.id, person=admin, is_admin=True, now=NOW)
        assert cancelled.outcome == Outcome.CANCELLED and lunch.status == LunchStatus.CANCELLED


def test_an_admin_of_another_workspace_never_manages_a_session(db):
    with db.transaction() as session:
        host = person(session, "UHOST")
        lunch = new_session(session, host)
        # The same user id in another workspace, where they are an admin.
        stranger = profiles.get_or_create_person(
            session, team_id="T2", slack_user_id="UHOST", defaults=ProgrammeDefaults()
        )
        change = hosting.cancel_session(session, session_id=lunch.id, person=stranger, is_admin=True, now=NOW)
        assert change.outcome == Outcome.NOT_FOUND and lunch.status == LunchStatus.SCHEDULED


def test_an_edit_never_hands_a_session_to_a_host_who_did_not_agree(db):
    with db.transaction() as session:
        host = person(session, "UHOST")
        colleague = person(session, "UCOLLEAGUE")
        admin = person(session, "UADMIN")
        lunch = new_session(session, host)
        kwargs = dict(session_id=lunch.id, proposal=proposal(title="New"), now=NOW)
        with pytest.raises(ProposalError, match="propose it again with them as host") as caught:
            hosting.edit_session(session, person=host, host=colleague, is_admin=False, **kwargs)
        assert set(caught.value.errors) == {ProposalField.HOST}
        assert lunch.host_id == host.id and lunch.title == "Canva in 30 minutes"
        # An admin may take a session over themselves: their own click is their consent.
        taken = hosting.edit_session(session, person=admin, host=admin, is_admin=True, **kwargs)
        assert taken.outcome == Outcome.EDITED and lunch.host_id == admin.id


def test_edit_reports_what_changed_and_guards_the_seats(db):
    with db.transaction() as session:
        host = person(session, "UHOST")
        lunch = new_session(session, host, capacity=3)
        people = [person(session, f"U{n}") for n in "ABCDE"]
        for index, someone in enumerate(people):
            seats.sign_up(session, session_id=lunch.id, person=someone, now=NOW + timedelta(seconds=index))
        with pytest.raises(ProposalError, match="3 people are already going") as caught:
            hosting.edit_session(
                session,
                session_id=lunch.id,
                person=host,
                host=host,
                proposal=proposal(capacity=2),
                is_admin=False,
                now=NOW,
            )
        assert "3 people are already going" in caught.value.errors[ProposalField.SEATS]
        change = hosting.edit_session(
            session,
            session_id=lunch.id,
            person=host,
            host=host,
            proposal=proposal(capacity=4, location="Room 7", starts_at=START + timedelta(hours=1)),
            is_admin=False,
            now=NOW,
        )
        assert change.changes == ["time", "place", "seats"]
        assert [p.slack_user_id for p in change.promoted] == ["UD"]
        assert {p.slack_user_id for p in change.audience} == {"UA", "UB", "UC"}
        nothing = hosting.edit_session(
            session,
            session_id=lunch.id,
            person=host,
            host=host,
            proposal=proposal(capacity=4, location="Room 7", starts_at=START + timedelta(hours=1)),
            is_admin=False,
            now=NOW,
        )
        assert nothing.outcome == Outcome.EDITED and nothing.changes == []


def test_time_change_cancels_pending_reminders_and_cancelling_drops_everything_queued(db):
    with db.transaction() as session:
        host = person(session, "UHOST")
        a = person(session, "UA")
        lunch = new_session(session, host)
        other = new_session(session, host)
        seats.sign_up(session, session_id=lunch.id, person=a, now=NOW)
        old_key = announcements.reminder_key(lunch, a, 15)
        queue(session, old_key)
        queue(session, announcements.reminder_key(other, a, 15))
        queue(session, announcements.feedback_key(lunch, a))
        hosting.edit_session(
            session,
            session_id=lunch.id,
            person=host,
            host=host,
            proposal=proposal(title="Renamed"),
            is_admin=False,
            now=NOW,
        )
        assert status_of(session, old_key) == OutboxStatus.PENDING  # same time: the reminder still holds
        hosting.edit_session(
            session,
            session_id=lunch.id,
            person=host,
            host=host,
            proposal=proposal(title="Renamed", starts_at=START + timedelta(days=1)),
            is_admin=False,
            now=NOW,
        )
        assert status_of(session, old_key) == OutboxStatus.CANCELLED
        assert announcements.reminder_key(lunch, a, 15) != old_key
        assert status_of(session, announcements.feedback_key(lunch, a)) == OutboxStatus.PENDING
        change = hosting.cancel_session(session, session_id=lunch.id, person=host, is_admin=False, now=NOW)
        assert [p.slack_user_id for p in change.audience] == ["UA"]
        assert status_of(session, announcements.feedback_key(lunch, a)) == OutboxStatus.CANCELLED
        assert (
            status_of(session, announcements.reminder_key(other, a, 15)) == OutboxStatus.PENDING
        )  # lunch:2 untouched
