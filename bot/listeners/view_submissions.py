"""Modal submissions: profile, wishes and skills. Invalid fields answer with inline errors."""

from __future__ import annotations

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.config import Settings
from bot.db import Database
from bot.ids import Block, Modal, Work
from bot.listeners.support import (
    defer,
    input_value,
    metadata,
    person_transaction,
    refresh_home,
    sync_person_from_slack,
    team_of,
    tell_privately,
    user_of,
)
from bot.services import learning, profiles
from bot.services.profiles import ProfileError
from bot.services.topics import TopicError, split_topics, validate_topic
from bot.views import learning as learning_views
from bot.views import profile as profile_views
from bot.work import Job, task
from models import SkillLevel, utcnow


def _parse_profile(view: dict) -> profiles.ProfileInput:
    return profiles.parse_profile(
        career_stage=input_value(view, Block.CAREER_STAGE),
        department=input_value(view, Block.DEPARTMENT),
        capacity=input_value(view, Block.CAPACITY),
        paused="paused" in (input_value(view, Block.PAUSED) or []),
    )


def handle_profile(ack: Ack, body: dict, view: dict, context: BoltContext) -> None:
    try:
        _parse_profile(view)
    except ProfileError as error:
        ack(response_action="errors", errors={error.field: str(error)})
        return
    ack()
    defer(context, body, Work.PROFILE)


@task(Work.PROFILE)
def save_profile(job: Job) -> None:
    view = job.body["view"]
    _save_profile(_parse_profile(view), job.body, view, job.client, job.context)


def _save_profile(
    profile: profiles.ProfileInput, body: dict, view: dict, client: WebClient, context: BoltContext
) -> None:
    with person_transaction(body, context) as (_session, person):
        profiles.save_profile(_session, person, profile, now=utcnow())
    text = (
        f":white_check_mark: Profile saved: {profile.career_stage.label}, "
        f"{profile_views.escape(profile.department)}."
        + (" You're paused for now." if profile.paused else " You're in the next matching round.")
    )
    tell_privately(
        client,
        user_id=user_of(body),
        channel_id=metadata(view).get("channel_id"),
        reply=profile_views.build_notice(text),
    )
    db: Database = context["db"]
    settings: Settings = context["settings"]
    sync_person_from_slack(client, db=db, settings=settings, team_id=team_of(body), user_id=user_of(body))
    refresh_home(client, context, team_id=team_of(body), user_id=user_of(body))


def _validate_topics(ack: Ack, view: dict) -> str | None:
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


def handle_wishes(ack: Ack, body: dict, view: dict, context: BoltContext) -> None:
    raw = _validate_topics(ack, view)
    if raw is None:
        return
    ack()
    if not split_topics(raw):
        return  # "Add" with an empty field: the person only removed things; nothing to say
    defer(context, body, Work.WISHES)


@task(Work.WISHES)
def add_wishes(job: Job) -> None:
    view = job.body["view"]
    _add_wishes(input_value(view, Block.TOPICS) or "", job.body, view, job.client, job.context)


def _add_wishes(raw: str, body: dict, view: dict, client: WebClient, context: BoltContext) -> None:
    with person_transaction(body, context) as (session, person):
        outcome = learning.add_wishes(session, person, raw, note=input_value(view, Block.NOTE), now=utcnow())
        reply = learning_views.build_teachme_reply(
            outcome,
            teachers=learning.teacher_counts(session, person, outcome.topics),
            next_round=_next_round(session, body, context),
            needs_profile=not person.has_profile,
        )
    tell_privately(client, user_id=user_of(body), channel_id=metadata(view).get("channel_id"), reply=reply)
    refresh_home(client, context, team_id=team_of(body), user_id=user_of(body))


def _skill_level(view: dict) -> SkillLevel:
    return SkillLevel(input_value(view, Block.LEVEL) or SkillLevel.CONFIDENT.value)


def handle_skills(ack: Ack, body: dict, view: dict, context: BoltContext) -> None:
    raw = _validate_topics(ack, view)
    if raw is None:
        return
    try:
        _skill_level(view)
    except ValueError:
        ack(response_action="errors", errors={Block.LEVEL: "Please pick a level."})
        return
    ack()
    if not split_topics(raw):
        return
    defer(context, body, Work.SKILLS)


@task(Work.SKILLS)
def add_skills(job: Job) -> None:
    view = job.body["view"]
    raw = input_value(view, Block.TOPICS) or ""
    _add_skills(raw, _skill_level(view), job.body, view, job.client, job.context)


def _add_skills(
    raw: str, level: SkillLevel, body: dict, view: dict, client: WebClient, context: BoltContext
) -> None:
    with person_transaction(body, context) as (session, person):
        outcome = learning.add_skills(session, person, raw, level=level, now=utcnow())
        reply = learning_views.build_canteach_reply(
            outcome,
            learners=learning.learner_counts(session, person, outcome.topics),
            next_round=_next_round(session, body, context),
            needs_profile=not person.has_profile,
        )
    tell_privately(client, user_id=user_of(body), channel_id=metadata(view).get("channel_id"), reply=reply)
    refresh_home(client, context, team_id=team_of(body), user_id=user_of(body))


def _next_round(session, body: dict, context: BoltContext):
    from bot.services.programme import next_matching_round

    settings: Settings = context["settings"]
    programme = profiles.programme_settings(session, team_id=team_of(body), defaults=settings.programme)
    return next_matching_round(programme, now=utcnow())


def register(app: App) -> None:
    app.view(Modal.PROFILE)(handle_profile)
    app.view(Modal.WISHES)(handle_wishes)
    app.view(Modal.SKILLS)(handle_skills)
