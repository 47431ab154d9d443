"""The programme admin's controls in App Home: the figures' period, settings, preview and run a
round, CSV export to the admin's DM, and forgetting someone who has left. Rights are checked on
every request (bot.listeners.rights).

A round (and its dry run) takes seconds of CPU in a large organisation, an export reads every
pairing: on Bolt's pool that would hold the interpreter lock while the next acks wait, so the heavy
part goes to the worker (bot/work.py). What needs the click's trigger id (3 seconds) stays here."""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.config import Settings
from bot.db import Database
from bot.delivery import pairing_notices as notices
from bot.delivery.forgetting import forget_person
from bot.delivery.sender import Deliverer
from bot.ids import Action as A
from bot.ids import Block, Modal, Work
from bot.listeners.data_rights import after_forget
from bot.listeners.home import _home_period, publish_home
from bot.listeners.rights import admin_allowed, admin_verdict, refusal, tell_refused
from bot.listeners.support import (
    hand_over,
    input_value,
    queue_work,
    team_of,
    tell_privately,
    try_slack,
    user_of,
)
from bot.logs import error_code
from bot.services import admin, profiles
from bot.services.admin import SettingsField
from bot.services.export import export_csv
from bot.services.figures import Period
from bot.slack.admin_rights import Verdict
from bot.views import admin as admin_views
from bot.views.text import plural, slack_date
from bot.work.queue import Job, settle_in, task
from models import utcnow

logger = logging.getLogger(__name__)


def _republish(client: WebClient, body: dict, context: BoltContext, period: Period | None) -> None:
    publish_home(
        client,
        db=context["db"],
        settings=context["settings"],
        rights=context["rights"],
        team_id=team_of(body),
        user_id=user_of(body),
        period=period,
    )


def change_period(ack: Ack, body: dict, action: dict, context: BoltContext) -> None:
    ack()
    # The figures take queries over the whole programme: a worker draws them.
    period = Period.parse((action.get("selected_option") or {}).get("value"))
    hand_over(context, body, Work.ADMIN_HOME, period=period.value, check_rights=True)


@task(Work.ADMIN_HOME)
def show_admin_home(job: Job) -> None:
    """The admin's home redrawn with its figures; rights asked of Slack again for a click."""
    if job.extras.get("check_rights") and not admin_allowed(job.client, job.body, job.context):
        return
    _republish(job.client, job.body, job.context, _period_of(job))


def _period_value(view: dict) -> str | None:
    """The period the admin's home showed (kept in its metadata), as a task's JSON extra."""
    period = _home_period(view)
    return period.value if period else None


def _period_of(job: Job) -> Period | None:
    raw = job.extras.get("period")
    return Period.parse(raw) if raw else None


def open_settings(ack: Ack, body: dict, client: WebClient, context: BoltContext) -> None:
    ack()
    if not admin_allowed(client, body, context):
        return
    settings: Settings = context["settings"]
    with context["db"].transaction() as session:
        programme = profiles.programme_settings(session, team_id=team_of(body), defaults=settings.programme)
        view = admin_views.build_settings_modal(programme)
    view["private_metadata"] = _period_metadata(body)
    client.views_open(trigger_id=body["trigger_id"], view=view)


def _period_metadata(body: dict) -> str:
    period = _home_period(body.get("view"))
    return json.dumps({"period": period.value}) if period else ""


def settings_submitted(ack: Ack, body: dict, view: dict, client: WebClient, context: BoltContext) -> None:
    verdict = admin_verdict(client, body, context)
    if verdict is not Verdict.ADMIN:
        ack(response_action="errors", errors={Block.CHANNEL: refusal(verdict)})
        return
    values: dict[str, Any] = {
        name: input_value(view, block) for name, block in admin_views.SETTINGS_BLOCKS.items()
    }
    values[SettingsField.STRICT_REVERSE] = "strict" in (values[SettingsField.STRICT_REVERSE] or [])
    try:
        data = admin.parse_settings(values)
    except admin.SettingsError as error:
        ack(response_action="errors", errors=admin_views.settings_errors(error))
        return
    ack()
    settings: Settings = context["settings"]
    with context["db"].transaction() as session:
        admin.save_settings(session, team_id=team_of(body), defaults=settings.programme, data=data)
        queue_work(session, body, Work.ADMIN_HOME, period=_period_value(view))  # the home shows them


def preview_round(ack: Ack, body: dict, client: WebClient, context: BoltContext) -> None:
    ack()
    if not admin_allowed(client, body, context):
        return
    # The dry run may outlast the trigger id's 3 seconds, and seconds of CPU for a large workspace
    # would slow every ack here: open a waiting modal, and a worker fills it in.
    opened = client.views_open(
        trigger_id=body["trigger_id"], view=admin_views.build_wait_modal("Next round preview")
    )
    with context["db"].transaction() as session:
        queue_work(session, body, Work.ADMIN_PREVIEW, view_id=opened["view"]["id"])


@task(Work.ADMIN_PREVIEW)
def fill_preview(job: Job) -> None:
    settings: Settings = job.context["settings"]
    try:
        from bot.services.rounds import preview_round as dry_run

        team_id = team_of(job.body)
        with job.context["db"].transaction() as session:
            text = dry_run(session, team_id=team_id, settings_defaults=settings.programme, now=utcnow())
        view = admin_views.build_preview_modal(text)
    except Exception:
        logger.exception("round preview failed")
        view = admin_views.build_preview_modal(
            "Sorry, the preview failed; nothing was changed. Try again later."
        )
    try_slack(job.client.views_update, view_id=job.extras["view_id"], view=view)


def open_run_confirm(ack: Ack, body: dict, client: WebClient, context: BoltContext) -> None:
    ack()
    if admin_allowed(client, body, context):
        view = admin_views.build_run_confirm_modal()
        view["private_metadata"] = _period_metadata(body)
        client.views_open(trigger_id=body["trigger_id"], view=view)


def run_round_confirmed(ack: Ack, body: dict, view: dict, client: WebClient, context: BoltContext) -> None:
    verdict = admin_verdict(client, body, context)
    ack()
    if verdict is not Verdict.ADMIN:
        tell_refused(client, body, verdict)
        return
    with context["db"].transaction() as session:  # a worker runs it: exactly once, no ack waits on it
        queue_work(session, body, Work.ADMIN_RUN_ROUND, period=_period_value(view))


@task(Work.ADMIN_RUN_ROUND)
def run_round_now(job: Job) -> None:
    db: Database = job.context["db"]
    settings: Settings = job.context["settings"]
    team_id = team_of(job.body)
    with db.transaction() as session:
        summary = notices.run_round_and_notify(
            session, team_id=team_id, defaults=settings.programme, now=utcnow(), manual=True
        )
        text = (
            f":white_check_mark: Round run: {plural(len(summary.pairings), 'pair')} proposed, "
            f"{plural(summary.unmatched_wishes, 'wish', 'wishes')} left unmatched. "
            "Proposals are on their way."
            if summary.created
            else "That round already ran a moment ago; nothing new was proposed."
        )
        settle_in(session, job.context)  # the round, its queued DMs and this task's row go together
    # The first proposals go out now; the outbox job sends the rest within a minute.
    Deliverer(db, job.client).deliver_due(team_id=team_id, max_batches=1)
    reply = admin_views.build_notice(text)
    tell_privately(job.client, user_id=user_of(job.body), channel_id=None, reply=reply)
    _republish(job.client, job.body, job.context, _period_of(job))


def export_to_dm(ack: Ack, body: dict, context: BoltContext) -> None:
    ack()
    with context["db"].transaction() as session:  # a worker writes the files: every row, all time
        queue_work(session, body, Work.ADMIN_EXPORT)


@task(Work.ADMIN_EXPORT)
def send_export(job: Job) -> None:
    client, body = job.client, job.body
    if not admin_allowed(client, body, job.context):  # rights asked of Slack again at each click
        return
    team_id, user_id = team_of(body), user_of(body)
    now = utcnow()
    with job.context["db"].transaction() as session:
        files = export_csv(session, team_id=team_id, as_of=now)
    try:
        channel = client.conversations_open(users=user_id)["channel"]["id"]
        client.files_upload_v2(
            file_uploads=[{"file": data, "filename": name, "title": name} for name, data in files.items()],
            channel=channel,
            initial_comment=f"Flipside export of {slack_date(now)}: the figures, pairings, their "
            "sessions, Lunch 'n' Learns, sign-ups and feedback.",
        )
    except SlackApiError as error:
        logger.warning("export upload failed: %s", error_code(error.response.get("error")))
        tell_privately(
            client,
            user_id=user_id,
            channel_id=None,
            reply=admin_views.build_notice(
                ":warning: I couldn't upload the export to Slack. Please try again, or run "
                "`python -m bot export --format csv` on the server."
            ),
        )


def open_forget_person(ack: Ack, body: dict, client: WebClient, context: BoltContext) -> None:
    ack()
    if admin_allowed(client, body, context):
        client.views_open(trigger_id=body["trigger_id"], view=admin_views.build_admin_forget_modal())


def forget_person_submitted(
    ack: Ack, body: dict, view: dict, client: WebClient, context: BoltContext
) -> None:
    verdict = admin_verdict(client, body, context)
    if verdict is not Verdict.ADMIN:
        ack(response_action="errors", errors={Block.PERSON: refusal(verdict)})
        return
    target = str(input_value(view, Block.PERSON) or "")
    team_id = team_of(body)
    with context["db"].transaction() as session:
        known = bool(target) and admin.find_person(session, team_id=team_id, slack_user_id=target) is not None
    if not known:
        ack(response_action="errors", errors={Block.PERSON: "Flipside has nothing stored about this person."})
        return
    ack()
    outcome = forget_person(context["db"], team_id=team_id, user_id=target, now=utcnow())
    text = (
        f":white_check_mark: Done: <@{target}> is forgotten ({outcome.wishes} wishes and {outcome.skills} "
        f"skills deleted, {outcome.pairings_cancelled} open pairings ended)."
    )
    after_forget(client, context, team_id=team_id, user_id=target, outcome=outcome)
    tell_privately(client, user_id=user_of(body), channel_id=None, reply=admin_views.build_notice(text))


def register(app: App) -> None:
    app.action(A.ADMIN_PERIOD)(change_period)
    app.action(A.ADMIN_OPEN_SETTINGS)(open_settings)
    app.action(A.ADMIN_PREVIEW_ROUND)(preview_round)
    app.action(A.ADMIN_RUN_ROUND)(open_run_confirm)
    app.action(A.ADMIN_EXPORT)(export_to_dm)
    app.action(A.ADMIN_FORGET_PERSON)(open_forget_person)
    app.view(Modal.ADMIN_SETTINGS)(settings_submitted)
    app.view(Modal.ADMIN_RUN_CONFIRM)(run_round_confirmed)
    app.view(Modal.ADMIN_FORGET)(forget_person_submitted)
