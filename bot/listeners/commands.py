"""Slash commands: /teachme, /canteach, /mentoring."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.config import Settings
from bot.db import Database
from bot.ids import Command, Work
from bot.listeners.support import defer, refresh_home, sync_person_from_slack, try_slack
from bot.services import learning, profiles
from bot.services.programme import next_matching_round
from bot.services.topics import TopicError
from bot.views import learning as learning_views
from bot.views import profile as profile_views
from bot.views.common import Message
from bot.work import Job, settle_in, task
from models import utcnow


def _reply(respond: Respond, reply: Message) -> None:
    respond(response_type="ephemeral", replace_original=False, **reply.as_kwargs())


def _origin(command: dict[str, Any]) -> str:
    return json.dumps({"channel_id": command.get("channel_id")})


def handle_teachme(
    ack: Ack, command: dict, respond: Respond, client: WebClient, context: BoltContext
) -> None:
    ack()
    _record_or_manage(command, respond, client, context, teach=False)


def handle_canteach(
    ack: Ack, command: dict, respond: Respond, client: WebClient, context: BoltContext
) -> None:
    ack()
    _record_or_manage(command, respond, client, context, teach=True)


def _record_or_manage(
    command: dict, respond: Respond, client: WebClient, context: BoltContext, *, teach: bool
) -> None:
    if (command.get("text") or "").strip():
        # Recording, replying and redrawing the home: in the worker process (bot/work.py).
        defer(context, command, Work.CANTEACH if teach else Work.TEACHME)
    else:
        _open_manager(command, client, context, teach=teach)


@task(Work.TEACHME)
def record_wishes(job: Job) -> None:
    _record(job.body, job.respond, job.client, job.context, teach=False)


@task(Work.CANTEACH)
def record_skills(job: Job) -> None:
    _record(job.body, job.respond, job.client, job.context, teach=True)


def _open_manager(command: dict, client: WebClient, context: BoltContext, *, teach: bool) -> None:
    db: Database = context["db"]
    settings: Settings = context["settings"]
    with db.transaction() as session:
        person = profiles.get_or_create_person(
            session, team_id=command["team_id"], slack_user_id=command["user_id"], defaults=settings.programme
        )
        view = (
            learning_views.build_skills_modal(learning.skills_of(session, person))
            if teach
            else learning_views.build_wishes_modal(learning.open_wishes(session, person))
        )
    view["private_metadata"] = _origin(command)
    client.views_open(trigger_id=command["trigger_id"], view=view)


def _record(command: dict, respond: Respond, client: WebClient, context: BoltContext, *, teach: bool) -> None:
    """Store the topics and answer: one transaction, and Slack is called only after it. On first use
    the profile modal opens before the reply: the worker picks the work up within tens of
    milliseconds, well inside the trigger id's 3 seconds (if Slack still refuses, the reply's
    "Complete my profile" button opens the same modal)."""
    db: Database = context["db"]
    settings: Settings = context["settings"]
    team_id, user_id, text = command["team_id"], command["user_id"], command.get("text") or ""
    now = utcnow()
    with db.transaction() as session:
        person = profiles.get_or_create_person(
            session, team_id=team_id, slack_user_id=user_id, defaults=settings.programme
        )
        profile_modal = (
            None
            if person.has_profile
            else profile_views.build_profile_modal(person, private_metadata=_origin(command))
        )
        try:
            with session.begin_nested():
                outcome = (
                    learning.add_skills(session, person, text, now=now)
                    if teach
                    else learning.add_wishes(session, person, text, now=now)
                )
        except TopicError as error:
            reply = learning_views.build_error_reply(str(error))
            needs_sync = redraw_home = False
        else:
            reply = _recorded_reply(session, person, outcome, teach=teach, team_id=team_id, context=context)
            needs_sync = profiles.needs_slack_sync(person, now=now)
            redraw_home = person.home_opened_at is not None  # see publish_home(only_if_opened=True)
        settle_in(session, context)  # never re-applied once stored (bot/work.py)
    if profile_modal is not None:
        try_slack(client.views_open, trigger_id=command["trigger_id"], view=profile_modal)
    _reply(respond, reply)
    if needs_sync:  # name and timezone from Slack, at most once a day
        sync_person_from_slack(client, db=db, settings=settings, team_id=team_id, user_id=user_id, force=True)
    if redraw_home:
        refresh_home(client, context, team_id=team_id, user_id=user_id)


def _recorded_reply(session, person, outcome, *, teach: bool, team_id: str, context: BoltContext) -> Message:
    settings: Settings = context["settings"]
    next_round = next_matching_round(
        profiles.programme_settings(session, team_id=team_id, defaults=settings.programme), now=utcnow()
    )
    if teach:
        return learning_views.build_canteach_reply(
            outcome,
            learners=learning.learner_counts(session, person, outcome.topics),
            next_round=next_round,
            needs_profile=not person.has_profile,
        )
    return learning_views.build_teachme_reply(
        outcome,
        teachers=learning.teacher_counts(session, person, outcome.topics),
        next_round=next_round,
        needs_profile=not person.has_profile,
    )


def handle_mentoring(
    ack: Ack, command: dict, respond: Respond, client: WebClient, context: BoltContext
) -> None:
    ack()
    words = (command.get("text") or "").strip().split(maxsplit=1)
    subcommand = words[0].lower() if words else "help"
    handler = mentoring_subcommands().get(subcommand)
    if handler is None:
        reply = profile_views.build_help()
        reply = Message(
            text=reply.text,
            blocks=[
                profile_views.build_notice("I don't know that one. Here is what I can do:").blocks[0],
                *reply.blocks,
            ],
        )
        _reply(respond, reply)
        return
    handler(command, respond, client, context, words[1] if len(words) > 1 else "")


def _mentoring_help(command, respond, client, context, rest) -> None:
    _reply(respond, profile_views.build_help())


def _mentoring_profile(command, respond, client, context, rest) -> None:
    db: Database = context["db"]
    settings: Settings = context["settings"]
    now = utcnow()
    with db.transaction() as session:
        person = profiles.get_or_create_person(
            session, team_id=command["team_id"], slack_user_id=command["user_id"], defaults=settings.programme
        )
        reply = profile_views.build_profile_summary(
            person,
            wishes=learning.open_wishes(session, person),
            skills=learning.skills_of(session, person),
            next_round=next_matching_round(
                profiles.programme_settings(session, team_id=command["team_id"], defaults=settings.programme),
                now=now,
            ),
        )
    _reply(respond, reply)


def _set_paused(paused: bool) -> Callable[..., None]:
    def handler(command, respond, client, context, rest) -> None:
        db: Database = context["db"]
        settings: Settings = context["settings"]
        with db.transaction() as session:
            person = profiles.get_or_create_person(
                session,
                team_id=command["team_id"],
                slack_user_id=command["user_id"],
                defaults=settings.programme,
            )
            profiles.set_paused(person, paused)
        text = (
            ":pause_button: Paused: no new pairings until you `/mentoring resume`. Current pairings go on."
            if paused
            else ":arrow_forward: Welcome back! You're in the next matching round."
        )
        _reply(respond, profile_views.build_notice(text))
        refresh_home(client, context, team_id=command["team_id"], user_id=command["user_id"])

    return handler


def mentoring_subcommands() -> dict[str, Callable[..., None]]:
    """`/mentoring WORD` -> its handler; the pairing and data-rights ones live with their surfaces."""
    from bot.listeners import data_rights, pairing  # they import this module's helpers

    return {
        "help": _mentoring_help,
        "profile": _mentoring_profile,
        "pause": _set_paused(True),
        "resume": _set_paused(False),
        "snooze": pairing.mentoring_snooze,
        "block": pairing.mentoring_block,
        "forget": data_rights.mentoring_forget,
    }


def register(app: App) -> None:
    app.command(Command.TEACHME)(handle_teachme)
    app.command(Command.CANTEACH)(handle_canteach)
    app.command(Command.MENTORING)(handle_mentoring)
