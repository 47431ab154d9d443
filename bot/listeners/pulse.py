"""The relationship pulse's buttons: a rating in one click, "we have stopped meeting", and the
optional private note. One person's own answer: written right after the ack (no worker needed);
ending a pairing queues the partner's kind word in the same transaction."""

from __future__ import annotations

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.delivery import canvases, pulse_notices
from bot.delivery.sender import flush_outbox
from bot.ids import Action, Block, Modal
from bot.listeners.support import input_value, person_transaction, tell_privately, user_of
from bot.services import pulse
from bot.services.pulse import PulseOutcome
from bot.views import pulse as views
from bot.views.pulse import PULSE_TEXT, SHARE_WITH_LOG
from models import Pairing, utcnow


def _reply(respond: Respond, text: str) -> None:
    respond(response_type="ephemeral", replace_original=False, text=text)


def pulse_rate(ack: Ack, action: dict, body: dict, respond: Respond, context: BoltContext) -> None:
    ack()
    value, _, raw_rating = str(action.get("value") or "").rpartition(":")
    rating = pulse.validate_rating(raw_rating)
    with person_transaction(body, context) as (session, person):
        result = (
            pulse.rate(session, value=value, person=person, rating=rating, now=utcnow())
            if rating is not None
            else pulse.PulseResult(PulseOutcome.NOT_FOUND)
        )
    _reply(respond, PULSE_TEXT[result.outcome.value].format(rating=result.rating))


def pulse_stopped(
    ack: Ack, action: dict, body: dict, respond: Respond, client: WebClient, context: BoltContext
) -> None:
    ack()
    with person_transaction(body, context) as (session, person):
        result = pulse.stopped(session, value=action.get("value"), person=person, now=utcnow())
        if result.outcome is PulseOutcome.STOPPED and result.pairing is not None:
            pulse_notices.enqueue_partner_stopped(session, result.pairing, told_by=person, now=utcnow())
        team_id, pairing_id = person.team_id, result.pairing.id if result.pairing else None
    _reply(respond, PULSE_TEXT[result.outcome.value])
    if result.outcome is PulseOutcome.STOPPED:
        flush_outbox(context["db"], client, team_id=team_id, key_prefix=f"pairing:{pairing_id}:stopped:")


def pulse_note(ack: Ack, action: dict, body: dict, respond: Respond, client: WebClient, context: BoltContext):
    ack()
    value = str(action.get("value") or "")
    parsed = pulse.parse_value(value)
    with person_transaction(body, context) as (session, person):
        pairing = session.get(Pairing, parsed[0]) if parsed else None
        mine = pairing is not None and person.id in (pairing.learner_id, pairing.teacher_id)
        topic = pairing.topic.display_name if mine else ""
    if not mine:
        _reply(respond, PULSE_TEXT["not_found"])
        return
    client.views_open(trigger_id=body["trigger_id"], view=views.build_pulse_note_modal(value, topic=topic))


def pulse_note_submitted(ack: Ack, body: dict, view: dict, client: WebClient, context: BoltContext) -> None:
    note = str(input_value(view, Block.NOTE) or "").strip()
    if not note:
        ack(response_action="errors", errors={Block.NOTE: "Write a note, or close this window."})
        return
    ack()
    share = SHARE_WITH_LOG in (input_value(view, Block.SHARE_WITH_LOG) or [])
    with person_transaction(body, context) as (session, person):
        saved = pulse.save_note(
            session,
            value=view.get("private_metadata"),
            person=person,
            note=note,
            share_with_log=share,
            now=utcnow(),
        )
        question = pulse.parse_value(view.get("private_metadata"))
        if saved and share and question:
            canvases.record_pulse_notes(session, pairing_id=question[0], now=utcnow())
    text = PULSE_TEXT["not_found" if not saved else "note_shared" if share else "note_saved"]
    tell_privately(client, user_id=user_of(body), channel_id=None, reply=views.build_pulse_reply(text))


def register(app: App) -> None:
    app.action(Action.PULSE_RATE)(pulse_rate)
    app.action(Action.PULSE_STOPPED)(pulse_stopped)
    app.action(Action.PULSE_NOTE)(pulse_note)
    app.view(Modal.PULSE_NOTE)(pulse_note_submitted)
