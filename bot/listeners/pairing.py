"""Buttons and modals of the pairing lifecycle, and the personal controls (snooze, block list)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.config import Settings
from bot.db import Database
from bot.delivery import canvases, flow_notices
from bot.delivery import pairing_notices as notices
from bot.delivery.sender import flush_outbox
from bot.ids import Action, Block, Modal, Work
from bot.listeners.support import (
    hand_over,
    input_value,
    person_transaction,
    refresh_home,
    team_of,
    tell_privately,
    try_slack,
    user_of,
)
from bot.logs import error_code
from bot.services import ghosting, outbox, pairings, profiles
from bot.services.pairings import Outcome
from bot.views import pairing as views
from bot.views.text import slack_date
from bot.work.queue import Job, task
from models import Pairing, Person, utcnow

logger = logging.getLogger(__name__)

OUTCOME_TEXT = {
    Outcome.WAITING_FOR_OTHER: ":white_check_mark: Thanks! I will introduce you once they say yes too.",
    Outcome.BOTH_ACCEPTED: ":tada: You both said yes! I've opened a group DM to introduce you.",
    Outcome.DECLINED: "Declined. I'll let them know kindly.",
    Outcome.ALREADY_ANSWERED: "You've already answered this one; nothing changed.",
    Outcome.ALREADY_LOGGED: ":white_check_mark: Your partner already logged this meeting. Thanks!",
    Outcome.STALE: "This pairing has changed since that message was sent, so that button no longer applies.",
    Outcome.NOT_YOURS: "That button belongs to someone else's pairing, so I ignored it.",
    Outcome.NOT_FOUND: "I couldn't find that pairing any more.",
    Outcome.LOGGED: ":white_check_mark: Logged. Keep it going!",
    Outcome.ENDED: ":mortar_board: Marked as done. Thank you both!",
}


def _ephemeral(respond: Respond, text: str) -> None:
    respond(response_type="ephemeral", replace_original=False, text=text)


def _programme(session, person: Person, context: BoltContext):
    settings: Settings = context["settings"]
    return profiles.programme_settings(session, team_id=person.team_id, defaults=settings.programme)


def _redraw_proposals(client: WebClient, db: Database, pairing_id: int) -> None:
    """Update both people's proposal DMs in place to show the new state."""
    with db.transaction() as session:
        pairing = session.get(Pairing, pairing_id)
        if pairing is None:
            return
        updates = []
        for person in (pairing.learner, pairing.teacher):
            sent = outbox.sent_message(
                session, team_id=pairing.team_id, dedupe_key=notices.proposal_key(pairing, person)
            )
            if sent is not None and sent.channel_id and sent.slack_ts:
                updates.append((sent.channel_id, sent.slack_ts, views.build_proposal(pairing, person)))
    for channel, ts, message in updates:
        try:
            client.chat_update(channel=channel, ts=ts, **message.as_kwargs())
        except SlackApiError as error:
            logger.warning("could not redraw a proposal: %s", error_code(error.response.get("error")))


def _answer(ack: Ack, body: dict, context: BoltContext, *, accept: bool) -> None:
    ack()
    hand_over(context, body, Work.PAIRING_ANSWER, accept=accept)


@task(Work.PAIRING_ANSWER)
def answer_pairing(job: Job) -> None:
    """Store the answer with the messages it queues for the other person, then show it."""
    body, context, action = job.body, job.context, job.body["actions"][0]
    # Stored by an earlier version after it had stored the answer itself: only show it.
    if "outcome" in job.extras:
        show_answer(
            body,
            job.respond,
            job.client,
            context,
            outcome=Outcome(job.extras["outcome"]),
            pairing_id=job.extras["pairing_id"],
        )
        return
    with person_transaction(body, context) as (session, person):
        change = pairings.answer(
            session,
            value=action.get("value"),
            person=person,
            accept=bool(job.extras["accept"]),
            now=utcnow(),
            settings=_programme(session, person, context),
        )
        notices.after_answer(session, change, now=utcnow())
        next_pairing_id = flow_notices.after_answer(
            session, change, defaults=context["settings"].programme, now=utcnow()
        )
        pairing_id = change.pairing.id if change.pairing else None
        topic = views.topics_text(change.pairing) if change.pairing else ""
    if change.outcome == Outcome.DECLINED and pairing_id:
        # First: the trigger id behind the click is only good for 3 seconds.
        try_slack(
            job.client.views_open,
            trigger_id=body["trigger_id"],
            view=views.build_decline_modal(pairing_id, topic=topic),
        )
    show_answer(body, job.respond, job.client, context, outcome=change.outcome, pairing_id=pairing_id)
    if next_pairing_id:  # the next teacher's proposal, now rather than at the outbox job's tick
        flush_outbox(
            context["db"], job.client, team_id=team_of(body), key_prefix=f"pairing:{next_pairing_id}:"
        )


def show_answer(
    body: dict, respond: Respond, client: WebClient, context: BoltContext, *, outcome: Outcome, pairing_id
) -> None:
    """The answer is stored, its messages to the other person queued in the outbox with it: send
    them now (the outbox job sends whatever fails here), and show both people the new state."""
    _ephemeral(respond, OUTCOME_TEXT[outcome])
    if outcome in (Outcome.BOTH_ACCEPTED, Outcome.DECLINED, Outcome.WAITING_FOR_OTHER) and pairing_id:
        db: Database = context["db"]
        _redraw_proposals(client, db, pairing_id)
        flush_outbox(db, client, team_id=team_of(body), key_prefix=f"pairing:{pairing_id}:")
        # Whoever's flush sent the introduction (either partner's click) goes on to the canvas.
        canvases.write_learning_log_now(db, client, pairing_id=pairing_id)
        refresh_home(client, context, team_id=team_of(body), user_id=user_of(body))


def accept_pairing(ack: Ack, body: dict, context: BoltContext) -> None:
    _answer(ack, body, context, accept=True)


def decline_pairing(ack: Ack, body: dict, context: BoltContext) -> None:
    _answer(ack, body, context, accept=False)


def decline_reason_submitted(ack: Ack, body: dict, view: dict, context: BoltContext) -> None:
    ack()
    reason = (input_value(view, Block.REASON) or "").strip()
    if not reason:
        return
    with person_transaction(body, context) as (session, person):
        pairings.save_decline_reason(
            session, pairing_id=_int(view.get("private_metadata")), person=person, reason=reason
        )


def checkin_met(
    ack: Ack, body: dict, action: dict, respond: Respond, client: WebClient, context: BoltContext
):
    ack()
    refusal = topic = exchange_topics = None
    with person_transaction(body, context) as (session, person):
        parsed = pairings.parse_button_value(action.get("value"))
        pairing = session.get(Pairing, parsed[0]) if parsed else None
        if pairing is None or person.id not in (pairing.learner_id, pairing.teacher_id):
            refusal = OUTCOME_TEXT[Outcome.NOT_YOURS if pairing else Outcome.NOT_FOUND]
        else:
            topic = views.topics_text(pairing)
            exchange_topics = (
                (pairing.topic.display_name, pairing.exchange_topic.display_name)
                if pairing.exchange_topic is not None
                else None
            )
            ghosting.answered(person, now=utcnow())
    if refusal is not None:  # replied outside the transaction: no Slack call holds the database
        _ephemeral(respond, refusal)
        return
    client.views_open(
        trigger_id=body["trigger_id"],
        view=views.build_checkin_modal(action["value"], topic=topic, exchange_topics=exchange_topics),
    )


def checkin_submitted(ack: Ack, body: dict, view: dict, client: WebClient, context: BoltContext) -> None:
    try:
        rating = pairings.validate_rating(input_value(view, Block.RATING))
    except ValueError as error:
        ack(response_action="errors", errors={Block.RATING: str(error)})
        return
    halves = None
    if Block.HALVES in ((view.get("state") or {}).get("values") or {}):  # an exchange's check-in
        try:
            halves = pairings.meeting_halves(input_value(view, Block.HALVES) or [])
        except ValueError as error:
            ack(response_action="errors", errors={Block.HALVES: str(error)})
            return
    ack()
    note = (input_value(view, Block.NOTE) or "").strip()[: pairings.NOTE_LIMIT]
    with person_transaction(body, context) as (session, person):
        change = pairings.log_meeting(
            session,
            value=view.get("private_metadata"),
            person=person,
            rating=rating,
            note=note,
            now=utcnow(),
            settings=_programme(session, person, context),
            halves=halves,
        )
        canvases.record_meeting(session, change, now=utcnow())
        if change.outcome == Outcome.ENDED and change.pairing:
            notices.enqueue_feedback_request(session, change.pairing, now=utcnow())
        pairing_id = change.pairing.id if change.pairing else None
    show_checkin(body, client, context, outcome=change.outcome, pairing_id=pairing_id)


def show_checkin(
    body: dict, client: WebClient, context: BoltContext, *, outcome: Outcome, pairing_id
) -> None:
    """The meeting is logged; the thanks, and at the end of a pairing its feedback requests."""
    tell_privately(
        client, user_id=user_of(body), channel_id=None, reply=views.build_notice(OUTCOME_TEXT[outcome])
    )
    if outcome == Outcome.ENDED and pairing_id:
        flush_outbox(context["db"], client, team_id=team_of(body), key_prefix=f"pairing:{pairing_id}:")


def checkin_not_yet(ack: Ack, body: dict, respond: Respond, context: BoltContext) -> None:
    ack()
    with person_transaction(body, context) as (_session, person):
        ghosting.answered(person, now=utcnow())  # an answer all the same: not silent
    _ephemeral(respond, "No rush. I'll check in again next week.")


def checkin_done(
    ack: Ack, body: dict, action: dict, respond: Respond, client: WebClient, context: BoltContext
):
    ack()
    value = action.get("value") or ""
    if value.startswith("feedback:"):
        pairing_id = _int(value.removeprefix("feedback:"))
        with person_transaction(body, context) as (session, person):
            pairing = session.get(Pairing, pairing_id)
            allowed = pairing is not None and person.id in (pairing.learner_id, pairing.teacher_id)
            topic = views.topics_text(pairing) if pairing else ""
        if not allowed:
            _ephemeral(respond, OUTCOME_TEXT[Outcome.NOT_YOURS])
            return
        client.views_open(
            trigger_id=body["trigger_id"], view=views.build_feedback_modal(pairing_id, topic=topic)
        )
        return
    with person_transaction(body, context) as (session, person):
        change = pairings.say_done(session, value=value, person=person, now=utcnow())
        ghosting.answered(person, now=utcnow())
        if change.outcome == Outcome.ENDED and change.pairing:
            notices.enqueue_feedback_request(session, change.pairing, now=utcnow())
        team_id = person.team_id
    _ephemeral(respond, OUTCOME_TEXT[change.outcome])
    if change.outcome == Outcome.ENDED:
        flush_outbox(context["db"], client, team_id=team_id, key_prefix=f"pairing:{change.pairing.id}:")


def feedback_submitted(ack: Ack, body: dict, view: dict, client: WebClient, context: BoltContext) -> None:
    try:
        rating = pairings.validate_rating(input_value(view, Block.RATING))
    except ValueError as error:
        ack(response_action="errors", errors={Block.RATING: str(error)})
        return
    ack()
    with person_transaction(body, context) as (session, person):
        saved = pairings.save_feedback(
            session,
            pairing_id=_int(view.get("private_metadata")),
            person=person,
            rating=rating,
            note=(input_value(view, Block.NOTE) or "").strip()[:1000],
            now=utcnow(),
        )
    show_feedback_saved(body, client, saved=saved)


def show_feedback_saved(body: dict, client: WebClient, *, saved: bool) -> None:
    text = ":pray: Thank you for the feedback!" if saved else OUTCOME_TEXT[Outcome.NOT_FOUND]
    tell_privately(client, user_id=user_of(body), channel_id=None, reply=views.build_notice(text))


# Work an earlier version stored for its worker is done the same way.
task(Work.CHECKIN)(
    lambda job: show_checkin(
        job.body,
        job.client,
        job.context,
        outcome=Outcome(job.extras["outcome"]),
        pairing_id=job.extras["pairing_id"],
    )
)
task(Work.FEEDBACK)(lambda job: show_feedback_saved(job.body, job.client, saved=job.extras["saved"]))


def mark_learned(ack: Ack, body: dict, action: dict, respond: Respond, context: BoltContext) -> None:
    ack()
    with person_transaction(body, context) as (session, person):
        done = pairings.mark_learned(
            session, pairing_id=_int(action.get("value")), person=person, now=utcnow()
        )
        if done:
            canvases.record_learned(session, pairing_id=_int(action.get("value")), now=utcnow())
    _ephemeral(
        respond,
        ":mortar_board: Congratulations! I've closed that wish."
        if done
        else "That wish is already closed (or isn't yours).",
    )


def _keep_in_choice(choice: str):
    def handler(ack: Ack, body: dict, respond: Respond, context: BoltContext) -> None:
        ack()
        with person_transaction(body, context) as (_session, person):
            ghosting.answered(person, now=utcnow())  # the stay-in ask is answered: no pause
            if choice == "keep":
                pairings.keep_in(person)
                text = ":thumbsup: Great, you stay in the weekly rounds."
            elif choice == "later":
                pairings.ask_later(person, now=utcnow())
                text = ":calendar: I'll leave you be for four weeks."
            else:
                pairings.take_out(person)
                text = "Done: you're paused. `/mentoring resume` brings you back any time."
        respond(replace_original=True, text=text)

    return handler


def mentoring_snooze(command, respond, client, context, rest) -> None:
    today = datetime.now(ZoneInfo("UTC")).date() + timedelta(days=14)
    client.views_open(
        trigger_id=command["trigger_id"], view=views.build_snooze_modal(today=today.isoformat())
    )


def snooze_submitted(ack: Ack, body: dict, view: dict, client: WebClient, context: BoltContext) -> None:
    with person_transaction(body, context) as (_session, person):
        timezone = person.tz
    try:
        until = pairings.snooze_end(input_value(view, Block.SNOOZE_UNTIL), timezone=timezone, now=utcnow())
    except ValueError as error:
        ack(response_action="errors", errors={Block.SNOOZE_UNTIL: str(error)})
        return
    ack()
    with person_transaction(body, context) as (_session, person):
        pairings.snooze(person, until=until)
    last_day = slack_date(until - timedelta(minutes=1), "{date_long_pretty}")  # the day they picked
    tell_privately(
        client,
        user_id=user_of(body),
        channel_id=None,
        reply=views.build_notice(f":zzz: Snoozed: no new pairings until after {last_day}."),
    )


def mentoring_block(command, respond, client, context, rest) -> None:
    body = {"team_id": command["team_id"], "user_id": command["user_id"]}
    with person_transaction(body, context) as (session, person):
        current = pairings.blocked_user_ids(session, person)
    client.views_open(trigger_id=command["trigger_id"], view=views.build_blocklist_modal(current))


def blocklist_submitted(ack: Ack, body: dict, view: dict, client: WebClient, context: BoltContext) -> None:
    ack()
    settings: Settings = context["settings"]
    user_ids = [uid for uid in (input_value(view, Block.BLOCKED_USERS) or []) if isinstance(uid, str)][:50]
    with person_transaction(body, context) as (session, person):
        others = [
            profiles.get_or_create_person(
                session, team_id=person.team_id, slack_user_id=uid, defaults=settings.programme
            )
            for uid in user_ids
        ]
        pairings.set_blocked(session, person, others, now=utcnow())
    tell_privately(
        client,
        user_id=user_of(body),
        channel_id=None,
        reply=views.build_notice(f":lock: Saved privately: {len(others)} people on your don't-pair list."),
    )


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


def register(app: App) -> None:
    app.action(Action.ACCEPT_PAIRING)(accept_pairing)
    app.action(Action.DECLINE_PAIRING)(decline_pairing)
    app.action(Action.CHECKIN_MET)(checkin_met)
    app.action(Action.CHECKIN_NOT_YET)(checkin_not_yet)
    app.action(Action.CHECKIN_DONE)(checkin_done)
    app.action(Action.MARK_LEARNED)(mark_learned)
    app.action(Action.KEEP_ME_IN)(_keep_in_choice("keep"))
    app.action(Action.ASK_ME_LATER)(_keep_in_choice("later"))
    app.action(Action.TAKE_ME_OUT)(_keep_in_choice("out"))
    app.view(Modal.DECLINE_REASON)(decline_reason_submitted)
    app.view(Modal.CHECKIN)(checkin_submitted)
    app.view(Modal.FEEDBACK)(feedback_submitted)
    app.view(Modal.SNOOZE)(snooze_submitted)
    app.view(Modal.BLOCKLIST)(blocklist_submitted)
