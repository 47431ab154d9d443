"""The fake answers functions.* and assistant.threads.* the way Slack does: argument checks, error
codes and scopes, so the tests that rely on it can fail."""

from __future__ import annotations

import json

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from tests.conftest import MANIFEST
from tests.fakeslack import FakeSlack

STEP = "request_mentor"
GOOD_OUTPUTS = {"topic": "Excel", "teachers_available": 2, "next_round": 1_900_000_000}


@pytest.fixture
def fake():
    with FakeSlack() as fake:
        fake.grant_scopes(json.loads(MANIFEST.read_text())["oauth_config"]["scopes"]["bot"])
        fake.declare_functions(json.loads(MANIFEST.read_text())["functions"])
        yield fake


@pytest.fixture
def client(fake):
    return WebClient(base_url=fake.base_url, token="xoxb-test")


def test_an_execution_event_carries_the_declared_parameters(fake):
    event = fake.execute_function(STEP, {"person": "U1", "topic": "Excel"})
    assert event["type"] == "function_executed" and event["function"]["callback_id"] == STEP
    names = {p["name"]: p["is_required"] for p in event["function"]["input_parameters"]}
    assert names == {"person": True, "topic": True, "note": False}
    assert event["function_execution_id"].startswith("Fx") and event["bot_access_token"]
    with pytest.raises(KeyError, match="no function"):
        fake.execute_function("not_declared", {})


@pytest.mark.parametrize(
    ("outputs", "problem"),
    [
        ({"topic": "Excel", "teachers_available": 2}, "missing required output 'next_round'"),
        ({**GOOD_OUTPUTS, "teachers_available": "2"}, "output 'teachers_available' is not of type integer"),
        ({**GOOD_OUTPUTS, "teachers_available": True}, "output 'teachers_available' is not of type integer"),
        ({**GOOD_OUTPUTS, "extra": 1}, "unknown output 'extra'"),
    ],
    ids=["missing", "string-for-integer", "bool-for-integer", "unknown"],
)
def test_outputs_are_checked_against_the_declaration(fake, client, outputs, problem):
    execution_id = fake.execute_function(STEP, {})["function_execution_id"]
    with pytest.raises(SlackApiError, match="parameter_validation_failed") as raised:
        client.functions_completeSuccess(function_execution_id=execution_id, outputs=outputs)
    assert problem in raised.value.response["response_metadata"]["messages"]
    assert fake.execution(execution_id)["state"] == "running"


def test_an_execution_completes_once(fake, client):
    execution_id = fake.execute_function(STEP, {})["function_execution_id"]
    client.functions_completeSuccess(function_execution_id=execution_id, outputs=GOOD_OUTPUTS)
    assert fake.execution(execution_id) == {
        "callback_id": STEP,
        "state": "completed",
        "outputs": GOOD_OUTPUTS,
    }
    with pytest.raises(SlackApiError, match="execution_not_in_running_state"):
        client.functions_completeError(function_execution_id=execution_id, error="late")
    with pytest.raises(SlackApiError, match="invalid_arguments"):
        client.api_call("functions.completeError", params={"error": "no id"})
    second = fake.execute_function(STEP, {})["function_execution_id"]
    with pytest.raises(SlackApiError, match="invalid_arguments"):
        client.functions_completeError(function_execution_id=second, error="  ")


def test_assistant_calls_need_an_open_assistant_thread_in_a_dm(fake, client):
    channel, thread_ts = fake.open_assistant_thread("U1")
    with pytest.raises(SlackApiError, match="channel_not_found"):
        client.assistant_threads_setStatus(channel_id="C0GENERAL", thread_ts=thread_ts, status="x")
    with pytest.raises(SlackApiError, match="invalid_thread_ts"):
        client.assistant_threads_setStatus(channel_id=channel, thread_ts="1.000001", status="x")
    with pytest.raises(SlackApiError, match="invalid_arguments"):
        client.api_call("assistant.threads.setStatus", json={"channel_id": channel, "thread_ts": thread_ts})
    client.assistant_threads_setStatus(channel_id=channel, thread_ts=thread_ts, status="is thinking…")
    assert fake.assistant_thread(channel, thread_ts)["status"] == "is thinking…"
    client.chat_postMessage(channel=channel, thread_ts=thread_ts, text="answer")
    assert fake.assistant_thread(channel, thread_ts)["status"] == ""  # a reply clears it, as in Slack


def test_suggested_prompts_are_one_to_four_each_with_a_title_and_a_message(fake, client):
    channel, thread_ts = fake.open_assistant_thread("U1")
    prompt = {"title": "T", "message": "M"}
    for prompts in ([], [prompt] * 5, [{"title": "T"}]):
        with pytest.raises(SlackApiError, match="invalid_arguments"):
            client.assistant_threads_setSuggestedPrompts(
                channel_id=channel, thread_ts=thread_ts, prompts=prompts
            )
    client.assistant_threads_setSuggestedPrompts(
        channel_id=channel, thread_ts=thread_ts, prompts=[prompt] * 4
    )
    client.assistant_threads_setTitle(channel_id=channel, thread_ts=thread_ts, title="Terraform")
    assert fake.assistant_thread(channel, thread_ts)["title"] == "Terraform"
    with pytest.raises(SlackApiError, match="invalid_arguments"):
        client.assistant_threads_setTitle(channel_id=channel, thread_ts=thread_ts, title="")


def test_assistant_calls_need_the_assistant_scope(fake, client):
    channel, thread_ts = fake.open_assistant_thread("U1")
    fake.grant_scopes(["chat:write"])
    with pytest.raises(SlackApiError, match="missing_scope") as raised:
        client.assistant_threads_setStatus(channel_id=channel, thread_ts=thread_ts, status="x")
    assert raised.value.response["needed"] == "assistant:write"
