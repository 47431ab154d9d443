"""Workflow Builder's "Request a mentor" step: a wish recorded for someone, as `/teachme` records it.

The same service (learning.add_wishes: its limits and fuzzy topic merge); the step's outputs are
the wish's topic, how many colleagues could teach it now (availability.teachers_for) and when the
next round runs. Bad input refuses the whole step: nothing is stored half-way."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.config import ProgrammeDefaults
from bot.services import learning, profiles
from bot.services.availability import teachers_for
from bot.services.programme import next_matching_round
from bot.services.topics import TopicError, split_topics
from models import ProcessedEvent

CALLBACK_ID = "request_mentor"  # the function's key in manifest.json
_USER_ID = re.compile(r"^[UW][A-Z0-9]{1,20}$")
_EVERYONE = 10_000  # teachers_for's limit when counting, not listing


class StepRefused(Exception):
    """The step cannot be done; the message is shown to the workflow's builder and runner."""


@dataclass(frozen=True)
class StepInputs:
    user_id: str
    topic: str
    note: str | None


@dataclass(frozen=True)
class MentorRequest:
    topic: str
    teachers_available: int
    next_round: datetime

    def outputs(self) -> dict[str, Any]:
        """The step's output parameters, as manifest.json declares them."""
        return {
            "topic": self.topic,
            "teachers_available": self.teachers_available,
            "next_round": int(self.next_round.timestamp()),
        }


def first_execution(session: Session, *, team_id: str, execution_id: str) -> bool:
    """Record the step's execution id; False if it was recorded before. Slack may deliver one
    execution's `function_executed` more than once (a retry, or a copy): it is done once."""
    try:
        with session.begin_nested():  # a duplicate only undoes this insert
            session.add(ProcessedEvent(event_id=f"function:{execution_id}"[:64], team_id=team_id))
    except IntegrityError:
        return False
    return True


def read_inputs(inputs: Mapping[str, Any] | None) -> StepInputs:
    inputs = inputs or {}
    user_id = str(inputs.get("person") or "").strip()
    if not _USER_ID.match(user_id):
        raise StepRefused("Pick the person who wants a mentor (a person in this workspace).")
    topic = str(inputs.get("topic") or "")
    typed = split_topics(topic)
    if not typed:
        raise StepRefused("The topic is empty: say what the person wants to learn, e.g. “Excel”.")
    if len(typed) > 1:
        raise StepRefused("Give one topic per step (this one names several); add a step for each.")
    note = inputs.get("note")
    return StepInputs(user_id, typed[0], str(note) if note is not None else None)


def check_slack_user(user: Mapping[str, Any] | None, *, team_id: str) -> None:
    """`user` is users.info's answer for the step's person (None: Slack does not know them)."""
    if not user or user.get("deleted") or user.get("is_bot") or user.get("id") == "USLACKBOT":
        raise StepRefused("That person isn't an active member of this workspace.")
    teams = {user.get("team_id"), *((user.get("enterprise_user") or {}).get("teams") or [])}
    if team_id not in teams:
        raise StepRefused("That person isn't an active member of this workspace.")


def request_mentor(
    session: Session,
    *,
    team_id: str,
    inputs: StepInputs,
    slack_user: Mapping[str, Any],
    defaults: ProgrammeDefaults,
    now: datetime,
) -> MentorRequest:
    """Record the wish as /teachme would. Raises StepRefused (the caller rolls back) on bad input."""
    profiles.get_or_create_person(session, team_id=team_id, slack_user_id=inputs.user_id, defaults=defaults)
    # Locked, as for a user_change: apply_slack_user must not cross a newer copy of the person.
    person = profiles.get_person(session, team_id=team_id, slack_user_id=inputs.user_id, for_update=True)
    assert person is not None
    if person.paused:
        raise StepRefused(
            f"{person.display_name} has paused Flipside, so no wish was added. They can resume with "
            "`/mentoring resume`."
        )
    profiles.apply_slack_user(person, slack_user, now=now)  # a new hire gets their name and timezone
    try:
        outcome = learning.add_wishes(session, person, inputs.topic, note=inputs.note, now=now)
    except TopicError as error:
        raise StepRefused(str(error)) from None
    if not outcome.topics:
        _typed, why = outcome.rejected[0]
        raise StepRefused(f"No wish was added: {why}")
    topic = outcome.topics[0]
    teachers = teachers_for(session, learner=person, topic_id=topic.id, now=now, limit=_EVERYONE)
    programme = profiles.programme_settings(session, team_id=team_id, defaults=defaults)
    return MentorRequest(topic.display_name, len(teachers), next_matching_round(programme, now=now))
