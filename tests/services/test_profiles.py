"""Copies of a person's Slack profile (users.info answers, user_change events) applied in any order."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.services import profiles
from models import Person, utcnow


def user(name: str, *, updated: int | None) -> dict:
    copy = {"id": "U1", "tz": "Europe/Paris", "profile": {"display_name": name}}
    if updated is not None:
        copy["updated"] = updated
    return copy


def test_a_copy_older_than_the_one_held_is_not_applied():
    person = Person(team_id="T1", slack_user_id="U1", display_name="U1")
    assert profiles.apply_slack_user(person, user("Newer", updated=1_900_000_000), now=utcnow())
    assert person.slack_updated_at == datetime.fromtimestamp(1_900_000_000, UTC)
    # a users.info answer started before the change, arriving after it
    assert not profiles.apply_slack_user(person, user("Older", updated=1_800_000_000), now=utcnow())
    assert person.display_name == "Newer" and person.slack_updated_at.timestamp() == 1_900_000_000
    assert profiles.apply_slack_user(person, user("Same second", updated=1_900_000_000), now=utcnow())
    assert person.display_name == "Same second"


def test_a_copy_that_does_not_say_when_it_changed_is_applied():
    person = Person(team_id="T1", slack_user_id="U1", display_name="U1")
    assert profiles.apply_slack_user(person, user("Newer", updated=1_900_000_000), now=utcnow())
    assert profiles.apply_slack_user(person, user("Undated", updated=None), now=utcnow())
    assert person.display_name == "Undated" and person.slack_updated_at.timestamp() == 1_900_000_000
