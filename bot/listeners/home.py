"""App Home: published on app_home_opened and after changes; its buttons; the admin's controls;
and /mentoring forget.

Every admin action and admin modal submission checks the rights of the user in *that* payload
(asking Slack again for Slack-granted rights), so replaying an admin's button with another user
id reaches nothing.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.config import Settings
from bot.db import Database
from bot.ids import Action as A
from bot.ids import Block, Modal
from bot.listeners.support import (
    input_value,
    metadata,
    person_transaction,
    sync_person_from_slack,
    team_of,
    tell_privately,
    user_of,
)
from bot.notify import Deliverer
from bot.services import admin, insights, profiles
from bot.services.export import export_csv
from bot.services.insights import Period
from bot.services.programme import next_matching_round
from bot.views import admin as admin_views
from bot.views.home import ShowAll, build_forgotten_home, build_home, build_show_all
from bot.views.text import plural
from models import utcnow

logger = logging.getLogger(__name__)

SETTINGS_FIELDS = (
    Block.CHANNEL,
    Block.MATCHING_DAY,
    Block.MATCHING_TIME,
    Block.MATCHING_TIMEZONE,
    Block.STRICT_REVERSE,
    Block.PROPOSAL_EXPIRY,
    Block.PAIRING_LENGTH,
    Block.REMINDERS,
    Block.DEMAND_THRESHOLD,
)


def publish_home(
    client: WebClient,
    *,
    db: Database,
    settings: Settings,
    team_id: str,
    user_id: str,
    period: Period | None = None,
    only_if_opened: bool = False,
) -> None:
    """Build and publish one person's App Home (with the admin section for admins).

    `only_if_opened`: skip people who never opened the Home tab; they get it fresh when they do."""
    now = utcnow()
    with db.transaction() as session:
        person = profiles.get_or_create_person(
            session, team_id=team_id, slack_user_id=user_id, defaults=settings.programme
        )
        if only_if_opened and person.home_opened_at is None:
            return
        programme = profiles.programme_settings(session, team_id=team_id, defaults=settings.programme)
        admin_blocks, home_state = [], None
        if admin.is_admin(person, slack_user_id=user_id, admin_user_ids=settings.admin_user_ids):
            period = period or Period.LAST_4_WEEKS
            report = insights.build_report(session, team_id=team_id, period=period, now=now)
            admin_blocks = admin_views.build_admin_section(report, programme)
            home_state = {"period": period.value}
        view = build_home(
            person,
            insights.person_overview(session, person=person, now=now),
            next_round=next_matching_round(programme, now=now),
            admin_blocks=admin_blocks,
            private_metadata=home_state,
        )
    try:
        client.views_publish(user_id=user_id, view=view)
    except SlackApiError as error:
        # Callers publish after their real work is done: a stale home must not undo or hide it.
        logger.warning("could not publish App Home: %s", error.response.get("error"))


def _home_period(view: dict[str, Any] | None) -> Period | None:
    """The period an admin last chose, kept in the home view's private_metadata."""
    raw = metadata(view or {}).get("period")
    return Period.parse(raw) if raw else None


def handle_app_home_opened(event: dict, body: dict, client: WebClient, context: BoltContext) -> None:
    if event.get("tab") not in (None, "home"):
        return
    db: Database = context["db"]
    settings: Settings = context["settings"]
    team_id, user_id = body["team_id"], event["user"]
    with db.transaction() as session:
        person = profiles.get_or_create_person(
            session, team_id=team_id, slack_user_id=user_id, defaults=settings.programme
        )
        person.home_opened_at = utcnow()
    # Name, timezone and the Slack admin flag, at most once a day: the home shows them.
    sync_person_from_slack(client, db=db, settings=settings, team_id=team_id, user_id=user_id)
    publish_home(
        client,
        db=db,
        settings=settings,
        team_id=team_id,
        user_id=user_id,
        period=_home_period(event.get("view")),
    )


def show_all(ack: Ack, body: dict, action: dict, client: WebClient, context: BoltContext) -> None:
    ack()
    kind_value, _, period_value = str(action.get("value") or "").partition(":")
    try:
        kind = ShowAll(kind_value)
    except ValueError:
        return  # a forged value: nothing to show
    if kind.for_admins:
        if not _allowed(client, body, context):
            return
        with context["db"].transaction() as session:
            report = insights.build_report(
                session, team_id=team_of(body), period=Period.parse(period_value), now=utcnow()
            )
            view = admin_views.build_admin_list(kind, report)
    else:
        with person_transaction(body, context) as (session, person):
            view = build_show_all(kind, insights.person_overview(session, person=person, now=utcnow()))
    client.views_open(trigger_id=body["trigger_id"], view=view)


# --- admin actions ----------------------------------------------------------------------------


def _allowed(client: WebClient, body: dict, context: BoltContext, *, fresh: bool = True) -> bool:
    """Whether the user in this payload is an admin now; if not, they are told so privately.

    `fresh=False` is for modal submissions, which must be acked within 3 seconds: they trust the
    flag that the button opening the modal has just refreshed from Slack.
    """
    db: Database = context["db"]
    settings: Settings = context["settings"]
    team_id, user_id = team_of(body), user_of(body)
    if fresh and user_id not in settings.admin_user_ids:
        # Slack-granted rights: ask users.info again rather than trust a day-old flag. If Slack
        # cannot answer, the flag it gave us last stays in force.
        sync_person_from_slack(client, db=db, settings=settings, team_id=team_id, user_id=user_id, force=True)
    with db.transaction() as session:
        person = profiles.get_person(session, team_id=team_id, slack_user_id=user_id)
        allowed = admin.is_admin(person, slack_user_id=user_id, admin_user_ids=settings.admin_user_ids)
    if not allowed:
        logger.warning("refused an admin %s from a non-admin", body.get("type"))
        tell_privately(
            client, user_id=user_id, channel_id=None, reply=admin_views.build_notice(admin_views.NOT_ADMIN)
        )
    return allowed


def _republish(client: WebClient, body: dict, context: BoltContext, period: Period | None) -> None:
    publish_home(
        client,
        db=context["db"],
        settings=context["settings"],
        team_id=team_of(body),
        user_id=user_of(body),
        period=period,
    )


def change_period(ack: Ack, body: dict, action: dict, client: WebClient, context: BoltContext) -> None:
    ack()
    if _allowed(client, body, context):
        _republish(client, body, context, Period.parse((action.get("selected_option") or {}).get("value")))


def open_settings(ack: Ack, body: dict, client: WebClient, context: BoltContext) -> None:
    ack()
    if not _allowed(client, body, context):
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
    if not _allowed(client, body, context, fresh=False):
        ack(response_action="errors", errors={Block.CHANNEL: admin_views.NOT_ADMIN})
        return
    values: dict[str, Any] = {block: input_value(view, block) for block in SETTINGS_FIELDS}
    values[Block.STRICT_REVERSE] = "strict" in (values[Block.STRICT_REVERSE] or [])
    try:
        data = admin.parse_settings(values)
    except admin.SettingsError as error:
        ack(response_action="errors", errors=error.errors)
        return
    ack()
    settings: Settings = context["settings"]
    with context["db"].transaction() as session:
        admin.save_settings(session, team_id=team_of(body), defaults=settings.programme, data=data)
    _republish(client, body, context, _home_period(view))


def preview_round(ack: Ack, body: dict, client: WebClient, context: BoltContext) -> None:
    ack()
    if not _allowed(client, body, context):
        return
    # The dry run may outlast the trigger id's 3 seconds: open a waiting modal, then fill it in.
    opened = client.views_open(
        trigger_id=body["trigger_id"], view=admin_views.build_wait_modal("Next round preview")
    )
    settings: Settings = context["settings"]
    try:
        from bot.services.rounds import preview_round as dry_run

        with context["db"].transaction() as session:
            text = dry_run(session, team_id=team_of(body), settings_defaults=settings.programme, now=utcnow())
        view = admin_views.build_preview_modal(text)
    except Exception:
        logger.exception("round preview failed")
        view = admin_views.build_preview_modal(
            "Sorry, the preview failed; nothing was changed. Try again later."
        )
    client.views_update(view_id=opened["view"]["id"], view=view)


def open_run_confirm(ack: Ack, body: dict, client: WebClient, context: BoltContext) -> None:
    ack()
    if _allowed(client, body, context):
        view = admin_views.build_run_confirm_modal()
        view["private_metadata"] = _period_metadata(body)
        client.views_open(trigger_id=body["trigger_id"], view=view)


def run_round_confirmed(ack: Ack, body: dict, view: dict, client: WebClient, context: BoltContext) -> None:
    allowed = _allowed(client, body, context, fresh=False)
    ack()
    if not allowed:
        return
    from bot import notices  # the pairing lifecycle's module: the round and its DMs together

    db: Database = context["db"]
    settings: Settings = context["settings"]
    team_id = team_of(body)
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
    # The first proposals go out now; the outbox job sends the rest within a minute.
    Deliverer(db, client).deliver_due(team_id=team_id, max_batches=1)
    tell_privately(client, user_id=user_of(body), channel_id=None, reply=admin_views.build_notice(text))
    _republish(client, body, context, _home_period(view))


def export_to_dm(ack: Ack, body: dict, client: WebClient, context: BoltContext) -> None:
    ack()
    if not _allowed(client, body, context):
        return
    team_id, user_id = team_of(body), user_of(body)
    now = utcnow()
    with context["db"].transaction() as session:
        files = export_csv(session, team_id=team_id)
    try:
        channel = client.conversations_open(users=user_id)["channel"]["id"]
        client.files_upload_v2(
            file_uploads=[{"file": data, "filename": name, "title": name} for name, data in files.items()],
            channel=channel,
            initial_comment=f"Flipside export of {now:%d %b %Y %H:%M} UTC: pairings, their sessions, "
            "Lunch 'n' Learns, sign-ups and feedback.",
        )
    except SlackApiError as error:
        logger.warning("export upload failed: %s", error.response.get("error"))
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
    if _allowed(client, body, context):
        client.views_open(trigger_id=body["trigger_id"], view=admin_views.build_admin_forget_modal())


def forget_person_submitted(
    ack: Ack, body: dict, view: dict, client: WebClient, context: BoltContext
) -> None:
    if not _allowed(client, body, context, fresh=False):
        ack(response_action="errors", errors={Block.PERSON: admin_views.NOT_ADMIN})
        return
    target = str(input_value(view, Block.PERSON) or "")
    team_id = team_of(body)
    with context["db"].transaction() as session:
        known = bool(target) and admin.find_person(session, team_id=team_id, slack_user_id=target) is not None
    if not known:
        ack(response_action="errors", errors={Block.PERSON: "Flipside has nothing stored about this person."})
        return
    ack()
    outcome = _forget(context, team_id=team_id, user_id=target)
    text = (
        f":white_check_mark: Done: <@{target}> is forgotten ({outcome.wishes} wishes and {outcome.skills} "
        f"skills deleted, {outcome.pairings_cancelled} open pairings ended)."
    )
    _after_forget(client, context, team_id=team_id, user_id=target, outcome=outcome)
    tell_privately(client, user_id=user_of(body), channel_id=None, reply=admin_views.build_notice(text))


# --- data rights ------------------------------------------------------------------------------


def _forget(context: BoltContext, *, team_id: str, user_id: str) -> admin.ForgetOutcome:
    now = utcnow()
    with context["db"].transaction() as session:
        person = admin.find_person(session, team_id=team_id, slack_user_id=user_id)
        if person is None:
            return admin.ForgetOutcome()
        cancelled = _cancel_hosted_sessions(session, person=person, now=now)
        outcome = admin.forget_person(session, person=person, now=now)
        outcome.cancelled_sessions.extend(cancelled)
        admin.tell_partners(
            session, team_id=team_id, outcome=outcome, message_for=admin_views.build_partner_left, now=now
        )
    return outcome


def _cancel_hosted_sessions(session, *, person, now) -> list[int]:
    """A forgotten host's upcoming Lunch 'n' Learns are cancelled and their attendees told."""
    from bot.lunch_notices import tell_cancelled
    from bot.services import lunch_and_learn as lunches

    cancelled = []
    for lunch in lunches.upcoming_hosted_by(session, person=person, now=now):
        change = lunches.cancel_session(
            session, session_id=lunch.id, person=person, admin_user_ids=(), now=now
        )
        tell_cancelled(session, change, reason="the host has left the programme", now=now)
        if change.outcome == lunches.Outcome.CANCELLED:
            cancelled.append(lunch.id)
    return cancelled


def _after_forget(
    client: WebClient, context: BoltContext, *, team_id: str, user_id: str, outcome: admin.ForgetOutcome
) -> None:
    # Partners hear now rather than at the next outbox tick; the home must not keep showing the
    # wishes and pairings that were just deleted; cancelled sessions' posts show it.
    from bot.lunch_notices import refresh_announcement

    Deliverer(context["db"], client).deliver_due(team_id=team_id, max_batches=1)
    for session_id in outcome.cancelled_sessions:
        refresh_announcement(client, context["db"], team_id=team_id, session_id=session_id)
    client.views_publish(user_id=user_id, view=build_forgotten_home())


def mentoring_forget(
    command: dict, respond: Respond, client: WebClient, context: BoltContext, rest: str
) -> None:
    """`/mentoring forget`: a confirmation modal first; nothing is deleted until it is submitted."""
    origin = json.dumps({"channel_id": command.get("channel_id")})
    client.views_open(
        trigger_id=command["trigger_id"], view=admin_views.build_forget_confirm_modal(private_metadata=origin)
    )


def forget_confirmed(ack: Ack, body: dict, view: dict, client: WebClient, context: BoltContext) -> None:
    ack()
    team_id, user_id = team_of(body), user_of(body)
    outcome = _forget(context, team_id=team_id, user_id=user_id)
    _after_forget(client, context, team_id=team_id, user_id=user_id, outcome=outcome)
    tell_privately(
        client,
        user_id=user_id,
        channel_id=metadata(view).get("channel_id"),
        reply=admin_views.build_notice(
            ":wave: Done. Flipside has deleted your wishes, skills, profile and notes; past pairings "
            "stay in the figures without your name. `/teachme` or `/canteach` would start afresh."
        ),
    )


def register(app: App) -> None:
    app.event("app_home_opened")(handle_app_home_opened)
    app.action(A.SHOW_ALL)(show_all)
    app.action(A.ADMIN_PERIOD)(change_period)
    app.action(A.ADMIN_OPEN_SETTINGS)(open_settings)
    app.action(A.ADMIN_PREVIEW_ROUND)(preview_round)
    app.action(A.ADMIN_RUN_ROUND)(open_run_confirm)
    app.action(A.ADMIN_EXPORT)(export_to_dm)
    app.action(A.ADMIN_FORGET_PERSON)(open_forget_person)
    app.view(Modal.ADMIN_SETTINGS)(settings_submitted)
    app.view(Modal.ADMIN_RUN_CONFIRM)(run_round_confirmed)
    app.view(Modal.ADMIN_FORGET)(forget_person_submitted)
    app.view(Modal.FORGET_CONFIRM)(forget_confirmed)
