"""Workflow Builder's "Request a mentor" step (a custom step: `functions` in manifest.json).

Bolt acks `function_executed` itself. The listener stores the execution for a worker, once per
function_execution_id, in one transaction: a second delivery of the same execution stores
nothing. The worker records the wish and, after its commit, completes the step with its outputs
(functions.completeSuccess) or refuses it with a clear error (functions.completeError)."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltContext, Complete, Fail
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.config import Settings
from bot.db import Database
from bot.ids import Work
from bot.listeners.support import queue_work, refresh_home, try_slack
from bot.logs import error_code
from bot.services import workflow_steps
from bot.services.slack_events import slim_event_body
from bot.services.workflow_steps import StepRefused
from bot.work.queue import Job, settle_in, task
from models import utcnow

logger = logging.getLogger(__name__)

_UNKNOWN_USER_ERRORS = frozenset({"user_not_found", "user_not_visible", "users_not_found"})


def handle_request_mentor(event: dict[str, Any], body: dict[str, Any], context: BoltContext) -> None:
    # The execution's own token (bot_access_token) is a credential: it is not stored. The worker
    # completes the step with the workspace's bot token, which Slack accepts for functions.*.
    execution = {key: event.get(key) for key in ("type", "function_execution_id", "inputs")}
    db: Database = context["db"]
    with db.transaction() as session:
        if workflow_steps.first_execution(
            session, team_id=str(context.team_id), execution_id=str(event["function_execution_id"])
        ):
            queue_work(session, slim_event_body(body, execution), Work.REQUEST_MENTOR_STEP)


def run_request_mentor(job: Job) -> None:
    event = job.body["event"]
    execution_id = str(event["function_execution_id"])
    team_id = job.work.team_id
    try:
        inputs = workflow_steps.read_inputs(event.get("inputs"))
        slack_user = _slack_user(job.client, inputs.user_id)
        workflow_steps.check_slack_user(slack_user, team_id=team_id)
        result = _record(job, team_id=team_id, inputs=inputs, slack_user=slack_user or {})
    except StepRefused as refusal:
        logger.info("request-a-mentor step refused")
        try_slack(Fail(job.client, execution_id), error=str(refusal))
        return
    try_slack(Complete(job.client, execution_id), outputs=result.outputs())
    refresh_home(job.client, job.context, team_id=team_id, user_id=inputs.user_id)


def _record(job: Job, *, team_id: str, inputs, slack_user) -> workflow_steps.MentorRequest:
    db: Database = job.context["db"]
    settings: Settings = job.context["settings"]
    with db.transaction() as session:  # a refusal raised here rolls all of it back
        result = workflow_steps.request_mentor(
            session,
            team_id=team_id,
            inputs=inputs,
            slack_user=slack_user,
            defaults=settings.programme,
            now=utcnow(),
        )
        settle_in(session, job.context)
    return result


def _slack_user(client: WebClient, user_id: str) -> dict[str, Any] | None:
    try:
        return client.users_info(user=user_id)["user"]
    except SlackApiError as error:
        code = error.response.get("error")
        if code in _UNKNOWN_USER_ERRORS:
            return None
        logger.warning("users.info failed for a workflow step: %s", error_code(code))
        raise StepRefused(
            "Flipside could not check that person with Slack just now; please try again."
        ) from None


task(Work.REQUEST_MENTOR_STEP)(run_request_mentor)


def register(app: App) -> None:
    app.function(workflow_steps.CALLBACK_ID)(handle_request_mentor)
