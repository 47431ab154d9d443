"""Production behaviour: OAuth multi-workspace, acks under a slow Web API, event retries, a lost DB."""

from __future__ import annotations

import re
import time
import urllib.request
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select, text

from bot.scheduler import job_context, run_job
from models import Pairing, Person, Topic, Wish
from tests.conftest import make_settings, serve
from tests.factories import add_person, eventually

# Two Fernet keys (TOKEN_ENCRYPTION_KEYS): tokens at rest are encrypted with the first.
KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()


def install(flipside, team_id: str, token: str | None = None) -> None:
    """Walk Slack's OAuth flow: install page -> state -> redirect with a code. Without a token,
    the fake's own answer (its team, T1; with token rotation, an expiring token)."""
    base = flipside.http.url.removesuffix("/slack/events")
    with urllib.request.urlopen(f"{base}/slack/install", timeout=5) as response:
        page = response.read().decode()
        # Bolt ties the state to the browser with a Secure cookie; carry it as a browser on https would.
        cookie = response.headers["Set-Cookie"].split(";")[0]
    state = re.search(r"state=([\w-]+)", page).group(1)
    if token is not None:
        flipside.fake.set_answer(
            "oauth.v2.access",
            {"access_token": token, "team": {"id": team_id, "name": team_id}, "authed_user": {"id": "U1"}},
        )
    redirect = urllib.request.Request(
        f"{base}/slack/oauth_redirect?code=c-{team_id}&state={state}", headers={"Cookie": cookie}
    )
    with urllib.request.urlopen(redirect, timeout=5) as response:
        assert response.status == 200


def oauth_settings(fake_slack, database, keys=(KEY,)):
    """Multi-workspace mode: no single bot token, installations through OAuth."""
    return make_settings(
        fake_slack,
        database,
        slack_bot_token=None,
        slack_client_id="111.222",
        slack_client_secret="shh",
        token_encryption_keys=tuple(keys),
    )


@pytest.fixture
def multi(fake_slack, database):
    settings = oauth_settings(fake_slack, database)
    fake_slack.add_user("U1", team_id="T2", name="t2-priya")
    yield from serve(settings, database, fake_slack)


def test_two_workspaces_installed_through_oauth_never_see_each_other(multi):
    install(multi, "T1", "xoxb-team-one")
    install(multi, "T2", "xoxb-team-two")
    multi.command("/canteach", "social media", user="U2", team="T1")
    multi.replies(1)
    multi.command("/teachme", "social media", user="U1", team="T2")
    reply = multi.replies(2)[-1]
    assert "nobody teaches it yet" in reply["text"]  # T1's teacher is invisible to T2
    with multi.db.transaction() as session:
        topics = session.execute(select(Topic.team_id, Topic.key)).all()
        assert sorted(topics) == [("T1", "social media"), ("T2", "social media")]
    add_person(multi.db, "U5", stage="early", department="Ops", teaches="canva", team="T1")
    add_person(multi.db, "U6", stage="senior", department="Law", learns="canva", team="T2")
    ctx = job_context(settings=multi.settings, database=multi.db, client=multi.app.client)
    run_job("matching-round", ctx)
    with multi.db.transaction() as session:
        assert session.scalars(select(Pairing)).all() == []  # no pair across workspaces
    tokens = {call.token for call in multi.fake.calls_to("users.info")}
    assert tokens <= {"xoxb-team-one", "xoxb-team-two"} and tokens


def test_uninstall_stops_jobs_and_keeps_data(multi):
    install(multi, "T1", "xoxb-team-one")
    add_person(multi.db, "U5", stage="early", department="Ops", teaches="canva")
    add_person(multi.db, "U6", stage="senior", department="Law", learns="canva")
    assert multi.event({"type": "app_uninstalled"}).status == 200
    ctx = job_context(settings=multi.settings, database=multi.db, client=multi.app.client)
    eventually(lambda: run_job("matching-round", ctx) == {})
    with multi.db.transaction() as session:
        assert len(session.scalars(select(Person)).all()) == 2
        assert session.scalars(select(Wish)).all()


def test_acks_do_not_wait_for_a_stalled_web_api(flipside):
    # The fake keeps these answers back until released: an ack that waited for one never comes.
    for method in ("views.open", "users.info", "chat.postEphemeral", "response_url"):
        flipside.fake.hold(method)
    try:
        assert flipside.command("/teachme").status == 200  # opens a modal: views.open is held
        flipside.fake.wait_for("views.open")  # the listener is inside the call, after its ack
        assert flipside.command("/teachme", "canva").status == 200
    finally:
        flipside.fake.release()
    flipside.work_done()
    assert flipside.replies(1)[0]["response_type"] == "ephemeral"


def test_event_retries_and_duplicates_are_handled_once(flipside):
    event = {"type": "app_home_opened", "user": "U1", "tab": "home"}
    for attempt in range(3):
        headers = (
            {"X-Slack-Retry-Num": str(attempt), "X-Slack-Retry-Reason": "http_timeout"} if attempt else None
        )
        assert flipside.event(event, event_id="Ev0DUPLICATE", headers=headers).status == 200
    flipside.work_done()
    assert len(flipside.fake.calls_to("views.publish")) == 1


@pytest.mark.expect_errors(
    r"listener failed \(database unavailable\) for a command request",  # its hand-over to a worker
    reply=True,
)
def test_database_lost_during_a_request_gets_a_friendly_message(fake_slack, tmp_path):
    from bot.cli import migrations
    from bot.db import Database

    folder = tmp_path / "db"
    folder.mkdir()
    database = Database(f"sqlite:///{folder / 'flipside.db'}")
    migrations.upgrade(database)
    settings = make_settings(fake_slack, database)
    for app in serve(settings, database, fake_slack):
        app.command("/teachme", "canva")
        app.replies(1)
        app.work_done()  # the first request is over (its reply comes before its profile sync)
        database.dispose()
        for path in folder.iterdir():
            path.unlink()
        folder.chmod(0o500)  # the database file is gone and cannot come back
        try:
            app.command("/teachme", "excel")
            reply = app.replies(2)[-1]
            assert "try again" in reply["text"] and "Traceback" not in reply["text"]
        finally:
            folder.chmod(0o700)
            # The database comes back, so the worker goes idle and the app stops without waiting out
            # its retries.
            migrations.upgrade(database)


def test_procfile_runs_web_under_gunicorn_a_worker_a_clock_and_migrations_on_release():
    root = Path(__file__).resolve().parent.parent
    processes = dict(
        line.split(": ", 1) for line in (root / "Procfile").read_text().splitlines() if line.strip()
    )
    assert processes["web"].startswith("gunicorn bot.wsgi:application")
    assert processes["worker"] == "python -m bot worker"
    assert processes["clock"] == "python -m bot clock"
    assert processes["release"] == "python -m bot migrate"


def test_the_worker_finds_a_workspace_installed_inside_an_enterprise_grid_org(fake_slack, database):
    from slack_sdk.oauth.installation_store import Installation

    from bot.slack.oauth import installation_store, token_resolver
    from bot.work.worker import enterprise_of

    settings = oauth_settings(fake_slack, database)
    installation_store(settings, database).save(
        Installation(
            app_id="A1",
            enterprise_id="E1",
            team_id="T9",
            bot_token="xoxb-grid",
            bot_id="B1",
            bot_user_id="UBOT",
            user_id="U1",
        )
    )
    token_for = token_resolver(settings, database)
    body = {"team": {"id": "T9"}, "enterprise": {"id": "E1"}, "user": {"id": "U1"}}
    assert enterprise_of(body) == "E1" and enterprise_of({"team_id": "T1"}) is None
    assert token_for("T9", enterprise_of(body)) == "xoxb-grid"
    assert token_for("T9") is None  # what the worker found before it passed the org along


def stored_tokens(database, table: str) -> list[str]:
    """What the database itself holds in a table's token columns (no store, no decryption)."""
    from models.slack_oauth import TOKEN_COLUMNS

    columns = ", ".join(TOKEN_COLUMNS[table])
    with database.engine.connect() as connection:
        rows = connection.execute(text(f"SELECT {columns} FROM {table}")).all()
    return [value for row in rows for value in row if value is not None]


def test_installed_tokens_are_encrypted_at_rest(multi):
    from bot.slack.oauth import installation_store

    multi.fake.enable_token_rotation()
    multi.fake.set_answer(
        "oauth.v2.access",
        {"authed_user": {"id": "U1", "access_token": "xoxp-user-secret", "token_type": "user"}},
    )
    install(multi, "T1")
    found = installation_store(multi.settings, multi.db).find_installation(enterprise_id=None, team_id="T1")
    plain = {found.bot_token, found.bot_refresh_token, found.user_token}
    assert found.bot_token.startswith("xoxe.xoxb-") and found.bot_refresh_token.startswith("xoxe-1-")
    assert found.user_token == "xoxp-user-secret"
    at_rest = stored_tokens(multi.db, "slack_installations") + stored_tokens(multi.db, "slack_bots")
    assert len(at_rest) == 5  # bot, refresh, user; the bot's row: bot, refresh
    assert not any(secret in value for value in at_rest for secret in plain)
    assert {Fernet(KEY).decrypt(value.encode()).decode() for value in at_rest} == plain
    multi.command("/teachme", "canva", user="U2", team="T1")
    multi.replies(1)
    multi.work_done()
    assert {call.token for call in multi.fake.calls_to("users.info")} == {found.bot_token}


def test_a_new_key_put_first_still_reads_rows_of_the_old_one(fake_slack, database):
    from slack_sdk.oauth.installation_store import Installation

    from bot.slack.oauth import installation_store
    from bot.slack.tokens import TokenCipher, TokenUnreadable, reseal_all

    installation_store(oauth_settings(fake_slack, database), database).save(
        Installation(app_id="A1", team_id="T1", bot_token="xoxb-old-key", bot_id="B1", user_id="U1")
    )
    rotated = installation_store(oauth_settings(fake_slack, database, keys=(NEW_KEY, KEY)), database)
    assert rotated.find_bot(enterprise_id=None, team_id="T1").bot_token == "xoxb-old-key"
    assert rotated.find_installation(enterprise_id=None, team_id="T1").bot_token == "xoxb-old-key"
    new_only = installation_store(oauth_settings(fake_slack, database, keys=(NEW_KEY,)), database)
    with pytest.raises(TokenUnreadable, match="TOKEN_ENCRYPTION_KEYS"):
        new_only.find_bot(enterprise_id=None, team_id="T1")
    # `python -m bot reseal-tokens`: every row under the new key; then the old key can go.
    assert reseal_all(database.engine, TokenCipher((NEW_KEY, KEY))) == 2
    for value in stored_tokens(database, "slack_installations") + stored_tokens(database, "slack_bots"):
        assert Fernet(NEW_KEY).decrypt(value.encode()) == b"xoxb-old-key"
    assert new_only.find_bot(enterprise_id=None, team_id="T1").bot_token == "xoxb-old-key"


def refreshes(fake) -> list:
    calls = fake.calls_to("oauth.v2.access")
    return [call for call in calls if call.args.get("grant_type") == "refresh_token"]


def install_with_an_expiring_token(multi):
    """Install T1 with token rotation on and a token 10 minutes from expiry (due for rotation,
    which starts 2 hours before); the tokens Slack issues from then on last 12 hours."""
    from bot.slack.oauth import installation_store

    multi.fake.enable_token_rotation(expires_in=600)
    install(multi, "T1")
    multi.fake.enable_token_rotation()
    return installation_store(multi.settings, multi.db).find_bot(enterprise_id=None, team_id="T1")


def assert_rotated_once(multi, old, calls_before: int) -> None:
    from bot.slack.oauth import installation_store

    store = installation_store(multi.settings, multi.db)
    new = store.find_bot(enterprise_id=None, team_id="T1")
    assert [call.args["refresh_token"] for call in refreshes(multi.fake)] == [old.bot_refresh_token]
    assert new.bot_token != old.bot_token and new.bot_refresh_token in multi.fake.refresh_tokens()
    assert new.bot_token_expires_at > time.time() + 11 * 3600
    # Bolt reads the installation row for requests: it has the new refresh token too.
    installation = store.find_installation(enterprise_id=None, team_id="T1")
    assert (installation.bot_token, installation.bot_refresh_token) == (new.bot_token, new.bot_refresh_token)
    later = [call for call in multi.fake.calls[calls_before:] if call.token]
    assert later and {call.token for call in later} == {new.bot_token}
    at_rest = stored_tokens(multi.db, "slack_installations") + stored_tokens(multi.db, "slack_bots")
    assert len(at_rest) == 4 and not any(new.bot_token in value for value in at_rest)


def test_a_job_rotates_an_expiring_bot_token_before_using_it(multi):
    old = install_with_an_expiring_token(multi)
    add_person(multi.db, "U5", stage="early", department="Ops", teaches="canva")
    add_person(multi.db, "U6", stage="senior", department="Law", learns="canva")
    calls_before = len(multi.fake.calls)
    ctx = job_context(settings=multi.settings, database=multi.db, client=multi.app.client)
    run_job("matching-round", ctx)  # the scheduler's token_resolver: no request, so no Bolt
    multi.work_done()
    assert multi.fake.calls_to("chat.postMessage")  # the proposals went out
    assert_rotated_once(multi, old, calls_before)


def test_the_worker_uses_the_token_a_request_rotated(multi):
    old = install_with_an_expiring_token(multi)
    calls_before = len(multi.fake.calls)
    # Bolt's authorize rotates it (through the app's client), then the worker does the work:
    # a second exchange of the same refresh token would be refused by Slack, and logged.
    multi.command("/teachme", "canva", user="U2", team="T1")
    assert "canva" in multi.replies(1)[0]["text"]
    multi.work_done()
    assert multi.fake.calls_to("users.info")
    assert_rotated_once(multi, old, calls_before)


def test_the_worker_rotates_an_expiring_bot_token_before_its_call(fake_slack, database):
    from bot.runtime import build_worker

    settings = oauth_settings(fake_slack, database)
    for multi in serve(settings, database, fake_slack, start_worker=False):
        old = install_with_an_expiring_token(multi)
        calls_before = len(fake_slack.calls)
        client = build_worker(settings, database).client_for("T1", None)  # what a task is given
        client.auth_test()
        assert_rotated_once(multi, old, calls_before)


def test_uninstalling_from_an_enterprise_grid_org_deletes_its_tokens(multi):
    from slack_sdk.oauth.installation_store import Installation

    from bot.slack.oauth import installation_store

    store = installation_store(multi.settings, multi.db)
    for enterprise_id, team_id in (("E1", "T9"), (None, "T9"), ("E2", None), ("E1", "T8"), (None, "T1")):
        store.save(
            Installation(
                app_id="A1",
                enterprise_id=enterprise_id,
                team_id=team_id,
                bot_token=f"xoxb-{enterprise_id}-{team_id}",
                bot_id="B1",
                user_id="U1",
                is_enterprise_install=team_id is None,  # E2 installed the app org-wide
            )
        )

    def installed() -> set[tuple[str | None, str | None]]:
        with multi.db.engine.connect() as connection:
            bots = connection.execute(text("SELECT enterprise_id, team_id FROM slack_bots")).all()
            rows = connection.execute(text("SELECT enterprise_id, team_id FROM slack_installations")).all()
        assert {tuple(row) for row in bots} == {tuple(row) for row in rows}
        return {tuple(row) for row in rows}

    # A workspace of org E1 (and its rows from before it joined the org).
    assert multi.event({"type": "app_uninstalled"}, team="T9", enterprise="E1").status == 200
    multi.work_done()
    assert installed() == {("E2", None), ("E1", "T8"), (None, "T1")}
    # The org-wide install of E2: its rows have no team.
    event = {"type": "tokens_revoked", "tokens": {"bot": ["UBOT"]}}
    assert multi.event(event, team="T7", enterprise="E2", enterprise_install=True).status == 200
    multi.work_done()
    assert installed() == {("E1", "T8"), (None, "T1")}
