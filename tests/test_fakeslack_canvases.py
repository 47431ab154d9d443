"""The fake's canvases.* answer as docs.slack.dev documents them, through slack_sdk's real client."""

from __future__ import annotations

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from tests.fakeslack import FakeSlack

DOC = {"type": "markdown", "markdown": "# Notes\n- first"}


@pytest.fixture
def slack():
    with FakeSlack() as fake:
        fake.add_user("U1")
        fake.add_user("U2")
        yield fake, WebClient(token="xoxb-test", base_url=fake.base_url)


def error_of(call, **kwargs) -> str:
    with pytest.raises(SlackApiError, match=r"ok.: False|error") as raised:
        call(**kwargs)
    return raised.value.response["error"]


def test_a_conversation_holds_one_canvas(slack):
    fake, client = slack
    made = client.conversations_canvases_create(channel_id="C1", title="Log", document_content=DOC)
    assert made["canvas_id"].startswith("F") and fake.canvas_in("C1")["markdown"] == DOC["markdown"]
    assert error_of(client.conversations_canvases_create, channel_id="C1", document_content=DOC) == (
        "channel_canvas_already_exists"
    )
    info = client.conversations_info(channel="C1")["channel"]
    assert info["properties"]["canvas"]["file_id"] == made["canvas_id"]


def test_content_must_be_markdown_within_one_mebibyte(slack):
    _, client = slack
    bad = {"type": "html", "markdown": "x"}
    assert error_of(client.canvases_create, document_content=bad) == "invalid_arguments"
    huge = {"type": "markdown", "markdown": "x" * 1_048_577}
    assert error_of(client.canvases_create, document_content=huge) == "invalid_arguments"


def test_edit_takes_one_change_and_sections_need_ids(slack):
    _, client = slack
    canvas = client.canvases_create(document_content=DOC)["canvas_id"]
    end = {"operation": "insert_at_end", "document_content": {"type": "markdown", "markdown": "- two"}}
    assert error_of(client.canvases_edit, canvas_id=canvas, changes=[end, end]) == "invalid_arguments"
    after = {**end, "operation": "insert_after"}
    assert error_of(client.canvases_edit, canvas_id=canvas, changes=[after]) == "invalid_arguments"
    assert error_of(client.canvases_edit, canvas_id="F404", changes=[end]) == "canvas_not_found"
    client.canvases_edit(canvas_id=canvas, changes=[end])
    found = client.canvases_sections_lookup(canvas_id=canvas, criteria={"contains_text": "two"})["sections"]
    assert len(found) == 1
    headers = client.canvases_sections_lookup(canvas_id=canvas, criteria={"section_types": ["h1"]})
    assert len(headers["sections"]) == 1
    assert error_of(client.canvases_sections_lookup, canvas_id=canvas, criteria={}) == "invalid_arguments"


def test_access_is_for_users_or_channels_not_both(slack):
    _, client = slack
    canvas = client.canvases_create(document_content=DOC)["canvas_id"]
    both = {"canvas_id": canvas, "access_level": "write", "user_ids": ["U1"], "channel_ids": ["C1"]}
    assert error_of(client.canvases_access_set, **both) == "invalid_parameters"
    assert error_of(client.canvases_access_set, canvas_id=canvas, access_level="edit", user_ids=["U1"]) == (
        "invalid_arguments"
    )
    assert error_of(client.canvases_access_set, canvas_id=canvas, access_level="read", user_ids=["U9"]) == (
        "user_not_found"
    )
    client.canvases_access_set(canvas_id=canvas, access_level="write", user_ids=["U1", "U2"])


def test_plans_scopes_and_rate_limits(slack):
    fake, client = slack
    fake.set_canvas_plan("free")
    assert (
        error_of(client.canvases_create, document_content=DOC)
        == "free_teams_cannot_create_non_tabbed_canvases"
    )
    assert error_of(client.conversations_canvases_create, channel_id="C1", document_content=DOC) == (
        "team_tier_cannot_create_channel_canvases"
    )
    fake.set_canvas_plan("disabled")
    assert error_of(client.canvases_create) == "canvas_disabled_user_team"
    fake.set_canvas_plan("paid")
    fake.grant_scopes(["chat:write", "canvases:write"])
    canvas = client.canvases_create(document_content=DOC)["canvas_id"]
    # canvases:read is needed to look sections up
    assert error_of(client.canvases_sections_lookup, canvas_id=canvas, criteria={"contains_text": "x"}) == (
        "missing_scope"
    )
    fake.fail_next("canvases.edit", retry_after=7)
    end = {"operation": "insert_at_end", "document_content": DOC}
    with pytest.raises(SlackApiError, match="ratelimited") as raised:
        client.canvases_edit(canvas_id=canvas, changes=[end])
    assert raised.value.response.status_code == 429 and raised.value.response.headers["Retry-After"] == "7"
