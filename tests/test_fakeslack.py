"""The fake Web API, driven by the real slack_sdk clients the app uses."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.webhook import WebhookClient

from tests.fakeslack import FakeSlack, decode_json_fields


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        yield server


@pytest.fixture
def client(fake: FakeSlack) -> WebClient:
    return WebClient(base_url=fake.base_url, token="xoxb-test")


def _blocks(text: str) -> list[dict[str, object]]:
    return [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]


# --- identity and users


def test_auth_test_answers_the_configured_bot(client: WebClient, fake: FakeSlack) -> None:
    answer = client.auth_test()

    assert (answer["team_id"], answer["user_id"], answer["bot_id"]) == ("T1", "UBOT", "BBOT")
    assert fake.calls_to("auth.test")[0].token == "xoxb-test"


def test_users_info_has_slack_shape(client: WebClient, fake: FakeSlack) -> None:
    fake.add_user("U1", real_name="Priya Patel", tz="Asia/Kolkata", tz_offset=19800, is_admin=True)

    user = client.users_info(user="U1")["user"]

    assert user["id"] == "U1" and user["team_id"] == "T1"
    assert (user["tz"], user["tz_offset"], user["is_admin"], user["is_bot"]) == (
        "Asia/Kolkata",
        19800,
        True,
        False,
    )
    assert user["profile"]["first_name"] == "Priya"
    assert user["profile"]["image_48"].startswith("https://")
    assert {"real_name", "display_name", "tz_label", "deleted", "is_owner"} <= (
        user.keys() | user["profile"].keys()
    )


def test_unknown_user_is_user_not_found(client: WebClient) -> None:
    with pytest.raises(SlackApiError, match="user_not_found") as raised:
        client.users_info(user="UNOPE")

    assert raised.value.response["error"] == "user_not_found"


def test_users_list_pages_through_added_users(client: WebClient, fake: FakeSlack) -> None:
    for n in range(5):
        fake.add_user(f"U{n}")

    seen: list[str] = []
    cursor = None
    pages = 0
    while pages < 10:
        pages += 1
        answer = client.users_list(limit=2, cursor=cursor)
        seen += [member["id"] for member in answer["members"]]
        cursor = answer["response_metadata"]["next_cursor"]
        if not cursor:
            break

    assert seen == ["U0", "U1", "U2", "U3", "U4"] and pages == 3


def test_reset_forgets_activity_but_keeps_users(client: WebClient, fake: FakeSlack) -> None:
    fake.add_user("U1")
    client.chat_postMessage(channel="C1", text="hi")
    fake.fail_next("users.info", error="fatal_error")

    fake.reset()

    assert fake.calls == [] and fake.messages() == []
    assert client.users_info(user="U1")["ok"]


# --- messages


def test_post_message_then_history_with_metadata(client: WebClient, fake: FakeSlack) -> None:
    metadata = {"event_type": "pairing_proposed", "event_payload": {"pairing_id": 7}}
    first = client.chat_postMessage(channel="C1", text="one", blocks=_blocks("one"))
    second = client.chat_postMessage(channel="C1", text="two", metadata=metadata)
    client.chat_postMessage(channel="C2", text="elsewhere")

    with_metadata = client.conversations_history(channel="C1", include_all_metadata=True)
    without = client.conversations_history(channel="C1")

    assert [m["ts"] for m in with_metadata["messages"]] == [second["ts"], first["ts"]]
    assert with_metadata["messages"][0]["metadata"] == metadata
    assert with_metadata["messages"][0]["bot_id"] == "BBOT"
    assert without["messages"] and all("metadata" not in m for m in without["messages"])
    assert fake.messages("C1")[0]["blocks"] == _blocks("one")


def test_timestamps_increase_and_history_honours_oldest_and_limit(client: WebClient) -> None:
    stamps = [client.chat_postMessage(channel="C1", text=str(n))["ts"] for n in range(4)]

    newer = client.conversations_history(channel="C1", oldest=stamps[1], limit=1)

    assert float(stamps[0]) > 1_700_000_000 and stamps == sorted(stamps)
    assert [m["text"] for m in newer["messages"]] == ["3"] and newer["has_more"]


def test_posting_to_a_user_id_lands_in_their_dm(client: WebClient, fake: FakeSlack) -> None:
    answer = client.chat_postMessage(channel="U1", text="hello")

    assert answer["channel"] == fake.dm_channel_for("U1")
    assert fake.messages("U1") == fake.messages(fake.dm_channel_for("U1"))


def test_chat_update_changes_the_stored_message(client: WebClient, fake: FakeSlack) -> None:
    ts = client.chat_postMessage(channel="C1", text="draft")["ts"]

    client.chat_update(channel="C1", ts=ts, text="final", blocks=_blocks("final"))

    (stored,) = fake.messages("C1")
    assert (stored["ts"], stored["text"], stored["blocks"]) == (ts, "final", _blocks("final"))
    with pytest.raises(SlackApiError, match="message_not_found") as raised:
        client.chat_update(channel="C1", ts="1.000000", text="x")
    assert raised.value.response["error"] == "message_not_found"


def test_too_many_blocks_are_rejected_like_slack(client: WebClient) -> None:
    with pytest.raises(SlackApiError, match="invalid_blocks") as raised:
        client.chat_postMessage(channel="C1", text="x", blocks=_blocks("b") * 51)

    assert raised.value.response["error"] == "invalid_blocks"


# --- conversations


def test_group_dm_id_is_stable_regardless_of_order(client: WebClient, fake: FakeSlack) -> None:
    forward = client.conversations_open(users=["U1", "U2", "U3"])["channel"]["id"]
    backward = client.conversations_open(users="U3,U1,U2")["channel"]["id"]
    single = client.conversations_open(users="U1")["channel"]["id"]

    assert forward == backward == fake.group_dm_channel_for("U2", "U3", "U1")
    assert forward.startswith("G")
    assert single == fake.dm_channel_for("U1") and single.startswith("D")


def test_join_refuses_private_and_archived_channels(client: WebClient, fake: FakeSlack) -> None:
    fake.set_channel("CPRIV", is_private=True)
    fake.set_channel("COLD", is_archived=True)

    assert client.conversations_join(channel="CPUB")["channel"]["is_member"]
    for channel, error in [("CPRIV", "method_not_supported_for_channel_type"), ("COLD", "is_archived")]:
        with pytest.raises(SlackApiError, match=error) as raised:
            client.conversations_join(channel=channel)
        assert raised.value.response["error"] == error


# --- views


def test_views_publish_keeps_the_home_view(client: WebClient, fake: FakeSlack) -> None:
    home = {"type": "home", "blocks": _blocks("Welcome")}

    answer = client.views_publish(user_id="U1", view=home)

    assert answer["view"]["id"].startswith("V")
    assert fake.home_view("U1")["blocks"] == _blocks("Welcome")  # type: ignore[index]
    assert fake.home_view("U2") is None


def test_views_open_rejects_a_long_modal_title(client: WebClient) -> None:
    modal = {"type": "modal", "title": {"type": "plain_text", "text": "x" * 25}, "blocks": []}

    with pytest.raises(SlackApiError, match="invalid_arguments") as raised:
        client.views_open(trigger_id="123.456", view=modal)

    assert raised.value.response["error"] == "invalid_arguments"


# --- faults, delays and rate limits


def test_server_error_then_success_is_retried(client: WebClient, fake: FakeSlack) -> None:
    client.retry_handlers.append(
        ServerErrorRetryHandler(interval_calculator=FixedValueRetryIntervalCalculator(0.01))
    )
    fake.fail_next("chat.postMessage", status=500)

    assert client.chat_postMessage(channel="C1", text="hi")["ok"]

    statuses = [call.answered for call in fake.calls_to("chat.postMessage")]
    assert statuses == [500, 200] and len(fake.messages("C1")) == 1


def test_429_then_success_waits_for_retry_after(client: WebClient, fake: FakeSlack) -> None:
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=1))
    fake.fail_next("chat.postMessage", status=429, retry_after=1)

    started = time.monotonic()
    assert client.chat_postMessage(channel="C1", text="hi")["ok"]

    first, second = fake.calls_to("chat.postMessage")
    assert time.monotonic() - started >= 1.0
    assert second.at - first.at >= 1.0
    assert fake.rate_limited_count("chat.postMessage") == 1


def test_ok_false_raises_and_is_recorded(client: WebClient, fake: FakeSlack) -> None:
    fake.fail_next("chat.postMessage", error="channel_not_found", times=2)

    for _ in range(2):
        with pytest.raises(SlackApiError, match="channel_not_found"):
            client.chat_postMessage(channel="C1", text="hi")

    assert client.chat_postMessage(channel="C1", text="hi")["ok"]
    errors = [(c.answered, c.error) for c in fake.calls_to("chat.postMessage")]
    assert errors == [(200, "channel_not_found")] * 2 + [(200, None)]


def test_delay_slows_the_answer_but_the_call_is_seen_at_once(client: WebClient, fake: FakeSlack) -> None:
    fake.set_delay("chat.postMessage", 0.5)
    finished_at: list[float] = []

    def post() -> None:
        client.chat_postMessage(channel="C1", text="slow")
        finished_at.append(time.monotonic())

    poster = threading.Thread(target=post, daemon=True)
    poster.start()
    [call] = fake.wait_for("chat.postMessage", timeout=2)
    poster.join(5)

    # Recorded on arrival (the fake's clock is time.monotonic), answered the delay later.
    assert finished_at and finished_at[0] - call.at >= 0.5


def test_a_held_call_is_seen_at_once_and_answered_on_release(client: WebClient, fake: FakeSlack) -> None:
    fake.hold("chat.postMessage")
    finished = threading.Event()

    def post() -> None:
        client.chat_postMessage(channel="C1", text="held")
        finished.set()

    threading.Thread(target=post, daemon=True).start()
    fake.wait_for("chat.postMessage", timeout=2)
    assert not finished.is_set()  # held: no timing involved
    fake.release("chat.postMessage")
    assert finished.wait(5)
    assert client.chat_postMessage(channel="C1", text="after")["ok"]  # no longer held


def test_rate_limit_emulation_answers_429_over_the_burst(client: WebClient, fake: FakeSlack) -> None:
    fake.set_rate_limit("chat.postMessage", per_minute=60, burst=2)

    for _ in range(2):
        client.chat_postMessage(channel="C1", text="ok")
    with pytest.raises(SlackApiError, match="ratelimited") as raised:
        client.chat_postMessage(channel="C1", text="too many")

    assert raised.value.response.status_code == 429
    assert int(raised.value.response.headers["Retry-After"][0]) >= 1
    assert fake.rate_limited_count("chat.postMessage") == 1
    assert len(fake.messages("C1")) == 2


def test_wait_for_times_out_with_what_it_saw(client: WebClient, fake: FakeSlack) -> None:
    client.auth_test()

    with pytest.raises(TimeoutError, match=r"auth\.test"):
        fake.wait_for("chat.postMessage", timeout=0.05)


def test_only_valid_tokens_are_accepted_once_configured(fake: FakeSlack) -> None:
    fake.set_valid_tokens({"xoxb-good"})
    anonymous = WebClient(base_url=fake.base_url)

    installed = anonymous.oauth_v2_access(client_id="1", client_secret="s", code="c")
    bot = WebClient(base_url=fake.base_url, token=installed["access_token"])

    assert bot.auth_test()["ok"]
    with pytest.raises(SlackApiError, match="invalid_auth") as raised:
        WebClient(base_url=fake.base_url, token="xoxb-bad").auth_test()
    assert raised.value.response["error"] == "invalid_auth"


# --- files, response_url, helpers


def test_files_upload_v2_end_to_end(client: WebClient, fake: FakeSlack) -> None:
    answer = client.files_upload_v2(
        channel="C1", filename="insights.csv", title="Weekly insights", content=b"a,b\n1,2\n"
    )

    (uploaded,) = fake.uploaded_files()
    assert answer["file"]["id"] == uploaded["id"]
    assert (uploaded["name"], uploaded["title"], uploaded["channel"]) == (
        "insights.csv",
        "Weekly insights",
        "C1",
    )
    assert uploaded["bytes"] == b"a,b\n1,2\n"
    completion = fake.calls_to("files.completeUploadExternal")[0]
    assert isinstance(completion.args["files"], str)  # sent form-encoded, kept as received
    assert completion.decoded["files"][0]["title"] == "Weekly insights"


def test_response_url_posts_are_recorded(fake: FakeSlack) -> None:
    url = fake.response_url("cmd-1")

    answer = WebhookClient(url).send(text="Saved", response_type="ephemeral")

    (call,) = fake.calls_to("response_url")
    assert answer.status_code == 200
    assert call.args == {"text": "Saved", "response_type": "ephemeral"}
    assert call.path.endswith("/cmd-1")


def test_decode_json_fields_decodes_structured_fields_only() -> None:
    args = {"blocks": '[{"type": "divider"}]', "text": "[1]", "extra": '{"a": 1}', "limit": "5"}

    assert decode_json_fields(args) == {**args, "blocks": [{"type": "divider"}]}
    assert decode_json_fields(args, keys=None) == {
        **args,
        "blocks": [{"type": "divider"}],
        "text": [1],
        "extra": {"a": 1},
    }


def test_message_text_that_looks_like_json_stays_text(client: WebClient, fake: FakeSlack) -> None:
    client.chat_postMessage(channel="C1", text="[1]")

    assert fake.messages("C1")[0]["text"] == "[1]"


def test_concurrent_calls_are_all_recorded_with_unique_ts(fake: FakeSlack) -> None:
    client = WebClient(base_url=fake.base_url, token="xoxb-test")

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda n: client.chat_postMessage(channel="C1", text=str(n)), range(200)))

    assert len(fake.calls_to("chat.postMessage")) == 200
    assert len({answer["ts"] for answer in answers}) == 200
    assert sorted(m["text"] for m in fake.messages("C1")) == sorted(str(n) for n in range(200))


def test_a_call_needing_a_scope_not_granted_gets_missing_scope(client: WebClient, fake: FakeSlack) -> None:
    fake.add_user("U1")
    fake.grant_scopes(["chat:write", "im:write"])
    client.conversations_open(users="U1")  # a DM: im:write
    with pytest.raises(SlackApiError) as refused:
        client.conversations_open(users="U1,U2")  # a group DM: mpim:write
    assert refused.value.response["needed"] == "mpim:write"
    with pytest.raises(SlackApiError, match="missing_scope"):
        client.users_info(user="U1")
    fake.grant_scopes(None)  # every scope, the default
    assert client.users_info(user="U1")["ok"]
