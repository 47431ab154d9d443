"""/teachme and /canteach: typed topics, or their modals (add, remove). The listeners ack and hand
the request to a worker; both ways end in one flow, record_topics: store the topics, then answer
privately and redraw the person's App Home. Opening a modal is light: done right after the ack."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.db import Database
from bot.ids import Action, Block, Command, Modal, Work
from bot.listeners.support import (
    hand_over,
    input_value,
    metadata,
    person_transaction,
    refresh_home,
    sync_person_from_slack,
    team_of,
    tell_privately,
    try_slack,
    user_of,
)
from bot.services import learning, profiles
from bot.services.programme import next_matching_round
from bot.services.topics import TopicError, split_topics, validate_topic
from bot.views import learning as learning_views
from bot.views import profile as profile_views
from bot.views.common import Message
from bot.work.queue import Job, settle_in, task
from models import Person, SkillLevel, utcnow

Reply = Callable[[Message], None]


def record_topics(
    body: dict[str, Any],
    client: WebClient,
    context: BoltContext,
    *,
    teach: bool,
    raw: str,
    reply: Reply,
    note: str | None = None,
    level: SkillLevel = SkillLevel.CONFIDENT,
    profile_trigger_id: str | None = None,
) -> None:
    """Store typed wishes (or skills) and answer. One transaction; Slack is called only after it.
    With `profile_trigger_id` (a command), a first-time user gets the profile modal too; if Slack
    refuses the trigger, the reply's "Complete my profile" button opens the same modal."""
    db: Database = context["db"]
    settings: Settings = context["settings"]
    team_id, user_id, now = team_of(body), user_of(body), utcnow()
    with db.transaction() as session:
        person = profiles.get_or_create_person(
            session, team_id=team_id, slack_user_id=user_id, defaults=settings.programme
        )
        profile_modal = None
        if profile_trigger_id and not person.has_profile:
            origin = json.dumps({"channel_id": body.get("channel_id")})
            profile_modal = profile_views.build_profile_modal(person, private_metadata=origin)
        try:
            with session.begin_nested():
                outcome = (
                    learning.add_skills(session, person, raw, level=level, now=now)
                    if teach
                    else learning.add_wishes(session, person, raw, note=note, now=now)
                )
        except TopicError as error:
            message = learning_views.build_error_reply(str(error))
            needs_sync = redraw_home = False
        else:
            programme = profiles.programme_settings(session, team_id=team_id, defaults=settings.programme)
            next_round = next_matching_round(programme, now=now)
            if teach:
                message = learning_views.build_canteach_reply(
                    outcome,
                    learners=learning.learner_counts(session, person, outcome.topics),
                    next_round=next_round,
                    needs_profile=not person.has_profile,
                )
            else:
                message = None  # drawn after the commit, with who could teach each topic
                teachers = learning.teacher_counts(session, person, outcome.topics)
            needs_sync = profiles.needs_slack_sync(person, now=now)
            redraw_home = person.home_opened_at is not None  # see publish_home(only_if_opened=True)
        settle_in(session, context)  # the task's row goes with what it stored: never applied twice
    if message is None:
        # A read, after the commit: on SQLite no other writer waits while it runs.
        with db.read_only() as reader:
            suggestions = learning.suggested_teachers(reader, person, outcome.topics, now=now)
        message = learning_views.build_teachme_reply(
            outcome,
            teachers=teachers,
            next_round=next_round,
            needs_profile=not person.has_profile,
            suggestions=suggestions,
        )
    if profile_modal is not None:
        try_slack(client.views_open, trigger_id=profile_trigger_id, view=profile_modal)
    reply(message)
    if needs_sync:  # name and timezone from Slack, at most once a day
        sync_person_from_slack(client, db=db, settings=settings, team_id=team_id, user_id=user_id, force=True)
    if redraw_home:
        refresh_home(client, context, team_id=team_id, user_id=user_id)


# ---------------------------------------------------------------- the commands


def _respond_privately(respond: Respond) -> Reply:
    return lambda message: respond(response_type="ephemeral", replace_original=False, **message.as_kwargs())


def _command(command: dict, client: WebClient, context: BoltContext, *, teach: bool) -> None:
    if (command.get("text") or "").strip():
        hand_over(context, command, Work.CANTEACH if teach else Work.TEACHME)
        return
    with person_transaction(command, context) as (session, person):
        view = (
            learning_views.build_skills_modal(learning.skills_of(session, person))
            if teach
            else wishes_modal(session, person)
        )
    view["private_metadata"] = json.dumps({"channel_id": command.get("channel_id")})
    client.views_open(trigger_id=command["trigger_id"], view=view)


def handle_teachme(ack: Ack, command: dict, client: WebClient, context: BoltContext) -> None:
    ack()
    _command(command, client, context, teach=False)


def handle_canteach(ack: Ack, command: dict, client: WebClient, context: BoltContext) -> None:
    ack()
    _command(command, client, context, teach=True)


# ---------------------------------------------------------------- the modals


def _validated_topics(ack: Ack, view: dict) -> str | None:
    """Topic text from the modal, or None after answering Slack with an inline error."""
    raw = input_value(view, Block.TOPICS) or ""
    try:
        for typed in split_topics(raw):
            validate_topic(typed)
        if len(split_topics(raw)) > learning.MAX_TOPICS_PER_COMMAND:
            raise TopicError(f"Add up to {learning.MAX_TOPICS_PER_COMMAND} topics at once.")
        if Block.NOTE in ((view.get("state") or {}).get("values") or {}):
            learning.clean_note(input_value(view, Block.NOTE))
    except TopicError as error:
        field = Block.NOTE if "note" in str(error) else Block.TOPICS
        ack(response_action="errors", errors={field: str(error)})
        return None
    return raw


def _skill_level(view: dict) -> SkillLevel:
    return SkillLevel(input_value(view, Block.LEVEL) or SkillLevel.CONFIDENT.value)


def _tell_where_the_modal_was_opened(body: dict, client: WebClient) -> Reply:
    channel_id = metadata(body["view"]).get("channel_id")
    return lambda message: tell_privately(client, user_id=user_of(body), channel_id=channel_id, reply=message)


def _record_from_command(job: Job, *, teach: bool) -> None:
    record_topics(
        job.body,
        job.client,
        job.context,
        teach=teach,
        raw=(job.body.get("text") or "").strip(),
        reply=_respond_privately(job.respond),
        profile_trigger_id=job.body.get("trigger_id"),
    )


def _record_from_modal(body: dict, client: WebClient, context: BoltContext, *, teach: bool) -> None:
    view = body["view"]
    record_topics(
        body,
        client,
        context,
        teach=teach,
        raw=input_value(view, Block.TOPICS) or "",
        reply=_tell_where_the_modal_was_opened(body, client),
        note=None if teach else input_value(view, Block.NOTE),
        level=_skill_level(view) if teach else SkillLevel.CONFIDENT,
    )


def handle_wishes(ack: Ack, body: dict, view: dict, client: WebClient, context: BoltContext) -> None:
    raw = _validated_topics(ack, view)
    if raw is None:
        return
    ack()
    if split_topics(raw):  # "Add" with an empty field: the person only removed things
        hand_over(context, body, Work.WISHES)


def handle_skills(ack: Ack, body: dict, view: dict, client: WebClient, context: BoltContext) -> None:
    raw = _validated_topics(ack, view)
    if raw is None:
        return
    try:
        _skill_level(view)
    except ValueError:
        ack(response_action="errors", errors={Block.LEVEL: "Please pick a level."})
        return
    ack()
    if split_topics(raw):
        hand_over(context, body, Work.SKILLS)


def remove_topic(ack: Ack, body: dict, context: BoltContext) -> None:
    """A wish's or a skill's Remove button in its modal: a worker removes it and redraws the modal."""
    ack()
    teach = body["actions"][0].get("action_id") == Action.REMOVE_SKILL
    hand_over(context, body, Work.REMOVE_SKILL if teach else Work.REMOVE_WISH)


def _remove_and_redraw(body: dict, client: WebClient, context: BoltContext) -> None:
    action = body["actions"][0]
    teach = action.get("action_id") == Action.REMOVE_SKILL
    with person_transaction(body, context) as (session, person):
        if teach:
            learning.remove_skill(session, person, _int(action.get("value")))
            view = learning_views.build_skills_modal(learning.skills_of(session, person))
        else:
            learning.withdraw_wish(session, person, _int(action.get("value")), now=utcnow())
            view = wishes_modal(session, person)
    current = body.get("view") or {}
    view["private_metadata"] = current.get("private_metadata") or ""
    # The change is saved; a modal closed meanwhile is not worth a "something went wrong".
    try_slack(client.views_update, view_id=current["id"], view=view)
    refresh_home(client, context, team_id=team_of(body), user_id=user_of(body))


def wishes_modal(session: Session, person: Person, *, notice: str = "") -> dict[str, Any]:
    """The wishes modal, naming who can teach each wish now (with Ask-for buttons)."""
    wishes = learning.open_wishes(session, person)
    choices = learning.wish_choices(session, person, wishes, now=utcnow())
    return learning_views.build_wishes_modal(wishes, choices=choices, notice=notice)


def request_teacher(
    ack: Ack, body: dict, action: dict, respond: Respond, client: WebClient, context: BoltContext
):
    """ "Ask for …" next to a colleague who can teach a wish: one's own small write, done right
    after the ack. In a modal the modal is redrawn with the answer on top; in a message the
    answer is a private reply."""
    ack()
    in_modal = (body.get("container") or {}).get("type") == "view" and body.get("view")
    with person_transaction(body, context) as (session, person):
        request = learning.request_teacher(session, person, action.get("value"), now=utcnow())
        reply = learning_views.build_request_reply(request)
        view = wishes_modal(session, person, notice=reply.text) if in_modal else None
    if view is not None:
        current = body["view"]
        view["private_metadata"] = current.get("private_metadata") or ""
        try_slack(client.views_update, view_id=current["id"], view=view)
    elif body.get("response_url"):
        respond(response_type="ephemeral", replace_original=False, **reply.as_kwargs())
    else:  # App Home or an assistant thread without a response_url: a DM
        tell_privately(client, user_id=user_of(body), channel_id=None, reply=reply)


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1  # matches no row: a forged or stale value changes nothing


task(Work.TEACHME)(lambda job: _record_from_command(job, teach=False))
task(Work.CANTEACH)(lambda job: _record_from_command(job, teach=True))
task(Work.WISHES)(lambda job: _record_from_modal(job.body, job.client, job.context, teach=False))
task(Work.SKILLS)(lambda job: _record_from_modal(job.body, job.client, job.context, teach=True))
task(Work.REMOVE_WISH)(lambda job: _remove_and_redraw(job.body, job.client, job.context))
task(Work.REMOVE_SKILL)(lambda job: _remove_and_redraw(job.body, job.client, job.context))


def register(app: App) -> None:
    app.command(Command.TEACHME)(handle_teachme)
    app.command(Command.CANTEACH)(handle_canteach)
    app.view(Modal.WISHES)(handle_wishes)
    app.view(Modal.SKILLS)(handle_skills)
    app.action(Action.REMOVE_WISH)(remove_topic)
    app.action(Action.REMOVE_SKILL)(remove_topic)
    app.action(Action.REQUEST_TEACHER)(request_teacher)
