"""Exactly-once delivery: re-runs, crashes at any point, two senders, and Slack's failures."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import select

from bot.config import ProgrammeDefaults
from bot.delivery.sender import METADATA_EVENT, Deliverer
from bot.services import outbox, profiles
from bot.slack.client import retry_handlers
from bot.views.common import Message
from models import OutboxMessage, OutboxStatus, utcnow
from tests.conftest import manifest_bot_scopes


@pytest.fixture
def client(fake_slack):
    return WebClient(token="xoxb-test", base_url=fake_slack.base_url, retry_handlers=retry_handlers())


def queue(database, count, *, now=None, prefix="U"):
    now = now or utcnow()
    with database.transaction() as session:
        profiles.ensure_workspace(session, team_id="T1", defaults=ProgrammeDefaults())
        for n in range(count):
            outbox.enqueue(
                session,
                team_id="T1",
                dedupe_key=f"test:{n}",
                kind="test",
                recipient=f"{prefix}{n:05d}",
                message=Message(text=f"hello {n}"),
                send_after=now,
            )


def per_recipient(fake_slack):
    return Counter(message["channel"] for message in fake_slack.messages())


def statuses(database):
    with database.transaction() as session:
        return Counter(session.scalars(select(OutboxMessage.status)))


def test_enqueue_twice_is_one_message(database, fake_slack, client):
    queue(database, 3)
    queue(database, 3)
    report = Deliverer(database, client).deliver_due()
    assert report.sent == 3
    assert Deliverer(database, client).deliver_due().sent == 0
    assert sorted(per_recipient(fake_slack).values()) == [1, 1, 1]


def test_server_errors_and_rate_limits_are_retried_by_slack_sdk(database, fake_slack, client):
    queue(database, 4)
    fake_slack.fail_next("chat.postMessage", status=500)
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=1)
    report = Deliverer(database, client).deliver_due()
    assert report.sent == 4 and report.failed == 0
    assert len(fake_slack.messages()) == 4
    assert fake_slack.rate_limited_count("chat.postMessage") == 1


def test_permanent_error_marks_failed_and_transient_error_retries_later(database, fake_slack, client):
    queue(database, 2)
    fake_slack.fail_next("chat.postMessage", error="user_not_found")
    fake_slack.fail_next("chat.postMessage", error="internal_error")
    report = Deliverer(database, client).deliver_due()
    assert (report.sent, report.failed, report.retried) == (0, 1, 1)
    assert statuses(database) == Counter({OutboxStatus.FAILED: 1, OutboxStatus.PENDING: 1})
    later = Deliverer(database, client).deliver_due(now=utcnow() + timedelta(minutes=2))
    assert later.sent == 1


def test_a_channel_the_bot_is_not_in_is_joined_once_if_public_and_failed_if_private(
    database, fake_slack, client
):
    queue(database, 2, prefix="CPUB")
    fake_slack.fail_next("chat.postMessage", error="not_in_channel")  # removed from the channel
    report = Deliverer(database, client).deliver_due()
    assert report.sent == 2 and report.failed == 0
    assert [c.args["channel"] for c in fake_slack.calls_to("conversations.join")] == ["CPUB00000"]
    assert sorted(per_recipient(fake_slack).values()) == [1, 1]

    fake_slack.set_channel("CPRIV", is_private=True)
    with database.transaction() as session:
        outbox.enqueue(
            session,
            team_id="T1",
            dedupe_key="test:private",
            kind="test",
            recipient="CPRIV",
            message=Message(text="hello"),
            send_after=utcnow(),
        )
    fake_slack.fail_next("chat.postMessage", error="not_in_channel")
    report = Deliverer(database, client).deliver_due()
    assert report.failed == 1 and report.errors == ["not_in_channel"]  # an /invite is needed
    assert statuses(database)[OutboxStatus.FAILED] == 1


def test_a_retry_to_a_channel_the_bot_left_joins_it_and_a_passing_join_error_is_retried(
    database, fake_slack, client
):
    queue(database, 1, prefix="CLEFT")
    fake_slack.fail_next("chat.postMessage", error="fatal_error")  # a first attempt that failed
    assert Deliverer(database, client).deliver_due().retried == 1
    later = utcnow() + timedelta(minutes=2)
    # Its retry first reads the channel's history (did the first attempt get through?), which Slack
    # refuses to a bot that is not a member; then the post is refused, and the join's own failure passes.
    fake_slack.fail_next("conversations.history", error="not_in_channel")
    fake_slack.fail_next("chat.postMessage", error="not_in_channel")
    fake_slack.fail_next("conversations.join", error="fatal_error")
    report = Deliverer(database, client).deliver_due(now=later)  # retried in this run's next batch
    assert report.errors == ["fatal_error"] and report.retried == 1 and report.failed == 0
    assert report.sent == 1 and per_recipient(fake_slack) == Counter({"CLEFT00000": 1})
    assert [c.args["channel"] for c in fake_slack.calls_to("conversations.join")] == ["CLEFT00000"]


def test_crash_after_claim_before_send_is_sent_once_after_restart(database, fake_slack, client):
    start = utcnow()
    queue(database, 20, now=start)
    with database.transaction() as session:  # a sender claims a batch and dies
        outbox.claim(session, now=start, owner="dead:1", limit=20, stale_after=timedelta(minutes=2))
    assert Deliverer(database, client).deliver_due(now=start + timedelta(seconds=30)).sent == 0
    report = Deliverer(database, client).deliver_due(now=start + timedelta(minutes=3))
    assert report.sent == 20 and report.recovered == 0
    assert set(per_recipient(fake_slack).values()) == {1}


def test_crash_after_slack_accepted_is_not_sent_again(database, fake_slack, client):
    start = utcnow()
    queue(database, 10, now=start)
    with database.transaction() as session:
        rows = outbox.claim(session, now=start, owner="dead:1", limit=10, stale_after=timedelta(minutes=2))
        session.expunge_all()
    for row in rows[:6]:  # it posted six, then died before recording them
        client.chat_postMessage(
            channel=row.recipient,
            text=row.text,
            metadata={"event_type": METADATA_EVENT, "event_payload": {"outbox_id": row.id}},
        )
    report = Deliverer(database, client).deliver_due(now=start + timedelta(minutes=3))
    assert (report.recovered, report.sent) == (6, 4)
    assert len(fake_slack.messages()) == 10
    assert set(per_recipient(fake_slack).values()) == {1}
    assert statuses(database) == Counter({OutboxStatus.SENT: 10})


def test_the_exactly_once_check_reads_a_private_programme_channel(database, fake_slack, client):
    # A private programme channel Flipside was /invited to: after a crash, its history (groups:history,
    # granted from the manifest) shows the post already went out, so it is not posted again.
    fake_slack.set_channel("CPRIV00000", is_private=True, is_member=True)
    start = utcnow()
    queue(database, 1, now=start, prefix="CPRIV")
    with database.transaction() as session:
        [row] = outbox.claim(session, now=start, owner="dead:1", limit=1, stale_after=timedelta(minutes=2))
        session.expunge_all()
    client.chat_postMessage(
        channel="CPRIV00000",
        text=row.text,
        metadata={"event_type": METADATA_EVENT, "event_payload": {"outbox_id": row.id}},
    )
    report = Deliverer(database, client).deliver_due(now=start + timedelta(minutes=3))
    assert (report.recovered, report.sent) == (1, 0)
    assert [call.ok for call in fake_slack.calls_to("conversations.history")] == [True]
    assert per_recipient(fake_slack) == Counter({"CPRIV00000": 1})


def test_without_groups_history_slack_refuses_the_check_in_a_private_channel(fake_slack, client):
    # What the manifest's groups:history is for: without it Slack answers missing_scope.
    fake_slack.set_channel("CPRIV", is_private=True, is_member=True)
    fake_slack.grant_scopes(scope for scope in manifest_bot_scopes() if scope != "groups:history")
    with pytest.raises(SlackApiError) as refused:
        client.conversations_history(channel="CPRIV", limit=1)
    assert (refused.value.response["error"], refused.value.response["needed"]) == (
        "missing_scope",
        "groups:history",
    )
    assert client.conversations_history(channel="CPUBLIC", limit=1)["ok"]  # channels:history still granted


def test_two_senders_at_once_send_each_message_once(database, fake_slack, client):
    queue(database, 120)
    reports = []

    def drain(owner):
        sender = Deliverer(
            database, WebClient(token="xoxb-test", base_url=fake_slack.base_url), owner=owner, batch_size=10
        )
        reports.append(sender.deliver_due())

    threads = [threading.Thread(target=drain, args=(f"proc:{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(report.sent for report in reports) == 120
    assert len(fake_slack.messages()) == 120
    assert set(per_recipient(fake_slack).values()) == {1}


def test_group_dm_is_opened_and_remembered(database, fake_slack, client):
    with database.transaction() as session:
        profiles.ensure_workspace(session, team_id="T1", defaults=ProgrammeDefaults())
        outbox.enqueue(
            session,
            team_id="T1",
            dedupe_key="intro",
            kind="intro",
            recipient=["U2", "U1"],
            message=Message(text="meet"),
            send_after=utcnow(),
        )
    Deliverer(database, client).deliver_due()
    group = fake_slack.group_dm_channel_for("U1", "U2")
    assert [m["text"] for m in fake_slack.messages(group)] == ["meet"]
    with database.transaction() as session:
        assert session.scalars(select(OutboxMessage.channel_id)).one() == group


def test_a_slow_sender_whose_rows_were_taken_over_does_not_send_them_again(database, fake_slack, client):
    start = utcnow()
    queue(database, 5, now=start)
    slow = Deliverer(database, client, owner="slow:1")
    with database.transaction() as session:  # the slow sender claimed a batch, then waited its turn
        rows = outbox.claim(session, now=start, owner="slow:1", limit=5, stale_after=timedelta(minutes=2))
        session.expunge_all()
    taker = Deliverer(database, client, owner="fast:2").deliver_due(now=start + timedelta(minutes=3))
    assert taker.sent == 5
    report = slow.deliver_due()  # nothing due for it any more
    for row in rows:  # and its own batch, resumed late, is refused row by row
        slow._deliver_one(row, report)
    assert report.skipped == 5 and report.sent == 0
    assert set(per_recipient(fake_slack).values()) == {1} and len(fake_slack.messages()) == 5


def test_an_uninstalled_workspace_gets_nothing_sent(database, fake_slack, client):
    from bot.services import workspaces

    queue(database, 3)
    with database.transaction() as session:
        workspaces.mark_uninstalled(session, team_id="T1", now=utcnow())
    assert Deliverer(database, client).deliver_due().sent == 0
    assert fake_slack.messages() == []
