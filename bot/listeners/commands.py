"""/mentoring and its subcommands (/teachme and /canteach are bot.listeners.learning)."""

from __future__ import annotations

from collections.abc import Callable

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.config import Settings
from bot.db import Database
from bot.ids import Command
from bot.listeners import data_rights, pairing
from bot.listeners.support import refresh_home
from bot.services import learning, profiles
from bot.services.programme import next_matching_round
from bot.views import profile as profile_views
from bot.views.common import Message
from models import utcnow


def _reply(respond: Respond, reply: Message) -> None:
    respond(response_type="ephemeral", replace_original=False, **reply.as_kwargs())


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
    app.command(Command.MENTORING)(handle_mentoring)
