"""The demo's "between rounds" part: a decline followed by the next teacher, and a leaver."""

from __future__ import annotations

import random

from bot.cli import sample_org
from bot.cli.demo_flow import demo_flow
from bot.config import ProgrammeDefaults
from bot.delivery import pairing_notices as notices
from bot.services import profiles
from models import utcnow


def test_the_demo_shows_a_decline_then_the_next_teacher_and_a_leaver(database):
    now, defaults = utcnow().replace(microsecond=0), ProgrammeDefaults()
    with database.transaction() as session:
        profiles.ensure_workspace(session, team_id="TDEMO", defaults=defaults)
        people = sample_org.generate(60, rng=random.Random(7))
        sample_org.load(session, team_id="TDEMO", people=people, defaults=defaults, now=now)
    with database.transaction() as session:
        notices.run_round_and_notify(session, team_id="TDEMO", defaults=defaults, now=now)
    text = demo_flow(database, team_id="TDEMO", defaults=defaults, now=now)
    assert "declines to teach" in text and "At once, not next week" in text
    assert "straight away" in text and "leaves the company" in text
    assert "your partner has left the workspace" in text
    assert "score" not in text.lower()
