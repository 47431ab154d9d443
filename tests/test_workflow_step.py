"""Workflow Builder's "Request a mentor" step, end to end: a signed `function_executed` event in,
functions.completeSuccess / completeError out (the fake checks the execution id and the outputs
against the step's output parameters in manifest.json)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from bot.services.workflow_steps import CALLBACK_ID
from models import CareerStage, PendingWork, Person, ProcessedEvent, Wish, WishStatus, utcnow
from tests.conftest import MANIFEST
from tests.factories import add_person


@pytest.fixture
def steps(flipside):
    flipside.fake.declare_functions(json.loads(MANIFEST.read_text())["functions"])
    return flipside


def run_step(flipside, inputs: dict, *, deliveries: int = 1) -> str:
    """A workflow reaches the step; Slack delivers its event (again, when `deliveries` > 1, as a
    retry would). Returns the execution id."""
    event = flipside.fake.execute_function(CALLBACK_ID, inputs)
    for attempt in range(deliveries):
        headers = (
            {"X-Slack-Retry-Num": str(attempt), "X-Slack-Retry-Reason": "http_timeout"} if attempt else {}
        )
        assert flipside.event(event, headers=headers).status == 200
    flipside.work_done()
    return event["function_execution_id"]


def wishes_of(flipside, user_id: str) -> list[tuple[str, str | None]]:
    with flipside.db.transaction() as session:
        person = session.scalar(select(Person).where(Person.slack_user_id == user_id))
        if person is None:
            return []
        return [
            (wish.topic.display_name, wish.note)
            for wish in session.scalars(
                select(Wish).where(Wish.person_id == person.id, Wish.status == WishStatus.OPEN)
            )
        ]


def people(flipside) -> int:
    with flipside.db.transaction() as session:
        return session.scalar(select(func.count()).select_from(Person))


def test_the_step_records_the_wish_as_teachme_does_and_completes_with_its_outputs(steps):
    add_person(steps.db, "U2", stage=CareerStage.EARLY, department="Tech", teaches="Excel")

    # A new starter Flipside has never seen, a typo of a known topic, and a note.
    execution_id = run_step(steps, {"person": "U3", "topic": "excell", "note": "pivot tables"})

    assert wishes_of(steps, "U3") == [("Excel", "pivot tables")]  # merged into the known topic
    execution = steps.fake.execution(execution_id)
    assert execution["state"] == "completed"
    outputs = execution["outputs"]
    assert outputs["topic"] == "Excel" and outputs["teachers_available"] == 1
    assert isinstance(outputs["next_round"], int) and outputs["next_round"] > utcnow().timestamp()
    [call] = steps.fake.calls_to("functions.completeSuccess")
    assert call.ok and call.args["function_execution_id"] == execution_id
    with steps.db.transaction() as session:
        amara = session.scalar(select(Person).where(Person.slack_user_id == "U3"))
        assert amara.display_name == "amara" and amara.tz == "Africa/Lagos"  # from users.info
        assert session.scalar(select(func.count()).select_from(PendingWork)) == 0


def test_a_second_delivery_of_the_same_execution_completes_the_step_once(steps):
    execution_id = run_step(steps, {"person": "U1", "topic": "Terraform"}, deliveries=3)

    assert wishes_of(steps, "U1") == [("Terraform", None)]
    assert len(steps.fake.calls_to("functions.completeSuccess")) == 1
    assert steps.fake.execution(execution_id)["outputs"]["teachers_available"] == 0
    with steps.db.transaction() as session:
        keys = session.scalars(select(ProcessedEvent.event_id)).all()
    assert f"function:{execution_id}" in keys


def _pause_u2(flipside) -> None:
    add_person(flipside.db, "U2", stage=CareerStage.EARLY, department="Tech")
    with flipside.db.transaction() as session:
        session.scalar(select(Person).where(Person.slack_user_id == "U2")).paused = True


@pytest.mark.parametrize(
    ("inputs", "prepare", "says"),
    [
        ({"person": "U404", "topic": "Excel"}, None, "isn't an active member of this workspace"),
        ({"person": "UGONE", "topic": "Excel"}, "deleted", "isn't an active member of this workspace"),
        ({"person": "<!channel>", "topic": "Excel"}, None, "Pick the person"),
        ({"person": "U3", "topic": "   "}, None, "The topic is empty"),
        ({"person": "U3", "topic": "x" * 81}, None, "at most 80 characters"),
        ({"person": "U3", "topic": "Excel, Python"}, None, "one topic per step"),
        ({"person": "U3", "topic": "Excel", "note": "n" * 2000}, None, "Keep the note under"),
        ({"person": "U2", "topic": "Excel"}, "paused", "has paused Flipside"),
    ],
    ids=["unknown", "deactivated", "forged", "empty", "overlong", "several", "long-note", "paused"],
)
def test_bad_input_fails_the_step_clearly_and_stores_nothing(steps, inputs, prepare, says):
    if prepare == "deleted":
        steps.fake.add_user("UGONE", name="gone", real_name="Gone Person", deleted=True)
    if prepare == "paused":
        _pause_u2(steps)
    before = people(steps)

    execution_id = run_step(steps, inputs)

    execution = steps.fake.execution(execution_id)
    assert execution["state"] == "failed" and says.casefold() in execution["error"].casefold()
    assert not steps.fake.calls_to("functions.completeSuccess")
    assert people(steps) == before  # not even the person: nothing half-way
    assert wishes_of(steps, inputs["person"]) == []


def test_a_slack_fault_while_checking_the_person_fails_the_step_with_a_retry_hint(steps):
    steps.fake.fail_next("users.info", error="fatal_error")

    execution_id = run_step(steps, {"person": "U3", "topic": "Excel"})

    assert "try again" in steps.fake.execution(execution_id)["error"]
    assert wishes_of(steps, "U3") == []


def test_the_fake_refuses_outputs_that_do_not_match_the_steps_declaration(steps):
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    client = WebClient(base_url=steps.fake.base_url, token="xoxb-test")
    execution_id = steps.fake.execute_function(CALLBACK_ID, {"person": "U1", "topic": "x"})[
        "function_execution_id"
    ]
    with pytest.raises(SlackApiError, match="parameter_validation_failed"):
        client.functions_completeSuccess(function_execution_id=execution_id, outputs={"topic": "x"})
    with pytest.raises(SlackApiError, match="function_execution_not_found"):
        client.functions_completeError(function_execution_id="Fx0000000000", error="no")
    client.functions_completeError(function_execution_id=execution_id, error="refused")
    with pytest.raises(SlackApiError, match="execution_not_in_running_state"):
        client.functions_completeSuccess(
            function_execution_id=execution_id,
            outputs={"topic": "x", "teachers_available": 0, "next_round": 1},
        )
