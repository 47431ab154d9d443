"""Lunch 'n' Learn: /lunchnlearn and proposing a session (the proposal modal, its announcement).
Seats, the host's menu and feedback are in lunch_seats, lunch_host and lunch_feedback."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.db import Database
from bot.delivery import lunch_notices
from bot.ids import Action, Command, Modal, Work
from bot.listeners.lunch_common import (
    answer,
    open_or_push,
    origin_channel,
    person_in,
    programme_of,
    proposal_from,
)
from bot.listeners.support import (
    metadata,
    person_transaction,
    sync_person_from_slack,
    team_of,
    tell_privately,
    user_of,
)
from bot.services import profiles
from bot.services.lunch import announcements, demand, feedback, proposing, seats
from bot.services.lunch.common import parse_id
from bot.services.lunch.proposing import ProposalError
from bot.views import lunch as views
from bot.views.common import Message
from bot.work.queue import task
from models import LunchSession, LunchStatus, Topic, utcnow

logger = logging.getLogger(__name__)


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
        answer(body, respond, client, views.build_help())


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
        person = person_in(session, team_id, user_id, context)
        channel_id = programme_of(session, team_id, context).channel_id
        synced = person.slack_synced_at is not None
    if not channel_id:
        answer(body, respond, client, views.build_no_channel())
        return
    if not synced:  # the pickers show the host's timezone: learn it from Slack first
        sync_person_from_slack(client, db=db, settings=context["settings"], team_id=team_id, user_id=user_id)
    with db.transaction() as session:
        tz = person_in(session, team_id, user_id, context).tz
    values = views.ModalValues(host_user_id=user_id, tz=tz, **(prefill or {}))
    view = views.build_proposal_modal(
        values,
        now=utcnow(),
        private_metadata={"channel_id": origin_channel(body), "suggestion_id": suggestion_id},
    )
    open_or_push(client, body, view)


def open_propose(ack: Ack, body: dict, respond: Respond, client: WebClient, context: BoltContext) -> None:
    ack()
    _open_proposal(body, respond, client, context)


def propose_from_suggestion(
    ack: Ack, body: dict, action: dict, respond: Respond, client: WebClient, context: BoltContext
) -> None:
    ack()
    with person_transaction(body, context) as (session, person):
        suggestion = demand.suggestion_for(
            session, person=person, suggestion_id=parse_id(action.get("value"))
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
            seats.listing(session, person=person, now=now),
            hosted=feedback.hosted_past(session, person=person, now=now),
        )
    answer(body, respond, client, reply)


def _announce_mine(body: dict, respond: Respond, client: WebClient, context: BoltContext) -> None:
    now = utcnow()
    with person_transaction(body, context) as (session, person):
        channel_id = programme_of(session, person.team_id, context).channel_id
        pending = announcements.unannounced(session, person=person, now=now) if channel_id else []
        queued = [
            [lunch.id, lunch_notices.queue_announcement(session, lunch, channel_id=str(channel_id), now=now)]
            for lunch in pending
        ]
    if queued:
        announce(
            body,
            client,
            context,
            announcements=queued,
            channel_id=str(channel_id),
            origin=origin_channel(body),
        )
    elif not channel_id:
        answer(body, respond, client, views.build_no_channel())
    elif not queued:
        answer(body, respond, client, views.build_notice("All your sessions are already announced."))


# ----------------------------------------------------------------------------- proposing


def handle_proposal_submitted(
    ack: Ack, body: dict, view: dict, client: WebClient, context: BoltContext
) -> None:
    now = utcnow()
    team_id = team_of(body)
    try:
        proposal = proposing.parse_proposal(proposal_from(view, user_id=user_of(body)), now=now)
        with context["db"].transaction() as session:  # the daily limit is an inline error: before the ack
            proposing.check_daily_limit(
                session,
                person=profiles.get_person(session, team_id=team_id, slack_user_id=user_of(body)),
                limit=context["settings"].lunch_proposals_per_day,
                now=now,
            )
    except ProposalError as error:
        ack(response_action="errors", errors=views.proposal_errors(error))
        return
    ack()
    origin = metadata(view).get("channel_id")
    told = 0
    with person_transaction(body, context) as (session, proposer):
        host = person_in(session, team_id, proposal.host_user_id or proposer.slack_user_id, context)
        lunch = proposing.create_session(session, proposal=proposal, proposer=proposer, host=host, now=now)
        session_id, host_user_id = lunch.id, host.slack_user_id
        channel_id = programme_of(session, team_id, context).channel_id
        if lunch.status == LunchStatus.AWAITING_HOST:  # someone else hosts: they accept first
            lunch_notices.ask_host(session, lunch, now=now)
            asked = views.build_host_asked(lunch, channel_id=channel_id)
        else:
            asked = None
            if channel_id:
                told = lunch_notices.queue_announcement(session, lunch, channel_id=channel_id, now=now)
    if asked is not None:
        ask_host_now(
            body,
            client,
            context,
            session_id=session_id,
            host_user_id=host_user_id,
            reply=asked,
            origin=origin,
        )
    else:
        announce(
            body, client, context, announcements=[[session_id, told]], channel_id=channel_id, origin=origin
        )


def ask_host_now(
    body: dict,
    client: WebClient,
    context: BoltContext,
    *,
    session_id: int,
    host_user_id: str,
    reply: Message,
    origin: str | None,
) -> None:
    """The host's request is queued with the session: send it now (the outbox job sends it if this
    fails) and tell the proposer it is on its way."""
    db: Database = context["db"]
    team_id = team_of(body)
    # A host named by someone else: their name and timezone come from Slack first.
    sync_person_from_slack(client, db=db, settings=context["settings"], team_id=team_id, user_id=host_user_id)
    lunch_notices.send_queued(client, db, team_id=team_id, session_id=session_id)
    tell_privately(client, user_id=user_of(body), channel_id=origin, reply=reply)


def announce(
    body: dict,
    client: WebClient,
    context: BoltContext,
    *,
    announcements: list[list[int]],
    channel_id: str | None,
    origin: str | None,
    sync_user_id: str | None = None,
) -> None:
    """The announcements are queued in the outbox with their sessions: post them now (the outbox
    job posts whatever fails here) and tell the proposer how it went."""
    db: Database = context["db"]
    team_id, user_id = team_of(body), user_of(body)
    if sync_user_id:  # a host named by someone else: their name comes from Slack first
        sync_person_from_slack(
            client, db=db, settings=context["settings"], team_id=team_id, user_id=sync_user_id
        )
    for session_id, told in announcements:
        if channel_id:
            _post_announcement(
                client,
                db,
                team_id=team_id,
                user_id=user_id,
                origin=origin,
                session_id=session_id,
                channel_id=channel_id,
                told=told,
            )
            continue
        with db.transaction() as session:
            lunch = session.get(LunchSession, session_id)
            reply = views.build_post_problem(lunch, channel_id=None, error=None) if lunch else None
        if reply is not None:
            tell_privately(client, user_id=user_id, channel_id=origin, reply=reply)


# Work an earlier version stored for its worker is done the same way.
task(Work.LUNCH_ANNOUNCE)(
    lambda job: announce(
        job.body,
        job.client,
        job.context,
        announcements=job.extras["announcements"],
        channel_id=job.extras.get("channel_id"),
        origin=job.extras.get("origin"),
        sync_user_id=job.extras.get("sync_user_id"),
    )
)


def _post_announcement(
    client: WebClient,
    db: Database,
    *,
    team_id: str,
    user_id: str,
    origin: str | None,
    session_id: int,
    channel_id: str,
    told: int,
) -> None:
    """Join the channel, send the queued announcement now, and tell the proposer how it went."""
    reply = post_queued_announcement(
        client, db, team_id=team_id, session_id=session_id, channel_id=channel_id, told=told
    )
    tell_privately(client, user_id=user_id, channel_id=origin, reply=reply)


def post_queued_announcement(
    client: WebClient, db: Database, *, team_id: str, session_id: int, channel_id: str, told: int
) -> Message:
    """Join the channel and send what is queued about the session now; returns how it went."""
    join_error = lunch_notices.join_channel(client, channel_id)
    if join_error == "is_archived":
        with db.transaction() as session:
            lunch = session.get(LunchSession, session_id)
            assert lunch is not None
            announcements.cancel_announcement(session, lunch)
    lunch_notices.send_queued(client, db, team_id=team_id, session_id=session_id)
    with db.transaction() as session:
        lunch = session.get(LunchSession, session_id)
        assert lunch is not None
        status = announcements.announcement_status(session, lunch)
        if status.posted:
            return views.build_announced(lunch, channel_id=channel_id, told=told)
        error = (join_error or status.error) if status.failed else None
        return views.build_post_problem(lunch, channel_id=channel_id, error=error)


def register(app: App) -> None:
    app.command(Command.LUNCHNLEARN)(handle_lunchnlearn)
    app.view(Modal.LUNCH_PROPOSE)(handle_proposal_submitted)
    app.action(Action.OPEN_LUNCH_PROPOSE)(open_propose)
    app.action(Action.LUNCH_PROPOSE_FROM_SUGGESTION)(propose_from_suggestion)
