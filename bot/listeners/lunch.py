"""Lunch 'n' Learn: /lunchnlearn, the proposal and edit modals, sign-up buttons, the session menu and
feedback. Each handler: ack, parse, service, builder, then the Slack call(s) that show the result."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from bot import lunch_notices
from bot.config import Settings
from bot.db import Database
from bot.ids import INPUT_ACTION, Action, Block, Command, Modal, Work
from bot.listeners.support import (
    defer_in,
    input_value,
    metadata,
    nudge_worker,
    person_transaction,
    sync_person_from_slack,
    team_of,
    tell_privately,
    user_of,
)
from bot.services import lunch_and_learn as lunches
from bot.services import outbox, profiles
from bot.services.lunch_and_learn import Outcome, ProposalError, ProposalInput
from bot.views import lunch as views
from bot.views.common import Message
from bot.work import Job, task
from models import LunchSession, OutboxStatus, Person, Topic, utcnow

logger = logging.getLogger(__name__)


# ----------------------------------------------------------------------------- helpers


def _reply(body: dict[str, Any], respond: Respond, client: WebClient, reply: Message) -> None:
    """Ephemeral where the click or command happened; a DM when there is no response URL (App Home)."""
    if body.get("response_url") or body.get("response_urls"):
        respond(response_type="ephemeral", replace_original=False, **reply.as_kwargs())
    else:
        tell_privately(client, user_id=user_of(body), channel_id=None, reply=reply)


def _origin(body: dict[str, Any]) -> str | None:
    return body.get("channel_id") or (body.get("channel") or {}).get("id")


def _open_or_push(client: WebClient, body: dict[str, Any], view: dict[str, Any]) -> None:
    if (body.get("view") or {}).get("type") == "modal":
        client.views_push(trigger_id=body["trigger_id"], view=view)
    else:
        client.views_open(trigger_id=body["trigger_id"], view=view)


def _programme(session: Session, team_id: str, context: BoltContext):
    settings: Settings = context["settings"]
    return profiles.programme_settings(session, team_id=team_id, defaults=settings.programme)


def _person(session: Session, team_id: str, user_id: str, context: BoltContext) -> Person:
    settings: Settings = context["settings"]
    return profiles.get_or_create_person(
        session, team_id=team_id, slack_user_id=user_id, defaults=settings.programme
    )


def _admins(context: BoltContext) -> frozenset[str]:
    settings: Settings = context["settings"]
    return settings.admin_user_ids


def _picker_timezone(view: dict[str, Any]) -> str | None:
    """The timezone the time picker showed (Slack echoes it), else the one we opened it with."""
    element = ((view.get("state") or {}).get("values") or {}).get(Block.TIME, {}).get(INPUT_ACTION) or {}
    return element.get("timezone") or metadata(view).get("tz")


def _proposal_input(view: dict[str, Any], *, user_id: str) -> ProposalInput:
    return ProposalInput(
        title=input_value(view, Block.TITLE),
        topic=input_value(view, Block.TOPIC),
        description=input_value(view, Block.DESCRIPTION),
        host_user_id=input_value(view, Block.HOST) or user_id,
        date=input_value(view, Block.DATE),
        time=input_value(view, Block.TIME),
        timezone=_picker_timezone(view),
        duration=input_value(view, Block.DURATION),
        location=input_value(view, Block.LOCATION),
        seats=input_value(view, Block.SEATS),
    )


# ----------------------------------------------------------------------------- /lunchnlearn


def handle_lunchnlearn(
    ack: Ack, body: dict, command: dict, respond: Respond, client: WebClient, context: BoltContext
) -> None:
    ack()
    words = (command.get("text") or "").strip().split()
    subcommand = words[0].lower() if words else ""
    if subcommand == "":
        _open_proposal(body, respond, client, context)
    elif subcommand == "list":
        _list(body, respond, client, context)
    elif subcommand == "announce":
        _announce_mine(body, respond, client, context)
    else:
        _reply(body, respond, client, views.build_help())


def _open_proposal(
    body: dict,
    respond: Respond,
    client: WebClient,
    context: BoltContext,
    *,
    prefill: dict[str, Any] | None = None,
    suggestion_id: int | None = None,
) -> None:
    db: Database = context["db"]
    team_id, user_id = team_of(body), user_of(body)
    with db.transaction() as session:
        person = _person(session, team_id, user_id, context)
        channel_id = _programme(session, team_id, context).channel_id
        synced = person.slack_synced_at is not None
    if not channel_id:
        _reply(body, respond, client, views.build_no_channel())
        return
    if not synced:  # the pickers show the host's timezone: learn it from Slack first
        sync_person_from_slack(client, db=db, settings=context["settings"], team_id=team_id, user_id=user_id)
    with db.transaction() as session:
        tz = _person(session, team_id, user_id, context).tz
    values = views.ModalValues(host_user_id=user_id, tz=tz, **(prefill or {}))
    view = views.build_proposal_modal(
        values,
        now=utcnow(),
        private_metadata={"channel_id": _origin(body), "suggestion_id": suggestion_id},
    )
    _open_or_push(client, body, view)


def open_propose(ack: Ack, body: dict, respond: Respond, client: WebClient, context: BoltContext) -> None:
    ack()
    _open_proposal(body, respond, client, context)


def propose_from_suggestion(
    ack: Ack, body: dict, action: dict, respond: Respond, client: WebClient, context: BoltContext
) -> None:
    ack()
    with person_transaction(body, context) as (session, person):
        suggestion = lunches.suggestion_for(
            session, person=person, suggestion_id=lunches.parse_id(action.get("value"))
        )
        topic = session.get(Topic, suggestion.topic_id) if suggestion else None
        prefill = (
            {"title": f"{topic.display_name}: a quick start", "topic": topic.display_name} if topic else {}
        )
    _open_proposal(
        body, respond, client, context, prefill=prefill, suggestion_id=suggestion.id if suggestion else None
    )


def _list(body: dict, respond: Respond, client: WebClient, context: BoltContext) -> None:
    now = utcnow()
    with person_transaction(body, context) as (session, person):
        reply = views.build_list(
            lunches.listing(session, person=person, now=now),
            hosted=lunches.hosted_past(session, person=person, now=now),
        )
    _reply(body, respond, client, reply)


def _announce_mine(body: dict, respond: Respond, client: WebClient, context: BoltContext) -> None:
    now = utcnow()
    with person_transaction(body, context) as (session, person):
        channel_id = _programme(session, person.team_id, context).channel_id
        pending = lunches.unannounced(session, person=person, now=now) if channel_id else []
        queued = [
            (lunch.id, lunch_notices.queue_announcement(session, lunch, channel_id=str(channel_id), now=now))
            for lunch in pending
        ]
    if not channel_id:
        _reply(body, respond, client, views.build_no_channel())
        return
    if not queued:
        _reply(body, respond, client, views.build_notice("All your sessions are already announced."))
        return
    for session_id, told in queued:
        _post_announcement(
            body, client, context, session_id=session_id, channel_id=str(channel_id), told=told
        )


# ----------------------------------------------------------------------------- proposing


def handle_proposal_submitted(
    ack: Ack, body: dict, view: dict, client: WebClient, context: BoltContext
) -> None:
    now = utcnow()
    try:
        proposal = lunches.parse_proposal(_proposal_input(view, user_id=user_of(body)), now=now)
    except ProposalError as error:
        ack(response_action="errors", errors=error.errors)
        return
    ack()
    db: Database = context["db"]
    team_id = team_of(body)
    with person_transaction(body, context) as (session, proposer):
        host = _person(session, team_id, proposal.host_user_id or proposer.slack_user_id, context)
        lunch = lunches.create_session(session, proposal=proposal, proposer=proposer, host=host, now=now)
        channel_id = _programme(session, team_id, context).channel_id
        told = (
            lunch_notices.queue_announcement(session, lunch, channel_id=channel_id, now=now)
            if channel_id
            else 0
        )
        session_id, host_user_id = lunch.id, host.slack_user_id
    if host_user_id != user_of(body):
        sync_person_from_slack(
            client, db=db, settings=context["settings"], team_id=team_id, user_id=host_user_id
        )
    if not channel_id:
        with db.transaction() as session:
            lunch = session.get(LunchSession, session_id)
            reply = views.build_post_problem(lunch, channel_id=None, error=None)
        tell_privately(
            client, user_id=user_of(body), channel_id=metadata(view).get("channel_id"), reply=reply
        )
        return
    _post_announcement(
        body, client, context, session_id=session_id, channel_id=channel_id, told=told, view=view
    )


def _post_announcement(
    body: dict,
    client: WebClient,
    context: BoltContext,
    *,
    session_id: int,
    channel_id: str,
    told: int,
    view: dict | None = None,
) -> None:
    """Join the channel, send the queued announcement now, and tell the proposer how it went."""
    db: Database = context["db"]
    team_id = team_of(body)
    join_error = lunch_notices.join_channel(client, channel_id)
    if join_error == "is_archived":
        with db.transaction() as session:
            lunch = session.get(LunchSession, session_id)
            assert lunch is not None
            outbox.cancel(session, team_id=team_id, key_prefix=lunches.announce_key(lunch))
    lunch_notices.send_queued(client, context["db"], team_id=team_id, session_id=session_id)
    with db.transaction() as session:
        lunch = session.get(LunchSession, session_id)
        assert lunch is not None
        row = lunches.announcement_row(session, lunch)
        if lunches.announcement_ref(session, lunch):
            reply = views.build_announced(lunch, channel_id=channel_id, told=told)
        elif row is not None and row.status in (OutboxStatus.FAILED, OutboxStatus.CANCELLED):
            reply = views.build_post_problem(lunch, channel_id=channel_id, error=join_error or row.last_error)
        else:
            reply = views.build_post_problem(lunch, channel_id=channel_id, error=None)
    origin = metadata(view).get("channel_id") if view else _origin(body)
    tell_privately(client, user_id=user_of(body), channel_id=origin, reply=reply)


# ----------------------------------------------------------------------------- seats


def handle_sign_up(ack: Ack, body: dict, action: dict, context: BoltContext) -> None:
    ack()
    with person_transaction(body, context) as (session, person):
        change = lunches.sign_up(
            session, session_id=lunches.parse_id(action.get("value")), person=person, now=utcnow()
        )
        reply = views.build_notice(views.outcome_text(change.outcome, change.lunch, position=change.position))
        _defer_seat_change(session, body, context, change, reply)
    nudge_worker(context)


def handle_cancel_signup(ack: Ack, body: dict, action: dict, context: BoltContext) -> None:
    ack()
    now = utcnow()
    with person_transaction(body, context) as (session, person):
        change = lunches.cancel_signup(
            session, session_id=lunches.parse_id(action.get("value")), person=person, now=now
        )
        lunch_notices.tell_promoted(session, change, now=now)
        reply = views.build_notice(views.outcome_text(change.outcome, change.lunch))
        _defer_seat_change(session, body, context, change, reply)
    nudge_worker(context)


def _defer_seat_change(
    session: Session, body: dict, context: BoltContext, change: lunches.Change, reply: Message
) -> None:
    """The seat is taken or freed in this transaction; the reply, the redrawn post and the DMs
    follow from the worker, queued in the same transaction."""
    defer_in(
        session,
        context,
        body,
        Work.SEAT_CHANGE,
        outcome=change.outcome.value,
        session_id=change.lunch.id if change.lunch else None,
        promoted=bool(change.promoted),
        reply=reply.as_kwargs(),
    )


@task(Work.SEAT_CHANGE)
def show_seat_change(job: Job) -> None:
    _reply(job.body, job.respond, job.client, Message(**job.extras["reply"]))
    session_id = job.extras["session_id"]
    if session_id is None or Outcome(job.extras["outcome"]) not in (
        Outcome.SIGNED_UP,
        Outcome.WAITLISTED,
        Outcome.LEFT,
        Outcome.LEFT_WAITLIST,
    ):
        return
    db: Database = job.context["db"]
    team_id, user_id = job.work.team_id, user_of(job.body)
    # First click from this person: their name comes from Slack before the post shows it.
    sync_person_from_slack(
        job.client, db=db, settings=job.context["settings"], team_id=team_id, user_id=user_id
    )
    lunch_notices.refresh_announcement(job.client, db, team_id=team_id, session_id=session_id)
    if job.extras["promoted"]:
        lunch_notices.send_queued(job.client, db, team_id=team_id, session_id=session_id)


# ----------------------------------------------------------------------------- the session menu


def handle_menu(
    ack: Ack, body: dict, action: dict, respond: Respond, client: WebClient, context: BoltContext
) -> None:
    ack()
    verb, session_id = views.parse_menu_value((action.get("selected_option") or {}).get("value"))
    manage = verb in (views.MENU_EDIT, views.MENU_CANCEL)
    now = utcnow()
    modal = reply = calendar = None
    with person_transaction(body, context) as (session, person):
        lunch = lunches.get_session(session, team_id=person.team_id, session_id=session_id)
        problem = Outcome.NOT_FOUND if lunch is None else None
        if lunch is not None and manage:
            allowed = lunches.can_manage(lunch, person, admin_user_ids=_admins(context))
            problem = lunches.closed_reason(lunch, now) if allowed else Outcome.NOT_ALLOWED
        if problem is not None or lunch is None:
            reply = views.build_notice(views.outcome_text(problem or Outcome.NOT_FOUND, lunch))
        elif verb == views.MENU_EDIT:
            modal = views.build_edit_modal(lunch, tz=lunch.host.tz, now=now)
        elif verb == views.MENU_CANCEL:
            modal = views.build_cancel_modal(lunch)
        else:
            calendar = CalendarFile(
                filename=f"lunch-and-learn-{lunch.id}.ics",
                title=f"Lunch 'n' Learn: {lunch.title}",
                ics=lunches.ics_text(lunch, now=now, host_name=lunch.host.display_name),
                google_url=lunches.google_calendar_url(lunch),
            )
    if reply is not None:
        _reply(body, respond, client, reply)
    elif modal is not None:
        _open_or_push(client, body, modal)
    elif calendar is not None:
        _send_ics(body, respond, client, calendar)


@dataclass(frozen=True)
class CalendarFile:
    filename: str
    title: str
    ics: str
    google_url: str


def _send_ics(body: dict, respond: Respond, client: WebClient, calendar: CalendarFile) -> None:
    """The .ics file in the person's DM (Slack's files upload v2); the Google link if uploads fail."""
    try:
        dm = client.conversations_open(users=user_of(body))["channel"]["id"]
        client.files_upload_v2(
            channel=dm,
            content=calendar.ics,
            filename=calendar.filename,
            title=calendar.title[:250],
            initial_comment="Open this file to add the session to your calendar.",
            request_file_info=False,
        )
    except SlackApiError as error:
        logger.warning("could not upload an .ics file: %s", error.response.get("error"))
        _reply(body, respond, client, views.build_calendar_link(calendar.google_url))


def handle_edit_submitted(ack: Ack, body: dict, view: dict, client: WebClient, context: BoltContext) -> None:
    data = metadata(view)
    if data.get("action") == views.MENU_CANCEL:
        _cancel_submitted(ack, body, view, client, context)
        return
    now = utcnow()
    try:
        proposal = lunches.parse_proposal(_proposal_input(view, user_id=user_of(body)), now=now)
        with person_transaction(body, context) as (session, person):
            host = _person(session, person.team_id, proposal.host_user_id or person.slack_user_id, context)
            change = lunches.edit_session(
                session,
                session_id=lunches.parse_id(data.get("session_id")),
                person=person,
                proposal=proposal,
                host=host,
                admin_user_ids=_admins(context),
                now=now,
            )
            told = lunch_notices.tell_edited(session, change, now=now)
            reply = (
                views.build_edit_saved(change.changes, told=told)
                if change.outcome == Outcome.EDITED
                else views.build_notice(views.outcome_text(change.outcome, change.lunch))
            )
    except ProposalError as error:
        ack(response_action="errors", errors=error.errors)
        return
    ack()
    _after_host_change(body, client, context, change, reply)


def _cancel_submitted(ack: Ack, body: dict, view: dict, client: WebClient, context: BoltContext) -> None:
    ack()
    now = utcnow()
    reason = input_value(view, Block.REASON) or ""
    with person_transaction(body, context) as (session, person):
        change = lunches.cancel_session(
            session,
            session_id=lunches.parse_id(metadata(view).get("session_id")),
            person=person,
            admin_user_ids=_admins(context),
            now=now,
        )
        lunch_notices.tell_cancelled(session, change, reason=reason, now=now)
        reply = views.build_notice(views.outcome_text(change.outcome, change.lunch))
    _after_host_change(body, client, context, change, reply)


def _after_host_change(
    body: dict, client: WebClient, context: BoltContext, change: lunches.Change, reply: Message
) -> None:
    tell_privately(client, user_id=user_of(body), channel_id=None, reply=reply)
    if change.lunch is None or change.outcome not in (Outcome.EDITED, Outcome.CANCELLED):
        return
    team_id = team_of(body)
    lunch_notices.refresh_announcement(client, context["db"], team_id=team_id, session_id=change.lunch.id)
    lunch_notices.send_queued(client, context["db"], team_id=team_id, session_id=change.lunch.id)


# ----------------------------------------------------------------------------- feedback


def handle_feedback_rate(
    ack: Ack, body: dict, action: dict, respond: Respond, client: WebClient, context: BoltContext
) -> None:
    ack()
    session_id, rating = views.parse_rating_value((action.get("selected_option") or {}).get("value"))
    modal = None
    with person_transaction(body, context) as (session, person):
        if rating not in lunches.RATINGS:
            change = lunches.Change(Outcome.NOT_FOUND)
        else:
            change = lunches.record_feedback(
                session, session_id=session_id, person=person, rating=rating, now=utcnow()
            )
        if change.outcome == Outcome.RATED and change.lunch is not None and rating is not None:
            modal = views.build_feedback_modal(change.lunch, rating=rating)
        reply = views.build_notice(views.outcome_text(change.outcome, change.lunch))
    if modal is None:
        _reply(body, respond, client, reply)
        return
    # The rating is stored already; the modal only offers the optional note.
    client.views_open(trigger_id=body["trigger_id"], view=modal)


def handle_feedback_submitted(ack: Ack, body: dict, view: dict, context: BoltContext) -> None:
    try:
        rating = lunches.validate_rating(input_value(view, Block.RATING))
    except ValueError as error:
        ack(response_action="errors", errors={Block.RATING: str(error)})
        return
    ack()
    with person_transaction(body, context) as (session, person):
        lunches.record_feedback(
            session,
            session_id=lunches.parse_id(metadata(view).get("session_id")),
            person=person,
            rating=rating,
            note=input_value(view, Block.NOTE),
            now=utcnow(),
        )


def register(app: App) -> None:
    app.command(Command.LUNCHNLEARN)(handle_lunchnlearn)
    app.view(Modal.LUNCH_PROPOSE)(handle_proposal_submitted)
    app.view(Modal.LUNCH_EDIT)(handle_edit_submitted)
    app.view(Modal.LUNCH_FEEDBACK)(handle_feedback_submitted)
    app.action(Action.OPEN_LUNCH_PROPOSE)(open_propose)
    app.action(Action.LUNCH_PROPOSE_FROM_SUGGESTION)(propose_from_suggestion)
    app.action(Action.LUNCH_SIGN_UP)(handle_sign_up)
    app.action(Action.LUNCH_CANCEL_SIGNUP)(handle_cancel_signup)
    app.action(Action.LUNCH_HOST_MENU)(handle_menu)
    app.action(Action.LUNCH_FEEDBACK_RATE)(handle_feedback_rate)
