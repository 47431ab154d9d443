"""Production behaviour: OAuth multi-workspace, acks under a slow Web API, event retries, a lost DB."""

from __future__ import annotations

import re
import urllib.request
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

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
    from bot import migrations
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
