"""Lunch 'n' Learn session menu: add to calendar (.ics), and the host's (or an admin's) edit and cancel."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.delivery import lunch_notices
from bot.ids import Action, Block, Modal, Work
from bot.listeners.lunch_common import (
    answer,
    open_or_push,
    person_in,
    proposal_from,
)
from bot.listeners.rights import admin_verdict
from bot.listeners.support import (
    input_value,
    metadata,
    person_transaction,
    team_of,
    tell_privately,
    user_of,
)
from bot.logs import error_code
from bot.services.lunch import hosting, proposing
from bot.services.lunch.calendar import google_calendar_url, ics_text
from bot.services.lunch.common import Change, Outcome, closed_reason, get_session, parse_id
from bot.services.lunch.proposing import ProposalError
from bot.slack.admin_rights import Verdict
from bot.views import lunch as views
from bot.views.common import Message
from bot.work.queue import task
from models import utcnow

logger = logging.getLogger(__name__)


# ----------------------------------------------------------------------------- the session menu


def handle_menu(
    ack: Ack, body: dict, action: dict, respond: Respond, client: WebClient, context: BoltContext
) -> None:
    ack()
    verb, session_id = views.parse_menu_value((action.get("selected_option") or {}).get("value"))
    manage = verb in (views.MENU_EDIT, views.MENU_CANCEL)
    is_admin = manage and _admin_over(client, body, context, session_id)
    now = utcnow()
    modal = reply = calendar = None
    with person_transaction(body, context) as (session, person):
        lunch = get_session(session, team_id=person.team_id, session_id=session_id)
        problem = Outcome.NOT_FOUND if lunch is None else None
        if lunch is not None and manage:
            allowed = hosting.can_manage(lunch, person, is_admin=is_admin)
            problem = closed_reason(lunch, now) if allowed else Outcome.NOT_ALLOWED
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
                ics=ics_text(lunch, now=now, host_name=lunch.host.display_name),
                google_url=google_calendar_url(lunch),
            )
    if reply is not None:
        answer(body, respond, client, reply)
    elif modal is not None:
        open_or_push(client, body, modal)  # here: the trigger id behind this click lasts 3 seconds
    elif calendar is not None:
        send_calendar_file(body, respond, client, calendar)


def _admin_over(client: WebClient, body: dict, context: BoltContext, session_id: int | None) -> bool:
    """For editing or cancelling someone else's session: the admin check. Slack is asked only when
    the session is not the clicker's own: a host needs no rights over their own session."""
    with context["db"].transaction() as session:
        lunch = get_session(session, team_id=team_of(body), session_id=session_id)
        own = lunch is None or lunch.host.slack_user_id == user_of(body)
    return not own and admin_verdict(client, body, context) is Verdict.ADMIN


@dataclass(frozen=True)
class CalendarFile:
    filename: str
    title: str
    ics: str
    google_url: str


def send_calendar_file(body: dict, respond: Respond, client: WebClient, calendar: CalendarFile) -> None:
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
        logger.warning("could not upload an .ics file: %s", error_code(error.response.get("error")))
        answer(body, respond, client, views.build_calendar_link(calendar.google_url))


def handle_edit_submitted(ack: Ack, body: dict, view: dict, client: WebClient, context: BoltContext) -> None:
    data = metadata(view)
    if data.get("action") == views.MENU_CANCEL:
        _cancel_submitted(ack, body, view, client, context)
        return
    now = utcnow()
    session_id = parse_id(data.get("session_id"))
    try:
        proposal = proposing.parse_proposal(proposal_from(view, user_id=user_of(body)), now=now)
        is_admin = _admin_over(client, body, context, session_id)
        with person_transaction(body, context) as (session, person):
            host = person_in(session, person.team_id, proposal.host_user_id or person.slack_user_id, context)
            change = hosting.edit_session(
                session,
                session_id=session_id,
                person=person,
                proposal=proposal,
                host=host,
                is_admin=is_admin,
                now=now,
            )
            told = lunch_notices.tell_edited(session, change, now=now)
            reply = (
                views.build_edit_saved(change.changes, told=told)
                if change.outcome == Outcome.EDITED
                else views.build_notice(views.outcome_text(change.outcome, change.lunch))
            )
    except ProposalError as error:
        ack(response_action="errors", errors=views.proposal_errors(error))
        return
    ack()
    show_host_change(body, client, context, reply=reply, session_id=_changed_session(change))


def _cancel_submitted(ack: Ack, body: dict, view: dict, client: WebClient, context: BoltContext) -> None:
    ack()
    now = utcnow()
    reason = input_value(view, Block.REASON) or ""
    session_id = parse_id(metadata(view).get("session_id"))
    is_admin = _admin_over(client, body, context, session_id)
    with person_transaction(body, context) as (session, person):
        change = hosting.cancel_session(
            session,
            session_id=session_id,
            person=person,
            is_admin=is_admin,
            now=now,
        )
        lunch_notices.tell_cancelled(session, change, reason=reason, now=now)
        reply = views.build_notice(views.outcome_text(change.outcome, change.lunch))
    show_host_change(body, client, context, reply=reply, session_id=_changed_session(change))


def _changed_session(change: Change) -> int | None:
    changed = change.outcome in (Outcome.EDITED, Outcome.CANCELLED)
    return change.lunch.id if change.lunch is not None and changed else None


def show_host_change(
    body: dict, client: WebClient, context: BoltContext, *, reply: Message, session_id: int | None
) -> None:
    """The edit or cancellation is stored with the DMs it queues: answer the host, redraw the
    channel post, and send those DMs now (the outbox job sends whatever fails here)."""
    tell_privately(client, user_id=user_of(body), channel_id=None, reply=reply)
    if session_id is None:
        return
    db = context["db"]
    lunch_notices.refresh_announcement(client, db, team_id=team_of(body), session_id=session_id)
    lunch_notices.send_queued(client, db, team_id=team_of(body), session_id=session_id)


# Work an earlier version stored for its worker is done the same way.
task(Work.LUNCH_CALENDAR)(
    lambda job: send_calendar_file(job.body, job.respond, job.client, CalendarFile(**job.extras))
)
task(Work.LUNCH_HOST_CHANGE)(
    lambda job: show_host_change(
        job.body,
        job.client,
        job.context,
        reply=Message(**job.extras["reply"]),
        session_id=job.extras["session_id"],
    )
)


def register(app: App) -> None:
    app.view(Modal.LUNCH_EDIT)(handle_edit_submitted)
    app.action(Action.LUNCH_HOST_MENU)(handle_menu)
