"""queue_learning_log_entry and the log's claim: plain services on a real database."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.services import learning_log
from models import LearningLogEntry, LogStatus
from tests.services.test_insights import NOW, Org


def _pair(session):
    org = Org(session)
    return org.pairing(org.person("U1"), org.person("U2"), "Canva", at=NOW)


def test_a_line_needs_a_log_and_is_queued_once_per_key(database):
    with database.transaction() as session:
        pairing = _pair(session)
        assert learning_log.queue_learning_log_entry(session, pairing=pairing, text="- a", now=NOW) is None
        learning_log.start(session, pairing=pairing, opening="# Log", title="Log", now=NOW)
        assert learning_log.start(session, pairing=pairing, opening="# Again", title="Log", now=NOW) is None
        first = learning_log.queue_learning_log_entry(session, pairing=pairing, text="- pulse", now=NOW)
        assert first is not None
        assert (
            learning_log.queue_learning_log_entry(session, pairing=pairing, text="- pulse", now=NOW) is None
        )
        keyed = learning_log.queue_learning_log_entry(session, pairing=pairing, text="- b", key="k", now=NOW)
        assert keyed is not None
        assert (
            learning_log.queue_learning_log_entry(session, pairing=pairing, text="- c", key="k", now=NOW)
            is None
        )
        assert [e.markdown for e in session.scalars(select(LearningLogEntry))] == ["- pulse", "- b"]


def test_one_claim_at_a_time_until_it_goes_stale(database):
    with database.transaction() as session:
        pairing = _pair(session)
        learning_log.start(session, pairing=pairing, opening="# Log", title="Log", now=NOW)
        work = learning_log.claim(session, pairing_id=pairing.id, owner="a", now=NOW)
        assert work is not None and work.status == LogStatus.PENDING and work.channel_id is None
        assert learning_log.claim(session, pairing_id=pairing.id, owner="b", now=NOW) is None
        later = NOW + learning_log.STALE_CLAIM + timedelta(seconds=1)
        assert learning_log.claim(session, pairing_id=pairing.id, owner="b", now=later) is not None
        assert learning_log.due_pairing_ids(session, now=later) == []  # held by b
        learning_log.release(session, log_id=work.log_id, owner="b", retry_at=later + timedelta(seconds=30))
        assert learning_log.due_pairing_ids(session, now=later) == []
        assert learning_log.due_pairing_ids(session, now=later + timedelta(seconds=30)) == [pairing.id]


def test_an_unavailable_log_drops_its_lines_and_says_why_only_for_workspace_reasons(database):
    with database.transaction() as session:
        pairing = _pair(session)
        log = learning_log.start(session, pairing=pairing, opening="# Log", title="Log", now=NOW)
        learning_log.queue_learning_log_entry(session, pairing=pairing, text="- a", now=NOW)
        learning_log.mark_unavailable(session, log_id=log.id, reason="missing_scope")
        assert learning_log.pending_entries(session, pairing_id=pairing.id) == []
        assert learning_log.queue_learning_log_entry(session, pairing=pairing, text="- b", now=NOW) is None
        assert learning_log.workspace_unavailable_reason(session, team_id="T1") == "missing_scope"
        log.skipped_reason = learning_log.PAIR_REASON_PREFIX + "canvas_not_found"
        assert learning_log.workspace_unavailable_reason(session, team_id="T1") is None
