"""manifest.json is valid against Slack's own schema and matches what the app registers."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from bot.ids import Command

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT.parent / "shared" / "slack" / "manifest.schema.1.0.0.json"


@pytest.fixture(scope="module")
def manifest() -> dict:
    return json.loads((ROOT / "manifest.json").read_text())


@pytest.mark.skipif(not SCHEMA.exists(), reason="Slack's manifest schema is kept in ../shared/slack")
def test_manifest_is_valid_against_slacks_schema(manifest):
    schema = json.loads(SCHEMA.read_text())
    jsonschema.validate(manifest, schema)


def test_manifest_declares_every_command_the_app_handles(manifest):
    declared = {command["command"] for command in manifest["features"]["slash_commands"]}
    assert declared == {command.value for command in Command}


def test_manifest_subscribes_to_the_events_the_app_handles(manifest, flipside):
    # Bolt answers 404 to a request no listener matches: every subscribed event must get 200.
    for n, event_type in enumerate(manifest["settings"]["event_subscriptions"]["bot_events"]):
        event = {"type": event_type, "user": {"id": "U1", "deleted": False}, "tab": "home"}
        if event_type == "app_home_opened":
            event["user"] = "U1"
        if event_type == "tokens_revoked":
            event["tokens"] = {"bot": ["UBOT"]}
        assert flipside.event(event, event_id=f"EvManifest{n}").status == 200, event_type


def test_manifest_points_every_url_at_the_bolt_endpoint(manifest):
    urls = [command["url"] for command in manifest["features"]["slash_commands"]]
    urls += [
        manifest["settings"]["event_subscriptions"]["request_url"],
        manifest["settings"]["interactivity"]["request_url"],
    ]
    assert {url.rsplit("/", 2)[-2:] == ["slack", "events"] for url in urls} == {True}
