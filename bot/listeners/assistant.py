"""Flipside in Slack's assistant pane: suggested prompts when a thread opens, and answers to the
questions asked in it, from Flipside's own records (no AI service).

Bolt's Assistant middleware acks these events itself, then runs the listener; the answer is a
read-only reply, done right after the ack. Every post goes through the thread's `say`, bound to
the assistant thread the question came from, so nothing is posted anywhere else."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, Assistant, BoltContext, Say, SetStatus, SetSuggestedPrompts
from slack_bolt.context.assistant.thread_context import AssistantThreadContext
from slack_bolt.context.assistant.thread_context_store.store import AssistantThreadContextStore

from bot.config import Settings
from bot.db import Database
from bot.listeners.errors import SORRY
from bot.listeners.support import try_slack
from bot.services import profiles
from bot.services.assistant import answer_question
from bot.services.assistant_intents import parse_question
from bot.services.programme import next_matching_round
from bot.views import assistant as views
from bot.views.common import Message
from models import utcnow

logger = logging.getLogger(__name__)


class NoThreadContext(AssistantThreadContextStore):
    """Flipside answers from its own records, never from the channel the person is looking at, so
    the thread's context is not kept: Bolt's default store would read the thread back
    (conversations.replies) before every answer and rewrite its first reply on every change."""

    def save(self, *, channel_id: str, thread_ts: str, context: dict[str, str]) -> None:
        return None

    def find(self, *, channel_id: str, thread_ts: str) -> AssistantThreadContext | None:
        return None


def offer_prompts(say: Say, set_suggested_prompts: SetSuggestedPrompts) -> None:
    welcome = views.build_welcome()
    say(**welcome.as_kwargs())
    # Prompts are a shortcut: without them (Slack refusing, a scope missing) the thread still works.
    try_slack(set_suggested_prompts, prompts=views.prompts(), title=views.PROMPTS_TITLE)


def keep_no_context() -> None:
    """The person looks at another channel: nothing to do (see NoThreadContext)."""


def answer_in_thread(event: dict[str, Any], context: BoltContext, say: Say, set_status: SetStatus) -> None:
    try_slack(set_status, status=views.STATUS)
    try:
        reply = _answer(event, context)
    except Exception:  # the database is away, or a bug: a kind word in the thread, never silence
        logger.exception("the assistant could not answer")
        say(text=SORRY)
        return
    say(**reply.as_kwargs())  # posting the reply also clears the status


def _answer(event: dict[str, Any], context: BoltContext) -> Message:
    db: Database = context["db"]
    settings: Settings = context["settings"]
    now = utcnow()
    question = parse_question(str(event.get("text") or ""))
    with db.transaction() as session:
        person = profiles.get_or_create_person(
            session,
            team_id=str(context.team_id),
            slack_user_id=str(event["user"]),
            defaults=settings.programme,
        )
        programme = profiles.programme_settings(session, team_id=person.team_id, defaults=settings.programme)
        answer = answer_question(
            session,
            person=person,
            question=question,
            next_round=next_matching_round(programme, now=now),
            now=now,
        )
        return views.build_answer(answer)


def ignore_message() -> None:
    """Direct messages outside an assistant thread, and edits: Slack gets its 200, nothing is said."""


def register(app: App) -> None:
    assistant = Assistant(thread_context_store=NoThreadContext())
    assistant.thread_started(offer_prompts)
    assistant.thread_context_changed(keep_no_context)
    assistant.user_message(answer_in_thread)
    app.assistant(assistant)
    app.event("message")(ignore_message)
