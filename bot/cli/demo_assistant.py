"""The assistant part of `python -m bot demo`: one person's questions in the assistant pane, and
Flipside's answers as they would read in the thread (the same parser, service and builder)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from bot.config import ProgrammeDefaults
from bot.db import Database
from bot.services import profiles
from bot.services.assistant import answer_question
from bot.services.assistant_intents import parse_question
from bot.services.availability import teachers_for
from bot.services.programme import next_matching_round
from bot.views.assistant import build_answer
from bot.views.plaintext import blocks_to_text
from models import Person, Wish, WishStatus

RULE = "─" * 78


def print_assistant_exchange(database: Database, *, team_id: str, now: datetime) -> None:
    print(f"\n{RULE}\nThe assistant pane: questions asked in Slack's AI app thread\n{RULE}")
    with database.transaction() as session:
        wishes = session.scalars(
            select(Wish)
            .where(Wish.team_id == team_id, Wish.status == WishStatus.OPEN)
            .order_by(Wish.id)
            .limit(200)
        ).all()
        if not wishes:
            print("Nobody in the sample organisation has an open wish to ask about.")
            return
        # Someone whose question has an answer with names in it, if there is one.
        wish = next(
            (
                w
                for w in wishes
                if teachers_for(
                    session, learner=session.get(Person, w.person_id), topic_id=w.topic_id, now=now
                )
            ),
            wishes[0],
        )
        asker = session.get(Person, wish.person_id)
        assert asker is not None
        programme = profiles.programme_settings(session, team_id=team_id, defaults=ProgrammeDefaults())
        next_round = next_matching_round(programme, now=now)
        for typed in (
            f"who can tech me {wish.topic.display_name}?",
            "What am I learning?",
            "what could i teach",
        ):
            answer = answer_question(
                session, person=asker, question=parse_question(typed), next_round=next_round, now=now
            )
            reply = blocks_to_text(build_answer(answer).blocks)
            print(f"{asker.display_name}: {typed}\nFlipside: " + reply.replace("\n", "\n  ") + "\n")
