"""The profile modal's submission; invalid fields answer with inline errors (the wishes and skills
modals are bot.listeners.learning)."""

from __future__ import annotations

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.config import Settings
from bot.db import Database
from bot.ids import Block, Modal, Work
from bot.listeners.support import (
    hand_over,
    input_value,
    metadata,
    person_transaction,
    refresh_home,
    sync_person_from_slack,
    team_of,
    tell_privately,
    user_of,
)
from bot.services import profiles
from bot.services.profiles import ProfileError
from bot.views import profile as profile_views
from bot.work.queue import task
from models import utcnow


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
    hand_over(context, body, Work.PROFILE)


def save_profile(body: dict, client: WebClient, context: BoltContext) -> None:
    view = body["view"]
    profile = _parse_profile(view)
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


task(Work.PROFILE)(lambda job: save_profile(job.body, job.client, job.context))


def register(app: App) -> None:
    app.view(Modal.PROFILE)(handle_profile)
