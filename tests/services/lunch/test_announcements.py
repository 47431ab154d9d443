"""The channel announcement's state, retries under new keys, and who hears of a session."""

from __future__ import annotations

from bot.services import learning, outbox
from bot.services.lunch import announcements
from tests.services.lunch.factories import NOW, new_session, person, queue


def test_announcement_ref_comes_from_the_sent_outbox_row(db):
    with db.transaction() as session:
        host = person(session, "UHOST")
        lunch = new_session(session, host)
        key = announcements.prepare_announcement(session, lunch, channel_id="CLUNCH")
        queue(session, key)
        assert announcements.announcement_ref(session, lunch) is None
        row = announcements.announcement_row(session, lunch)
        outbox.mark_sent(session, message_id=row.id, channel_id="CLUNCH", ts="171.000100", now=NOW)
        session.expire_all()
        assert announcements.announcement_ref(session, lunch) == ("CLUNCH", "171.000100")
        assert (lunch.channel_id, lunch.message_ts) == ("CLUNCH", "171.000100")
        assert announcements.unannounced(session, person=host, now=NOW) == []


def test_failed_announcements_can_be_retried_under_a_new_key(db):
    with db.transaction() as session:
        host = person(session, "UHOST")
        lunch = new_session(session, host)
        first = announcements.prepare_announcement(session, lunch, channel_id="CPRIV")
        queue(session, first)
        outbox.mark_failed(
            session, message_id=announcements.announcement_row(session, lunch).id, error="not_in_channel"
        )
        assert announcements.unannounced(session, person=host, now=NOW) == [lunch]
        assert announcements.prepare_announcement(session, lunch, channel_id="CPRIV") != first


def test_wishers_hear_about_sessions_on_their_topic_but_not_the_host(db):
    with db.transaction() as session:
        host = person(session, "UHOST")
        fan = person(session, "UFAN")
        gone = person(session, "UGONE", deactivated_at=NOW)
        for someone in (host, fan, gone):
            learning.add_wishes(session, someone, "canva", now=NOW)
        lunch = new_session(session, host, topic="Canva")
        assert [p.slack_user_id for p in announcements.wishers(session, lunch)] == ["UFAN"]
        assert announcements.wishers(session, new_session(session, host, topic=None)) == []
