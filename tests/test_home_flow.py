"""App Home and the admin's controls over signed HTTP: what Slack would be asked to show and do."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.ids import Action, Block, Modal
from bot.services import profiles
from models import CareerStage, Pairing, PairingStatus, Person, ProgrammeSettings, Wish, utcnow
from tests import payloads
from tests.conftest import make_settings, serve
from tests.factories import add_person, eventually
from tests.services.test_insights import Org

ADMIN_ACTIONS = [
    Action.ADMIN_OPEN_SETTINGS,
    Action.ADMIN_PREVIEW_ROUND,
    Action.ADMIN_RUN_ROUND,
    Action.ADMIN_EXPORT,
    Action.ADMIN_FORGET_PERSON,
]
ADMIN_CALLS = ("views.open", "views.update", "views.publish", "files.getUploadURLExternal")


def open_home(flipside, user: str, *, view: dict | None = None, count: int = 1) -> dict:
    event = {"type": "app_home_opened", "user": user, "channel": f"D{user}", "tab": "home", "event_ts": "1.0"}
    if view is not None:
        event["view"] = view
    assert flipside.event(event).status == 200
    calls = [c for c in flipside.fake.wait_for("views.publish", count) if c.decoded["user_id"] == user]
    assert calls and calls[-1].ok, calls[-1].error if calls else "no publish"
    return calls[-1].decoded["view"]


def action_ids(view: dict) -> set[str]:
    found = set()
    for block in view["blocks"]:
        for element in [*block.get("elements", []), block.get("accessory") or {}]:
            if isinstance(element, dict) and element.get("action_id"):
                found.add(element["action_id"])
    return found


def text_of(view: dict) -> str:
    return json.dumps(view["blocks"], ensure_ascii=False)


def home_view(private_metadata: str = "") -> dict:
    return {"id": "VHOME", "type": "home", "private_metadata": private_metadata}


def click(flipside, action_id: str, value: str = "", *, user: str = "UADMIN", **kwargs):
    reply = flipside.action(action_id, value, user=user, view=kwargs.pop("view", home_view()), **kwargs)
    assert reply.status == 200
    return reply


def dms_to(flipside, user: str) -> list[str]:
    return [
        c.decoded.get("text", "")
        for c in flipside.fake.calls_to("chat.postMessage")
        if c.args["channel"] == user
    ]


def refused(flipside, user: str = "U1") -> None:
    eventually(lambda: any("Only programme admins" in text for text in dms_to(flipside, user)))


@pytest.fixture
def programme(flipside):
    """Priya (early career, Marketing) teaches social media; George (executive, Finance) wants it."""
    add_person(
        flipside.db,
        "U1",
        stage=CareerStage.EARLY,
        department="Marketing",
        teaches="social media",
        name="Priya",
    )
    add_person(
        flipside.db,
        "U2",
        stage=CareerStage.EXECUTIVE,
        department="Finance",
        learns="social media",
        name="George",
    )
    return flipside


# --- everyone's home --------------------------------------------------------------------------


def test_opening_app_home_publishes_my_profile_lists_and_next_round(programme):
    programme.fake.fail_next("views.publish", error="invalid_arguments")
    programme.event({"type": "app_home_opened", "user": "U2", "channel": "DU2", "tab": "home"})
    programme.fake.wait_for("views.publish")  # refused by Slack: logged, and the next open works
    view = open_home(programme, "U2", count=2)
    text = text_of(view)
    assert view["type"] == "home"
    assert "*Executive* · Finance" in text and "*I want to learn* (1)" in text and "social media" in text
    assert "Next matching round: <!date^" in text
    assert {Action.OPEN_PROFILE, Action.OPEN_WISHES, Action.OPEN_SKILLS} <= action_ids(view)
    assert not action_ids(view) & {Action.ADMIN_EXPORT, Action.ADMIN_PERIOD}  # not an admin

    programme.event({"type": "app_home_opened", "user": "U1", "channel": "DU1", "tab": "messages"})
    programme.work_done()
    assert [c.decoded["user_id"] for c in programme.fake.calls_to("views.publish")] == ["U2", "U2"]


def test_a_change_redraws_the_home_only_for_people_who_have_opened_it(programme):
    programme.command("/teachme", "excel", user="U2")
    programme.replies(1)
    programme.work_done()  # the reply comes first; a redraw would follow it
    assert programme.fake.calls_to("views.publish") == []  # U2 gets a fresh home on first open

    open_home(programme, "U2")
    programme.command("/teachme", "canva", user="U2")
    [_, redrawn] = programme.fake.wait_for("views.publish", 2)
    assert "canva" in text_of(redrawn.decoded["view"]).lower()


def test_the_busiest_admin_home_is_accepted_by_slack(flipside):
    """20 wishes, 20 skills and 10 pairings, and the admin section over 40 departments at once."""
    with flipside.db.transaction() as session:
        org = Org(session)
        me = org.person("UADMIN", name="Ada", department="Ops & <Legal>")
        partners = [org.person(f"UP{i}", department=f"Department {i} " + "&" * 80) for i in range(40)]
        for i in range(20):
            org.wish(me, f"Wish topic {i} " + "<" * 60, note="&" * 300)
            org.skill(me, f"Skill topic {i} " + ">" * 60)
            org.wish(partners[i], f"Nobody teaches {i} " + "<" * 60)
        for i in range(10):
            org.pairing(me, partners[i], f"Skill topic {i} " + ">" * 60, at=utcnow() - timedelta(days=i + 1))
    view = open_home(flipside, "UADMIN")  # open_home asserts the fake (Slack's limits) said ok
    assert len(view["blocks"]) <= 100
    assert Action.ADMIN_EXPORT in action_ids(view) and Action.SHOW_ALL in action_ids(view)
    assert "*I want to learn* (20)" in text_of(view) and "*My pairings* (10)" in text_of(view)

    click(flipside, Action.SHOW_ALL, "wishes")
    [opened] = flipside.fake.wait_for("views.open")
    assert opened.ok and "Wish topic 19" in text_of(opened.decoded["view"])


def test_the_chosen_period_is_kept_when_the_home_is_opened_again(programme):
    open_home(programme, "UADMIN")
    select_all_time = {
        "type": "static_select",
        "action_id": Action.ADMIN_PERIOD,
        "block_id": "b",
        "selected_option": {"value": "all_time"},
        "action_ts": "1.0",
    }
    click(programme, Action.ADMIN_PERIOD, action=select_all_time)
    [_, republished] = programme.fake.wait_for("views.publish", 2)
    view = republished.decoded["view"]
    assert json.loads(view["private_metadata"]) == {"period": "all_time"}
    reopened = open_home(programme, "UADMIN", view=home_view(view["private_metadata"]), count=3)
    assert json.loads(reopened["private_metadata"]) == {"period": "all_time"}
    [select_menu] = [
        b["accessory"]
        for b in reopened["blocks"]
        if (b.get("accessory") or {}).get("action_id") == Action.ADMIN_PERIOD
    ]
    assert select_menu["initial_option"]["value"] == "all_time"


# --- settings ---------------------------------------------------------------------------------

SETTINGS = {
    Block.CHANNEL: {"type": "conversations_select", "selected_conversation": "C0NEW"},
    Block.MATCHING_DAY: payloads.select("wed"),
    Block.MATCHING_TIME: {"type": "timepicker", "selected_time": "10:15"},
    Block.MATCHING_TIMEZONE: payloads.text_input("Europe/Paris"),
    Block.STRICT_REVERSE: payloads.checkboxes("strict"),
    Block.PROPOSAL_EXPIRY: {"type": "number_input", "value": "7"},
    Block.PAIRING_LENGTH: payloads.text_input("4 / 60"),
    Block.REMINDERS: payloads.text_input("30"),
    Block.DEMAND_THRESHOLD: {"type": "number_input", "value": "5"},
    Block.REPEAT_WINDOW: {"type": "number_input", "value": "12"},
}


def stored_settings(flipside) -> ProgrammeSettings:
    with flipside.db.transaction() as session:
        return profiles.programme_settings(session, team_id="T1", defaults=flipside.settings.programme)


def test_admin_changes_settings_with_inline_errors_first(programme):
    click(programme, Action.ADMIN_OPEN_SETTINGS)
    [opened] = programme.fake.wait_for("views.open")
    assert opened.ok and opened.decoded["view"]["callback_id"] == Modal.ADMIN_SETTINGS

    bad = programme.submit(
        Modal.ADMIN_SETTINGS,
        {**SETTINGS, Block.MATCHING_TIMEZONE: payloads.text_input("Nowhere/Land")},
        user="UADMIN",
    )
    assert bad.json() == {
        "response_action": "errors",
        "errors": {Block.MATCHING_TIMEZONE: "Use a timezone name like Europe/London or America/New_York."},
    }
    assert stored_settings(programme).matching_timezone == "UTC"

    good = programme.submit(Modal.ADMIN_SETTINGS, SETTINGS, user="UADMIN")
    assert good.status == 200 and not good.body
    eventually(lambda: stored_settings(programme).matching_timezone == "Europe/Paris")
    saved = stored_settings(programme)
    assert (saved.channel_id, saved.matching_weekday, saved.matching_time, saved.strict_reverse) == (
        "C0NEW",
        2,
        "10:15",
        True,
    )
    assert (saved.pairing_max_sessions, saved.pairing_max_days, saved.lnl_reminder_minutes) == (4, 60, "30")
    assert saved.repeat_window_weeks == 12
    [published] = programme.fake.wait_for("views.publish")
    assert "<#C0NEW>" in text_of(published.decoded["view"])


# --- rounds -----------------------------------------------------------------------------------


@pytest.mark.expect_errors(r"round preview failed")
def test_preview_shows_the_dry_run_stores_nothing_and_reports_failure(programme, monkeypatch):
    from bot.services import rounds

    click(programme, Action.ADMIN_PREVIEW_ROUND)
    [updated] = programme.fake.wait_for("views.update")
    [opened] = programme.fake.calls_to("views.open")  # the waiting modal, filled in by the update
    assert opened.ok and updated.ok
    text = text_of(updated.decoded["view"])
    assert "Priya (early career, Marketing) teaches George (executive, Finance) social media" in text
    assert "dry run" in text and "score" not in text
    with programme.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Pairing)) == 0

    def broken(*args, **kwargs):
        raise RuntimeError("solver exploded")

    monkeypatch.setattr(rounds, "preview_round", broken)
    click(programme, Action.ADMIN_PREVIEW_ROUND)
    [_, failed] = programme.fake.wait_for("views.update", 2)
    assert "the preview failed; nothing was changed" in text_of(failed.decoded["view"])


def test_run_round_now_asks_first_then_proposes(programme):
    click(programme, Action.ADMIN_RUN_ROUND)
    [opened] = programme.fake.wait_for("views.open")
    assert opened.decoded["view"]["callback_id"] == Modal.ADMIN_RUN_CONFIRM
    with programme.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Pairing)) == 0  # nothing until confirmed

    assert programme.submit(Modal.ADMIN_RUN_CONFIRM, {}, user="UADMIN").status == 200
    eventually(lambda: any("Round run: 1 pair proposed" in t for t in dms_to(programme, "UADMIN")))
    with programme.db.transaction() as session:
        [pairing] = session.scalars(select(Pairing)).all()
        assert pairing.status == PairingStatus.PROPOSED
    posted_to = {c.args["channel"] for c in programme.fake.calls_to("chat.postMessage")}
    assert {"U1", "U2"} <= posted_to  # both proposals went out with the click, not a minute later


def test_a_round_run_from_app_home_tells_why_a_wish_waits_as_the_weekly_one_does(programme):
    add_person(programme.db, "U3", stage=CareerStage.SENIOR, department="Ops", learns="Origami")
    with programme.db.transaction() as session:  # paused: not in the round, so the round says nothing
        session.scalar(select(Person).where(Person.slack_user_id == "U3")).paused = True
    assert programme.submit(Modal.ADMIN_RUN_CONFIRM, {}, user="UADMIN").status == 200
    eventually(lambda: any("Round run: 1 pair proposed" in t for t in dms_to(programme, "UADMIN")))
    programme.work_done()
    [why] = [t for t in dms_to(programme, "U3") if "Origami" in t]
    assert "you are paused or snoozed" in why


def test_a_confirmed_round_is_run_by_the_worker_not_on_the_web_side(settings, database, fake_slack):
    from bot.runtime import build_worker
    from models import PendingWork
    from tests.conftest import serve

    add_person(database, "U1", stage=CareerStage.EARLY, department="Marketing", teaches="social media")
    add_person(database, "U2", stage=CareerStage.EXECUTIVE, department="Finance", learns="social media")
    app_only = serve(settings, database, fake_slack, start_worker=False)
    flipside = next(app_only)
    assert flipside.submit(Modal.ADMIN_RUN_CONFIRM, {}, user="UADMIN").status == 200
    app_only.close()
    with database.transaction() as session:  # seconds of CPU in a large organisation: not here
        assert [row.kind for row in session.scalars(select(PendingWork))] == ["admin.round.run"]
        assert session.scalar(select(func.count()).select_from(Pairing)) == 0

    worker = build_worker(settings, database)
    assert worker.run_due() == 1 and worker.run_due() == 0
    with database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Pairing)) == 1
    assert sum("Round run: 1 pair proposed" in t for t in dms_to(flipside, "UADMIN")) == 1


# --- export -----------------------------------------------------------------------------------


def test_export_uploads_the_csv_files_to_the_admins_dm_and_reports_a_failure(programme):
    with programme.db.transaction() as session:
        org = Org(session)
        priya = profiles.get_person(session, team_id="T1", slack_user_id="U1")
        george = profiles.get_person(session, team_id="T1", slack_user_id="U2")
        org.pairing(george, priya, "social media", at=utcnow() - timedelta(days=3), reverse=True)
    programme.fake.fail_next("files.completeUploadExternal", error="not_allowed_token_type")
    click(programme, Action.ADMIN_EXPORT)
    eventually(lambda: any("couldn't upload the export" in t for t in dms_to(programme, "UADMIN")))
    programme.work_done()
    assert programme.fake.uploaded_files() == []

    click(programme, Action.ADMIN_EXPORT)
    eventually(lambda: len(programme.fake.uploaded_files()) == 6)
    files = {f["name"]: f for f in programme.fake.uploaded_files()}
    assert set(files) == {
        "figures.csv",
        "pairings.csv",
        "pairing_sessions.csv",
        "lunch_sessions.csv",
        "lunch_signups.csv",
        "feedback.csv",
    }
    assert {f["channel"] for f in files.values()} == {programme.fake.dm_channel_for("UADMIN")}
    [row] = list(csv.DictReader(io.StringIO(files["pairings.csv"]["bytes"].decode("utf-8-sig"))))
    assert (row["learner_name"], row["teacher_name"], row["reverse"]) == ("George", "Priya", "yes")
    assert "Flipside export" in (files["pairings.csv"]["initial_comment"] or "")


# --- data rights ------------------------------------------------------------------------------


def person_row(flipside, person_id: int) -> Person:
    with flipside.db.transaction() as session:
        return session.get(Person, person_id)


def test_mentoring_forget_asks_then_deletes_and_anonymises(programme):
    with programme.db.transaction() as session:
        george_id = profiles.get_person(session, team_id="T1", slack_user_id="U2").id
    programme.command("/mentoring", "forget", user="U2")
    [opened] = programme.fake.wait_for("views.open")
    assert opened.decoded["view"]["callback_id"] == Modal.FORGET_CONFIRM
    programme.work_done()
    assert person_row(programme, george_id).forgotten_at is None  # nothing before confirming

    reply = programme.submit(
        Modal.FORGET_CONFIRM, {}, user="U2", private_metadata=json.dumps({"channel_id": "C0GENERAL"})
    )
    assert reply.status == 200
    [ephemeral] = programme.fake.wait_for("chat.postEphemeral")
    assert "Flipside has deleted your wishes" in ephemeral.decoded["text"]
    gone = person_row(programme, george_id)
    assert (gone.display_name, gone.slack_user_id) == ("Former colleague", f"forgotten-{george_id}")
    with programme.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Wish).where(Wish.person_id == george_id)) == 0
    [published] = programme.fake.wait_for("views.publish")
    assert published.decoded["user_id"] == "U2" and "forgotten you" in text_of(published.decoded["view"])


def test_an_admin_forgets_someone_who_left_and_their_partner_is_told(programme):
    with programme.db.transaction() as session:
        priya = profiles.get_person(session, team_id="T1", slack_user_id="U1")
        george = profiles.get_person(session, team_id="T1", slack_user_id="U2")
        Org(session).pairing(george, priya, "social media", at=utcnow() - timedelta(days=2))
        priya_id = priya.id
    click(programme, Action.ADMIN_FORGET_PERSON)
    [opened] = programme.fake.wait_for("views.open")
    assert opened.decoded["view"]["callback_id"] == Modal.ADMIN_FORGET

    unknown = programme.submit(
        Modal.ADMIN_FORGET, {Block.PERSON: {"type": "users_select", "selected_user": "U3"}}, user="UADMIN"
    )
    assert unknown.json()["errors"] == {Block.PERSON: "Flipside has nothing stored about this person."}

    reply = programme.submit(
        Modal.ADMIN_FORGET, {Block.PERSON: {"type": "users_select", "selected_user": "U1"}}, user="UADMIN"
    )
    assert reply.status == 200 and not reply.body
    eventually(lambda: any("is forgotten" in t for t in dms_to(programme, "UADMIN")))
    assert person_row(programme, priya_id).forgotten_at is not None
    partner_notes = [
        c
        for c in programme.fake.calls_to("chat.postMessage")
        if "partner has left" in c.decoded.get("text", "")
    ]
    assert [c.args["channel"] for c in partner_notes] == ["U2"]


# --- non-admins get nowhere -------------------------------------------------------------------


def test_replaying_admin_buttons_as_someone_else_is_refused(programme):
    select_all_time = {
        "type": "static_select",
        "action_id": Action.ADMIN_PERIOD,
        "block_id": "b",
        "selected_option": {"value": "all_time"},
        "action_ts": "1.0",
    }
    for action_id in ADMIN_ACTIONS:
        click(programme, action_id, user="U1")
    click(programme, Action.ADMIN_PERIOD, user="U1", action=select_all_time)
    click(programme, Action.SHOW_ALL, "departments:all_time", user="U1")
    attempts = len(ADMIN_ACTIONS) + 2
    eventually(lambda: sum("Only programme admins" in t for t in dms_to(programme, "U1")) == attempts)
    programme.work_done()
    assert [c.method for c in programme.fake.calls if c.method in ADMIN_CALLS] == []
    assert programme.fake.uploaded_files() == []
    with programme.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Pairing)) == 0


def test_forged_admin_submissions_change_nothing(programme):
    settings = programme.submit(Modal.ADMIN_SETTINGS, SETTINGS, user="U1")
    assert settings.json() == {
        "response_action": "errors",
        "errors": {Block.CHANNEL: ":lock: Only programme admins can do that."},
    }
    forget = programme.submit(
        Modal.ADMIN_FORGET, {Block.PERSON: {"type": "users_select", "selected_user": "U2"}}, user="U1"
    )
    assert forget.json()["response_action"] == "errors"
    programme.submit(Modal.ADMIN_RUN_CONFIRM, {}, user="U1")
    # The two forms say so under their input; the confirmation, which has none, in a DM.
    eventually(lambda: sum("Only programme admins" in t for t in dms_to(programme, "U1")) == 1)
    programme.work_done()
    assert stored_settings(programme).channel_id is None
    with programme.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Pairing)) == 0
        assert session.scalar(select(Person.forgotten_at).where(Person.slack_user_id == "U2")) is None


@pytest.fixture
def uncached(fake_slack, database):
    """The app with ADMIN_CHECK_SECONDS=0: Slack is asked at every admin request."""
    yield from serve(make_settings(fake_slack, database, admin_check_seconds=0), database, fake_slack)


def test_a_slack_owner_is_an_admin_without_configuration_until_demoted(uncached):
    flipside = uncached
    flipside.fake.add_user("UOWNER", name="olu", real_name="Olu Owner", is_owner=True)
    view = open_home(flipside, "UOWNER")
    assert Action.ADMIN_EXPORT in action_ids(view)
    assert json.loads(view["private_metadata"]) == {"period": "month"}

    flipside.fake.add_user("UOWNER", name="olu", real_name="Olu Owner", is_owner=False)
    click(flipside, Action.ADMIN_EXPORT, user="UOWNER")  # Slack is asked again at the click
    refused(flipside, "UOWNER")
    flipside.work_done()
    assert flipside.fake.uploaded_files() == []
