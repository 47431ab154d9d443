"""The Lunch 'n' Learn part of `python -m bot demo`."""

from __future__ import annotations

from sqlalchemy import func, select

from models import CareerStage, LunchSession, SkillLevel
from tests.services.lunch.factories import NOW, TEAM, demand_for


def test_demo_proposes_sessions_fills_seats_and_prints_what_the_channel_reads(db):
    import random

    from bot.cli.demo_lunch import demo_lunch

    with db.transaction() as session:
        demand_for(session, "Canva", 12, [("UTEACH", CareerStage.EARLY, SkillLevel.EXPERT)])
        demand_for(session, "Negotiation", 4, [("USENIOR", CareerStage.SENIOR, SkillLevel.CONFIDENT)])
        text = demo_lunch(session, team_id=TEAM, now=NOW, rng=random.Random(1))
        assert session.scalar(select(func.count()).select_from(LunchSession)) == 2
    assert "Suggested: 12 people want to learn Canva; asked Uteach Example (early career)" in text
    assert "Canva: a quick start" in text and "Full (8 of 8 seats taken) · 2 people on the waitlist" in text
    assert "This week's Lunch 'n' Learns" in text and "Negotiation: a quick start" in text
    assert "<!date" not in text and "&amp;" not in text and "[Join the waitlist]" in text


def test_demo_copes_with_an_empty_workspace(db):
    import random

    from bot.cli.demo_lunch import demo_lunch

    with db.transaction() as session:
        assert "too small" in demo_lunch(session, team_id=TEAM, now=NOW, rng=random.Random(1))
