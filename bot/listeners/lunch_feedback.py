"""Lunch 'n' Learn feedback: the rating buttons after a session, and the optional note modal."""

from __future__ import annotations

import logging

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.ids import Action, Block, Modal
from bot.listeners.lunch_common import (
    answer,
)
from bot.listeners.support import (
    input_value,
    metadata,
    person_transaction,
)
from bot.services.lunch import feedback
from bot.services.lunch.common import Change, Outcome, parse_id
from bot.views import lunch as views
from models import utcnow

logger = logging.getLogger(__name__)


# ----------------------------------------------------------------------------- feedback


def handle_feedback_rate(
    ack: Ack, body: dict, action: dict, respond: Respond, client: WebClient, context: BoltContext
) -> None:
    ack()
    session_id, rating = views.parse_rating_value((action.get("selected_option") or {}).get("value"))
    modal = None
    with person_transaction(body, context) as (session, person):
        if rating not in feedback.RATINGS:
            change = Change(Outcome.NOT_FOUND)
        else:
            change = feedback.record_feedback(
                session, session_id=session_id, person=person, rating=rating, now=utcnow()
            )
        if change.outcome == Outcome.RATED and change.lunch is not None and rating is not None:
            modal = views.build_feedback_modal(change.lunch, rating=rating)
        reply = views.build_notice(views.outcome_text(change.outcome, change.lunch))
    if modal is None:
        answer(body, respond, client, reply)
        return
    # The rating is stored already; the modal only offers the optional note.
    client.views_open(trigger_id=body["trigger_id"], view=modal)


def handle_feedback_submitted(ack: Ack, body: dict, view: dict, context: BoltContext) -> None:
    try:
        rating = feedback.validate_rating(input_value(view, Block.RATING))
    except ValueError as error:
        ack(response_action="errors", errors={Block.RATING: str(error)})
        return
    ack()
    with person_transaction(body, context) as (session, person):
        feedback.record_feedback(
            session,
            session_id=parse_id(metadata(view).get("session_id")),
            person=person,
            rating=rating,
            note=input_value(view, Block.NOTE),
            now=utcnow(),
        )


def register(app: App) -> None:
    app.view(Modal.LUNCH_FEEDBACK)(handle_feedback_submitted)
    app.action(Action.LUNCH_FEEDBACK_RATE)(handle_feedback_rate)
