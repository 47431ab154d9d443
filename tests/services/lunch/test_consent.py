"""Hosts consent: a session with someone else as host waits for their answer; the daily limit."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.services.lunch import consent, proposing, seats
from bot.services.lunch.common import Outcome
from bot.services.lunch.consent import Answer
from bot.services.lunch.proposing import ProposalError, ProposalField
from models import HostConsent, LunchStatus
from tests.services.lunch.factories import NOW, START, new_session, person, proposal, queue, status_of


def asked(session, *, starts_at=START):
    proposer, host = person(session, "UPROP"), person(session, "UHOST")
    lunch = proposing.create_session(
        session, proposal=proposal(starts_at=starts_at), proposer=proposer, host=host, now=NOW
    )
    return lunch, proposer, host


def test_proposing_yourself_as_host_needs_no_answer(db):
    with db.transaction() as session:
        lunch = new_session(session, person(session, "UHOST"))
        assert (lunch.status, lunch.host_consent) == (LunchStatus.SCHEDULED, HostConsent.ACCEPTED)


def test_a_named_host_is_asked_and_the_session_is_closed_until_they_accept(db):
    with db.transaction() as session:
        lunch, _proposer, _host = asked(session)
        assert (lunch.status, lunch.host_consent) == (LunchStatus.AWAITING_HOST, HostConsent.PENDING)
        change = seats.sign_up(session, session_id=lunch.id, person=person(session, "UFAN"), now=NOW)
        assert change.outcome == Outcome.NOT_FOUND


def test_only_the_first_answer_counts(db):
    with db.transaction() as session:
        lunch, proposer, host = asked(session)
        kwargs = dict(session_id=lunch.id, now=NOW + timedelta(hours=1))
        assert (
            consent.answer_request(session, person=proposer, accept=True, **kwargs).answer == Answer.NOT_YOURS
        )
        first = consent.answer_request(session, person=host, accept=True, **kwargs)
        assert (first.answer, first.changed) == (Answer.ACCEPTED, True)
        assert (lunch.status, lunch.host_consent) == (LunchStatus.SCHEDULED, HostConsent.ACCEPTED)
        for accept in (True, False):
            again = consent.answer_request(session, person=host, accept=accept, **kwargs)
            assert (again.answer, again.changed) == (Answer.ALREADY_ACCEPTED, False)
        assert lunch.status == LunchStatus.SCHEDULED


def test_a_declined_session_is_cancelled_and_stays_so(db):
    with db.transaction() as session:
        lunch, _proposer, host = asked(session)
        declined = consent.answer_request(session, session_id=lunch.id, person=host, accept=False, now=NOW)
        assert declined.answer == Answer.DECLINED and lunch.status == LunchStatus.CANCELLED
        late = consent.answer_request(session, session_id=lunch.id, person=host, accept=True, now=NOW)
        assert late.answer == Answer.ALREADY_DECLINED and lunch.host_consent == HostConsent.DECLINED


def test_requests_expire_after_three_days_or_when_the_session_starts(db):
    with db.transaction() as session:
        lunch, _proposer, host = asked(session, starts_at=NOW + timedelta(days=10))
        soon, *_ = asked(session, starts_at=NOW + timedelta(hours=2))
        queue(session, consent.request_key(lunch))  # the request DM, not sent yet
        assert consent.expire_requests(session, team_id="T1", now=NOW + timedelta(hours=1)) == []
        assert consent.expire_requests(session, team_id="T1", now=NOW + timedelta(hours=2)) == [soon]
        assert consent.expire_requests(session, team_id="T1", now=NOW + timedelta(days=3)) == [lunch]
        assert (lunch.status, lunch.host_consent) == (LunchStatus.CANCELLED, HostConsent.EXPIRED)
        assert status_of(session, consent.request_key(lunch)).value == "cancelled"
        assert consent.expire_requests(session, team_id="T1", now=NOW + timedelta(days=4)) == []
        click = consent.answer_request(session, session_id=lunch.id, person=host, accept=True, now=NOW)
        assert (click.answer, click.changed) == (Answer.EXPIRED, False)


def test_a_click_after_the_deadline_expires_the_request_itself(db):
    with db.transaction() as session:
        lunch, _proposer, host = asked(session)
        late = consent.answer_request(session, session_id=lunch.id, person=host, accept=True, now=START)
        assert (late.answer, late.changed) == (Answer.EXPIRED, True)
        assert lunch.status == LunchStatus.CANCELLED


def test_the_daily_limit_counts_every_proposal_of_the_last_24_hours(db):
    with db.transaction() as session:
        host = person(session, "UHOST")
        proposing.check_daily_limit(session, person=host, limit=2, now=NOW)
        new_session(session, host)
        new_session(session, host)
        with pytest.raises(ProposalError) as caught:
            proposing.check_daily_limit(session, person=host, limit=2, now=NOW + timedelta(hours=23))
        assert "2 sessions in the last 24 hours" in caught.value.errors[ProposalField.TITLE]
        proposing.check_daily_limit(session, person=host, limit=2, now=NOW + timedelta(hours=25))
        proposing.check_daily_limit(session, person=host, limit=0, now=NOW)  # 0: no limit
        proposing.check_daily_limit(session, person=person(session, "UOTHER"), limit=2, now=NOW)
        proposing.check_daily_limit(session, person=None, limit=1, now=NOW)  # first contact
