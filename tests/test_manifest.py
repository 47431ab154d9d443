"""manifest.json is valid against Slack's own schema and matches what the app registers."""

from __future__ import annotations

import copy
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest

from bot.ids import Command
from tests.fakeslack import _CONVERSATION_SCOPES, _METHOD_SCOPES

ROOT = Path(__file__).resolve().parent.parent
# Vendored (tests/slack_schema/README.md): the check runs on every clone, offline.
SCHEMA = Path(__file__).resolve().parent / "slack_schema" / "manifest.schema.1.0.0.json"


@pytest.fixture(scope="module")
def manifest() -> dict:
    return json.loads((ROOT / "manifest.json").read_text())


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)


def problems(validator: jsonschema.Draft7Validator, manifest: dict) -> list[str]:
    return [f"{error.json_path}: {error.message}" for error in validator.iter_errors(manifest)]


def test_manifest_is_valid_against_slacks_schema(manifest, validator):
    assert problems(validator, manifest) == []


def _drop_app_name(m):
    del m["display_information"]["name"]


def _long_command_description(m):
    m["features"]["slash_commands"][0]["description"] = "x" * 2001


def _unknown_setting(m):
    m["settings"]["not_a_setting"] = True


def _bot_scopes_not_a_list(m):
    m["oauth_config"]["scopes"]["bot"] = "commands"


@pytest.mark.parametrize(
    ("break_it", "where"),
    [
        (_drop_app_name, "$.display_information"),
        (_long_command_description, "$.features.slash_commands[0].description"),
        (_unknown_setting, "$.settings"),
        (_bot_scopes_not_a_list, "$.oauth_config.scopes.bot"),
    ],
    ids=["no-name", "long-description", "unknown-setting", "scopes-not-a-list"],
)
def test_the_schema_refuses_a_broken_manifest(manifest, validator, break_it, where):
    # The check above can fail: a manifest Slack would refuse is refused here, at the right place.
    broken = copy.deepcopy(manifest)
    break_it(broken)
    assert [problem for problem in problems(validator, broken) if problem.startswith(where)]


def test_manifest_declares_every_command_the_app_handles(manifest):
    declared = {command["command"] for command in manifest["features"]["slash_commands"]}
    assert declared == {command.value for command in Command}


def test_manifest_subscribes_to_the_events_the_app_handles(manifest, flipside):
    # Bolt answers 404 to a request no listener matches: every subscribed event must get 200.
    channel, thread_ts = flipside.fake.open_assistant_thread("U1")
    thread = {"user_id": "U1", "channel_id": channel, "thread_ts": thread_ts, "context": {}}
    for n, event_type in enumerate(manifest["settings"]["event_subscriptions"]["bot_events"]):
        event = {"type": event_type, "user": {"id": "U1", "deleted": False}, "tab": "home"}
        if event_type == "app_home_opened":
            event["user"] = "U1"
        if event_type == "tokens_revoked":
            event["tokens"] = {"bot": ["UBOT"]}
        if event_type.startswith("assistant_thread_"):
            event = {"type": event_type, "assistant_thread": thread, "event_ts": thread_ts}
        if event_type == "message.im":  # a direct message outside an assistant thread
            event = {"type": "message", "channel_type": "im", "channel": channel, "user": "U1", "text": "hi"}
            event["ts"] = event["event_ts"] = "1700000000.000100"
        assert flipside.event(event, event_id=f"EvManifest{n}").status == 200, event_type
    flipside.work_done()


def test_manifest_declares_the_workflow_step_the_app_handles(manifest):
    from bot.services.workflow_steps import CALLBACK_ID, MentorRequest

    step = manifest["functions"][CALLBACK_ID]
    assert set(step["input_parameters"]["properties"]) == {"person", "topic", "note"}
    assert step["input_parameters"]["required"] == ["person", "topic"]
    outputs = MentorRequest("Excel", 2, datetime(2030, 1, 7, 9, tzinfo=UTC)).outputs()
    assert set(step["output_parameters"]["properties"]) == set(outputs)
    # Custom steps need an org-ready app and Slack calling the app (not Slack's own runtime).
    assert manifest["settings"]["org_deploy_enabled"] is True
    assert manifest["settings"]["function_runtime"] == "remote"


def test_manifest_offers_the_assistants_suggested_prompts(manifest):
    from bot.views.assistant import SUGGESTED_PROMPTS

    assert manifest["features"]["assistant_view"]["suggested_prompts"] == list(SUGGESTED_PROMPTS)


def test_manifest_points_every_url_at_the_bolt_endpoint(manifest):
    urls = [command["url"] for command in manifest["features"]["slash_commands"]]
    urls += [
        manifest["settings"]["event_subscriptions"]["request_url"],
        manifest["settings"]["interactivity"]["request_url"],
    ]
    assert {url.rsplit("/", 2)[-2:] == ["slack", "events"] for url in urls} == {True}


def _readme_scopes() -> dict[str, str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## OAuth scopes and why", 1)[1].split("\n## ", 1)[0]
    return dict(re.findall(r"^\| `([a-z:.]+)` \| (.+) \|$", section, flags=re.MULTILINE))


def _web_api_calls() -> set[str]:
    """The Web API methods bot/ calls through slack_sdk (`client.chat_postMessage(...)`)."""
    code = "\n".join(path.read_text() for path in (ROOT / "bot").rglob("*.py"))
    names = re.findall(r"\.([a-z]+_[A-Za-z_]+)\(", code)
    # chat_postMessage is chat.postMessage; canvases_sections_lookup is canvases.sections.lookup
    called = {name.replace("_", ".", 1) for name in names} | {name.replace("_", ".") for name in names}
    if ".files_upload_v2(" in code:  # slack_sdk's upload: these two methods, and the file's bytes
        called |= {"files.getUploadURLExternal", "files.completeUploadExternal"}
    if "Assistant(" in code:  # Bolt's assistant utilities: say, set_status, set_suggested_prompts
        called |= {"chat.postMessage", "assistant.threads.setStatus", "assistant.threads.setSuggestedPrompts"}
    if "Complete(" in code or "Fail(" in code:  # Bolt's custom-step utilities (no scope needed)
        called |= {"functions.completeSuccess", "functions.completeError"}
    return called


def test_every_scope_is_needed_by_a_call_the_app_makes_and_explained_in_the_readme(manifest):
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert set(_readme_scopes()) == scopes
    calls = _web_api_calls()
    needed = {"commands"} if manifest["features"]["slash_commands"] else set()
    needed |= {scope for method, scope in _METHOD_SCOPES.items() if method in calls}
    for method, by_type in _CONVERSATION_SCOPES.items():
        if method in calls and method != "conversations.info":
            needed |= set(by_type)
    if "conversations.open" in calls:
        needed |= {"im:write", "mpim:write"}  # a DM, and the group DM that introduces a pair
    # conversations.info only finds a learning log's canvas in a pair's group DM (bot/delivery/canvases).
    if "conversations.info" in calls:
        needed |= {"mpim:read"}
    assert "conversations.list" not in calls
    assert scopes <= needed, f"no call needs {sorted(scopes - needed)}"
    assert "users.info" in calls and "conversations.history" in calls  # the scan finds calls
