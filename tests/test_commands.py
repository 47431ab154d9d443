"""/teachme, /canteach and /mentoring, sent as signed HTTP requests to the running app."""

from __future__ import annotations

from sqlalchemy import select

from models import Person, Wish


def test_teachme_records_wish_and_replies_ephemerally(flipside):
    reply = flipside.command("/teachme", "social media")
    assert reply.status == 200
    [answer] = flipside.replies()
    assert answer["response_type"] == "ephemeral"
    assert "social media" in answer["text"]
    assert "nobody teaches it yet" in answer["text"]
    assert "Next matching round" in answer["text"]
    with flipside.db.transaction() as session:
        wish = session.scalars(select(Wish)).one()
        assert wish.topic.display_name == "social media"
        assert session.scalars(select(Person)).one().slack_user_id == "U1"
